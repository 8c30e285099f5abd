package wire_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// This file runs the vectors of spec.md. See section 0 of spec.md for
// what each kind of vector asserts.

// Types named by the `into` and `typeerror` vectors, and used by values.
type (
	User struct {
		ID   int
		Name string
	}
	Invoice struct{ Total Money }
	Money   struct{ Cents int }
	Profile struct {
		Name   string   `glyph:"name"`
		Email  string   `glyph:"email,omitempty"`
		Secret string   `glyph:"-"`
		Count  int      // no tag: the key is "Count"
		Tags   []string `glyph:",omitempty"`
	}
	specBase     struct{ ID int }
	specEmbedded struct {
		specBase
		Title string
	}
	specUpload struct {
		Name string
		File *wire.Blob
	}
	specCycle struct{ Next *specCycle }
)

// specTargets are the Go types named by `into` and `typeerror` vectors.
var specTargets = map[string]func() any{
	"User":        func() any { return new(User) },
	"Invoice":     func() any { return new(Invoice) },
	"Profile":     func() any { return new(Profile) },
	"Int":         func() any { return new(int) },
	"Int8":        func() any { return new(int8) },
	"Uint":        func() any { return new(uint) },
	"Float64":     func() any { return new(float64) },
	"Float32":     func() any { return new(float32) },
	"Strings":     func() any { return new([]string) },
	"Array3":      func() any { return new([3]int) },
	"Bytes4":      func() any { return new([4]byte) },
	"StringSet":   func() any { return new(wire.Set[string]) },
	"OrderedDict": func() any { return new(wire.OrderedDict) },
	"IntMap":      func() any { return new(map[string]int) },
	"Duration":    func() any { return new(time.Duration) },
	"Period":      func() any { return new(wire.Period) },
}

// specValues are the Go values named by `encode`, `lossy` and
// `unencodable` vectors.
func specValues() map[string]any {
	big2pow64 := new(big.Int).Lsh(big.NewInt(1), 64)
	big40, _ := new(big.Int).SetString("1234567890123456789012345678901234567890", 10)
	five := 5
	cycle := &specCycle{}
	cycle.Next = cycle
	ext := func(name string, content any, attrs ...any) wire.Extension {
		return wire.Extension{Name: name, Attrs: wire.NewOrderedDict(attrs...), Content: content}
	}
	input := ext("input", nil, "name", "a")
	withURL := wire.BytesBlob("image/png", []byte("\x89PNG"))
	withURL.Attrs = map[string]any{"url": "/img.png"}
	utc := time.UTC

	return map[string]any{
		// 3.1 integer
		"int_123":        123,
		"int_neg123":     -123,
		"int_0":          0,
		"int_2pow64":     big2pow64,
		"int_neg_2pow64": new(big.Int).Neg(big2pow64),
		"int_max_int64":  int64(math.MaxInt64),
		"int_min_int64":  int64(math.MinInt64),
		"int_max_uint64": uint64(math.MaxUint64),
		"int_big40":      big40,
		"int8_min":       int8(-128),

		// 3.2 unicode
		"str_empty":        "",
		"str_foo":          "foo",
		"str_eacute":       "é",
		"str_pile_of_poo":  "\U0001F4A9",
		"str_semicolon":    "a;b",
		"str_colon":        "1:2;",
		"str_space":        "a b",
		"str_control":      "\n\x00",
		"str_decomposed":   "e\u0301",
		"str_invalid_utf8": "\xff",

		// 3.3 bytearray
		"bytes_empty":  []byte{},
		"bytes_123":    []byte("123"),
		"bytes_00ff":   []byte{0x00, 0xff},
		"bytes_array4": [4]byte{1, 2, 3, 4},

		// 3.4 singletons
		"nil":   nil,
		"true":  true,
		"false": false,

		// 3.5 collections
		"list_empty":  []int{},
		"list_123":    []int{1, 2, 3},
		"list_nested": [][]int{{1}, {}},
		"list_mixed":  []any{nil, true, false, int64(-1), 0.5, "a", []byte("a")},
		"set_123":     wire.NewSet(1, 2, 3),
		"set_strings": wire.NewSet("b", "a", "ab", ""),
		"dict_empty":  map[string]int{},
		"dict_1234":   map[int]int{1: 2, 3: 4},
		"dict_a_list1": map[string]any{
			"a": []any{int64(1)},
		},
		"dict_string_order": map[string]int{"b": 1, "a": 2, "ab": 3, "B": 4},
		"dict_utf8_order":   map[string]int{"é": 2, "z": 1},
		"dict_int_order":    map[int]string{10: "a", 9: "b", -1: "c"},
		"dict_mixed_keys": map[any]any{
			int64(2): "b", "a": nil, true: int64(1), 0.5: "f",
		},
		"dict_list_key":  wire.Dict{Entries: []wire.Entry{{Key: []any{int64(1)}, Value: "x"}}},
		"anyset_lists":   wire.AnySet{Items: []any{[]any{int64(1)}, []any{int64(2)}}},
		"odict_b1a2":     wire.NewOrderedDict("b", int64(1), "a", int64(2)),
		"odict_int_keys": wire.NewOrderedDict(2, "b", 1, "a"),
		"odict_empty":    wire.NewOrderedDict(),
		"nested": map[string]any{
			"users": []any{map[string]any{"id": int64(1), "tags": wire.NewSet[any]("x")}},
		},
		"list_nil":            []int(nil),
		"dict_nil":            map[string]int(nil),
		"dict_nfc_equal_keys": map[string]int{"e\u0301": 1, "\u00e9": 2},

		// 3.6 float
		"float_half":     0.5,
		"float_negzero":  math.Copysign(0, -1),
		"float_inf":      math.Inf(1),
		"float_neginf":   math.Inf(-1),
		"float_nan":      math.NaN(),
		"float_one":      1.0,
		"float_tenth":    0.1,
		"float_1000":     1000.0,
		"float_smallest": math.SmallestNonzeroFloat64,
		"float_max":      math.MaxFloat64,
		"float32_1_5":    float32(1.5),

		// 3.7 datetime
		"time_epoch":     time.Unix(0, 0).UTC(),
		"time_micro":     time.Date(2012, 8, 12, 13, 14, 15, 123456000, utc),
		"time_year0":     time.Date(0, 1, 1, 0, 0, 0, 0, utc),
		"time_last":      time.Date(9999, 12, 31, 23, 59, 59, 999999000, utc),
		"time_nanos":     time.Date(2012, 8, 12, 13, 14, 15, 123456789, utc),
		"time_zone":      time.Date(2012, 8, 12, 13, 14, 15, 0, time.FixedZone("CEST", 2*3600)),
		"time_year10000": time.Date(10000, 1, 1, 0, 0, 0, 0, utc),

		// 3.8 timedelta
		"dur_3d2h":           3*24*time.Hour + 2*time.Hour,
		"dur_zero":           time.Duration(0),
		"dur_1_5s":           1500 * time.Millisecond,
		"dur_neg_1d":         -24 * time.Hour,
		"dur_1ns":            time.Nanosecond,
		"dur_max":            time.Duration(math.MaxInt64),
		"dur_min":            time.Duration(math.MinInt64),
		"period_1y2m3d":      wire.Period{Years: 1, Months: 2, Duration: 3 * 24 * time.Hour},
		"period_neg_1y":      wire.Period{Years: -1},
		"period_mixed_signs": wire.Period{Years: 1, Duration: -time.Hour},

		// 3.9 extension
		"ext_foo": ext("foo", nil),
		"ext_ordered": wire.Extension{
			Name:    "point",
			Attrs:   wire.NewOrderedDict("y", int64(2), "x", int64(1)),
			Ordered: true,
			Content: []any{int64(1), int64(2)},
		},
		"ext_nested_key": wire.Dict{Entries: []wire.Entry{{Key: ext("foo", nil), Value: int64(1)}}},

		// 3.10 blob
		"blob_hello": wire.BytesBlob("text/plain", []byte("hello")),
		"blob_empty": wire.BytesBlob("text/plain", nil),
		"blob_url":   withURL,
		"blob_list": []*wire.Blob{
			wire.BytesBlob("a", []byte("aa")),
			wire.BytesBlob("b", []byte("bb")),
		},
		"blob_struct": specUpload{Name: "a.txt", File: wire.BytesBlob("text/plain", []byte("hello"))},
		"blob_dict": map[string]*wire.Blob{
			"x": wire.BytesBlob("a", []byte("x")),
			"y": wire.BytesBlob("a", []byte("y")),
			"z": wire.BytesBlob("a", []byte("z")),
		},

		// 4 hypermedia extensions, attributes deliberately not in
		// canonical order
		"ext_link":  ext("link", nil, "url", "/foo", "method", "GET"),
		"ext_form":  ext("form", nil, "values", []any{input}, "url", "/foo", "method", "POST"),
		"ext_input": ext("input", nil, "value", int64(5), "name", "a"),
		"ext_resource": ext("resource", map[string]any{"value": int64(0)},
			"url", "/Test/?", "name", "Test"),
		"ext_error":   ext("error", map[string]any{}, "message", "boom", "logref", "ref1"),
		"query_odict": wire.NewOrderedDict("name", "value"),

		// 6.1 Go values
		"struct_user":     User{ID: 7, Name: "Ann"},
		"struct_tagged":   Profile{Name: "a", Count: 2},
		"struct_embedded": specEmbedded{specBase{ID: 1}, "t"},
		"ptr_int":         &five,
		"ptr_nil":         (*int)(nil),
		"map_string_int":  map[string]int{"a": 1, "b": 2},
		"set_of_strings":  wire.NewSet("y", "x"),
		"chan":            make(chan int),
		"func":            func() {},
		"complex":         complex(1, 2),
		"cyclic":          cycle,
	}
}

// specVector is one line of a vectors block of spec.md.
type specVector struct {
	line   int
	kind   string
	name   string // encode, lossy, unencodable: value; into, typeerror: target
	field  string // limit: the Limits field
	max    int64  // limit: its value
	in     []byte
	out    []byte // decode, into: canonical bytes; encode, lossy: the encoding
	errMsg string // typeerror
}

func (v specVector) String() string { return fmt.Sprintf("spec.md:%d %s", v.line, v.kind) }

func TestSpecVectors(t *testing.T) {
	vecs := specRead(t, "spec.md")
	values := specValues()
	usedValues := map[string]bool{}
	usedTargets := map[string]bool{}
	counts := map[string]int{}
	for _, v := range vecs {
		counts[v.kind]++
		name := fmt.Sprintf("%d_%s", v.line, v.kind)
		if v.name != "" {
			name += "_" + v.name
		}
		switch v.kind {
		case "encode", "lossy", "unencodable":
			val, ok := values[v.name]
			if !ok {
				t.Errorf("%v: no Go value named %q in specValues", v, v.name)
				continue
			}
			if usedValues[v.name] {
				t.Errorf("%v: value %q used by two vectors", v, v.name)
			}
			usedValues[v.name] = true
			t.Run(name, func(t *testing.T) {
				switch v.kind {
				case "encode":
					specCheckEncode(t, v, val, true)
				case "lossy":
					specCheckEncode(t, v, val, false)
				default:
					specCheckUnencodable(t, val)
				}
			})
		case "into", "typeerror":
			newTarget, ok := specTargets[v.name]
			if !ok {
				t.Errorf("%v: no Go type named %q in specTargets", v, v.name)
				continue
			}
			usedTargets[v.name] = true
			t.Run(name, func(t *testing.T) {
				if v.kind == "into" {
					specCheckInto(t, v, newTarget())
				} else {
					specCheckTypeError(t, v, newTarget())
				}
			})
		case "decode":
			t.Run(name, func(t *testing.T) { specCheckDecode(t, v) })
		case "reject":
			t.Run(name, func(t *testing.T) { specCheckReject(t, v) })
		case "limit":
			t.Run(name, func(t *testing.T) { specCheckLimit(t, v) })
		}
	}
	for name := range values {
		if !usedValues[name] {
			t.Errorf("Go value %q has no vector in spec.md", name)
		}
	}
	for name := range specTargets {
		if !usedTargets[name] {
			t.Errorf("Go type %q has no vector in spec.md", name)
		}
	}
	t.Logf("vectors: %v", counts)
}

// specCheckEncode runs an encode vector, or a lossy one (roundTrip false).
func specCheckEncode(t *testing.T, v specVector, val any, roundTrip bool) {
	got, err := wire.Marshal(val)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !bytes.Equal(got, v.out) {
		t.Fatalf("Marshal\n got %s\nwant %s", specEsc(got), specEsc(v.out))
	}
	var buf bytes.Buffer
	if err := wire.NewEncoder(&buf).Encode(val); err != nil {
		t.Fatalf("Encoder.Encode: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), v.out) {
		t.Fatalf("Encoder.Encode\n got %s\nwant %s", specEsc(buf.Bytes()), specEsc(v.out))
	}
	// The encoding is canonical: decoded into any, it re-encodes to itself.
	specCheckCanonical(t, v.out, v.out)
	if !roundTrip {
		return
	}
	var back reflect.Value
	if val == nil {
		back = reflect.New(reflect.TypeFor[any]())
	} else {
		back = reflect.New(reflect.TypeOf(val))
	}
	if err := wire.Unmarshal(v.out, back.Interface()); err != nil {
		t.Fatalf("Unmarshal into %s: %v", back.Type().Elem(), err)
	}
	if !specEqual(back.Elem(), reflect.ValueOf(&val).Elem()) {
		t.Fatalf("Unmarshal into %s\n got %#v\nwant %#v", back.Type().Elem(), back.Elem(), val)
	}
}

func specCheckUnencodable(t *testing.T, val any) {
	b, err := specMarshal(val)
	var uve *wire.UnsupportedValueError
	if !errors.As(err, &uve) {
		t.Fatalf("Marshal = %s, %v; want an *UnsupportedValueError", specEsc(b), err)
	}
}

func specMarshal(val any) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return wire.Marshal(val)
}

// specCheckCanonical decodes in into any, with Unmarshal and with a Decoder
// that reads one byte at a time, and checks that it re-encodes to want.
func specCheckCanonical(t *testing.T, in, want []byte) {
	t.Helper()
	var v any
	if err := wire.Unmarshal(in, &v); err != nil {
		t.Fatalf("Unmarshal %s: %v", specEsc(in), err)
	}
	got, err := wire.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal after Unmarshal %s: %v", specEsc(in), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Unmarshal %s, then Marshal\n got %s\nwant %s", specEsc(in), specEsc(got), specEsc(want))
	}

	dec := wire.NewDecoder(iotest.OneByteReader(bytes.NewReader(in)))
	var sv any
	if err := dec.Decode(&sv); err != nil {
		t.Fatalf("Decoder.Decode %s: %v", specEsc(in), err)
	}
	got, err = wire.Marshal(sv) // reads blobs from the stream
	if err != nil {
		t.Fatalf("Marshal after Decoder.Decode %s: %v", specEsc(in), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Decoder.Decode %s, then Marshal\n got %s\nwant %s", specEsc(in), specEsc(got), specEsc(want))
	}
	if err := dec.Decode(&sv); err != io.EOF {
		t.Fatalf("Decoder.Decode after the message = %v, want io.EOF", err)
	}
}

func specCheckDecode(t *testing.T, v specVector) {
	specCheckCanonical(t, v.in, v.out)
	specCheckCanonical(t, v.out, v.out)
}

func specCheckReject(t *testing.T, v specVector) {
	var x any
	err := specUnmarshal(v.in, &x, wire.DecodeConfig{})
	var se *wire.SyntaxError
	var le *wire.LimitError
	switch {
	case errors.As(err, &se):
		if se.Offset < 0 || se.Offset > int64(len(v.in)) {
			t.Errorf("syntax error offset %d outside the input (%d bytes): %v", se.Offset, len(v.in), err)
		}
	case errors.As(err, &le):
	default:
		t.Fatalf("Unmarshal %s = %#v, %v; want a *SyntaxError or *LimitError", specEsc(v.in), x, err)
	}
}

func specUnmarshal(data []byte, dst any, cfg wire.DecodeConfig) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return wire.UnmarshalConfig(data, dst, cfg)
}

func specCheckLimit(t *testing.T, v specVector) {
	var cfg wire.DecodeConfig
	f := reflect.ValueOf(&cfg.Limits).Elem().FieldByName(v.field)
	if !f.IsValid() {
		t.Fatalf("wire.Limits has no field %s", v.field)
	}
	f.SetInt(v.max)
	var x any
	err := specUnmarshal(v.in, &x, cfg)
	var le *wire.LimitError
	if !errors.As(err, &le) || le.Limit != v.field || le.Max != v.max {
		t.Fatalf("Unmarshal %s with %s=%d = %v; want a *LimitError for %s", specEsc(v.in), v.field, v.max, err, v.field)
	}
	if err := wire.Unmarshal(v.in, &x); err != nil {
		t.Fatalf("Unmarshal %s with the default limits: %v", specEsc(v.in), err)
	}
}

func specCheckInto(t *testing.T, v specVector, target any) {
	if err := specUnmarshal(v.in, target, wire.DecodeConfig{}); err != nil {
		t.Fatalf("Unmarshal %s into %T: %v", specEsc(v.in), target, err)
	}
	got, err := wire.Marshal(target)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !bytes.Equal(got, v.out) {
		t.Fatalf("Unmarshal %s into %T, then Marshal\n got %s\nwant %s", specEsc(v.in), target, specEsc(got), specEsc(v.out))
	}
}

func specCheckTypeError(t *testing.T, v specVector, target any) {
	err := specUnmarshal(v.in, target, wire.DecodeConfig{})
	var te *wire.UnmarshalTypeError
	if !errors.As(err, &te) {
		t.Fatalf("Unmarshal %s into %T = %v; want an *UnmarshalTypeError", specEsc(v.in), target, err)
	}
	if err.Error() != v.errMsg {
		t.Fatalf("Unmarshal %s into %T\n got %q\nwant %q", specEsc(v.in), target, err.Error(), v.errMsg)
	}
}

// TestSpecTypeErrorContinues checks that decoding goes on after a value
// that does not fit: the other fields are still filled in.
func TestSpecTypeErrorContinues(t *testing.T) {
	var u User
	err := wire.Unmarshal([]byte("Du2:ID;u1:x;u4:Name;u3:Ann;;"), &u)
	var te *wire.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "User.ID" || te.Offset != 7 || te.Value != "unicode" {
		t.Fatalf("err = %#v", err)
	}
	if u.Name != "Ann" {
		t.Fatalf("Name = %q, want Ann: decoding stopped at the error", u.Name)
	}
}

// specEqual reports whether two Go values are the same glyph value (see
// spec.md section 0).
func specEqual(a, b reflect.Value) bool {
	for a.IsValid() && a.Kind() == reflect.Interface {
		a = a.Elem()
	}
	for b.IsValid() && b.Kind() == reflect.Interface {
		b = b.Elem()
	}
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Type() {
	case reflect.TypeFor[*big.Int]():
		x, y := a.Interface().(*big.Int), b.Interface().(*big.Int)
		return x == nil && y == nil || x != nil && y != nil && x.Cmp(y) == 0
	case reflect.TypeFor[time.Time]():
		return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
	case reflect.TypeFor[*wire.Blob]():
		return specEqualBlob(a.Interface().(*wire.Blob), b.Interface().(*wire.Blob))
	case reflect.TypeFor[*wire.OrderedDict]():
		x, y := a.Interface().(*wire.OrderedDict), b.Interface().(*wire.OrderedDict)
		return specEqualEntries(x.Entries(), y.Entries(), true)
	case reflect.TypeFor[wire.Extension]():
		x, y := a.Interface().(wire.Extension), b.Interface().(wire.Extension)
		return x.Name == y.Name && x.Ordered == y.Ordered &&
			specEqualEntries(x.Attrs.Entries(), y.Attrs.Entries(), x.Ordered) &&
			specEqual(reflect.ValueOf(&x.Content).Elem(), reflect.ValueOf(&y.Content).Elem())
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y)
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return specEqual(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() {
			return false
		}
		fallthrough
	case reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !specEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for it := a.MapRange(); it.Next(); {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() || !specEqual(it.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !a.Type().Field(i).IsExported() {
				if !specEqualUnexported(a.Field(i), b.Field(i)) {
					return false
				}
				continue
			}
			if !specEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// specEqualUnexported compares unexported struct fields, which cannot be
// turned back into interfaces: only plain kinds and embedded structs
// occur in the table.
func specEqualUnexported(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if !specEqualUnexported(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.String:
		return a.String() == b.String()
	}
	return false
}

// specEqualEntries compares dict entries, in order or as sets.
func specEqualEntries(a, b []wire.Entry, ordered bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i, ea := range a {
		if ordered {
			eb := b[i]
			if !specEqual(reflect.ValueOf(&ea.Key).Elem(), reflect.ValueOf(&eb.Key).Elem()) ||
				!specEqual(reflect.ValueOf(&ea.Value).Elem(), reflect.ValueOf(&eb.Value).Elem()) {
				return false
			}
			continue
		}
		found := false
		for _, eb := range b {
			if specEqual(reflect.ValueOf(&ea.Key).Elem(), reflect.ValueOf(&eb.Key).Elem()) {
				found = specEqual(reflect.ValueOf(&ea.Value).Elem(), reflect.ValueOf(&eb.Value).Elem())
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func specEqualBlob(a, b *wire.Blob) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.ContentType != b.ContentType || len(a.Attrs) != len(b.Attrs) {
		return false
	}
	for k, va := range a.Attrs {
		vb, ok := b.Attrs[k]
		if !ok || !specEqual(reflect.ValueOf(&va).Elem(), reflect.ValueOf(&vb).Elem()) {
			return false
		}
	}
	ca, errA := a.Bytes()
	cb, errB := b.Bytes()
	return errA == nil && errB == nil && bytes.Equal(ca, cb)
}

// specRead parses the vectors blocks of the spec.
func specRead(t *testing.T, path string) []specVector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vecs []specVector
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case !in && line == "```vectors":
			in = true
			continue
		case in && line == "```":
			in = false
			continue
		case !in || line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		v, err := specParse(line)
		if err != nil {
			t.Fatalf("spec.md:%d: %v: %q", n, err, line)
		}
		v.line = n
		vecs = append(vecs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if in {
		t.Fatal("spec.md: unterminated vectors block")
	}
	if len(vecs) == 0 {
		t.Fatal("spec.md: no vectors")
	}
	return vecs
}

func specParse(line string) (specVector, error) {
	kind, rest, _ := strings.Cut(line, " ")
	v := specVector{kind: kind}
	args := strings.Split(rest, " ")
	if rest == "" {
		args = nil
	}
	var err error
	want := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("%s takes %d tokens, found %d", kind, n, len(args))
		}
		return nil
	}
	arrow := func(i int) error {
		if args[i] != "=>" {
			return fmt.Errorf("want => as token %d", i+1)
		}
		return nil
	}
	switch kind {
	case "encode", "lossy":
		if err = want(2); err == nil {
			v.name = args[0]
			v.out, err = specUnescape(args[1])
		}
	case "unencodable":
		if err = want(1); err == nil {
			v.name = args[0]
		}
	case "decode":
		if err = want(3); err == nil {
			if err = arrow(1); err == nil {
				if v.in, err = specUnescape(args[0]); err == nil {
					v.out, err = specUnescape(args[2])
				}
			}
		}
	case "reject":
		if len(args) > 1 {
			err = want(1)
		} else if len(args) == 1 {
			v.in, err = specUnescape(args[0])
		}
	case "limit":
		if err = want(2); err == nil {
			field, max, ok := strings.Cut(args[0], "=")
			if !ok {
				return v, errors.New("want FIELD=N")
			}
			v.field = field
			if v.max, err = strconv.ParseInt(max, 10, 64); err == nil {
				v.in, err = specUnescape(args[1])
			}
		}
	case "into":
		if err = want(4); err == nil {
			if err = arrow(2); err == nil {
				v.name = args[0]
				if v.in, err = specUnescape(args[1]); err == nil {
					v.out, err = specUnescape(args[3])
				}
			}
		}
	case "typeerror":
		if len(args) < 3 {
			return v, errors.New("typeerror takes TYPE BYTES MESSAGE")
		}
		v.name = args[0]
		v.errMsg = strings.Join(args[2:], " ")
		v.in, err = specUnescape(args[1])
	default:
		err = fmt.Errorf("unknown vector kind %q", kind)
	}
	return v, err
}

// specUnescape decodes a bytes token (spec.md section 0).
func specUnescape(tok string) ([]byte, error) {
	if tok == "" {
		return nil, errors.New("empty bytes token")
	}
	var out []byte
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c <= ' ' || c >= 0x7f {
			return nil, fmt.Errorf("byte 0x%02x must be escaped", c)
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(tok) {
			return nil, errors.New("trailing backslash")
		}
		switch tok[i] {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case '\\':
			out = append(out, '\\')
		case 'x':
			if i+2 >= len(tok) {
				return nil, errors.New(`\x needs two hex digits`)
			}
			b, err := strconv.ParseUint(tok[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf(`bad \x escape %q`, tok[i-1:i+3])
			}
			out = append(out, byte(b))
			i += 2
		case '{':
			end := strings.IndexByte(tok[i:], '}')
			colon := strings.IndexByte(tok[i:], ':')
			if end < 0 || colon < 0 || colon > end {
				return nil, errors.New(`\{N:text} needs a count, ':' and '}'`)
			}
			n, err := strconv.Atoi(tok[i+1 : i+colon])
			if err != nil || n < 1 {
				return nil, fmt.Errorf(`bad count in \{%s`, tok[i+1:i+colon])
			}
			text, err := specUnescape(tok[i+colon+1 : i+end])
			if err != nil {
				return nil, err
			}
			out = append(out, bytes.Repeat(text, n)...)
			i += end
		default:
			return nil, fmt.Errorf(`unknown escape \%c`, tok[i])
		}
	}
	return out, nil
}

// specEsc writes bytes as a spec.md bytes token, for failure messages.
func specEsc(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c == '\\':
			sb.WriteString(`\\`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c > ' ' && c < 0x7f:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, `\x%02x`, c)
		}
	}
	if sb.Len() > 300 {
		return sb.String()[:300] + "..."
	}
	return sb.String()
}
