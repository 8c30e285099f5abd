package hyper_test

import (
	"io"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

var (
	tObject  = hyper.Type{Name: "object"}
	tInteger = hyper.Type{Name: "integer"}
	tUnicode = hyper.Type{Name: "unicode"}
	tFloat   = hyper.Type{Name: "float"}
)

func listOf(t hyper.Type) hyper.Type { return hyper.Type{Name: "list", Params: []hyper.Type{t}} }
func dictOf(key, value hyper.Type) hyper.Type {
	return hyper.Type{Name: "dict", Params: []hyper.Type{value, key}}
}
func nullable(t hyper.Type) hyper.Type { t.Nullable = true; return t }

func TestParseType(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  hyper.Type
		canon string // String(); in itself when empty
	}{
		{"", tObject, "object"},
		{"  \t\n", tObject, "object"},
		{"object", tObject, ""},
		{"integer", tInteger, ""},
		{"integer?", nullable(tInteger), ""},
		{"unicode", tUnicode, ""},
		{"bytearray", hyper.Type{Name: "bytearray"}, ""},
		{"float", tFloat, ""},
		{"datetime", hyper.Type{Name: "datetime"}, ""},
		{"timedelta", hyper.Type{Name: "timedelta"}, ""},
		{"nil", hyper.Type{Name: "nil"}, ""},
		{"true", hyper.Type{Name: "true"}, ""},
		{"false", hyper.Type{Name: "false"}, ""},
		{"bool", hyper.Type{Name: "bool"}, ""},
		{"extension", hyper.Type{Name: "extension"}, ""},
		{"blob?", nullable(hyper.Type{Name: "blob"}), ""},
		{"list", hyper.Type{Name: "list"}, ""},
		{"dict", hyper.Type{Name: "dict"}, ""},
		{"list/0", hyper.Type{Name: "list"}, "list"},
		{"integer/0", tInteger, "integer"},
		{"integer list/1", listOf(tInteger), ""},
		{"integer list?/1", nullable(listOf(tInteger)), ""},
		{"integer? list/1", listOf(nullable(tInteger)), ""},
		{"integer set/1", hyper.Type{Name: "set", Params: []hyper.Type{tInteger}}, ""},
		{"object unicode dict/2", dictOf(tUnicode, tObject), ""},
		{"float list?/1 unicode dict/2", dictOf(tUnicode, nullable(listOf(tFloat))), ""},
		{"unicode integer ordered_dict/2", hyper.Type{Name: "ordered_dict", Params: []hyper.Type{tUnicode, tInteger}}, ""},
		{"integer list/1 list/1", listOf(listOf(tInteger)), ""},
		{" integer\tlist/1\n", listOf(tInteger), "integer list/1"},
		{"integer unicode dict/2 list/1", listOf(dictOf(tUnicode, tInteger)), ""},
	} {
		got, err := hyper.ParseType(tc.in)
		if err != nil {
			t.Errorf("ParseType(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseType(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
		canon := tc.canon
		if canon == "" {
			canon = tc.in
		}
		if s := got.String(); s != canon {
			t.Errorf("ParseType(%q).String() = %q, want %q", tc.in, s, canon)
		}
	}
}

func TestParseTypeErrors(t *testing.T) {
	deep := strings.Repeat("list/1 ", 64)
	for _, tc := range []struct{ in, want string }{
		{"int", `unknown type name "int"`},
		{"Integer", `unknown type name "Integer"`},
		{"string", `unknown type name "string"`},
		{"integer??", `unknown type name "integer?"`},
		{"?", `unknown type name ""`},
		{"/1", `unknown type name ""`},
		{"integer/1", `"integer" takes no parameters, not "/1"`},
		{"integer list/2", `"list" takes 1 parameters, not "/2"`},
		{"integer unicode dict/1", `"dict" takes 2 parameters, not "/1"`},
		{"integer list/01", `"list" takes 1 parameters, not "/01"`},
		{"integer list/1?", `not "/1?"`},
		{"list/1", `"list/1" needs 1 types before it, found 0`},
		{"integer dict/2", `"dict/2" needs 2 types before it, found 1`},
		{"integer unicode", `2 types left over, expected one`},
		{"integer list/1 unicode", `2 types left over`},
		{"integer " + deep, "nested deeper than 64"},
	} {
		_, err := hyper.ParseType(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseType(%q) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
	// 63 levels of list around one integer is as deep as it goes.
	if _, err := hyper.ParseType("integer " + strings.Repeat("list/1 ", 63)); err != nil {
		t.Errorf("64 levels: %v", err)
	}
	// Long input is cut in the message.
	_, err := hyper.ParseType(strings.Repeat("x", 10000))
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("long unknown name: %d-byte error", len(err.Error()))
	}
}

func TestMustParseType(t *testing.T) {
	if got := hyper.MustParseType("integer list/1"); !reflect.DeepEqual(got, listOf(tInteger)) {
		t.Errorf("MustParseType = %#v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParseType of a bad type did not panic")
		}
	}()
	hyper.MustParseType("nope")
}

func TestTypeKeyElem(t *testing.T) {
	for _, tc := range []struct {
		in        string
		key, elem string
	}{
		{"object unicode dict/2", "unicode", "object"},
		{"float list?/1 unicode dict/2", "unicode", "float list?/1"},
		{"integer unicode ordered_dict/2", "unicode", "integer"},
		{"integer list/1", "object", "integer"},
		{"bytearray set/1", "object", "bytearray"},
		{"dict", "object", "object"},
		{"list", "object", "object"},
		{"integer", "object", "object"},
	} {
		typ := hyper.MustParseType(tc.in)
		if got := typ.Key().String(); got != tc.key {
			t.Errorf("%q.Key() = %q, want %q", tc.in, got, tc.key)
		}
		if got := typ.Elem().String(); got != tc.elem {
			t.Errorf("%q.Elem() = %q, want %q", tc.in, got, tc.elem)
		}
	}
	if got := (hyper.Type{}).String(); got != "object" {
		t.Errorf("zero Type prints %q", got)
	}
}

func TestCheck(t *testing.T) {
	blob := wire.BytesBlob("text/plain", []byte("x"))
	now := time.Date(2012, 8, 12, 0, 0, 0, 0, time.UTC)
	big64 := new(big.Int).Lsh(big.NewInt(1), 64)
	big64plus1 := new(big.Int).Add(big64, big.NewInt(1))
	for _, tc := range []struct {
		typ  string
		v    any
		want string // "" = conforms
	}{
		{"object", nil, ""},
		{"object", []any{1, "x"}, ""},
		{"", hyper.Link{}, ""},
		{"nil", nil, ""},
		{"nil", int64(0), "expected nil, got integer"},
		{"integer", int64(1), ""},
		{"integer", 1, ""},
		{"integer", uint8(1), ""},
		{"integer", big64, ""},
		{"integer", *big64, ""},
		{"integer", (*big.Int)(nil), "expected integer, got nil"},
		{"integer?", (*big.Int)(nil), ""},
		{"integer", new(int), ""},
		{"integer", (*int)(nil), "expected integer, got nil"},
		{"integer", "1", "expected integer, got unicode"},
		{"integer", 1.0, "expected integer, got float"},
		{"integer", nil, "expected integer, got nil"},
		{"integer?", nil, ""},
		{"integer?", int64(3), ""},
		{"integer?", "3", "expected integer?, got unicode"},
		{"float", 1.5, ""},
		{"float", float32(1.5), ""},
		{"float", int64(1), ""},
		{"float", int64(1) << 53, ""},
		{"float", int64(1)<<53 + 1, "expected float, got integer"},
		{"float", int64(math.MaxInt64), "expected float, got integer"},
		{"float", int64(math.MinInt64), ""},
		{"float", uint64(math.MaxUint64), "expected float, got integer"},
		{"float", uint64(1) << 63, ""},
		{"float", big64, ""},
		{"float", big64plus1, "expected float, got integer"},
		{"float", "1", "expected float, got unicode"},
		{"unicode", "", ""},
		{"unicode", []byte("x"), "expected unicode, got bytearray"},
		{"bytearray", []byte{}, ""},
		{"bytearray", "x", "expected bytearray, got unicode"},
		{"bool", true, ""},
		{"bool", false, ""},
		{"bool", int64(1), "expected bool, got integer"},
		{"true", true, ""},
		{"true", false, "expected true, got false"},
		{"false", false, ""},
		{"false", true, "expected false, got true"},
		{"false", nil, "expected false, got nil"},
		{"datetime", now, ""},
		{"datetime", "2012-08-12", "expected datetime, got unicode"},
		{"timedelta", time.Second, ""},
		{"timedelta", wire.Period{Years: 1}, ""},
		{"timedelta", int64(1), "expected timedelta, got integer"},
		{"blob", blob, ""},
		{"blob", []byte("x"), "expected blob, got bytearray"},
		{"extension", hyper.Link{}, ""},
		{"extension", &hyper.Form{}, ""},
		{"extension", hyper.Input{}, ""},
		{"extension", hyper.Resource{}, ""},
		{"extension", hyper.Error{}, ""},
		{"extension", hyper.Collection{}, ""},
		{"extension", wire.Extension{Name: "foo"}, ""},
		{"extension", map[string]any{}, "expected extension, got dict"},
		{"extension", (*hyper.Link)(nil), "expected extension, got nil"},

		{"list", []any{1, "x"}, ""},
		{"list", []string{"x"}, ""},
		{"list", [2]int{}, ""},
		{"list", []byte("x"), "expected list, got bytearray"},
		{"list", "x", "expected list, got unicode"},
		{"list", map[string]any{}, "expected list, got dict"},
		{"integer list/1", []any{}, ""},
		{"integer list/1", []any{int64(1), int64(2)}, ""},
		{"integer list/1", []any{int64(1), int64(2), "3"}, "item 2: expected integer, got unicode"},
		{"integer list/1", []int{1, 2}, ""},
		{"integer list/1", []string{"a"}, "item 0: expected integer, got unicode"},
		{"integer list/1", nil, "expected integer list/1, got nil"},
		{"integer list?/1", nil, ""},
		{"integer? list/1", []any{nil, int64(1)}, ""},
		{"integer list/1 list/1", []any{[]any{int64(1)}, []any{"x"}}, "item 1: item 0: expected integer, got unicode"},
		{"integer list/1 list/1", []any{int64(1)}, "item 0: expected integer list/1, got integer"},

		{"set", wire.NewSet[any](int64(1)), ""},
		{"set", []any{}, "expected set, got list"},
		{"integer set/1", wire.NewSet[any](int64(1), int64(2)), ""},
		{"integer set/1", wire.NewSet(1, 2), ""},
		{"integer set/1", wire.NewSet[any](int64(1), "b", "a"), `set item "a": expected integer, got unicode`},
		{"integer set/1", wire.NewSet("z", "y"), `set item "y": expected integer, got unicode`},
		{"integer list/1 set/1", wire.AnySet{Items: []any{[]any{int64(1)}, []any{"x"}}}, "set item list: item 0: expected integer, got unicode"},
		{"integer set/1", &wire.AnySet{Items: []any{int64(1)}}, ""},
		{"integer set/1", map[int]struct{}{1: {}}, "expected integer set/1, got dict"},

		{"dict", map[string]any{"a": 1}, ""},
		{"dict", map[any]any{int64(1): 1}, ""},
		{"dict", wire.Dict{}, ""},
		{"dict", wire.NewOrderedDict("a", 1), ""},
		{"dict", map[string]int{"a": 1}, ""},
		{"dict", []any{}, "expected dict, got list"},
		{"dict", wire.NewSet("a"), "expected dict, got set"},
		{"object unicode dict/2", map[string]any{"a": nil}, ""},
		{"object unicode dict/2", map[any]any{int64(1): "x"}, `key 1 (the key itself): expected unicode, got integer`},
		{"integer unicode dict/2", map[string]any{"a": int64(1), "b": "x", "c": "y"}, `key "b": expected integer, got unicode`},
		{"integer unicode dict/2", map[string]int{"a": 1}, ""},
		{"integer unicode dict/2", map[string]string{"b": "x", "a": "x"}, `key "a": expected integer, got unicode`},
		{"float list?/1 unicode dict/2", map[string]any{"a": nil, "b": []any{1.5, int64(2)}}, ""},
		{"float list?/1 unicode dict/2", map[string]any{"b": []any{1.5, "2"}}, `key "b": item 1: expected float, got unicode`},
		{"unicode integer dict/2", wire.Dict{Entries: []wire.Entry{{Key: int64(1), Value: "x"}, {Key: []any{}, Value: "y"}}}, `key list (the key itself): expected integer, got list`},
		{"unicode integer dict/2", &wire.Dict{Entries: []wire.Entry{{Key: int64(1), Value: int64(2)}}}, `key 1: expected unicode, got integer`},
		{"integer unicode dict/2", wire.NewOrderedDict("a", int64(1), "b", "x"), `key "b": expected integer, got unicode`},

		{"dict", myStruct{A: 1}, ""},
		{"object unicode dict/2", &myStruct{A: 1}, ""},
		{"object unicode dict/2", myStruct{A: 1}, ""},
		{"integer unicode dict/2", myStruct{A: 1}, "expected integer unicode dict/2, got dict"},
		{"dict", time.Time{}, "expected dict, got datetime"},
		{"dict", hyper.Link{}, "expected dict, got extension link"},

		{"ordered_dict", wire.NewOrderedDict(), ""},
		{"ordered_dict", map[string]any{}, "expected ordered_dict, got dict"},
		{"integer unicode ordered_dict/2", wire.NewOrderedDict("a", int64(1), "b", int64(2)), ""},
		{"integer unicode ordered_dict/2", wire.NewOrderedDict("b", "x", "a", "y"), `key "b": expected integer, got unicode`},
		{"integer unicode ordered_dict/2", wire.NewOrderedDict(int64(1), int64(1)), `key 1 (the key itself): expected unicode, got integer`},
	} {
		err := hyper.MustParseType(tc.typ).Check(tc.v)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%q.Check(%#v) = %q, want %q", tc.typ, tc.v, got, tc.want)
		}
	}
	if err := (hyper.Type{Name: "frob"}).Check(1); err == nil || !strings.Contains(err.Error(), `unknown type name "frob"`) {
		t.Errorf("unknown name: %v", err)
	}
}

// TestCheckDeterministic checks that the error for a dict with several bad
// entries does not depend on map iteration order.
func TestCheckDeterministic(t *testing.T) {
	m := map[string]any{}
	for _, k := range strings.Split("q w e r t y u i o p a s d f g h j k l", " ") {
		m[k] = k
	}
	typ := hyper.MustParseType("integer unicode dict/2")
	want := typ.Check(m).Error()
	for range 50 {
		if got := typ.Check(m).Error(); got != want {
			t.Fatalf("Check gave %q, then %q", want, got)
		}
	}
	if want != `key "a": expected integer, got unicode` {
		t.Errorf("Check = %q", want)
	}
}

type (
	myStruct    struct{ A int }
	recursive   []recursive
	marshaled   struct{}
	unmarshaled struct{}
)

func (marshaled) MarshalGlyph() (any, error)    { return "m", nil }
func (*unmarshaled) UnmarshalGlyph(v any) error { return nil }
func typeOf[T any]() reflect.Type               { return reflect.TypeFor[T]() }

func TestTypeOf(t *testing.T) {
	for _, tc := range []struct {
		t    reflect.Type
		want string
	}{
		{nil, "object"},
		{typeOf[bool](), "bool"},
		{typeOf[int](), "integer"},
		{typeOf[int8](), "integer"},
		{typeOf[uint64](), "integer"},
		{typeOf[uintptr](), "integer"},
		{typeOf[big.Int](), "integer"},
		{typeOf[*big.Int](), "integer"},
		{typeOf[float32](), "float"},
		{typeOf[float64](), "float"},
		{typeOf[string](), "unicode"},
		{typeOf[[]byte](), "bytearray"},
		{typeOf[[16]byte](), "bytearray"},
		{typeOf[time.Time](), "datetime"},
		{typeOf[*time.Time](), "datetime?"},
		{typeOf[time.Duration](), "timedelta"},
		{typeOf[wire.Period](), "timedelta"},
		{typeOf[*wire.Blob](), "blob"},
		{typeOf[io.Reader](), "blob"},
		{typeOf[io.ReadCloser](), "blob"},
		{typeOf[io.Writer](), "object"},
		{typeOf[error](), "object"},
		{typeOf[any](), "object"},
		{typeOf[wire.Extension](), "extension"},
		{typeOf[hyper.Link](), "extension"},
		{typeOf[hyper.Form](), "extension"},
		{typeOf[hyper.Input](), "extension"},
		{typeOf[hyper.Resource](), "extension"},
		{typeOf[hyper.Error](), "extension"},
		{typeOf[hyper.Collection](), "extension"},
		{typeOf[*hyper.Link](), "extension?"},
		{typeOf[[]int](), "integer list/1"},
		{typeOf[[3]string](), "unicode list/1"},
		{typeOf[[]any](), "object list/1"},
		{typeOf[[][]float64](), "float list/1 list/1"},
		{typeOf[[]*int](), "integer? list/1"},
		{typeOf[*[]int](), "integer list?/1"},
		{typeOf[wire.Set[string]](), "unicode set/1"},
		{typeOf[wire.Set[any]](), "object set/1"},
		{typeOf[wire.AnySet](), "object set/1"},
		{typeOf[map[string]struct{}](), "object unicode dict/2 unicode dict/2"},
		{typeOf[map[string]any](), "object unicode dict/2"},
		{typeOf[map[string]int](), "integer unicode dict/2"},
		{typeOf[map[int][]float64](), "float list/1 integer dict/2"},
		{typeOf[map[string]*[]float64](), "float list?/1 unicode dict/2"},
		{typeOf[wire.Dict](), "object object dict/2"},
		{typeOf[*wire.OrderedDict](), "object object ordered_dict/2"},
		{typeOf[myStruct](), "object unicode dict/2"},
		{typeOf[*myStruct](), "object unicode dict?/2"},
		{typeOf[recursive](), "object list/1"},
		{typeOf[marshaled](), "object"},
		{typeOf[unmarshaled](), "object"},
		{typeOf[chan int](), "object"},
		{typeOf[func()](), "object"},
	} {
		got := hyper.TypeOf(tc.t)
		if got.String() != tc.want {
			t.Errorf("TypeOf(%v) = %q, want %q", tc.t, got, tc.want)
		}
		// What TypeOf says parses back to the same Type.
		if back, err := hyper.ParseType(got.String()); err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("TypeOf(%v) = %#v does not round-trip: %#v, %v", tc.t, got, back, err)
		}
	}
}

// TestTypeOfChecksValues checks that what TypeOf says of a Go type accepts
// what a value of that type decodes to.
func TestTypeOfChecksValues(t *testing.T) {
	for _, v := range []any{
		true, 7, uint8(7), 1.5, "s", []byte("b"), time.Now(), time.Minute,
		[]int{1, 2}, []string{"a"}, map[string]int{"a": 1}, map[int64]string{1: "a"},
		wire.NewSet("a"), myStruct{A: 1}, hyper.Link{URL: "/"}, [][]float64{{1}},
		map[string][]float64{"a": {1.5}}, wire.NewOrderedDict("a", 1),
	} {
		typ := hyper.TypeOf(reflect.TypeOf(v))
		b, err := wire.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", v, err)
		}
		var decoded any
		if err := wire.Unmarshal(b, &decoded); err != nil {
			t.Fatal(err)
		}
		if err := typ.Check(decoded); err != nil {
			t.Errorf("%T is %q, which rejects its decoding %#v: %v", v, typ, decoded, err)
		}
		if err := typ.Check(v); err != nil {
			t.Errorf("%T is %q, which rejects the Go value %#v: %v", v, typ, v, err)
		}
	}
}
