package service

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/glyph-ipc/glyph/wire"
)

// structField is one field of a struct as package wire encodes it: the
// inputs of a struct parameter, and the state of a class.
type structField struct {
	name  string
	index []int
	typ   reflect.Type
	opts  []string // tag options after the name, e.g. "optional"
}

func (f structField) has(opt string) bool { return slices.Contains(f.opts, opt) }

// structFields returns the fields of struct type t as package wire
// encodes them, in declaration order. The inputs of a struct parameter
// must be named as its encoding names them, or a client's dict of
// arguments and the instance state in a URL would disagree.
func structFields(t reflect.Type) []structField {
	fs := wire.Fields(t)
	out := make([]structField, len(fs))
	for i, f := range fs {
		out[i] = structField{name: f.Name, index: f.Index, typ: f.Type, opts: f.Options}
	}
	return out
}

// checkSettable reports an error when field f of struct type t can only
// be reached through an embedded pointer that reflection cannot allocate
// (an unexported embedded *T).
func checkSettable(t reflect.Type, f structField) error {
	for _, x := range f.index[:len(f.index)-1] {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		sf := t.Field(x)
		if sf.Type.Kind() == reflect.Pointer && !sf.IsExported() {
			return fmt.Errorf("input %q is a field of the unexported embedded %s, which cannot be allocated", f.name, sf.Type)
		}
		t = sf.Type
	}
	return nil
}

// fieldByIndexAlloc is reflect.Value.FieldByIndex that allocates nil
// embedded pointers on the way instead of panicking.
func fieldByIndexAlloc(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}
