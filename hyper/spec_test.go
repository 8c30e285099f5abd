package hyper_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// This file runs the vectors of spec.md. See section 0 of spec.md for
// what each kind of vector asserts.

// specValues are the Go values named by `encode` vectors.
var specValues = map[string]any{
	"spec_link":         hyper.Link{URL: "/foo"},
	"spec_form":         hyper.Form{URL: "/foo", Values: []hyper.Input{{Name: "a"}}},
	"spec_input":        hyper.Input{Name: "a", Default: 5, HasDefault: true},
	"spec_resource":     hyper.Resource{Name: "Test", URL: "/Test/?", Content: map[string]any{"value": 0}},
	"spec_error":        hyper.Error{Logref: "ref1", Message: "boom"},
	"link_inline":       hyper.Link{URL: "/x", Inline: true, Content: []any{int64(1)}},
	"link_conditional":  hyper.Link{URL: "/x", ETag: `"1"`, LastModified: time.Date(2012, 8, 12, 0, 0, 0, 0, time.UTC)},
	"link_extra":        hyper.Link{URL: "/x", Extra: map[string]any{"rel": "next"}},
	"form_empty":        hyper.Form{Method: "POST"},
	"form_put":          hyper.Form{URL: "/f", Method: "PUT", Envelope: "blob", Values: []hyper.Input{{Name: "file", Type: "blob"}}},
	"input_nil_default": hyper.Input{Name: "a", HasDefault: true},
	"resource_empty":    hyper.Resource{},
	"error_code":        hyper.Error{Logref: "r", Message: "not found", Code: 404},
	"collection_nil":    hyper.Collection{URL: "/c"},
	"collection_items":  hyper.Collection{Items: []any{int64(1), int64(2)}},
}

// specDecoded are the decoded values of `encode` vectors that differ from
// the encoded Go value.
var specDecoded = map[string]any{
	"spec_form":     hyper.Form{URL: "/foo", Method: "POST", Values: []hyper.Input{{Name: "a"}}},
	"spec_input":    hyper.Input{Name: "a", Default: int64(5), HasDefault: true},
	"spec_resource": hyper.Resource{Name: "Test", URL: "/Test/?", Content: map[string]any{"value": int64(0)}},
}

func TestSpec(t *testing.T) {
	f, err := os.Open("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in, n, lineNo := false, 0, 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		switch {
		case line == "```vectors":
			in = true
			continue
		case strings.HasPrefix(line, "```"):
			in = false
			continue
		}
		if !in || line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		t.Run(fmt.Sprintf("line%d", lineNo), func(t *testing.T) {
			if err := runVector(t, line); err != nil {
				t.Errorf("spec.md:%d: %s\n\t%v", lineNo, line, err)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("found only %d vectors in spec.md", n)
	}
}

func runVector(t *testing.T, line string) error {
	kind, rest, _ := strings.Cut(line, " ")
	switch kind {
	case "encode":
		name, bytesTok, _ := strings.Cut(rest, " ")
		want, err := unescape(bytesTok)
		if err != nil {
			return err
		}
		v, ok := specValues[name]
		if !ok {
			return fmt.Errorf("no value %q in specValues", name)
		}
		got, err := wire.Marshal(v)
		if err != nil {
			return fmt.Errorf("Marshal: %v", err)
		}
		if string(got) != want {
			return fmt.Errorf("Marshal gives %s", got)
		}
		decoded, ok := specDecoded[name]
		if !ok {
			decoded = v
		}
		var back any
		if err := wire.Unmarshal([]byte(want), &back); err != nil {
			return fmt.Errorf("Unmarshal: %v", err)
		}
		if !reflect.DeepEqual(back, decoded) {
			return fmt.Errorf("Unmarshal gives %#v, want %#v", back, decoded)
		}
		return reencodes(want, want)

	case "decode":
		from, to, ok := strings.Cut(rest, " => ")
		if !ok {
			return errors.New("malformed decode vector")
		}
		a, err1 := unescape(from)
		b, err2 := unescape(to)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		return reencodes(a, b)

	case "reject":
		bytesTok, msg, _ := strings.Cut(rest, " ")
		data, err := unescape(bytesTok)
		if err != nil {
			return err
		}
		var v any
		err = wire.Unmarshal([]byte(data), &v)
		var se *wire.SyntaxError
		if !errors.As(err, &se) {
			return fmt.Errorf("Unmarshal = %#v, %v; want a *wire.SyntaxError", v, err)
		}
		if !strings.Contains(err.Error(), msg) {
			return fmt.Errorf("error %q does not contain %q", err, msg)
		}
		return nil

	case "type":
		text, canon, ok := strings.Cut(rest, " => ")
		if !ok {
			return errors.New("malformed type vector")
		}
		text, err := unescape(text)
		if err != nil {
			return err
		}
		typ, err := hyper.ParseType(text)
		if err != nil {
			return err
		}
		if typ.String() != canon {
			return fmt.Errorf("String() = %q, want %q", typ.String(), canon)
		}
		return nil

	case "badtype":
		text, msg, ok := strings.Cut(rest, " => ")
		if !ok {
			return errors.New("malformed badtype vector")
		}
		_, err := hyper.ParseType(text)
		if err == nil || !strings.Contains(err.Error(), msg) {
			return fmt.Errorf("ParseType = %v, want an error containing %q", err, msg)
		}
		return nil

	case "check":
		typText, rest, ok1 := strings.Cut(rest, " :: ")
		bytesTok, want, ok2 := strings.Cut(rest, " => ")
		if !ok1 || !ok2 {
			return errors.New("malformed check vector")
		}
		data, err := unescape(bytesTok)
		if err != nil {
			return err
		}
		var v any
		if err := wire.Unmarshal([]byte(data), &v); err != nil {
			return err
		}
		got := "ok"
		if err := hyper.MustParseType(typText).Check(v); err != nil {
			got = err.Error()
		}
		if got != want {
			return fmt.Errorf("Check = %q, want %q", got, want)
		}
		return nil

	case "resolve":
		f := strings.Fields(rest)
		if len(f) != 4 || f[2] != "=>" {
			return errors.New("malformed resolve vector")
		}
		for i, s := range f {
			if s == `""` {
				f[i] = ""
			}
		}
		got, err := hyper.Resolve(f[0], f[1])
		if err != nil || got != f[3] {
			return fmt.Errorf("Resolve = %q, %v; want %q", got, err, f[3])
		}
		return nil

	case "resolveurls":
		f := strings.Fields(rest)
		if len(f) != 4 || f[2] != "=>" {
			return errors.New("malformed resolveurls vector")
		}
		in, err1 := unescape(f[1])
		want, err2 := unescape(f[3])
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		var v any
		if err := wire.Unmarshal([]byte(in), &v); err != nil {
			return err
		}
		r, err := hyper.ResolveURLs(v, f[0])
		if err != nil {
			return err
		}
		got, err := wire.Marshal(r)
		if err != nil {
			return err
		}
		if string(got) != want {
			return fmt.Errorf("resolved to %s", got)
		}
		return nil
	}
	return fmt.Errorf("unknown vector kind %q", kind)
}

// reencodes checks that in decodes into any and encodes to exactly want.
func reencodes(in, want string) error {
	var v any
	if err := wire.Unmarshal([]byte(in), &v); err != nil {
		return fmt.Errorf("Unmarshal: %v", err)
	}
	got, err := wire.Marshal(v)
	if err != nil {
		return fmt.Errorf("Marshal: %v", err)
	}
	if string(got) != want {
		return fmt.Errorf("re-encodes as %s", got)
	}
	return nil
}

// unescape turns a vector's text into bytes: `\xNN` is a byte, `\\` a
// backslash, anything else itself.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], `\\`):
			b.WriteByte('\\')
			i++
		case strings.HasPrefix(s[i:], `\x`) && i+4 <= len(s):
			n, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad escape %q", s[i:i+4])
			}
			b.WriteByte(byte(n))
			i += 3
		default:
			return "", fmt.Errorf("bad escape at %q", s[i:])
		}
	}
	return b.String(), nil
}
