package glyphjson_test

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/wire/glyphjson"
)

// This file runs the vectors of spec.md; section 0 there says what each
// kind of line checks.

type User struct {
	ID   int
	Name string
}

// specValues are the Go values the encode and unencodable vectors name.
var specValues = map[string]any{
	"struct_user":    User{ID: 7, Name: "Ann"},
	"uint64_max":     uint64(math.MaxUint64),
	"big_neg":        mustBig("-1234567890123456789012345678901234567890"),
	"float32_half":   float32(0.5),
	"duration_90m":   90 * time.Minute,
	"time_zone":      time.Date(2012, 8, 12, 13, 14, 15, 0, time.FixedZone("CEST", 2*3600)),
	"string_set":     wire.NewSet("y", "x"),
	"link_typed":     hyper.Link{URL: "/a"},
	"nfc_key":        map[string]int{"e\u0301": 1},
	"bad_utf8":       "\xff",
	"nfc_equal_keys": map[string]any{"\u00e9": 1, "e\u0301": 2},
	"chan":           make(chan int),
}

func mustBig(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

type vector struct {
	line  int
	kind  string
	glyph []byte // GLYPH, or the value's name for encode
	name  string
	limit string
	max   int
	json  []byte
}

func TestSpecVectors(t *testing.T) {
	vs := readVectors(t, "spec.md")
	if len(vs) < 100 {
		t.Fatalf("spec.md has %d vectors; the parser probably missed some", len(vs))
	}
	kinds := map[string]int{}
	for _, v := range vs {
		kinds[v.kind]++
		t.Run(fmt.Sprintf("%d_%s", v.line, v.kind), func(t *testing.T) { runVector(t, v) })
	}
	for _, k := range []string{"both", "read", "reject", "limit", "encode", "unencodable"} {
		if kinds[k] == 0 {
			t.Errorf("no %s vector", k)
		}
	}
}

func runVector(t *testing.T, v vector) {
	switch v.kind {
	case "both", "read":
		var g any
		if err := glyphjson.Unmarshal(v.json, &g); err != nil {
			t.Fatalf("line %d: Unmarshal(%s): %v", v.line, v.json, err)
		}
		got, err := wire.Marshal(g)
		if err != nil || string(got) != string(v.glyph) {
			t.Errorf("line %d: %s reads as %q (%v), want %q", v.line, v.json, got, err, v.glyph)
		}
		if v.kind == "read" {
			return
		}
		var w any
		if err := wire.Unmarshal(v.glyph, &w); err != nil {
			t.Fatalf("line %d: wire.Unmarshal(%q): %v", v.line, v.glyph, err)
		}
		j, err := glyphjson.Marshal(w)
		if err != nil || string(j) != string(v.json) {
			t.Errorf("line %d: %q marshals to %s (%v), want %s", v.line, v.glyph, j, err, v.json)
		}
	case "reject":
		var g any
		err := glyphjson.Unmarshal(v.json, &g)
		var se *wire.SyntaxError
		var le *wire.LimitError
		if !errors.As(err, &se) && !errors.As(err, &le) {
			t.Errorf("line %d: Unmarshal(%q) = %#v, %v; want a syntax or limit error", v.line, v.json, g, err)
		}
	case "limit":
		var g any
		if err := glyphjson.Unmarshal(v.json, &g); err != nil {
			t.Fatalf("line %d: with the default limits: %v", v.line, err)
		}
		lim := wire.Limits{}
		reflect.ValueOf(&lim).Elem().FieldByName(v.limit).SetInt(int64(v.max))
		err := glyphjson.UnmarshalConfig(v.json, &g, wire.DecodeConfig{Limits: lim})
		var le *wire.LimitError
		if !errors.As(err, &le) || le.Limit != v.limit {
			t.Errorf("line %d: with %s=%d: %v; want a limit error for %s", v.line, v.limit, v.max, err, v.limit)
		}
	case "encode":
		val, ok := specValues[v.name]
		if !ok {
			t.Fatalf("line %d: no value %q in spec_test.go", v.line, v.name)
		}
		j, err := glyphjson.Marshal(val)
		if err != nil || string(j) != string(v.json) {
			t.Errorf("line %d: %s marshals to %s (%v), want %s", v.line, v.name, j, err, v.json)
		}
		want, err := wire.Marshal(val)
		if err != nil {
			t.Fatal(err)
		}
		var g any
		if err := glyphjson.Unmarshal(v.json, &g); err != nil {
			t.Fatalf("line %d: %v", v.line, err)
		}
		if got, err := wire.Marshal(g); err != nil || string(got) != string(want) {
			t.Errorf("line %d: %s reads as %q (%v), want %q", v.line, v.json, got, err, want)
		}
	case "unencodable":
		val, ok := specValues[v.name]
		if !ok {
			t.Fatalf("line %d: no value %q in spec_test.go", v.line, v.name)
		}
		if j, err := glyphjson.Marshal(val); err == nil {
			t.Errorf("line %d: %s marshals to %s; want an error", v.line, v.name, j)
		}
	}
}

// readVectors returns the vectors of the vectors blocks of a page.
func readVectors(t *testing.T, path string) []vector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "```vectors":
			in = true
			continue
		case line == "```":
			in = false
			continue
		case !in || line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		v := vector{line: n, kind: kind}
		switch kind {
		case "both", "read":
			g, j, ok := strings.Cut(rest, " ")
			if !ok {
				t.Fatalf("spec.md:%d: want %s GLYPH JSON", n, kind)
			}
			v.glyph, v.json = wireBytes(t, n, g), unescapeJSON(t, n, j)
		case "reject":
			v.json = unescapeJSON(t, n, rest)
		case "limit":
			l, j, _ := strings.Cut(rest, " ")
			name, max, _ := strings.Cut(l, "=")
			m, err := strconv.Atoi(max)
			if err != nil {
				t.Fatalf("spec.md:%d: %v", n, err)
			}
			v.limit, v.max, v.json = name, m, unescapeJSON(t, n, j)
		case "encode":
			name, j, _ := strings.Cut(rest, " ")
			v.name, v.json = name, unescapeJSON(t, n, j)
		case "unencodable":
			v.name = rest
		default:
			t.Fatalf("spec.md:%d: unknown vector %q", n, kind)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

// unescapeJSON reads a JSON column: \xNN is the byte NN, anything else
// itself.
func unescapeJSON(t *testing.T, line int, s string) []byte {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s)+0 && s[i+1] == 'x' {
			if c, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b = append(b, byte(c))
				i += 3
				continue
			}
		}
		b = append(b, s[i])
	}
	return b
}
