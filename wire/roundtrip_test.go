package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// mustMarshal encodes v or fails the test.
func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := wire.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", v, err)
	}
	return b
}

// decodeLike decodes data into a new value of the type of like and returns
// it (dereferenced).
func decodeLike(t testing.TB, data []byte, like any) any {
	t.Helper()
	p := reflect.New(reflect.TypeOf(like))
	if err := wire.Unmarshal(data, p.Interface()); err != nil {
		t.Fatalf("Unmarshal(%q) into %T: %v", data, like, err)
	}
	return p.Elem().Interface()
}

// decodeAny decodes data into an any.
func decodeAny(t testing.TB, data []byte) any {
	t.Helper()
	var v any
	if err := wire.Unmarshal(data, &v); err != nil {
		t.Fatalf("Unmarshal(%q) into any: %v", data, err)
	}
	return v
}

// rtCase is one round trip: in encodes to wire (when wire is not empty),
// decoding it into a value of in's type gives typed (in when nil), and
// decoding it into any gives generic (unchecked when nil).
type rtCase struct {
	name    string
	in      any
	wire    string
	typed   any
	generic any
}

func runRoundTrips(t *testing.T, cases []rtCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustMarshal(t, tc.in)
			if tc.wire != "" && string(got) != tc.wire {
				t.Fatalf("Marshal(%#v)\n got %q\nwant %q", tc.in, got, tc.wire)
			}
			if tc.in != nil {
				want := tc.typed
				if want == nil {
					want = tc.in
				}
				if back := decodeLike(t, got, tc.in); !reflect.DeepEqual(back, want) {
					t.Errorf("typed decode of %q\n got %#v\nwant %#v", got, back, want)
				}
			}
			if tc.generic != nil {
				if back := decodeAny(t, got); !reflect.DeepEqual(back, tc.generic) {
					t.Errorf("decode of %q into any\n got %#v (%T)\nwant %#v (%T)", got, back, back, tc.generic, tc.generic)
				}
			}
			// Re-encoding what was decoded gives the same bytes.
			if again := mustMarshal(t, decodeAny(t, got)); !bytes.Equal(again, got) {
				t.Errorf("re-encoding the generic value\n got %q\nwant %q", again, got)
			}
		})
	}
}

func TestRoundTripScalars(t *testing.T) {
	runRoundTrips(t, []rtCase{
		{name: "nil", in: nil, wire: "N;"},
		{name: "true", in: true, wire: "T;", generic: true},
		{name: "false", in: false, wire: "F;", generic: false},
		{name: "int zero", in: 0, wire: "i0;", generic: int64(0)},
		{name: "int", in: int(-123), wire: "i-123;", generic: int64(-123)},
		{name: "int min", in: math.MinInt, wire: fmt.Sprintf("i%d;", math.MinInt), generic: int64(math.MinInt)},
		{name: "int max", in: math.MaxInt, wire: fmt.Sprintf("i%d;", math.MaxInt), generic: int64(math.MaxInt)},
		{name: "int8 min", in: int8(math.MinInt8), wire: "i-128;", generic: int64(-128)},
		{name: "int8 max", in: int8(math.MaxInt8), wire: "i127;", generic: int64(127)},
		{name: "int16 min", in: int16(math.MinInt16), wire: "i-32768;", generic: int64(-32768)},
		{name: "int16 max", in: int16(math.MaxInt16), wire: "i32767;", generic: int64(32767)},
		{name: "int32 min", in: int32(math.MinInt32), wire: "i-2147483648;", generic: int64(math.MinInt32)},
		{name: "int32 max", in: int32(math.MaxInt32), wire: "i2147483647;", generic: int64(math.MaxInt32)},
		{name: "int64 min", in: int64(math.MinInt64), wire: "i-9223372036854775808;", generic: int64(math.MinInt64)},
		{name: "int64 max", in: int64(math.MaxInt64), wire: "i9223372036854775807;", generic: int64(math.MaxInt64)},
		{name: "uint zero", in: uint(0), wire: "i0;", generic: int64(0)},
		{name: "uint max", in: uint(math.MaxUint), wire: fmt.Sprintf("i%d;", uint(math.MaxUint))},
		{name: "uint8 max", in: uint8(math.MaxUint8), wire: "i255;", generic: int64(255)},
		{name: "uint16 max", in: uint16(math.MaxUint16), wire: "i65535;", generic: int64(65535)},
		{name: "uint32 max", in: uint32(math.MaxUint32), wire: "i4294967295;", generic: int64(math.MaxUint32)},
		{name: "uint64 max", in: uint64(math.MaxUint64), wire: "i18446744073709551615;", generic: bigInt("18446744073709551615")},
		{name: "uint64 int64 max", in: uint64(math.MaxInt64), wire: "i9223372036854775807;", generic: int64(math.MaxInt64)},
		{name: "uint64 beyond int64", in: uint64(math.MaxInt64) + 1, wire: "i9223372036854775808;", generic: bigInt("9223372036854775808")},
		{name: "uintptr", in: uintptr(42), wire: "i42;", generic: int64(42)},
		{name: "string empty", in: "", wire: "u;", generic: ""},
		{name: "string", in: "foo", wire: "u3:foo;", generic: "foo"},
		{name: "string with delimiters", in: "a;b:c", wire: "u5:a;b:c;", generic: "a;b:c"},
		{name: "string e acute", in: "é", wire: "u2:\xc3\xa9;", generic: "é"},
		{name: "string astral", in: "\U0001F4A9", wire: "u4:\xf0\x9f\x92\xa9;", generic: "\U0001F4A9"},
		{name: "string NUL and controls", in: "\x00\n\t", wire: "u3:\x00\n\t;", generic: "\x00\n\t"},
		{name: "string NFC on encode", in: "e\u0301", wire: "u2:\xc3\xa9;", typed: "é", generic: "é"},
		{name: "string NFC hangul", in: "\u1100\u1161", wire: "u3:\xea\xb0\x80;", typed: "\uac00", generic: "\uac00"},
		{name: "named string", in: myString("x"), wire: "u1:x;", generic: "x"},
		{name: "named int", in: myInt(-7), wire: "i-7;", generic: int64(-7)},
	})
}

type (
	myString string
	myInt    int16
)

func bigInt(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("bad big.Int " + s)
	}
	return b
}

func TestRoundTripBigInt(t *testing.T) {
	cases := []struct {
		name  string
		in    *big.Int
		wire  string
		small bool // decodes into any as int64
	}{
		{"zero", big.NewInt(0), "i0;", true},
		{"int64 max", big.NewInt(math.MaxInt64), "i9223372036854775807;", true},
		{"int64 min", big.NewInt(math.MinInt64), "i-9223372036854775808;", true},
		{"int64 max+1", bigInt("9223372036854775808"), "i9223372036854775808;", false},
		{"int64 min-1", bigInt("-9223372036854775809"), "i-9223372036854775809;", false},
		{"2^64", bigInt("18446744073709551616"), "i18446744073709551616;", false},
		{"-2^64", bigInt("-18446744073709551616"), "i-18446744073709551616;", false},
		{"10^40", bigInt("1" + strings.Repeat("0", 40)), "i1" + strings.Repeat("0", 40) + ";", false},
		{"-10^100", bigInt("-1" + strings.Repeat("0", 100)), "i-1" + strings.Repeat("0", 100) + ";", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustMarshal(t, tc.in)
			if string(got) != tc.wire {
				t.Fatalf("Marshal(%v) = %q, want %q", tc.in, got, tc.wire)
			}
			// big.Int by value encodes the same.
			if v := mustMarshal(t, *tc.in); string(v) != tc.wire {
				t.Errorf("Marshal(big.Int value) = %q, want %q", v, tc.wire)
			}
			switch v := decodeAny(t, got).(type) {
			case int64:
				if !tc.small || big.NewInt(v).Cmp(tc.in) != 0 {
					t.Errorf("decoded into any as int64 %d, want *big.Int %v", v, tc.in)
				}
			case *big.Int:
				if tc.small || v.Cmp(tc.in) != 0 {
					t.Errorf("decoded into any as *big.Int %v, want %v (small=%v)", v, tc.in, tc.small)
				}
			default:
				t.Errorf("decoded into any as %T", v)
			}
			var p *big.Int
			if err := wire.Unmarshal(got, &p); err != nil || p.Cmp(tc.in) != 0 {
				t.Errorf("Unmarshal into *big.Int = %v, %v; want %v", p, err, tc.in)
			}
			var bv big.Int
			if err := wire.Unmarshal(got, &bv); err != nil || bv.Cmp(tc.in) != 0 {
				t.Errorf("Unmarshal into big.Int = %v, %v; want %v", &bv, err, tc.in)
			}
			// A typed int64 target holds it or reports an overflow.
			var n int64
			err := wire.Unmarshal(got, &n)
			if tc.small {
				if err != nil || n != tc.in.Int64() {
					t.Errorf("Unmarshal into int64 = %d, %v", n, err)
				}
			} else {
				var te *wire.UnmarshalTypeError
				if !errors.As(err, &te) {
					t.Errorf("Unmarshal into int64: err = %v, want *UnmarshalTypeError", err)
				} else if te.Value != "integer" || te.Type != reflect.TypeFor[int64]() {
					t.Errorf("UnmarshalTypeError = %+v", te)
				}
			}
		})
	}
}

// floatBits compares floats by their bits, so that -0 and 0 differ and NaN
// equals NaN.
func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Float64bits(a) == math.Float64bits(b)
}

func TestRoundTripFloat64(t *testing.T) {
	cases := []struct {
		name string
		in   float64
		wire string
	}{
		{"zero", 0, "f0x0p+00;"},
		{"negative zero", math.Copysign(0, -1), "f-0x0p+00;"},
		{"half", 0.5, "f0x1p-01;"},
		{"one and a half", -1.5, "f-0x1.8p+00;"},
		{"tenth", 0.1, "f0x1.999999999999ap-04;"},
		{"+inf", math.Inf(1), "finf;"},
		{"-inf", math.Inf(-1), "f-inf;"},
		{"nan", math.NaN(), "fnan;"},
		{"smallest subnormal", math.SmallestNonzeroFloat64, "f0x1p-1074;"},
		{"negative smallest subnormal", -math.SmallestNonzeroFloat64, "f-0x1p-1074;"},
		{"largest subnormal", math.Float64frombits(0x000fffffffffffff), ""},
		{"smallest normal", 0x1p-1022, "f0x1p-1022;"},
		{"max", math.MaxFloat64, "f0x1.fffffffffffffp+1023;"},
		{"-max", -math.MaxFloat64, "f-0x1.fffffffffffffp+1023;"},
		{"2^53+2", 1<<53 + 2, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustMarshal(t, tc.in)
			if tc.wire != "" && string(got) != tc.wire {
				t.Fatalf("Marshal(%v) = %q, want %q", tc.in, got, tc.wire)
			}
			var f float64
			if err := wire.Unmarshal(got, &f); err != nil || !sameFloat(f, tc.in) {
				t.Errorf("Unmarshal(%q) into float64 = %v (%#x), %v; want %v (%#x)", got, f, math.Float64bits(f), err, tc.in, math.Float64bits(tc.in))
			}
			a, ok := decodeAny(t, got).(float64)
			if !ok || !sameFloat(a, tc.in) {
				t.Errorf("Unmarshal(%q) into any = %#v, want float64 %v", got, a, tc.in)
			}
		})
	}
}

func TestRoundTripFloat32(t *testing.T) {
	cases := []struct {
		name string
		in   float32
	}{
		{"zero", 0},
		{"negative zero", float32(math.Copysign(0, -1))},
		{"third", 1.0 / 3},
		{"+inf", float32(math.Inf(1))},
		{"-inf", float32(math.Inf(-1))},
		{"nan", float32(math.NaN())},
		{"smallest subnormal", math.SmallestNonzeroFloat32},
		{"max", math.MaxFloat32},
		{"-max", -math.MaxFloat32},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustMarshal(t, tc.in)
			if want := mustMarshal(t, float64(tc.in)); !bytes.Equal(got, want) {
				t.Errorf("Marshal(float32 %v) = %q, want the float64 encoding %q", tc.in, got, want)
			}
			var f float32
			if err := wire.Unmarshal(got, &f); err != nil {
				t.Fatalf("Unmarshal(%q): %v", got, err)
			}
			if tc.in != tc.in { // NaN
				if f == f {
					t.Errorf("Unmarshal(%q) = %v, want NaN", got, f)
				}
			} else if math.Float32bits(f) != math.Float32bits(tc.in) {
				t.Errorf("Unmarshal(%q) = %v (%#x), want %v (%#x)", got, f, math.Float32bits(f), tc.in, math.Float32bits(tc.in))
			}
		})
	}
}

func TestMarshalInvalidUTF8(t *testing.T) {
	cases := []struct {
		name string
		v    any
	}{
		{"lone continuation byte", "\x80"},
		{"truncated sequence", "abc\xe2\x82"},
		{"encoded surrogate", "\xed\xa0\x80"},
		{"overlong NUL", "\xc0\x80"},
		{"in a list", []string{"ok", "\xff"}},
		{"as a map key", map[string]int{"\xff": 1}},
		{"in a struct field", struct{ S string }{"\xfe"}},
		{"named string type", myString("\xff")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := wire.Marshal(tc.v)
			var ue *wire.UnsupportedValueError
			if !errors.As(err, &ue) {
				t.Fatalf("Marshal(%q) = %q, %v; want *UnsupportedValueError", tc.v, b, err)
			}
		})
	}
}

func TestRoundTripBytes(t *testing.T) {
	runRoundTrips(t, []rtCase{
		{name: "nil slice", in: []byte(nil), wire: "b;", typed: []byte{}, generic: []byte{}},
		{name: "empty", in: []byte{}, wire: "b;", generic: []byte{}},
		{name: "ascii", in: []byte("123"), wire: "b3:123;", generic: []byte("123")},
		{name: "binary", in: []byte{0x00, 0xff}, wire: "b2:\x00\xff;", generic: []byte{0x00, 0xff}},
		{name: "semicolon", in: []byte(";"), wire: "b1:;;", generic: []byte(";")},
		{name: "invalid utf8 is fine", in: []byte("\xff\xfe"), wire: "b2:\xff\xfe;", generic: []byte("\xff\xfe")},
		{name: "array", in: [3]byte{1, 2, 3}, wire: "b3:\x01\x02\x03;", generic: []byte{1, 2, 3}},
		{name: "empty array", in: [0]byte{}, wire: "b;", generic: []byte{}},
		{name: "large", in: bytes.Repeat([]byte{0xab}, 100000), generic: bytes.Repeat([]byte{0xab}, 100000)},
		{name: "in a list", in: [][]byte{[]byte("a"), {}}, wire: "Lb1:a;b;;", generic: []any{[]byte("a"), []byte{}}},
	})
}

func TestRoundTripCollections(t *testing.T) {
	runRoundTrips(t, []rtCase{
		{name: "empty list", in: []int{}, wire: "L;", generic: []any{}},
		{name: "nil slice is empty list", in: []int(nil), wire: "L;", typed: []int{}, generic: []any{}},
		{name: "ints", in: []int{1, 2, 3}, wire: "Li1;i2;i3;;", generic: []any{int64(1), int64(2), int64(3)}},
		{name: "nested", in: [][]int{{1}, {}}, wire: "LLi1;;L;;", generic: []any{[]any{int64(1)}, []any{}}},
		{name: "strings", in: []string{"a", "", "é"}, wire: "Lu1:a;u;u2:é;;"},
		{name: "array", in: [3]int{1, 2, 3}, wire: "Li1;i2;i3;;"},
		{name: "nested arrays", in: [2][2]int{{1, 2}, {3, 4}}, wire: "LLi1;i2;;Li3;i4;;;"},
		{name: "array of slices", in: [2][]string{{"a"}, nil}, wire: "LLu1:a;;L;;", typed: [2][]string{{"a"}, {}}},
		{name: "any list", in: []any{nil, true, int64(1), "x", []any{2.5}}, wire: "LN;T;i1;u1:x;Lf0x1.4p+01;;;"},
		{name: "deep nesting", in: nest(100), generic: nest(100)},
		{name: "bools", in: []bool{true, false}, wire: "LT;F;;"},
		{name: "floats", in: []float64{0.5, -2}, wire: "Lf0x1p-01;f-0x1p+01;;"},
	})
}

// nest returns n lists nested in each other.
func nest(n int) any {
	var v any = []any{}
	for range n {
		v = []any{v}
	}
	return v
}

func TestRoundTripMaps(t *testing.T) {
	runRoundTrips(t, []rtCase{
		{name: "empty", in: map[string]int{}, wire: "D;", generic: map[string]any{}},
		{name: "nil map is empty dict", in: map[string]int(nil), wire: "D;", typed: map[string]int{}},
		{name: "string keys", in: map[string]int{"b": 2, "a": 1, "c": 3}, wire: "Du1:a;i1;u1:b;i2;u1:c;i3;;",
			generic: map[string]any{"a": int64(1), "b": int64(2), "c": int64(3)}},
		{name: "string keys by content", in: map[string]int{"bb": 1, "c": 2, "a": 3}, wire: "Du1:a;i3;u2:bb;i1;u1:c;i2;;"},
		{name: "int keys", in: map[int]int{1: 2, 3: 4}, wire: "Di1;i2;i3;i4;;",
			generic: map[any]any{int64(1): int64(2), int64(3): int64(4)}},
		{name: "negative int keys", in: map[int8]string{-1: "m", 0: "z", 1: "p"}},
		{name: "uint keys", in: map[uint64]bool{math.MaxUint64: true, 0: false}},
		{name: "bool keys", in: map[bool]string{true: "t", false: "f"}, wire: "DF;u1:f;T;u1:t;;",
			generic: map[any]any{true: "t", false: "f"}},
		{name: "float keys", in: map[float64]int{0.5: 1, -1: 2, math.Inf(1): 3}},
		{name: "list values", in: map[string][]int{"a": {1}}, wire: "Du1:a;Li1;;;"},
		{name: "nested maps", in: map[string]map[string]bool{"x": {"y": true}}, wire: "Du1:x;Du1:y;T;;;"},
		{name: "mixed keys", in: map[any]any{int64(1): "i", "s": int64(2), true: nil},
			generic: map[any]any{int64(1): "i", "s": int64(2), true: nil}},
		{name: "named string keys", in: map[myString]myInt{"k": 1}, wire: "Du1:k;i1;;"},
	})
}

func TestRoundTripSets(t *testing.T) {
	runRoundTrips(t, []rtCase{
		{name: "empty", in: wire.Set[int]{}, wire: "S;", generic: wire.Set[any]{}},
		{name: "ints", in: wire.NewSet(3, 1, 2), wire: "Si1;i2;i3;;", generic: wire.NewSet[any](int64(1), int64(2), int64(3))},
		{name: "strings", in: wire.NewSet("b", "a"), wire: "Su1:a;u1:b;;", generic: wire.NewSet[any]("a", "b")},
		{name: "mixed", in: wire.NewSet[any]("a", int64(1), nil, true)},
		{name: "any set of lists", in: wire.AnySet{Items: []any{[]any{int64(2)}, []any{int64(1)}}}, wire: "SLi1;;Li2;;;",
			typed: wire.AnySet{Items: []any{[]any{int64(1)}, []any{int64(2)}}}},
		{name: "any set of bytes", in: wire.AnySet{Items: []any{[]byte("b"), []byte("a")}}, wire: "Sb1:a;b1:b;;",
			typed:   wire.AnySet{Items: []any{[]byte("a"), []byte("b")}},
			generic: wire.AnySet{Items: []any{[]byte("a"), []byte("b")}}},
		{name: "any set of dicts", in: wire.AnySet{Items: []any{map[string]any{"a": int64(1)}, map[string]any{}}}, wire: "SD;Du1:a;i1;;;",
			typed: wire.AnySet{Items: []any{map[string]any{}, map[string]any{"a": int64(1)}}}},
	})
	// A set decodes into a slice too.
	var s []int
	if err := wire.Unmarshal([]byte("Si3;i1;;"), &s); err != nil || !slices.Equal(s, []int{3, 1}) {
		t.Errorf("set into []int = %v, %v", s, err)
	}
	// And a list into a Set.
	var set wire.Set[string]
	if err := wire.Unmarshal([]byte("Lu1:a;u1:b;;"), &set); err != nil || !set.Has("a") || !set.Has("b") || len(set) != 2 {
		t.Errorf("list into Set = %v, %v", set, err)
	}
}

func TestOrderedDictKeepsOrder(t *testing.T) {
	od := wire.NewOrderedDict("b", 1, "a", 2)
	for i := range 20 {
		od.Set(fmt.Sprintf("k%02d", 19-i), i)
	}
	od.Set("a", 3) // existing key keeps its place
	got := mustMarshal(t, od)
	if !bytes.HasPrefix(got, []byte("Ou1:b;i1;u1:a;i3;u3:k19;i0;u3:k18;i1;")) {
		t.Fatalf("Marshal(ordered dict) = %q", got)
	}
	back, ok := decodeAny(t, got).(*wire.OrderedDict)
	if !ok {
		t.Fatalf("decoded %T, want *wire.OrderedDict", decodeAny(t, got))
	}
	if !reflect.DeepEqual(back.Keys(), od.Keys()) {
		t.Errorf("keys = %v, want %v", back.Keys(), od.Keys())
	}
	if v, ok := back.Get("a"); !ok || v != int64(3) {
		t.Errorf("Get(a) = %v, %v", v, ok)
	}
	if v, ok := back.Get("k05"); !ok || v != int64(14) {
		t.Errorf("Get(k05) = %v, %v", v, ok)
	}
	if again := mustMarshal(t, back); !bytes.Equal(again, got) {
		t.Errorf("re-encoding = %q, want %q", again, got)
	}
	// Into a typed OrderedDict value and a struct field.
	var typed wire.OrderedDict
	if err := wire.Unmarshal(got, &typed); err != nil || !reflect.DeepEqual(typed.Keys(), od.Keys()) {
		t.Errorf("into OrderedDict: %v, %v", typed.Keys(), err)
	}
	var holder struct{ O *wire.OrderedDict }
	enc := mustMarshal(t, struct{ O *wire.OrderedDict }{wire.NewOrderedDict(int64(2), "x", int64(1), "y")})
	if string(enc) != "Du1:O;Oi2;u1:x;i1;u1:y;;;" {
		t.Errorf("struct with ordered dict = %q", enc)
	}
	if err := wire.Unmarshal(enc, &holder); err != nil || !reflect.DeepEqual(holder.O.Keys(), []any{int64(2), int64(1)}) {
		t.Errorf("into struct field: %v, %v", holder.O.Keys(), err)
	}
	// Non-string keys, Delete.
	od2 := wire.NewOrderedDict([]any{1}, "list key", 2, "int key")
	od2.Delete(2)
	if got := mustMarshal(t, od2); string(got) != "OLi1;;u8:list key;;" {
		t.Errorf("after Delete = %q", got)
	}
	if v, ok := od2.Get([]any{int64(1)}); !ok || v != "list key" {
		t.Errorf("Get(list key) = %v, %v", v, ok)
	}
}

func TestRoundTripDict(t *testing.T) {
	d := wire.Dict{Entries: []wire.Entry{
		{Key: []any{int64(2)}, Value: "two"},
		{Key: []any{int64(1), "x"}, Value: "one"},
		{Key: []byte("b"), Value: nil},
	}}
	got := mustMarshal(t, d)
	const want = "DLi1;u1:x;;u3:one;Li2;;u3:two;b1:b;N;;"
	if string(got) != want {
		t.Fatalf("Marshal(Dict) = %q, want %q", got, want)
	}
	back, ok := decodeAny(t, got).(wire.Dict)
	if !ok {
		t.Fatalf("decoded %T, want wire.Dict", decodeAny(t, got))
	}
	if len(back.Entries) != 3 {
		t.Fatalf("entries = %v", back.Entries)
	}
	if v, ok := back.Get([]any{int64(1), "x"}); !ok || v != "one" {
		t.Errorf("Get([1 x]) = %v, %v", v, ok)
	}
	if v, ok := back.Get([]any{2}); !ok || v != "two" {
		t.Errorf("Get([2]) with an int key = %v, %v", v, ok)
	}
	if _, ok := back.Get([]any{int64(3)}); ok {
		t.Errorf("Get([3]) found a value")
	}
	var typed wire.Dict
	if err := wire.Unmarshal(got, &typed); err != nil || !reflect.DeepEqual(typed, back) {
		t.Errorf("into wire.Dict: %#v, %v", typed, err)
	}
	// Dict with equal keys is an encode error, not a silently invalid message.
	bad := wire.Dict{Entries: []wire.Entry{{Key: "a", Value: 1}, {Key: "a", Value: 2}}}
	if b, err := wire.Marshal(bad); err == nil {
		t.Errorf("Marshal(dict with equal keys) = %q, want error", b)
	}
	if b, err := wire.Marshal(wire.AnySet{Items: []any{[]any{1}, []any{int64(1)}}}); err == nil {
		t.Errorf("Marshal(set with equal items) = %q, want error", b)
	}
	// -0 and 0 as keys or set items, equal as Go map keys are.
	if b, err := wire.Marshal(wire.AnySet{Items: []any{0.0, math.Copysign(0, -1)}}); err == nil {
		t.Errorf("Marshal(set of 0 and -0) = %q, want error", b)
	}
	if b, err := wire.Marshal(wire.Dict{Entries: []wire.Entry{{Key: math.Copysign(0, -1), Value: 1}, {Key: 0.0, Value: 2}}}); err == nil {
		t.Errorf("Marshal(dict with keys -0 and 0) = %q, want error", b)
	}
	if _, err := wire.Marshal(wire.AnySet{Items: []any{[]any{0.0}, []any{math.Copysign(0, -1)}}}); err != nil {
		t.Errorf("Marshal(set of [0] and [-0]) = %v, want no error", err)
	}
	// An ordered dict too, its keys distinct in Go but equal encoded: few
	// keys (compared pairwise) and many (sorted).
	for _, n := range []int{2, 20} {
		od := wire.NewOrderedDict()
		for i := range n - 2 {
			od.Set(fmt.Sprint("k", i), i)
		}
		od.Set("\u00e9", 1)
		od.Set("e\u0301", 2) // "\u00e9" once normalised
		b, err := wire.Marshal(od)
		if err == nil || !strings.Contains(err.Error(), "ordered dict has two equal keys") {
			t.Errorf("Marshal(ordered dict of %d with equal keys) = %q, %v; want the error", n, b, err)
		}
	}
}

func TestRoundTripTime(t *testing.T) {
	ny := time.FixedZone("UTC-5", -5*3600)
	cases := []struct {
		name string
		in   time.Time
		wire string
		want time.Time
	}{
		{"epoch", time.Unix(0, 0).UTC(), "d1970-01-01T00:00:00.000000Z;", time.Unix(0, 0).UTC()},
		{"microseconds", time.Date(2012, 8, 12, 13, 14, 15, 123456000, time.UTC), "d2012-08-12T13:14:15.123456Z;",
			time.Date(2012, 8, 12, 13, 14, 15, 123456000, time.UTC)},
		{"nanoseconds truncated", time.Date(2012, 8, 12, 13, 14, 15, 123456789, time.UTC), "d2012-08-12T13:14:15.123456Z;",
			time.Date(2012, 8, 12, 13, 14, 15, 123456000, time.UTC)},
		{"non-UTC zone", time.Date(2020, 1, 1, 0, 30, 0, 0, ny), "d2020-01-01T05:30:00.000000Z;",
			time.Date(2020, 1, 1, 5, 30, 0, 0, time.UTC)},
		{"crosses a day", time.Date(2020, 12, 31, 22, 0, 0, 0, ny), "d2021-01-01T03:00:00.000000Z;",
			time.Date(2021, 1, 1, 3, 0, 0, 0, time.UTC)},
		{"zero time", time.Time{}, "d0001-01-01T00:00:00.000000Z;", time.Time{}},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "d9999-12-31T23:59:59.999999Z;",
			time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{"leap day", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "d2024-02-29T00:00:00.000000Z;",
			time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"monotonic clock reading is dropped", time.Now().Round(0).Add(0), "", time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustMarshal(t, tc.in)
			if tc.wire != "" && string(got) != tc.wire {
				t.Fatalf("Marshal(%v) = %q, want %q", tc.in, got, tc.wire)
			}
			want := tc.want
			if tc.wire == "" {
				want = tc.in.UTC().Truncate(time.Microsecond)
			}
			var typed time.Time
			if err := wire.Unmarshal(got, &typed); err != nil {
				t.Fatal(err)
			}
			if !typed.Equal(want) || typed.Location() != time.UTC {
				t.Errorf("typed decode = %v (%v), want %v in UTC", typed, typed.Location(), want)
			}
			generic, ok := decodeAny(t, got).(time.Time)
			if !ok || !generic.Equal(want) || generic.Location() != time.UTC {
				t.Errorf("generic decode = %#v, want %v in UTC", decodeAny(t, got), want)
			}
			if generic != want.UTC() {
				t.Errorf("generic decode is not == to the UTC time: %#v vs %#v", generic, want.UTC())
			}
		})
	}
	// Years the format cannot hold are an encode error.
	for _, y := range []int{-1, 10000} {
		if b, err := wire.Marshal(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
			t.Errorf("Marshal(year %d) = %q, want error", y, b)
		}
	}
}

func TestRoundTripDuration(t *testing.T) {
	cases := []struct {
		name string
		in   time.Duration
		wire string
	}{
		{"zero", 0, "pP0Y0M0DT0H0M0S;"},
		{"3 days 2 hours", 3*24*time.Hour + 2*time.Hour, "pP0Y0M3DT2H0M0S;"},
		{"1.5 s", 1500 * time.Millisecond, "pP0Y0M0DT0H0M1.5S;"},
		{"-1 day", -24 * time.Hour, "p-P0Y0M1DT0H0M0S;"},
		{"-1.5 s", -1500 * time.Millisecond, "p-P0Y0M0DT0H0M1.5S;"},
		{"1 ns", time.Nanosecond, "pP0Y0M0DT0H0M0.000000001S;"},
		{"-1 ns", -time.Nanosecond, "p-P0Y0M0DT0H0M0.000000001S;"},
		{"all parts", 26*time.Hour + 3*time.Minute + 4*time.Second + 5*time.Microsecond, "pP0Y0M1DT2H3M4.000005S;"},
		{"max", math.MaxInt64, "pP0Y0M106751DT23H47M16.854775807S;"},
		{"min+1", math.MinInt64 + 1, "p-P0Y0M106751DT23H47M16.854775807S;"},
		{"min", math.MinInt64, "p-P0Y0M106751DT23H47M16.854775808S;"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustMarshal(t, tc.in)
			if string(got) != tc.wire {
				t.Fatalf("Marshal(%v) = %q, want %q", tc.in, got, tc.wire)
			}
			var d time.Duration
			if err := wire.Unmarshal(got, &d); err != nil || d != tc.in {
				t.Errorf("Unmarshal(%q) = %v, %v; want %v", got, d, err, tc.in)
			}
			if g := decodeAny(t, got); g != tc.in {
				t.Errorf("Unmarshal(%q) into any = %#v, want time.Duration %v", got, g, tc.in)
			}
		})
	}
}

func TestRoundTripPeriod(t *testing.T) {
	cases := []struct {
		name string
		in   wire.Period
		wire string
	}{
		{"years and months", wire.Period{Years: 1, Months: 2, Duration: 3 * 24 * time.Hour}, "pP1Y2M3DT0H0M0S;"},
		{"months only", wire.Period{Months: 18}, "pP0Y18M0DT0H0M0S;"},
		{"negative", wire.Period{Years: -1, Months: -6, Duration: -90 * time.Minute}, "p-P1Y6M0DT1H30M0S;"},
		{"fractional seconds", wire.Period{Years: 2, Duration: 2500 * time.Millisecond}, "pP2Y0M0DT0H0M2.5S;"},
		{"large years", wire.Period{Years: 1 << 40}, fmt.Sprintf("pP%dY0M0DT0H0M0S;", int64(1)<<40)},
		{"max years", wire.Period{Years: math.MaxInt64}, fmt.Sprintf("pP%dY0M0DT0H0M0S;", int64(math.MaxInt64))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustMarshal(t, tc.in)
			if string(got) != tc.wire {
				t.Fatalf("Marshal(%+v) = %q, want %q", tc.in, got, tc.wire)
			}
			if s := tc.in.String(); "p"+s+";" != tc.wire {
				t.Errorf("String() = %q", s)
			}
			var p wire.Period
			if err := wire.Unmarshal(got, &p); err != nil || p != tc.in {
				t.Errorf("Unmarshal(%q) = %+v, %v; want %+v", got, p, err, tc.in)
			}
			if g := decodeAny(t, got); g != tc.in {
				t.Errorf("Unmarshal(%q) into any = %#v, want %+v", got, g, tc.in)
			}
			// Years and months do not fit a time.Duration.
			var d time.Duration
			var te *wire.UnmarshalTypeError
			if err := wire.Unmarshal(got, &d); !errors.As(err, &te) {
				t.Errorf("Unmarshal(%q) into time.Duration: err = %v, want *UnmarshalTypeError", got, err)
			}
		})
	}
	// A Period without years or months decodes into any as a Duration,
	// and a Duration target accepts it.
	got := mustMarshal(t, wire.Period{Duration: time.Hour})
	if g := decodeAny(t, got); g != time.Hour {
		t.Errorf("Period{1h} into any = %#v, want time.Hour", g)
	}
	// Mixed signs have no ISO 8601 form.
	if b, err := wire.Marshal(wire.Period{Years: 1, Duration: -time.Hour}); err == nil {
		t.Errorf("Marshal(mixed-sign period) = %q, want error", b)
	}
}

func TestExtensionUnknownRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		in   wire.Extension
		wire string
	}{
		{"empty", wire.Extension{Name: "foo"}, "Xu3:foo;D;N;;"},
		{"unordered attrs are sorted",
			wire.Extension{Name: "x-thing", Attrs: wire.NewOrderedDict("url", "/b", "method", "GET"), Content: []any{int64(1)}},
			"Xu7:x-thing;Du6:method;u3:GET;u3:url;u2:/b;;Li1;;;"},
		{"ordered attrs keep order",
			wire.Extension{Name: "x-thing", Attrs: wire.NewOrderedDict("url", "/b", "method", "GET"), Ordered: true, Content: "c"},
			"Xu7:x-thing;Ou3:url;u2:/b;u6:method;u3:GET;;u1:c;;"},
		{"nested extension content",
			wire.Extension{Name: "outer", Attrs: wire.NewOrderedDict(), Content: wire.Extension{Name: "inner", Attrs: wire.NewOrderedDict(int64(1), true), Content: nil}},
			"Xu5:outer;D;Xu5:inner;Di1;T;;N;;;"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustMarshal(t, tc.in)
			if string(got) != tc.wire {
				t.Fatalf("Marshal = %q, want %q", got, tc.wire)
			}
			ext, ok := decodeAny(t, got).(wire.Extension)
			if !ok {
				t.Fatalf("decoded %T, want wire.Extension", decodeAny(t, got))
			}
			if ext.Name != tc.in.Name || ext.Ordered != tc.in.Ordered {
				t.Errorf("decoded %+v", ext)
			}
			if tc.in.Ordered && !reflect.DeepEqual(ext.Attrs.Keys(), tc.in.Attrs.Keys()) {
				t.Errorf("ordered attrs keys = %v, want %v", ext.Attrs.Keys(), tc.in.Attrs.Keys())
			}
			if again := mustMarshal(t, ext); !bytes.Equal(again, got) {
				t.Errorf("re-encoding = %q, want %q", again, got)
			}
			var typed wire.Extension
			if err := wire.Unmarshal(got, &typed); err != nil || typed.Name != tc.in.Name {
				t.Errorf("into wire.Extension: %+v, %v", typed, err)
			}
		})
	}
	// Whitespace between the parts is accepted; Attr finds attributes.
	var v any
	if err := wire.Unmarshal([]byte(" X u4:link; D u3:url; u2:/x; ; N; ; "), &v); err != nil {
		t.Fatal(err)
	}
	if u, ok := v.(wire.Extension).Attr("url"); !ok || u != "/x" {
		t.Errorf("Attr(url) = %v, %v", u, ok)
	}
}

// point is a typed extension registered under testPointName.
type point struct{ X, Y int64 }

const testPointName = "wire_test.point"

func (p point) MarshalGlyph() (any, error) {
	return wire.Extension{Name: testPointName, Attrs: wire.NewOrderedDict("x", p.X, "y", p.Y)}, nil
}

func (p *point) UnmarshalGlyph(v any) error {
	switch v := v.(type) {
	case point:
		*p = v
		return nil
	case wire.Extension:
		return p.fromExtension(v)
	}
	return fmt.Errorf("cannot make a point from %s", wire.TypeName(v))
}

func (p *point) fromExtension(e wire.Extension) error {
	if e.Name != testPointName {
		return fmt.Errorf("extension %q is not a point", e.Name)
	}
	x, _ := e.Attr("x")
	y, _ := e.Attr("y")
	xi, ok1 := x.(int64)
	yi, ok2 := y.(int64)
	if !ok1 || !ok2 {
		return errors.New("point needs integer x and y")
	}
	*p = point{xi, yi}
	return nil
}

func init() {
	wire.RegisterExtension(testPointName, func(e wire.Extension) (any, error) {
		var p point
		err := p.fromExtension(e)
		return p, err
	})
}

func TestRegisteredExtension(t *testing.T) {
	in := point{3, -4}
	got := mustMarshal(t, in)
	const want = "Xu15:wire_test.point;Du1:x;i3;u1:y;i-4;;N;;"
	if string(got) != want {
		t.Fatalf("Marshal(point) = %q, want %q", got, want)
	}
	if v := decodeAny(t, got); v != in {
		t.Errorf("into any = %#v, want %#v", v, in)
	}
	if v := decodeLike(t, got, point{}); v != in {
		t.Errorf("into point = %#v, want %#v", v, in)
	}
	var pp *point
	if err := wire.Unmarshal(got, &pp); err != nil || pp == nil || *pp != in {
		t.Errorf("into *point = %v, %v", pp, err)
	}
	// In containers and interface fields.
	type shape struct {
		Corners []point
		Center  any
		Named   map[string]point
	}
	s := shape{Corners: []point{{1, 2}, {3, 4}}, Center: point{0, 0}, Named: map[string]point{"o": {5, 6}}}
	enc := mustMarshal(t, s)
	var back shape
	if err := wire.Unmarshal(enc, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("shape = %#v, want %#v", back, s)
	}
	// Decoding into a generic Extension keeps it generic.
	var ext wire.Extension
	if err := wire.Unmarshal(got, &ext); err != nil || ext.Name != testPointName {
		t.Errorf("into wire.Extension = %+v, %v", ext, err)
	}
	// Registration rules.
	mustPanic(t, "reserved name", func() { wire.RegisterExtension("blob", func(wire.Extension) (any, error) { return nil, nil }) })
	mustPanic(t, "twice", func() { wire.RegisterExtension(testPointName, func(wire.Extension) (any, error) { return nil, nil }) })
}

// A registered extension whose content its decoder refuses: decoded
// generically, the message is invalid (a syntax error, as hyper's spec
// says of its own extensions); decoded into a Go type, the type does not
// take it, a type error naming that type and the decoder's reason, and
// the rest of the message is still decoded.
func TestRegisteredExtensionRefused(t *testing.T) {
	const bad = "Xu15:wire_test.point;Du1:x;u1:a;;N;;" // x is not an integer
	const reason = "extension wire_test.point: point needs integer x and y"
	t.Run("into any", func(t *testing.T) {
		var v any
		err := wire.Unmarshal([]byte(bad), &v)
		var se *wire.SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Msg, reason) {
			t.Fatalf("error %T %v, want a *wire.SyntaxError with %q", err, err, reason)
		}
	})
	typeErr := func(t *testing.T, err error, field string, off int) {
		t.Helper()
		te, ok := err.(*wire.UnmarshalTypeError)
		if !ok {
			t.Fatalf("error %T %v, want *wire.UnmarshalTypeError", err, err)
		}
		if te.Value != "extension" || te.Type != reflect.TypeFor[point]() || te.Field != field || te.Offset != int64(off) || te.Reason != reason {
			t.Errorf("type error %+v, want extension into point, field %q, offset %d, reason %q", te, field, off, reason)
		}
	}
	t.Run("into point", func(t *testing.T) {
		var p point
		typeErr(t, wire.Unmarshal([]byte(bad), &p), "", 0)
	})
	t.Run("in a struct", func(t *testing.T) {
		type pair struct {
			A   point
			B   any
			Pts []point
			N   int
		}
		good := string(mustMarshal(t, point{1, 2}))
		msg := "Du1:A;" + bad + "u1:B;" + good + "u3:Pts;L" + good + bad + ";u1:N;i7;;"
		var got pair
		typeErr(t, wire.Unmarshal([]byte(msg), &got), "pair.A", len("Du1:A;"))
		// The rest was decoded.
		want := pair{B: point{1, 2}, Pts: []point{{1, 2}, {}}, N: 7}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decoded %+v, want %+v", got, want)
		}
	})
	t.Run("raw extensions", func(t *testing.T) {
		var v any
		if err := wire.UnmarshalConfig([]byte(bad), &v, wire.DecodeConfig{RawExtensions: true}); err != nil {
			t.Fatal(err)
		}
		if ext, ok := v.(wire.Extension); !ok || ext.Name != testPointName {
			t.Errorf("raw = %#v, want the extension as it came", v)
		}
	})
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

// celsius encodes as a unicode string like "21.5C" through Marshaler and
// Unmarshaler.
type celsius float64

func (c celsius) MarshalGlyph() (any, error) { return fmt.Sprintf("%gC", float64(c)), nil }

func (c *celsius) UnmarshalGlyph(v any) error {
	s, ok := v.(string)
	if !ok || !strings.HasSuffix(s, "C") {
		return fmt.Errorf("not a temperature: %v", v)
	}
	var f float64
	if _, err := fmt.Sscanf(strings.TrimSuffix(s, "C"), "%g", &f); err != nil {
		return err
	}
	*c = celsius(f)
	return nil
}

// upper has a pointer-receiver MarshalGlyph.
type upper struct{ s string }

func (u *upper) MarshalGlyph() (any, error) { return strings.ToUpper(u.s), nil }
func (u *upper) UnmarshalGlyph(v any) error {
	s, ok := v.(string)
	if !ok {
		return errors.New("want a string")
	}
	u.s = strings.ToLower(s)
	return nil
}

// failing fails to marshal.
type failing struct{}

func (failing) MarshalGlyph() (any, error) { return nil, errors.New("boom") }

func TestMarshalerUnmarshaler(t *testing.T) {
	got := mustMarshal(t, celsius(21.5))
	if string(got) != "u5:21.5C;" {
		t.Fatalf("Marshal(celsius) = %q", got)
	}
	if v := decodeLike(t, got, celsius(0)); v != celsius(21.5) {
		t.Errorf("decoded %v", v)
	}
	type weather struct {
		Temp  celsius
		Temps []celsius
		Ptr   *celsius
		Up    upper
		UpPtr *upper
	}
	c := celsius(-3)
	in := weather{Temp: 1, Temps: []celsius{2, 3.5}, Ptr: &c, Up: upper{"abc"}, UpPtr: &upper{"x"}}
	enc := mustMarshal(t, &in) // addressable, so Up's pointer method applies
	const want = "Du3:Ptr;u3:-3C;u4:Temp;u2:1C;u5:Temps;Lu2:2C;u4:3.5C;;u2:Up;u3:ABC;u5:UpPtr;u1:X;;"
	if string(enc) != want {
		t.Fatalf("Marshal(weather) = %q, want %q", enc, want)
	}
	var back weather
	if err := wire.Unmarshal(enc, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, in) {
		t.Errorf("weather = %#v, want %#v", back, in)
	}
	// An Unmarshaler that refuses gives an UnmarshalTypeError with its reason.
	var w weather
	err := wire.Unmarshal([]byte("Du4:Temp;i5;;"), &w)
	var te *wire.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "weather.Temp" || !strings.Contains(te.Reason, "not a temperature") {
		t.Errorf("err = %#v", err)
	}
	// A failing Marshaler fails the whole encoding.
	if b, err := wire.Marshal([]any{1, failing{}}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Marshal(failing) = %q, %v", b, err)
	}
	// A nil pointer Marshaler is nil.
	var np *upper
	if got := mustMarshal(t, np); string(got) != "N;" {
		t.Errorf("nil *upper = %q", got)
	}
}

type Embedded struct {
	E1 int
	E2 string `glyph:"e2"`
}

type EmbeddedPtr struct {
	P1 bool
}

type tagged struct {
	Name         string `glyph:"name"`
	Age          int    `glyph:"age,omitempty"`
	Email        string `glyph:",omitempty"`
	Skip         int    `glyph:"-"`
	Dash         int    `glyph:"-,"`
	Plain        float64
	List         []int          `glyph:"list,omitempty"`
	Map          map[string]int `glyph:"map,omitempty"`
	Ptr          *int           `glyph:"ptr,omitempty"`
	Iface        any            `glyph:"iface,omitempty"`
	When         time.Time      `glyph:"when,omitempty"`
	unexp        int
	Embedded            // promoted fields
	*EmbeddedPtr        // promoted through a pointer
	Unicode      string `glyph:"ünï"`
}

func TestStructs(t *testing.T) {
	seven := 7
	in := tagged{
		Name: "n", Age: 3, Email: "e@x", Skip: 9, Dash: 4, Plain: 1.5,
		List: []int{1}, Map: map[string]int{"k": 1}, Ptr: &seven, Iface: "i",
		When: time.Date(2000, 1, 2, 3, 4, 5, 0, time.UTC), unexp: 5,
		Embedded: Embedded{E1: 10, E2: "two"}, EmbeddedPtr: &EmbeddedPtr{P1: true}, Unicode: "u",
	}
	got := mustMarshal(t, in)
	const want = "Du1:-;i4;u2:E1;i10;u5:Email;u3:e@x;u2:P1;T;u5:Plain;f0x1.8p+00;u3:age;i3;u2:e2;u3:two;u5:iface;u1:i;" +
		"u4:list;Li1;;u3:map;Du1:k;i1;;u4:name;u1:n;u3:ptr;i7;u4:when;d2000-01-02T03:04:05.000000Z;u5:\xc3\xbcn\xc3\xaf;u1:u;;"
	if string(got) != want {
		t.Fatalf("Marshal(tagged)\n got %q\nwant %q", got, want)
	}
	var back tagged
	back.Skip = 99 // untouched: not on the wire
	if err := wire.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	want2 := in
	want2.Skip, want2.unexp = 99, 0
	if !reflect.DeepEqual(back, want2) {
		t.Errorf("decoded\n got %#v\nwant %#v", back, want2)
	}

	// omitempty drops zero values; the embedded nil pointer contributes nothing.
	empty := mustMarshal(t, tagged{})
	const wantEmpty = "Du1:-;i0;u2:E1;i0;u5:Plain;f0x0p+00;u2:e2;u;u4:name;u;u5:\xc3\xbcn\xc3\xaf;u;;"
	if string(empty) != wantEmpty {
		t.Errorf("Marshal(tagged{})\n got %q\nwant %q", empty, wantEmpty)
	}
	var fromEmpty tagged
	if err := wire.Unmarshal(empty, &fromEmpty); err != nil || fromEmpty.EmbeddedPtr != nil {
		t.Errorf("decoding the empty struct: %+v, %v", fromEmpty, err)
	}
}

func TestStructDecodeRules(t *testing.T) {
	type inner struct {
		Value int
	}
	type outer struct {
		ID    int
		Inner inner
		Ptr   *inner
		Any   any
		Names []string
	}
	cases := []struct {
		name string
		wire string
		want outer
	}{
		{"exact names", "Du2:ID;i1;u5:Inner;Du5:Value;i2;;;", outer{ID: 1, Inner: inner{2}}},
		{"case-insensitive", "Du2:id;i1;u5:INNER;Du5:vAlUe;i2;;;", outer{ID: 1, Inner: inner{2}}},
		{"unknown keys ignored", "Du7:Unknown;Li1;Du1:x;b;;;u2:ID;i5;u5:other;N;;", outer{ID: 5}},
		{"non-string keys ignored", "Di1;i2;Li1;;u1:x;u2:ID;i3;;", outer{ID: 3}},
		{"pointer allocated", "Du3:Ptr;Du5:Value;i4;;;", outer{Ptr: &inner{4}}},
		{"nil pointer", "Du3:Ptr;N;;", outer{}},
		{"interface field", "Du3:Any;Li1;u1:a;;;", outer{Any: []any{int64(1), "a"}}},
		{"ordered dict", "Ou5:Names;Lu1:a;;u2:ID;i1;;", outer{ID: 1, Names: []string{"a"}}},
		{"whitespace", " D u2:ID; i1; \n u5:Names; L u1:a; ; ; ", outer{ID: 1, Names: []string{"a"}}},
		{"empty", "D;", outer{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got outer
			if err := wire.Unmarshal([]byte(tc.wire), &got); err != nil {
				t.Fatalf("Unmarshal(%q): %v", tc.wire, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Unmarshal(%q)\n got %#v\nwant %#v", tc.wire, got, tc.want)
			}
		})
	}
	// Decoding into a value merges: fields not on the wire keep their values.
	got := outer{ID: 1, Names: []string{"keep"}}
	if err := wire.Unmarshal([]byte("Du3:Any;T;;"), &got); err != nil || got.ID != 1 || got.Names[0] != "keep" || got.Any != true {
		t.Errorf("merge: %+v, %v", got, err)
	}
	// A dict with keys that differ only in case is valid: it is not a
	// syntax error, and the stream stays usable.
	var fold struct{ A int }
	err := wire.Unmarshal([]byte("Du1:A;i1;u1:a;i2;;"), &fold)
	var se *wire.SyntaxError
	if errors.As(err, &se) {
		t.Errorf("keys differing in case: %v", err)
	}
	// A key repeated exactly is a duplicate.
	if err := wire.Unmarshal([]byte("Du1:A;i1;u1:A;i2;;"), &fold); !errors.As(err, &se) {
		t.Errorf("duplicate key: err = %v, want *SyntaxError", err)
	}
	if err := wire.Unmarshal([]byte("Du1:a;i1;u1:a;i2;;"), &fold); !errors.As(err, &se) {
		t.Errorf("duplicate folded key: err = %v, want *SyntaxError", err)
	}
	if err := wire.Unmarshal([]byte("Du1:z;i1;u1:z;i2;;"), &fold); !errors.As(err, &se) {
		t.Errorf("duplicate unknown key: err = %v, want *SyntaxError", err)
	}
}

type (
	Base struct {
		ID   int
		Name string
	}
	Dup1       struct{ X int }
	Dup2       struct{ X int }
	withEmbeds struct {
		Base
		*Dup1
		Dup2
		Name string // shadows Base.Name
	}
)

func TestStructEmbedding(t *testing.T) {
	in := withEmbeds{Base: Base{ID: 1, Name: "base"}, Dup1: &Dup1{X: 2}, Dup2: Dup2{X: 3}, Name: "outer"}
	got := mustMarshal(t, in)
	// X is ambiguous at the same depth, so neither is encoded (as in encoding/json).
	const want = "Du2:ID;i1;u4:Name;u5:outer;;"
	if string(got) != want {
		t.Fatalf("Marshal = %q, want %q", got, want)
	}
	var back withEmbeds
	if err := wire.Unmarshal([]byte("Du2:ID;i7;u4:Name;u1:n;u1:X;i9;;"), &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != 7 || back.Name != "n" || back.Base.Name != "" || back.Dup1 != nil || back.Dup2.X != 0 {
		t.Errorf("decoded %+v", back)
	}
	// A promoted field through a nil embedded pointer allocates it.
	type withPtr struct {
		*Base
		Other int
	}
	var wp withPtr
	if err := wire.Unmarshal([]byte("Du2:ID;i3;u5:Other;i4;;"), &wp); err != nil || wp.Base == nil || wp.ID != 3 || wp.Other != 4 {
		t.Errorf("decoded %+v, %v", wp, err)
	}
	if got := mustMarshal(t, withPtr{Other: 1}); string(got) != "Du5:Other;i1;;" {
		t.Errorf("nil embedded pointer encodes as %q", got)
	}
}

func TestPointersAndInterfaces(t *testing.T) {
	n := 5
	pn := &n
	var nilp *int
	var nilIface fmt.Stringer
	runRoundTrips(t, []rtCase{
		{name: "pointer", in: &n, wire: "i5;", generic: int64(5)},
		{name: "pointer to pointer", in: &pn, wire: "i5;", generic: int64(5)},
		{name: "nil pointer", in: nilp, wire: "N;"},
		{name: "slice of pointers", in: []*int{&n, nil}, wire: "Li5;N;;"},
		{name: "map of any", in: map[string]any{"a": nil, "b": &n}, wire: "Du1:a;N;u1:b;i5;;", typed: map[string]any{"a": nil, "b": int64(5)}},
		{name: "nil interface in struct", in: struct{ S fmt.Stringer }{nilIface}, wire: "Du1:S;N;;"},
		{name: "interface holding a struct", in: []any{struct{ A int }{1}}, wire: "LDu1:A;i1;;;", typed: []any{map[string]any{"A": int64(1)}}},
	})
	// N; into a pointer sets it to nil; into a non-pointer leaves it.
	p := &n
	if err := wire.Unmarshal([]byte("N;"), &p); err != nil || p != nil {
		t.Errorf("N; into *int = %v, %v", p, err)
	}
	x := 42
	if err := wire.Unmarshal([]byte("N;"), &x); err != nil || x != 42 {
		t.Errorf("N; into int = %v, %v", x, err)
	}
	// A value into a non-empty interface it does not satisfy is a type error.
	var s fmt.Stringer
	var te *wire.UnmarshalTypeError
	if err := wire.Unmarshal([]byte("u1:x;"), &s); !errors.As(err, &te) {
		t.Errorf("unicode into fmt.Stringer: %v", err)
	}
	// Invalid destinations.
	var ie *wire.InvalidUnmarshalError
	if err := wire.Unmarshal([]byte("N;"), x); !errors.As(err, &ie) {
		t.Errorf("non-pointer: %v", err)
	}
	if err := wire.Unmarshal([]byte("N;"), (*int)(nil)); !errors.As(err, &ie) {
		t.Errorf("nil pointer: %v", err)
	}
	if err := wire.Unmarshal([]byte("N;"), nil); !errors.As(err, &ie) {
		t.Errorf("nil: %v", err)
	}
	// Unsupported Go kinds.
	for _, v := range []any{make(chan int), func() {}, complex(1, 2), []any{make(chan int)}} {
		var ue *wire.UnsupportedValueError
		if b, err := wire.Marshal(v); !errors.As(err, &ue) {
			t.Errorf("Marshal(%T) = %q, %v; want *UnsupportedValueError", v, b, err)
		}
	}
}

func TestAppendMarshal(t *testing.T) {
	dst := []byte("prefix")
	got, err := wire.AppendMarshal(dst, []int{1})
	if err != nil || string(got) != "prefixLi1;;" {
		t.Errorf("AppendMarshal = %q, %v", got, err)
	}
	got, err = wire.AppendMarshal(nil, wire.BytesBlob("text/plain", []byte("hi")))
	if err != nil || string(got) != "B0:Du12:content-type;u10:text/plain;;;c0:2:hi;c0;" {
		t.Errorf("AppendMarshal(blob) = %q, %v", got, err)
	}
}

// TestCanonicalEncoding builds equal values in different insertion orders
// and checks they encode to identical bytes, many times over, so Go's map
// iteration randomisation has every chance to show.
func TestCanonicalEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]string, 200)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d-%s", i, strings.Repeat("x", i%7))
	}
	keys = append(keys, "", "é", "e\u0301x", "Z", "a", "aa", "b", "\U0001F4A9")
	build := func() (map[string]int, map[any]any, wire.Set[string], wire.Dict, wire.AnySet, map[int]map[string]bool) {
		order := rng.Perm(len(keys))
		m := map[string]int{}
		ma := map[any]any{}
		s := wire.Set[string]{}
		var d wire.Dict
		var as wire.AnySet
		nested := map[int]map[string]bool{}
		for _, i := range order {
			k := keys[i]
			m[k] = i
			ma[k] = i
			ma[int64(i)] = k
			ma[float64(i)+0.5] = nil
			s.Add(k)
			d.Entries = append(d.Entries, wire.Entry{Key: []any{k}, Value: i})
			as.Items = append(as.Items, []any{int64(i), k})
			if nested[i%10] == nil {
				nested[i%10] = map[string]bool{}
			}
			nested[i%10][k] = true
		}
		ma[true] = false
		ma[nil] = "nil key"
		return m, ma, s, d, as, nested
	}
	m, ma, s, d, as, nested := build()
	want := [][]byte{mustMarshal(t, m), mustMarshal(t, ma), mustMarshal(t, s), mustMarshal(t, d), mustMarshal(t, as), mustMarshal(t, nested)}
	for range 50 {
		m, ma, s, d, as, nested := build()
		for i, v := range []any{m, ma, s, d, as, nested} {
			if got := mustMarshal(t, v); !bytes.Equal(got, want[i]) {
				t.Fatalf("value %d (%T) encoded differently:\n%q\n%q", i, v, got, want[i])
			}
		}
	}
	// Keys are in byte order of their content: "Z" < "a" < "aa" < "b".
	got := mustMarshal(t, map[string]int{"b": 1, "aa": 2, "a": 3, "Z": 4})
	if string(got) != "Du1:Z;i4;u1:a;i3;u2:aa;i2;u1:b;i1;;" {
		t.Errorf("string key order: %q", got)
	}
	// Keys equal after NFC normalisation are an encode error.
	if b, err := wire.Marshal(map[string]int{"é": 1, "e\u0301": 2}); err == nil {
		t.Errorf("Marshal(keys equal after NFC) = %q, want error", b)
	}
	// A decoded value re-encodes to the canonical bytes whatever the wire order was.
	var v any
	if err := wire.Unmarshal([]byte("Du1:b;Si2;i1;;u1:a;Di2;N;i1;N;;;"), &v); err != nil {
		t.Fatal(err)
	}
	if got := mustMarshal(t, v); string(got) != "Du1:a;Di1;N;i2;N;;u1:b;Si1;i2;;;" {
		t.Errorf("re-encoded %q", got)
	}
}

func TestTypeName(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{nil, "nil"}, {true, "bool"}, {1, "integer"}, {uint8(1), "integer"}, {big.NewInt(1), "integer"},
		{1.5, "float"}, {"s", "unicode"}, {[]byte("b"), "bytearray"}, {time.Time{}, "datetime"},
		{time.Second, "timedelta"}, {wire.Period{}, "timedelta"}, {[]any{}, "list"}, {[2]int{}, "list"},
		{map[string]any{}, "dict"}, {struct{}{}, "dict"}, {wire.Dict{}, "dict"}, {wire.NewSet(1), "set"},
		{wire.AnySet{}, "set"}, {wire.NewOrderedDict(), "ordered_dict"}, {wire.BytesBlob("a/b", nil), "blob"},
		{wire.Extension{Name: "x"}, "extension x"},
	}
	for _, tc := range cases {
		if got := wire.TypeName(tc.v); got != tc.want {
			t.Errorf("TypeName(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
