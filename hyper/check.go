package hyper

import (
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// Check reports whether v conforms to t. v is a glyph value as wire decodes
// it into any; Go values a caller might hold instead are accepted too
// where the encoding is the same (other int kinds, typed slices and maps,
// [wire.Set] of any item type, pointers, which are followed; a nil pointer
// is nil). It returns nil when v conforms, and
// otherwise an error saying where and what, such as
// `item 2: expected integer, got unicode` or
// `key "a": expected float, got nil`.
//
// Per name:
//
//   - object accepts anything, nil included.
//   - nil accepts only nil; any name with `?` accepts nil too.
//   - integer: int64, *big.Int, big.Int and every Go int and uint kind.
//   - float: float64 and float32, and an integer that a float64 holds
//     exactly, since many clients write 1 for 1.0 (wire decodes such an
//     integer into a float64 parameter; it refuses one that would round).
//   - unicode: string. bytearray: []byte.
//   - bool: true or false; true and false: only that value.
//   - datetime: time.Time. timedelta: time.Duration or wire.Period.
//   - list: []any or any other Go slice or array (but []byte), each item
//     checked against the parameter.
//   - set: wire.Set of any item type, or wire.AnySet, each item checked.
//   - dict: map[string]any, map[any]any, any other Go map, wire.Dict, and
//     *wire.OrderedDict too (an ordered dict is a dict that also has an
//     order); keys checked against Key, values against Elem. A Go struct
//     conforms when the values may be anything and the keys unicode.
//   - ordered_dict: *wire.OrderedDict only, keys and values checked.
//   - extension: wire.Extension or one of this package's six types.
//   - blob: *wire.Blob.
//
// Within sets and dicts, which have no order, the error reported is the
// same whatever the iteration order.
func (t Type) Check(v any) error {
	if t.isObject() {
		return nil
	}
	v = deref(v)
	if v == nil {
		if t.Nullable || t.Name == "nil" {
			return nil
		}
		return t.mismatch(v)
	}
	ok := false
	switch t.Name {
	case "nil":
	case "integer":
		ok = isInteger(v)
	case "float":
		ok = isFloat(v)
	case "unicode":
		_, ok = v.(string)
	case "bytearray":
		_, ok = v.([]byte)
	case "bool":
		_, ok = v.(bool)
	case "true", "false":
		b, isBool := v.(bool)
		ok = isBool && b == (t.Name == "true")
	case "datetime":
		_, ok = v.(time.Time)
	case "timedelta":
		switch v.(type) {
		case time.Duration, wire.Period:
			ok = true
		}
	case "blob":
		_, ok = v.(*wire.Blob)
	case "extension":
		ok = isExtension(v)
	case "list":
		return t.checkList(v)
	case "set":
		return t.checkSet(v)
	case "dict":
		return t.checkDict(v, false)
	case "ordered_dict":
		return t.checkDict(v, true)
	default:
		return fmt.Errorf("unknown type name %q", t.Name)
	}
	if !ok {
		return t.mismatch(v)
	}
	return nil
}

// keptPointers are the pointer types that are glyph values themselves;
// Check follows every other pointer to what it points to.
var keptPointers = map[reflect.Type]bool{
	reflect.TypeFor[*big.Int]():          true,
	reflect.TypeFor[*wire.Blob]():        true,
	reflect.TypeFor[*wire.OrderedDict](): true,
	reflect.TypeFor[*wire.Dict]():        true,
	reflect.TypeFor[*wire.AnySet]():      true,
	reflect.TypeFor[*wire.Extension]():   true,
	reflect.TypeFor[*Link]():             true,
	reflect.TypeFor[*Form]():             true,
	reflect.TypeFor[*Input]():            true,
	reflect.TypeFor[*Resource]():         true,
	reflect.TypeFor[*Error]():            true,
	reflect.TypeFor[*Collection]():       true,
}

// deref returns v with pointers followed, as the encoder follows them: a
// nil pointer is nil.
func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		return v
	}
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		if keptPointers[rv.Type()] {
			break
		}
		rv = rv.Elem()
	}
	return rv.Interface()
}

func (t Type) mismatch(v any) error {
	return fmt.Errorf("expected %s, got %s", t, gotName(v))
}

// gotName names a value's type for "got ..." in an error; true and false
// are types of their own in the grammar, so they name themselves.
func gotName(v any) string {
	if b, ok := v.(bool); ok {
		return strconv.FormatBool(b)
	}
	return typeName(v)
}

func (t Type) checkList(v any) error {
	elem := t.Elem()
	if l, ok := v.([]any); ok {
		if elem.isObject() {
			return nil
		}
		for i, item := range l {
			if err := elem.Check(item); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		return nil
	}
	rv := reflect.ValueOf(v)
	if k := rv.Kind(); (k != reflect.Slice && k != reflect.Array) || rv.Type().Elem().Kind() == reflect.Uint8 {
		return t.mismatch(v)
	}
	if elem.isObject() {
		return nil
	}
	for i := range rv.Len() {
		if err := elem.Check(rv.Index(i).Interface()); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	return nil
}

// firstError collects the errors of the items of an unordered container
// and keeps the least by text, so that the result does not depend on
// iteration order.
type firstError struct{ err error }

func (f *firstError) add(err error) {
	if err != nil && (f.err == nil || err.Error() < f.err.Error()) {
		f.err = err
	}
}

func (t Type) checkSet(v any) error {
	elem := t.Elem()
	var items []any
	switch s := v.(type) {
	case wire.AnySet:
		items = s.Items
	case *wire.AnySet:
		if s == nil {
			return t.mismatch(v)
		}
		items = s.Items
	case wire.Set[any]:
		items = make([]any, 0, len(s))
		for item := range s {
			items = append(items, item)
		}
	default:
		rv := reflect.ValueOf(v)
		if !isWireSet(rv.Type()) {
			return t.mismatch(v)
		}
		for _, k := range rv.MapKeys() {
			items = append(items, k.Interface())
		}
	}
	if elem.isObject() {
		return nil
	}
	var first firstError
	for _, item := range items {
		if err := elem.Check(item); err != nil {
			first.add(fmt.Errorf("set item %s: %w", describe(item), err))
		}
	}
	return first.err
}

func (t Type) checkDict(v any, ordered bool) error {
	key, elem := t.Key(), t.Elem()
	checkEntry := func(k, val any) error {
		if err := key.Check(k); err != nil {
			return fmt.Errorf("key %s (the key itself): %w", describe(k), err)
		}
		if err := elem.Check(val); err != nil {
			return fmt.Errorf("key %s: %w", describe(k), err)
		}
		return nil
	}
	var od *wire.OrderedDict
	switch d := v.(type) {
	case *wire.OrderedDict:
		od = d
	case wire.OrderedDict:
		od = &d
	}
	if od != nil {
		if key.isObject() && elem.isObject() {
			return nil
		}
		for _, e := range od.Entries() {
			if err := checkEntry(e.Key, e.Value); err != nil {
				return err
			}
		}
		return nil
	}
	if ordered {
		return t.mismatch(v)
	}
	var first firstError
	switch d := v.(type) {
	case map[string]any:
		if key.isObject() && elem.isObject() {
			return nil
		}
		for k, val := range d {
			first.add(checkEntry(k, val))
		}
	case map[any]any:
		if key.isObject() && elem.isObject() {
			return nil
		}
		for k, val := range d {
			first.add(checkEntry(k, val))
		}
	case wire.Dict:
		for _, e := range d.Entries {
			first.add(checkEntry(e.Key, e.Value))
		}
	case *wire.Dict:
		if d == nil {
			return t.mismatch(v)
		}
		for _, e := range d.Entries {
			first.add(checkEntry(e.Key, e.Value))
		}
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Struct && !isExtension(v) && !isSpecialStruct(v) {
			// A struct encodes as a dict keyed by its field names; what
			// its fields hold is for wire to say, so only object values
			// are known to conform.
			if key.Check("") == nil && elem.isObject() {
				return nil
			}
			return t.mismatch(v)
		}
		if rv.Kind() != reflect.Map || isWireSet(rv.Type()) {
			return t.mismatch(v)
		}
		if key.isObject() && elem.isObject() {
			return nil
		}
		for it := rv.MapRange(); it.Next(); {
			first.add(checkEntry(it.Key().Interface(), it.Value().Interface()))
		}
	}
	return first.err
}

// isSpecialStruct reports whether v is a struct that wire does not encode
// as a dict.
func isSpecialStruct(v any) bool {
	switch v.(type) {
	case time.Time, wire.Period, big.Int, wire.AnySet, wire.Dict, wire.OrderedDict:
		return true
	}
	_, ok := v.(wire.Marshaler)
	return ok
}

func isInteger(v any) bool {
	switch v := v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, big.Int:
		return true
	case *big.Int:
		return v != nil
	}
	return false
}

// isFloat reports whether v is a float, or an integer a float64 holds
// exactly.
func isFloat(v any) bool {
	switch v := v.(type) {
	case float64, float32:
		return true
	case int:
		return exactInt(int64(v))
	case int64:
		return exactInt(v)
	case int8, int16, int32, uint8, uint16, uint32:
		return true
	case uint:
		return exactUint(uint64(v))
	case uint64:
		return exactUint(v)
	case *big.Int:
		return v != nil && exactBig(v)
	case big.Int:
		return exactBig(&v)
	}
	return false
}

func exactInt(n int64) bool {
	f := float64(n)
	// 2^63 rounds from MaxInt64 and is itself no int64.
	return f < 1<<63 && int64(f) == n
}

func exactUint(n uint64) bool {
	f := float64(n)
	return f < 1<<64 && uint64(f) == n
}

func exactBig(n *big.Int) bool {
	_, acc := new(big.Float).SetInt(n).Float64()
	return acc == big.Exact
}

// isExtension reports whether v is an extension value. Check has followed
// pointers already, so the pointers here are not nil.
func isExtension(v any) bool {
	switch v.(type) {
	case wire.Extension, *wire.Extension, Link, *Link, Form, *Form, Input, *Input,
		Resource, *Resource, Error, *Error, Collection, *Collection:
		return true
	}
	return false
}

// wirePkg is the import path of package wire, for recognising its
// generic Set type by reflection.
var wirePkg = reflect.TypeFor[wire.Extension]().PkgPath()

// isWireSet reports whether t is an instantiation of [wire.Set]. The encoder
// recognises sets by an unexported method, which reflection cannot see, so
// this goes by package and name; types merely defined from a Set lose that
// method and encode as dicts, and are not sets here either.
func isWireSet(t reflect.Type) bool {
	return t.Kind() == reflect.Map && t.PkgPath() == wirePkg && strings.HasPrefix(t.Name(), "Set[")
}
