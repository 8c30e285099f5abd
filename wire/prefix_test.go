package wire_test

import (
	"bytes"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// UnmarshalPrefix takes the value at the start of its input, and says
// where it ended; what follows is left alone, whatever it is.
func TestUnmarshalPrefixOffsets(t *testing.T) {
	tests := []struct {
		in   string // the value
		rest string // what follows it
		want any
	}{
		{"N;", "junk", nil},
		{"T;", ";", true},
		{"i42;", "i43;", int64(42)},
		{"i-0007;", "x", int64(-7)},
		{"i123456789012345678901234567890;", ";;", bigInt("123456789012345678901234567890")},
		{"u;", "u;", ""},
		{"u5:a;b:c;", ";", "a;b:c"},
		{"b3:\x00;\xff;", "\x00", []byte("\x00;\xff")},
		{"f0x1.8p+00;", "f", 1.5},
		{"d2024-01-02T03:04:05.000006Z;", "", time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)},
		{"Li1;Lu1:a;;N;;", ";u4:type;", []any{int64(1), []any{"a"}, nil}},
		{"L\ti1; ;", " ", []any{int64(1)}},
		{"Du1:a;Du1:b;L;;;", "u2:id;i1;;", map[string]any{"a": map[string]any{"b": []any{}}}},
		{"Si1;;", "S", wire.NewSet[any](int64(1))},
		{"Xu4:link;Du3:url;u4:/foo;;N;;", ";", wire.Extension{Name: "link", Attrs: wire.NewOrderedDict("url", "/foo")}},
		{" \n\tu2:hi;", " trailing whitespace is not taken", "hi"},
	}
	for _, tc := range tests {
		data := []byte(tc.in + tc.rest)
		var v any
		n, err := wire.UnmarshalPrefix(data, &v, wire.DecodeConfig{})
		if err != nil {
			t.Errorf("%q: %v", data, err)
			continue
		}
		if n != len(tc.in) {
			t.Errorf("%q: took %d bytes, want %d", data, n, len(tc.in))
		}
		if !reflect.DeepEqual(v, tc.want) && !(isBig(v) && v.(*big.Int).Cmp(tc.want.(*big.Int)) == 0) {
			t.Errorf("%q: got %#v, want %#v", data, v, tc.want)
		}
		// The value alone decodes to the same with UnmarshalConfig.
		var whole any
		if err := wire.Unmarshal([]byte(tc.in), &whole); err != nil {
			t.Errorf("%q alone: %v", tc.in, err)
		}
	}
}

func isBig(v any) bool { _, ok := v.(*big.Int); return ok }

func TestUnmarshalPrefixErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // in the error's text
	}{
		{"", "unexpected end of input, expected a value"},
		{" \t\r\n\v", "unexpected end of input, expected a value"},
		{";", "expected a type letter"},
		{"i12", "unexpected end of input"},
		{"u3:ab", "unexpected end of input"},
		{"u2:abc;", "length mismatch"},
		{"Li1;", "unexpected end of input"},
		{"Du1:a;i1;u1:a;i2;;", "duplicate key"},
		{"Du2:\xc3\xa9;N;u3:e\xcc\x81;N;;", "equal after NFC"},
		{"u1:\xff;", "not valid UTF-8"},
	}
	for _, tc := range tests {
		var v any
		n, err := wire.UnmarshalPrefix([]byte(tc.in), &v, wire.DecodeConfig{})
		var se *wire.SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want a *wire.SyntaxError with %q", tc.in, err, tc.want)
		}
		if n != 0 {
			t.Errorf("%q: n = %d on error", tc.in, n)
		}
	}
	var v any
	if _, err := wire.UnmarshalPrefix([]byte("N;"), v, wire.DecodeConfig{}); err == nil {
		t.Error("no error for a nil target")
	}
}

// A blob's chunks follow the whole message, which the value is only part
// of: UnmarshalPrefix refuses blobs wherever they are, into any or typed.
func TestUnmarshalPrefixRejectsBlobs(t *testing.T) {
	const blob = "B0:Du12:content-type;u1:a;;;"
	for _, in := range []string{
		blob + "c0;",
		"L" + blob + ";c0;",
		"Du1:x;" + blob + ";c0;",
		"Xu1:e;D;" + blob + ";c0;",
	} {
		var v any
		_, err := wire.UnmarshalPrefix([]byte(in), &v, wire.DecodeConfig{})
		var se *wire.SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Msg, "chunks would follow the whole message") {
			t.Errorf("%q: err = %v, want a *wire.SyntaxError about the blob", in, err)
		}
	}
	// Typed, and in a struct field skipped as unknown.
	var b *wire.Blob
	if _, err := wire.UnmarshalPrefix([]byte(blob+"c0;"), &b, wire.DecodeConfig{}); err == nil || !strings.Contains(err.Error(), "blob") {
		t.Errorf("*Blob: err = %v", err)
	}
	var s struct{ A int }
	if _, err := wire.UnmarshalPrefix([]byte("Du1:A;i1;u1:Z;"+blob+";c0;"), &s, wire.DecodeConfig{}); err == nil || !strings.Contains(err.Error(), "blob") {
		t.Errorf("skipped field: err = %v", err)
	}
	// The same message is fine for UnmarshalConfig.
	var v any
	if err := wire.Unmarshal([]byte(blob+"c0;"), &v); err != nil {
		t.Fatal(err)
	}
}

// The limits apply to the value as to a root: MaxMessageBytes to the
// value (not to what follows it, nor to the whitespace before it), and
// MaxDepth from the value's own level.
func TestUnmarshalPrefixLimits(t *testing.T) {
	cfg := func(l wire.Limits) wire.DecodeConfig { return wire.DecodeConfig{Limits: l} }
	tests := []struct {
		in    string
		cfg   wire.DecodeConfig
		limit string // "" = no error
		n     int
	}{
		{"u4:abcd;" + strings.Repeat("x", 100), cfg(wire.Limits{MaxMessageBytes: 8}), "", 8},
		// Whitespace before the value counts: every byte read does.
		{"   u4:abcd;", cfg(wire.Limits{MaxMessageBytes: 8}), "MaxMessageBytes", 0},
		{"   u4:abcd;", cfg(wire.Limits{MaxMessageBytes: 11}), "", 11},
		{"u5:abcde;", cfg(wire.Limits{MaxMessageBytes: 8}), "MaxMessageBytes", 0},
		{"Li1;i2;;", cfg(wire.Limits{MaxMessageBytes: 7}), "MaxMessageBytes", 0},
		{"LLN;;;x", cfg(wire.Limits{MaxDepth: 2}), "", 6},
		{"LLLN;;;;x", cfg(wire.Limits{MaxDepth: 2}), "MaxDepth", 0},
		{"Li1;i2;;", cfg(wire.Limits{MaxItems: 2}), "", 8},
		{"Li1;i2;i3;;", cfg(wire.Limits{MaxItems: 2}), "MaxItems", 0},
		{"u3:abc;", cfg(wire.Limits{MaxStringBytes: 2}), "MaxStringBytes", 0},
		{"i123456;", cfg(wire.Limits{MaxIntegerDigits: 5}), "MaxIntegerDigits", 0},
		{"Du1:a;N;u1:b;N;;", cfg(wire.Limits{MaxItems: -1, MaxDepth: -1, MaxMessageBytes: -1}), "", 16},
	}
	for _, tc := range tests {
		var v any
		n, err := wire.UnmarshalPrefix([]byte(tc.in), &v, tc.cfg)
		if tc.limit == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.in, err)
			}
		} else {
			var le *wire.LimitError
			if !errors.As(err, &le) || le.Limit != tc.limit {
				t.Errorf("%q: err = %v, want a *wire.LimitError for %s", tc.in, err, tc.limit)
			}
		}
		if n != tc.n {
			t.Errorf("%q: n = %d, want %d", tc.in, n, tc.n)
		}
	}
}

// Typed targets decode as with UnmarshalConfig; a type error still
// reads the whole value, and says where it ended.
func TestUnmarshalPrefixTyped(t *testing.T) {
	type item struct {
		Name string `glyph:"name"`
		N    int
	}
	var it item
	n, err := wire.UnmarshalPrefix([]byte("Du4:name;u3:ann;u1:N;i7;u5:other;Li1;;;tail"), &it, wire.DecodeConfig{})
	if err != nil || n != 39 || it != (item{"ann", 7}) {
		t.Errorf("struct: %+v, n = %d, err = %v", it, n, err)
	}
	var xs []int16
	n, err = wire.UnmarshalPrefix([]byte("Li1;i-2;;;"), &xs, wire.DecodeConfig{})
	if err != nil || n != 9 || !reflect.DeepEqual(xs, []int16{1, -2}) {
		t.Errorf("[]int16: %v, n = %d, err = %v", xs, n, err)
	}
	var small int8
	n, err = wire.UnmarshalPrefix([]byte("Li1;;i300;"), &small, wire.DecodeConfig{})
	var te *wire.UnmarshalTypeError
	if !errors.As(err, &te) || n != 5 {
		t.Errorf("list into int8: n = %d, err = %v, want an *UnmarshalTypeError and n = 5", n, err)
	}
	var s string
	n, err = wire.UnmarshalPrefix([]byte("u2:hi;u2:yo;"), &s, wire.DecodeConfig{})
	if err != nil || n != 6 || s != "hi" {
		t.Errorf("string: %q, n = %d, err = %v", s, n, err)
	}
}

// Decoding a value with UnmarshalPrefix costs no more than decoding it
// alone.
func TestUnmarshalPrefixAllocs(t *testing.T) {
	data := []byte("b64:" + strings.Repeat("x", 64) + ";u4:type;u3:req;;")
	var v any
	got := testing.AllocsPerRun(100, func() {
		if _, err := wire.UnmarshalPrefix(data, &v, wire.DecodeConfig{}); err != nil {
			t.Fatal(err)
		}
	})
	want := testing.AllocsPerRun(100, func() {
		if err := wire.Unmarshal(data[:69], &v); err != nil {
			t.Fatal(err)
		}
	})
	if got > want {
		t.Errorf("%v allocations, UnmarshalConfig makes %v", got, want)
	}
}

// FuzzUnmarshalPrefix checks UnmarshalPrefix against UnmarshalConfig:
// a value followed by anything decodes as the value alone does (blobs
// aside), and takes exactly the value.
func FuzzUnmarshalPrefix(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), []byte("u4:type;"))
	}
	f.Fuzz(func(t *testing.T, data, rest []byte) {
		cfg := wire.DecodeConfig{Limits: wire.Limits{MaxDepth: 32, MaxItems: 64, MaxStringBytes: 256, MaxMessageBytes: 4096}}
		var alone any
		errAlone := wire.UnmarshalConfig(data, &alone, cfg)
		in := append(append([]byte(nil), data...), rest...)
		var v any
		n, err := wire.UnmarshalPrefix(in, &v, cfg)
		if err != nil {
			if n != 0 {
				t.Fatalf("n = %d with error %v", n, err)
			}
			var se *wire.SyntaxError
			var le *wire.LimitError
			if !errors.As(err, &se) && !errors.As(err, &le) {
				t.Fatalf("error %#v is not a syntax or limit error", err)
			}
			if errAlone == nil && !strings.Contains(err.Error(), "UnmarshalPrefix") && !hasBlob(alone) {
				// The value alone decodes: only the input after it can
				// make a difference, and UnmarshalPrefix does not read it.
				t.Fatalf("%q decodes alone, but with %q after it: %v", data, rest, err)
			}
			return
		}
		if n > len(in) || n < 1 {
			t.Fatalf("n = %d of %d bytes", n, len(in))
		}
		var again any
		if err := wire.UnmarshalConfig(in[:n], &again, cfg); err != nil {
			t.Fatalf("%q took %d bytes, %q, which do not decode alone: %v", in, n, in[:n], err)
		}
		b1, err1 := wire.Marshal(v)
		b2, err2 := wire.Marshal(again)
		if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("%q: %q (%v), alone %q (%v)", in[:n], b1, err1, b2, err2)
		}
	})
}

// hasBlob reports whether a decoded value holds a blob.
func hasBlob(v any) bool {
	found := false
	collectBlobs(v, func(*wire.Blob) { found = true })
	return found
}
