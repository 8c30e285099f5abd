package wire_test

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// Types for the field path checks: Outer.Inner.Field.
type (
	Leaf struct {
		Field int8
		Other string
	}
	Middle struct {
		Inner Leaf
		After string
	}
	Outer struct {
		Before string
		Outer  Middle
		Last   int
	}
)

func asTypeError(t *testing.T, err error) *wire.UnmarshalTypeError {
	t.Helper()
	var te *wire.UnmarshalTypeError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *wire.UnmarshalTypeError", err, err)
	}
	return te
}

func TestUnmarshalTypeErrorFields(t *testing.T) {
	// Before, then Outer.Inner.Field overflows int8, then more fields
	// that must still be filled in.
	msg := "Du6:Before;u1:b;u5:Outer;Du5:Inner;Du5:Field;i300;u5:Other;u1:o;;u5:After;u1:a;;u4:Last;i7;;"
	var v Outer
	err := wire.Unmarshal([]byte(msg), &v)
	te := asTypeError(t, err)
	wantOff := int64(strings.Index(msg, "i300;"))
	if te.Value != "integer" || te.Type != reflect.TypeFor[int8]() || te.Field != "Outer.Outer.Inner.Field" || te.Offset != wantOff {
		t.Errorf("UnmarshalTypeError = %+v; want Value integer, Type int8, Field Outer.Outer.Inner.Field, Offset %d", te, wantOff)
	}
	if !strings.Contains(te.Error(), "Outer.Outer.Inner.Field") || !strings.Contains(te.Error(), "int8") {
		t.Errorf("Error() = %q", te.Error())
	}
	// Decoding went on past the error.
	want := Outer{Before: "b", Outer: Middle{Inner: Leaf{Other: "o"}, After: "a"}, Last: 7}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("decoded %+v, want %+v", v, want)
	}
}

func TestUnmarshalTypeErrorFirstWins(t *testing.T) {
	type two struct {
		A int
		B int
		C string
	}
	msg := "Du1:A;u1:x;u1:B;T;u1:C;u1:c;;"
	var v two
	te := asTypeError(t, wire.Unmarshal([]byte(msg), &v))
	if te.Field != "two.A" || te.Value != "unicode" || te.Offset != 6 {
		t.Errorf("first error = %+v, want the one for A", te)
	}
	if v.C != "c" {
		t.Errorf("C = %q: decoding stopped at the first error", v.C)
	}
}

func TestUnmarshalTypeErrors(t *testing.T) {
	type arr3 = [3]int
	cases := []struct {
		name   string
		wire   string
		into   any // pointer to the target, pre-set
		value  string
		reason string // substring of Reason, if any
		after  any    // the target's value afterwards (dereferenced), if checked
	}{
		{name: "int8 overflow", wire: "i128;", into: new(int8), value: "integer", reason: "overflow", after: int8(0)},
		{name: "int8 underflow", wire: "i-129;", into: new(int8), value: "integer"},
		{name: "int16 overflow", wire: "i32768;", into: new(int16), value: "integer"},
		{name: "int32 overflow", wire: "i2147483648;", into: new(int32), value: "integer"},
		{name: "int64 overflow", wire: "i9223372036854775808;", into: new(int64), value: "integer"},
		{name: "int big negative", wire: "i-99999999999999999999999;", into: new(int), value: "integer"},
		{name: "negative into uint", wire: "i-1;", into: new(uint), value: "integer", after: uint(0)},
		{name: "negative into uint8", wire: "i-1;", into: new(uint8), value: "integer"},
		{name: "uint8 overflow", wire: "i256;", into: new(uint8), value: "integer"},
		{name: "uint64 overflow", wire: "i18446744073709551616;", into: new(uint64), value: "integer"},
		{name: "big negative into uint64", wire: "i-18446744073709551616;", into: new(uint64), value: "integer"},
		{name: "float with fraction into int", wire: "f0x1.8p+00;", into: new(int), value: "float", after: 0},
		{name: "decimal fraction into int", wire: "f2.5;", into: new(int64), value: "float"},
		{name: "nan into int", wire: "fnan;", into: new(int), value: "float"},
		{name: "inf into int", wire: "finf;", into: new(int), value: "float"},
		{name: "huge float into int", wire: "f1e19;", into: new(int64), value: "float"},
		{name: "float overflow int8", wire: "f128.0;", into: new(int8), value: "float"},
		{name: "negative float into uint", wire: "f-1.0;", into: new(uint), value: "float"},
		{name: "unicode into int", wire: "u1:1;", into: new(int), value: "unicode"},
		{name: "bool into int", wire: "T;", into: new(int), value: "bool"},
		{name: "int into bool", wire: "i1;", into: new(bool), value: "integer"},
		{name: "int into string", wire: "i1;", into: new(string), value: "integer"},
		{name: "bytes into string", wire: "b1:a;", into: new(string), value: "bytearray"},
		{name: "unicode into bytes", wire: "u1:a;", into: new([]byte), value: "unicode"},
		{name: "unicode into float", wire: "u3:1.5;", into: new(float64), value: "unicode"},
		{name: "list into map", wire: "L;", into: new(map[string]int), value: "list"},
		{name: "dict into slice", wire: "D;", into: new([]int), value: "dict"},
		{name: "dict into set", wire: "D;", into: new(wire.Set[int]), value: "dict"},
		{name: "datetime into string", wire: "d1970-01-01T00:00:00Z;", into: new(string), value: "datetime"},
		{name: "unicode into time", wire: "u1:x;", into: new(time.Time), value: "unicode"},
		{name: "int into duration", wire: "i5;", into: new(time.Duration), value: "integer"},
		{name: "period with years into duration", wire: "pP1Y;", into: new(time.Duration), value: "timedelta"},
		{name: "blob into string", wire: "B0:Du12:content-type;u1:a;;;c0:1:x;c0;", into: new(string), value: "blob"},
		{name: "extension into int", wire: "Xu3:foo;D;N;;", into: new(int), value: "extension"},
		{name: "unicode into big.Int", wire: "u1:1;", into: new(big.Int), value: "unicode"},
		{name: "unicode into struct", wire: "u1:x;", into: new(Leaf), value: "unicode"},
		{name: "list too short for array", wire: "Li1;i2;;", into: &arr3{7, 8, 9}, value: "list", reason: "2 items"},
		{name: "list too long for array", wire: "Li1;i2;i3;i4;;", into: new(arr3), value: "list", reason: "4 items", after: arr3{1, 2, 3}},
		{name: "bytes wrong length for array", wire: "b2:ab;", into: new([3]byte), value: "bytearray", after: [3]byte{}},
		{name: "list with a bad item", wire: "Li1;u1:x;i3;;", into: new([]int), value: "unicode", after: []int{1, 0, 3}},
		{name: "map with a bad key", wire: "Du1:a;i1;i2;i2;;", into: new(map[int]int), value: "unicode", after: map[int]int{2: 2}},
		{name: "map with a bad value", wire: "Di1;u1:x;i2;i2;;", into: new(map[int]int), value: "unicode"},
		{name: "list key into map[any]", wire: "DLi1;;i1;u1:k;i2;;", into: new(map[any]int), value: "list", after: map[any]int{"k": 2}},
		{name: "dict item into Set[any]", wire: "SD;i1;;", into: new(wire.Set[any]), value: "dict"},
		{name: "unicode into fmt.Stringer", wire: "u1:x;", into: new(interface{ String() string }), value: "unicode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := wire.Unmarshal([]byte(tc.wire), tc.into)
			te := asTypeError(t, err)
			if te.Value != tc.value {
				t.Errorf("Value = %q, want %q (%v)", te.Value, tc.value, te)
			}
			if want := reflect.TypeOf(tc.into).Elem(); te.Type == nil || (te.Type != want && !strings.Contains(tc.name, "item") && !strings.Contains(tc.name, "key") && !strings.Contains(tc.name, "value")) {
				t.Errorf("Type = %v, want %v", te.Type, want)
			}
			if te.Offset < 0 || te.Offset >= int64(len(tc.wire)) {
				t.Errorf("Offset = %d, outside the message", te.Offset)
			}
			if tc.reason != "" && !strings.Contains(te.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to mention %q", te.Reason, tc.reason)
			}
			if tc.after != nil {
				if got := reflect.ValueOf(tc.into).Elem().Interface(); !reflect.DeepEqual(got, tc.after) {
					t.Errorf("target afterwards = %#v, want %#v", got, tc.after)
				}
			}
		})
	}
}

func TestTypedConversions(t *testing.T) {
	cases := []struct {
		name string
		wire string
		into any
		want any
	}{
		{"integral float into int", "f0x1p+03;", new(int), 8},
		{"decimal integral float into uint8", "f255.0;", new(uint8), uint8(255)},
		{"negative zero into int", "f-0.0;", new(int), 0},
		{"int into float32", "i3;", new(float32), float32(3)},
		{"big int into float64", "i18446744073709551616;", new(float64), float64(1 << 64)},
		{"uint64 max", "i18446744073709551615;", new(uint64), uint64(1<<64 - 1)},
		{"leading zeros", "i-0007;", new(int), -7},
		{"set into slice", "Si1;;", new([]int), []int{1}},
		{"ordered dict into map", "Ou1:b;i1;u1:a;i2;;", new(map[string]int), map[string]int{"a": 2, "b": 1}},
		{"list into array", "Li1;i2;i3;;", new([3]int), [3]int{1, 2, 3}},
		{"list of ints into bytes", "Li1;i2;;", new([]byte), []byte{1, 2}},
		{"bytes into array", "b2:ab;", new([2]byte), [2]byte{'a', 'b'}},
		{"dict into map[any]any", "Di1;u1:x;;", new(map[any]any), map[any]any{int64(1): "x"}},
		{"dict into map[string]any", "Du1:k;Li1;;;", new(map[string]any), map[string]any{"k": []any{int64(1)}}},
		{"list into Set", "Li2;i1;;", new(wire.Set[int]), wire.NewSet(1, 2)},
		{"set into AnySet", "SLi1;;;", new(wire.AnySet), wire.AnySet{Items: []any{[]any{int64(1)}}}},
		{"list into AnySet", "Li1;i1;;", new(wire.AnySet), wire.AnySet{Items: []any{int64(1), int64(1)}}},
		{"dict into OrderedDict keeps wire order", "Du1:b;i1;u1:a;i2;;", new(wire.OrderedDict), *wire.NewOrderedDict("b", int64(1), "a", int64(2))},
		{"timedelta into Period", "pP3D;", new(wire.Period), wire.Period{Duration: 72 * time.Hour}},
		{"short timedelta", "p-PT1.5S;", new(time.Duration), -1500 * time.Millisecond},
		{"weeks", "pP1W;", new(time.Duration), 7 * 24 * time.Hour},
		{"datetime with offset", "d2000-01-01T01:00:00+01:00;", new(time.Time), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"datetime nanoseconds", "d2012-08-12T13:14:15.123456789Z;", new(time.Time), time.Date(2012, 8, 12, 13, 14, 15, 123456789, time.UTC)},
		{"nil into slice", "N;", &[]int{1}, []int(nil)},
		{"nil into map", "N;", &map[string]int{"a": 1}, map[string]int(nil)},
		{"nil into string leaves it", "N;", ptrTo("keep"), "keep"},
		{"nil into int leaves it", "N;", ptrTo(5), 5},
		{"nil into bool leaves it", "N;", ptrTo(true), true},
		{"nil into float leaves it", "N;", ptrTo(1.5), 1.5},
		{"nil into struct leaves it", "N;", &Leaf{Field: 1, Other: "x"}, Leaf{Field: 1, Other: "x"}},
		{"nil into array leaves it", "N;", &[2]int{1, 2}, [2]int{1, 2}},
		{"nil into time leaves it", "N;", ptrTo(time.Unix(5, 0).UTC()), time.Unix(5, 0).UTC()},
		{"nil struct field leaves it", "Du5:Field;N;;", &Leaf{Field: 3}, Leaf{Field: 3}},
		{"nil into any", "N;", ptrTo[any](1), nil},
		{"map merges", "Du1:b;i2;;", &map[string]int{"a": 1}, map[string]int{"a": 1, "b": 2}},
		{"slice is overwritten", "Li9;;", &[]int{1, 2, 3}, []int{9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := wire.Unmarshal([]byte(tc.wire), tc.into); err != nil {
				t.Fatalf("Unmarshal(%q) into %T: %v", tc.wire, tc.into, err)
			}
			got := reflect.ValueOf(tc.into).Elem().Interface()
			if tm, ok := got.(time.Time); ok {
				if !tm.Equal(tc.want.(time.Time)) {
					t.Errorf("got %v, want %v", tm, tc.want)
				}
				return
			}
			if od, ok := got.(wire.OrderedDict); ok {
				want := tc.want.(wire.OrderedDict)
				if !reflect.DeepEqual(od.Entries(), want.Entries()) {
					t.Errorf("got %v, want %v", od.Entries(), want.Entries())
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestTypeErrorAnonymousRootStruct(t *testing.T) {
	var v struct {
		A int
		B struct{ C bool }
	}
	te := asTypeError(t, wire.Unmarshal([]byte("Du1:B;Du1:C;i1;;;"), &v))
	if te.Field != "B.C" {
		t.Errorf("Field = %q, want B.C", te.Field)
	}
	te = asTypeError(t, wire.Unmarshal([]byte("Du1:A;T;;"), &v))
	if te.Field != "A" {
		t.Errorf("Field = %q, want A", te.Field)
	}
	// Structs inside containers get the path of the field holding them.
	var l struct{ Items []Leaf }
	te = asTypeError(t, wire.Unmarshal([]byte("Du5:Items;LDu5:Field;u1:x;;;;"), &l))
	if te.Field != "Items.Field" {
		t.Errorf("Field = %q, want Items.Field", te.Field)
	}
	var m map[string]Leaf
	te = asTypeError(t, wire.Unmarshal([]byte("Du1:k;Du5:Other;i1;;;"), &m))
	if te.Field != "Leaf.Other" {
		t.Errorf("Field = %q, want Leaf.Other", te.Field)
	}
}

func TestStructCaseFoldLastWins(t *testing.T) {
	var v struct{ Name string }
	if err := wire.Unmarshal([]byte("Du4:name;u1:a;u4:NAME;u1:b;;"), &v); err != nil || v.Name != "b" {
		t.Errorf("got %+v, %v; want the last spelling to win", v, err)
	}
	if err := wire.Unmarshal([]byte("Du4:Name;u1:a;u4:name;u1:c;;"), &v); err != nil || v.Name != "c" {
		t.Errorf("got %+v, %v; want the last spelling to win", v, err)
	}
}

// TestDecoderContinuesAfterTypeError checks that a type error leaves the
// stream in step: the next message decodes normally, and the offset of
// the error counts from the start of the stream.
func TestDecoderContinuesAfterTypeError(t *testing.T) {
	type rec struct {
		N int8
		S string
		B *wire.Blob
	}
	first := "Du1:N;i1;u1:S;u1:a;;"
	second := "Du1:N;i999;u1:S;u1:b;u1:B;B0:Du12:content-type;u1:x;;;;c0:3:abc;c0;"
	third := "Du1:N;i3;u1:S;u1:c;;"
	dec := wire.NewDecoder(strings.NewReader(first + " " + second + "\n" + third))
	var r rec
	if err := dec.Decode(&r); err != nil || r.N != 1 || r.S != "a" {
		t.Fatalf("first: %+v, %v", r, err)
	}
	r = rec{}
	te := asTypeError(t, dec.Decode(&r))
	if want := int64(len(first) + 1 + strings.Index(second, "i999")); te.Offset != want || te.Field != "rec.N" {
		t.Errorf("second: %+v, want offset %d, field rec.N", te, want)
	}
	if r.S != "b" || r.B == nil {
		t.Fatalf("second: %+v", r)
	}
	if data, err := io.ReadAll(r.B); err != nil || string(data) != "abc" {
		t.Errorf("blob of the second message: %q, %v", data, err)
	}
	r = rec{}
	if err := dec.Decode(&r); err != nil || r.N != 3 || r.S != "c" {
		t.Fatalf("third: %+v, %v", r, err)
	}
	if err := dec.Decode(&r); err != io.EOF {
		t.Errorf("after the last message: %v, want io.EOF", err)
	}
}

// TestTypeErrorSkipsBlob checks that a blob in a value that does not fit is
// skipped along with its chunks.
func TestTypeErrorSkipsBlob(t *testing.T) {
	var v struct {
		A int
		Z string
	}
	msg := "Du1:A;B0:Du12:content-type;u1:x;;;u1:Z;u1:z;;c0:2:ab;c0;"
	asTypeError(t, wire.Unmarshal([]byte(msg), &v))
	if v.Z != "z" {
		t.Errorf("Z = %q", v.Z)
	}
	// The same through a Decoder, followed by another message.
	dec := wire.NewDecoder(strings.NewReader(msg + "i5;"))
	asTypeError(t, dec.Decode(&v))
	var n int
	if err := dec.Decode(&n); err != nil || n != 5 {
		t.Errorf("next message: %d, %v", n, err)
	}
}

func TestSyntaxErrorsInTypedDecoding(t *testing.T) {
	cases := []struct {
		name string
		wire string
		into any
	}{
		{"set with duplicates into slice", "Si1;i1;;", new([]int)},
		{"set with duplicates into array", "Si1;i1;;", new([2]int)},
		{"set with duplicates into Set", "Si1;i1;;", new(wire.Set[int])},
		{"set with duplicates into AnySet", "SLi1;;Li1;;;", new(wire.AnySet)},
		{"dict with duplicates into map", "Di1;i1;i1;i2;;", new(map[int]int)},
		{"dict with duplicates into struct", "Du1:A;i1;u1:A;i2;;", new(struct{ A int })},
		{"truncated struct", "Du1:A;i1;", new(struct{ A int })},
		{"odd dict into struct", "Du1:A;;", new(struct{ A int })},
		{"trailing bytes", "i1;x", new(int)},
		{"bad integer into int", "i1x;", new(int)},
		{"bad integer into float", "i;", new(float64)},
		{"bad float into int", "f0x;", new(int)},
		{"bad unicode into string", "u1:\xff;", new(string)},
		{"malformed value in skipped field", "Du1:Z;u5:ab;;", new(struct{ A int })},
		{"malformed value in a type error", "Du1:A;u5:ab;;", new(struct{ A int })},
		{"datetime out of range", "d2000-02-30T00:00:00Z;", new(time.Time)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := wire.Unmarshal([]byte(tc.wire), tc.into)
			var se *wire.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Unmarshal(%q) into %T: err = %v, want *SyntaxError", tc.wire, tc.into, err)
			}
			if se.Offset < 0 || se.Offset > int64(len(tc.wire)) {
				t.Errorf("Offset %d outside the message", se.Offset)
			}
		})
	}
}

// TestDecodeDatetimeRange checks that a datetime whose offset moves it out
// of the years the encoder can write is rejected on decode, so that what
// decodes always encodes again.
func TestDecodeDatetimeRange(t *testing.T) {
	for _, msg := range []string{
		"d9999-12-31T23:59:59-01:00;",
		"d0000-01-01T00:00:00+01:00;",
	} {
		var v any
		err := wire.Unmarshal([]byte(msg), &v)
		if err == nil {
			if b, merr := wire.Marshal(v); merr != nil {
				t.Errorf("%q decodes to %v but does not encode again: %v", msg, v, merr)
			} else if !bytes.HasPrefix(b, []byte("d")) {
				t.Errorf("%q re-encodes as %q", msg, b)
			}
		}
	}
	// Within range an offset is fine.
	var tm time.Time
	if err := wire.Unmarshal([]byte("d9999-12-31T22:00:00-01:00;"), &tm); err != nil || tm.Year() != 9999 {
		t.Errorf("%v, %v", tm, err)
	}
}

// TestNFCEqualKeys checks that strings equal after NFC normalisation,
// which encode the same, are one key in every typed target: a dict or set
// holding both is rejected, a list decoded into a set merges them, so
// whatever decodes encodes again.
func TestNFCEqualKeys(t *testing.T) {
	const composed, decomposed = "\u00e9", "e\u0301"
	dup := []struct {
		name string
		msg  string
		into any
	}{
		{"map[string]int", "Du2:" + composed + ";i1;u3:" + decomposed + ";i2;;", new(map[string]int)},
		{"map[any]any", "Du2:" + composed + ";i1;u3:" + decomposed + ";i2;;", new(map[any]any)},
		{"map[any]int from ordered dict", "Ou3:" + decomposed + ";i1;u2:" + composed + ";i2;;", new(map[any]int)},
		{"Set[string]", "Su2:" + composed + ";u3:" + decomposed + ";;", new(wire.Set[string])},
		{"Set[any]", "Su3:" + decomposed + ";u2:" + composed + ";;", new(wire.Set[any])},
		{"any", "Su3:" + decomposed + ";u2:" + composed + ";;", new(any)},
	}
	for _, tc := range dup {
		t.Run(tc.name, func(t *testing.T) {
			var se *wire.SyntaxError
			if err := wire.Unmarshal([]byte(tc.msg), tc.into); !errors.As(err, &se) {
				t.Errorf("err = %v, want a duplicate-key *SyntaxError", err)
			}
		})
	}
	merge := []struct {
		name string
		into any
	}{
		{"Set[string]", new(wire.Set[string])},
		{"Set[any]", new(wire.Set[any])},
	}
	for _, tc := range merge {
		t.Run("list into "+tc.name, func(t *testing.T) {
			msg := "Lu2:" + composed + ";u3:" + decomposed + ";;"
			if err := wire.Unmarshal([]byte(msg), tc.into); err != nil {
				t.Fatal(err)
			}
			if n := reflect.ValueOf(tc.into).Elem().Len(); n != 1 {
				t.Errorf("%d items, want 1", n)
			}
			if b, err := wire.Marshal(tc.into); err != nil || string(b) != "Su2:"+composed+";;" {
				t.Errorf("Marshal = %q, %v", b, err)
			}
		})
	}
}
