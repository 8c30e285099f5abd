package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// encodingExample is one value of the encoding tour.
type encodingExample struct {
	title string // glyph type and what the example shows
	src   string // the value as Go source
	value any
	want  string // its encoding, as the spec gives it
}

func encodingExamples() []encodingExample {
	big64 := new(big.Int).Lsh(big.NewInt(1), 64)
	type person struct {
		Name string `glyph:"name"`
		Age  int    `glyph:"age"`
	}
	return []encodingExample{
		{"nil", `nil`, nil, "N;"},
		{"true", `true`, true, "T;"},
		{"false", `false`, false, "F;"},
		{"integer", `123`, 123, "i123;"},
		{"integer, negative", `-123`, -123, "i-123;"},
		{"integer, zero", `0`, 0, "i0;"},
		{"integer beyond int64: decodes into *big.Int", `new(big.Int).Lsh(big.NewInt(1), 64)`, big64, "i18446744073709551616;"},
		{"unicode: length in bytes, then UTF-8", `"foo"`, "foo", "u3:foo;"},
		{"unicode, empty", `""`, "", "u;"},
		{"unicode, non-ASCII", `"é"`, "é", "u2:\xc3\xa9;"},
		{"unicode, outside the BMP", `"\U0001F4A9"`, "\U0001F4A9", "u4:\xf0\x9f\x92\xa9;"},
		{"unicode, normalised to NFC on encode", `"e\u0301"`, "e\u0301", "u2:\xc3\xa9;"},
		{"unicode holding ';': the length says where it ends, nothing is escaped", `"a;b"`, "a;b", "u3:a;b;"},
		{"bytearray", `[]byte("123")`, []byte("123"), "b3:123;"},
		{"bytearray, binary", `[]byte{0x00, 0xff}`, []byte{0x00, 0xff}, "b2:\x00\xff;"},
		{"bytearray, empty", `[]byte{}`, []byte{}, "b;"},
		{"float: exact, in hex", `0.5`, 0.5, "f0x1p-01;"},
		{"float, negative zero keeps its sign", `math.Copysign(0, -1)`, math.Copysign(0, -1), "f-0x0p+00;"},
		{"float, infinity", `math.Inf(1)`, math.Inf(1), "finf;"},
		{"float, not a number", `math.NaN()`, math.NaN(), "fnan;"},
		{"datetime: UTC, microseconds", `time.Unix(0, 0)`, time.Unix(0, 0), "d1970-01-01T00:00:00.000000Z;"},
		{"datetime, finer than a microsecond is truncated", `time.Date(2012, 8, 12, 13, 14, 15, 123456789, time.UTC)`,
			time.Date(2012, 8, 12, 13, 14, 15, 123456789, time.UTC), "d2012-08-12T13:14:15.123456Z;"},
		{"timedelta: an ISO 8601 period with every designator", `3*24*time.Hour + 2*time.Hour`, 3*24*time.Hour + 2*time.Hour, "pP0Y0M3DT2H0M0S;"},
		{"timedelta, fractional seconds", `1500 * time.Millisecond`, 1500 * time.Millisecond, "pP0Y0M0DT0H0M1.5S;"},
		{"timedelta, negative", `-24 * time.Hour`, -24 * time.Hour, "p-P0Y0M1DT0H0M0S;"},
		{"timedelta with years and months: a calendar period", `wire.Period{Years: 1, Months: 2, Duration: 3 * 24 * time.Hour}`,
			wire.Period{Years: 1, Months: 2, Duration: 3 * 24 * time.Hour}, "pP1Y2M3DT0H0M0S;"},
		{"list", `[]any{1, "two", 3.0}`, []any{1, "two", 3.0}, "Li1;u3:two;f0x1.8p+01;;"},
		{"list of lists", `[][]int{{1}, {}}`, [][]int{{1}, {}}, "LLi1;;L;;"},
		{"set: items in canonical order", `wire.NewSet(3, 1, 2)`, wire.NewSet(3, 1, 2), "Si1;i2;i3;;"},
		{"dict: keys in canonical order", `map[int]int{3: 4, 1: 2}`, map[int]int{3: 4, 1: 2}, "Di1;i2;i3;i4;;"},
		{"dict with unicode keys", `map[string]any{"a": []any{1}}`, map[string]any{"a": []any{1}}, "Du1:a;Li1;;;"},
		{"dict from a struct with glyph tags", `person{Name: "Ann", Age: 5}`, person{Name: "Ann", Age: 5}, "Du3:age;i5;u4:name;u3:Ann;;"},
		{"ordered dict: keeps insertion order", `wire.NewOrderedDict("b", 1, "a", 2)`, wire.NewOrderedDict("b", 1, "a", 2), "Ou1:b;i1;u1:a;i2;;"},
		{"extension: name, attributes, content", `wire.Extension{Name: "link", Attrs: wire.NewOrderedDict("url", "/foo", "method", "GET")}`,
			wire.Extension{Name: "link", Attrs: wire.NewOrderedDict("url", "/foo", "method", "GET")}, "Xu4:link;Du6:method;u3:GET;u3:url;u4:/foo;;N;;"},
		{"blob: a placeholder, its bytes follow the message in chunks", `wire.BytesBlob("text/plain", []byte("hello"))`,
			wire.BytesBlob("text/plain", []byte("hello")), "B0:Du12:content-type;u10:text/plain;;;c0:5:hello;c0;"},
	}
}

// demoEncoding encodes every example with [wire.Marshal], checks the bytes
// against the spec, decodes them with [wire.Unmarshal] and checks that the
// decoded value encodes to the same bytes again.
func demoEncoding(w io.Writer) error {
	fmt.Fprintln(w, `Each Go value is encoded with wire.Marshal, compared with the bytes the spec
gives, decoded with wire.Unmarshal into an any and encoded again: the round
trip must give the same bytes. Wire bytes are printed as in the spec:
printable ASCII as is, every other byte (and '\') as \xNN.`)
	examples := encodingExamples()
	var failures []string
	for _, ex := range examples {
		fmt.Fprintf(w, "\n%s\n  go       %s\n", ex.title, ex.src)
		decoded, err := checkRoundTrip(w, ex)
		if err != nil {
			fmt.Fprintf(w, "  FAIL     %v\n", err)
			failures = append(failures, ex.title)
			continue
		}
		fmt.Fprintf(w, "  decoded  %s\n", describeDecoded(decoded))
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d of %d round trips failed: %s", len(failures), len(examples), strings.Join(failures, "; "))
	}
	fmt.Fprintf(w, "\nAll %d values round-trip to the same bytes.\n", len(examples))
	return nil
}

// checkRoundTrip prints the encoding of ex and returns a fresh decoded
// copy of it for display, whose blobs have not been read.
func checkRoundTrip(w io.Writer, ex encodingExample) (any, error) {
	enc, err := wire.Marshal(ex.value)
	if err != nil {
		return nil, fmt.Errorf("encode: %v", err)
	}
	fmt.Fprintf(w, "  wire     %s\n", escapeWire(enc))
	if string(enc) != ex.want {
		return nil, fmt.Errorf("the spec says %s", escapeWire([]byte(ex.want)))
	}
	var decoded any
	if err := wire.Unmarshal(enc, &decoded); err != nil {
		return nil, fmt.Errorf("decode: %v", err)
	}
	again, err := wire.Marshal(decoded)
	if err != nil {
		return nil, fmt.Errorf("encode the decoded %T: %v", decoded, err)
	}
	if !bytes.Equal(again, enc) {
		return nil, fmt.Errorf("the decoded %T encodes as %s", decoded, escapeWire(again))
	}
	var fresh any
	if err := wire.Unmarshal(enc, &fresh); err != nil {
		return nil, fmt.Errorf("decode: %v", err)
	}
	return fresh, nil
}

// escapeWire writes encoded bytes the way the spec does: printable ASCII as
// is, other bytes as \xNN. A backslash is escaped too, so the text reads
// back unambiguously.
func escapeWire(p []byte) string {
	var sb strings.Builder
	for _, c := range p {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, `\x%02x`, c)
		}
	}
	return sb.String()
}

// describeDecoded prints a decoded value's Go type (with any for
// interface {}) and how glyph show prints it.
func describeDecoded(v any) string {
	if v == nil {
		return "nil"
	}
	typ := strings.ReplaceAll(fmt.Sprintf("%T", v), "interface {}", "any")
	return typ + " " + newPrinter(true).compact(v)
}
