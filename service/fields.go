package service

import (
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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

// structFields returns the fields of struct type t that wire encodes, in
// declaration order, with wire's rules (those of encoding/json): exported
// fields, the promoted fields of embedded structs, `glyph:"name"` tags,
// `glyph:"-"` to skip; among fields with the same name the shallowest
// wins, then a tagged one, and otherwise all are dropped as ambiguous.
// The inputs of a struct parameter must be named as its encoding names
// them, or a client's dict of arguments and the instance state in a URL
// would disagree.
func structFields(t reflect.Type) []structField {
	type queued struct {
		typ   reflect.Type
		index []int
	}
	type cand struct {
		structField
		tagged bool
	}
	var fields []cand
	next := []queued{{typ: t}}
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current := next
		next = nil
		for _, q := range current {
			if visited[q.typ] {
				continue
			}
			visited[q.typ] = true
			for i := 0; i < q.typ.NumField(); i++ {
				sf := q.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("glyph")
				if tag == "-" {
					continue
				}
				name, rest, _ := strings.Cut(tag, ",")
				var opts []string
				if rest != "" {
					opts = strings.Split(rest, ",")
				}
				if !utf8.ValidString(name) {
					name = ""
				}
				index := append(append([]int(nil), q.index...), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct || specialStruct(ft) {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					fields = append(fields, cand{structField{name, index, sf.Type, opts}, tagged})
					continue
				}
				next = append(next, queued{typ: ft, index: index})
			}
		}
	}
	byName := map[string][]cand{}
	for _, f := range fields {
		byName[f.name] = append(byName[f.name], f)
	}
	var out []structField
	for _, group := range byName {
		slices.SortStableFunc(group, func(a, b cand) int {
			if len(a.index) != len(b.index) {
				return len(a.index) - len(b.index)
			}
			if a.tagged != b.tagged {
				if a.tagged {
					return -1
				}
				return 1
			}
			return 0
		})
		if len(group) == 1 || len(group[0].index) < len(group[1].index) || (group[0].tagged && !group[1].tagged) {
			out = append(out, group[0].structField)
		}
	}
	slices.SortFunc(out, func(a, b structField) int { return slices.Compare(a.index, b.index) })
	return out
}

// specialStruct reports the struct types wire encodes as one glyph value
// rather than as a dict of their fields.
func specialStruct(t reflect.Type) bool {
	switch t {
	case reflect.TypeFor[time.Time](), reflect.TypeFor[big.Int](), reflect.TypeFor[wire.Period](),
		reflect.TypeFor[wire.Extension](), reflect.TypeFor[wire.OrderedDict](), reflect.TypeFor[wire.Dict](),
		reflect.TypeFor[wire.AnySet](), reflect.TypeFor[wire.Blob]():
		return true
	}
	return false
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
