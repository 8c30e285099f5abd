package front

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

type record struct {
	Name string
	N    int
}

// TestGoType: the forwarder of a method takes Go values whose input
// types are the provider's, whatever Go types the provider used.
func TestGoType(t *testing.T) {
	for _, v := range []any{
		true, int8(1), uint64(2), 1.5, float32(1), "s", []byte("b"), [4]byte{}, time.Time{}, time.Duration(0),
		big.NewInt(1), (*wire.Blob)(nil), wire.Extension{},
		[]string{}, [][]int{}, []record{}, map[string]int{}, map[int][]string{}, map[string]any{}, map[any]any{},
		wire.Set[string]{}, wire.Set[int]{}, wire.AnySet{}, wire.Dict{}, &wire.OrderedDict{},
		record{}, &record{}, (*int)(nil), []*string{}, map[string]*record{}, []any{}, new(any),
	} {
		want := hyper.TypeOf(reflect.TypeOf(v))
		g := goType(want)
		if got := hyper.TypeOf(g); got.String() != want.String() {
			t.Errorf("%T: input type %s, the forwarder's Go type %s has %s", v, want, g, got)
		}
	}
}

// FuzzGoType: any input type a provider describes gives a Go type,
// without panicking, whose input type is the described one, or object.
func FuzzGoType(f *testing.F) {
	for _, s := range []string{"integer", "unicode list/1", "object unicode dict/2", "float list?/1 unicode dict/2",
		"integer set/1", "unicode list/1 set/1", "integer? list/1", "object?", "list", "dict", "object list/1 integer dict/2",
		"integer integer ordered_dict/2", "nil", "true", "blob?", "bytearray list/1", "datetime? timedelta dict/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := hyper.ParseType(s)
		if err != nil {
			return
		}
		g := goType(typ)
		if g == anyType {
			return
		}
		if got := hyper.TypeOf(g); got.String() != typ.String() && !loose(typ, got) {
			t.Errorf("%q: the Go type %s has input type %s", s, g, got)
		}
	})
}

// loose reports whether got says what want says where the grammar has
// two ways to say it: a bare list or dict is one of objects, bool is
// true or false.
func loose(want, got hyper.Type) bool {
	if want.Nullable != got.Nullable && !(want.Name == "object" || got.Name == "object") {
		return false
	}
	switch {
	case want.Name == "object" && got.Name == "object":
		return true
	case want.Name != got.Name:
		return false
	case want.Params == nil:
		for _, p := range got.Params {
			if p.Name != "object" {
				return false
			}
		}
		return true
	case len(want.Params) != len(got.Params):
		return false
	}
	for i := range want.Params {
		if want.Params[i].String() != got.Params[i].String() && !loose(want.Params[i], got.Params[i]) {
			return false
		}
	}
	return true
}
