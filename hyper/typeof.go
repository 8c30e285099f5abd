package hyper

import (
	"io"
	"math/big"
	"reflect"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

var (
	timeType        = reflect.TypeFor[time.Time]()
	durationType    = reflect.TypeFor[time.Duration]()
	periodType      = reflect.TypeFor[wire.Period]()
	bigIntType      = reflect.TypeFor[big.Int]()
	blobPtrType     = reflect.TypeFor[*wire.Blob]()
	readerType      = reflect.TypeFor[io.Reader]()
	extensionType   = reflect.TypeFor[wire.Extension]()
	orderedDictType = reflect.TypeFor[wire.OrderedDict]()
	dictType        = reflect.TypeFor[wire.Dict]()
	anySetType      = reflect.TypeFor[wire.AnySet]()
	marshalerType   = reflect.TypeFor[wire.Marshaler]()
	unmarshalerType = reflect.TypeFor[wire.Unmarshaler]()
)

// hyperTypes are this package's extension types.
var hyperTypes = map[reflect.Type]bool{
	reflect.TypeFor[Link]():       true,
	reflect.TypeFor[Form]():       true,
	reflect.TypeFor[Input]():      true,
	reflect.TypeFor[Resource]():   true,
	reflect.TypeFor[Error]():      true,
	reflect.TypeFor[Collection](): true,
}

var object = Type{Name: "object"}

// TypeOf returns the input type that describes the values of Go type t, as
// a service states the type of a parameter:
//
//   - bool → bool; every int and uint kind, big.Int and *big.Int → integer;
//     float32 and float64 → float; string → unicode; []byte and [N]byte →
//     bytearray.
//   - time.Time → datetime; time.Duration and wire.Period → timedelta;
//     *wire.Blob and interfaces that embed io.Reader → blob.
//   - wire.Extension and this package's types → extension.
//   - other slices and arrays → `E list/1` with E the element's type;
//     wire.Set[T] → `E set/1`; wire.AnySet → `object set/1`.
//   - other maps → `V K dict/2`; wire.Dict → `object object dict/2`;
//     wire.OrderedDict → `object object ordered_dict/2`; structs (which
//     encode as dicts keyed by field name) → `object unicode dict/2`.
//   - a pointer → its element's type, nullable; except that *big.Int,
//     *wire.Blob, *wire.OrderedDict, *wire.Dict and *wire.AnySet are the
//     types above, not nullable.
//   - interfaces, types with their own MarshalGlyph or UnmarshalGlyph
//     (whose encoding only they know), and everything else (channels,
//     functions, a nil t) → object.
//
// Types that contain themselves (type T []T) give object where they recur.
func TypeOf(t reflect.Type) Type {
	return typeOf(t, map[reflect.Type]bool{})
}

func typeOf(t reflect.Type, visiting map[reflect.Type]bool) Type {
	if t == nil || visiting[t] {
		return object
	}
	switch {
	case t == timeType:
		return Type{Name: "datetime"}
	case t == durationType || t == periodType:
		return Type{Name: "timedelta"}
	case t == bigIntType || t == reflect.PointerTo(bigIntType):
		return Type{Name: "integer"}
	case t == blobPtrType:
		return Type{Name: "blob"}
	case t == extensionType || hyperTypes[t]:
		return Type{Name: "extension"}
	case t == orderedDictType || t == reflect.PointerTo(orderedDictType):
		return Type{Name: "ordered_dict", Params: []Type{object, object}}
	case t == dictType || t == reflect.PointerTo(dictType):
		return Type{Name: "dict", Params: []Type{object, object}}
	case t == anySetType || t == reflect.PointerTo(anySetType):
		return Type{Name: "set", Params: []Type{object}}
	case t.Kind() == reflect.Interface:
		if t.Implements(readerType) {
			return Type{Name: "blob"}
		}
		return object
	case t.Kind() == reflect.Pointer:
		visiting[t] = true
		defer delete(visiting, t)
		elem := typeOf(t.Elem(), visiting)
		elem.Nullable = true
		return elem
	case t.Implements(marshalerType), reflect.PointerTo(t).Implements(marshalerType),
		reflect.PointerTo(t).Implements(unmarshalerType):
		return object
	}
	switch t.Kind() {
	case reflect.Bool:
		return Type{Name: "bool"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return Type{Name: "integer"}
	case reflect.Float32, reflect.Float64:
		return Type{Name: "float"}
	case reflect.String:
		return Type{Name: "unicode"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(marshalerType) {
			return Type{Name: "bytearray"}
		}
		visiting[t] = true
		defer delete(visiting, t)
		return Type{Name: "list", Params: []Type{typeOf(t.Elem(), visiting)}}
	case reflect.Map:
		visiting[t] = true
		defer delete(visiting, t)
		if isWireSet(t) {
			return Type{Name: "set", Params: []Type{typeOf(t.Key(), visiting)}}
		}
		return Type{Name: "dict", Params: []Type{typeOf(t.Elem(), visiting), typeOf(t.Key(), visiting)}}
	case reflect.Struct:
		return Type{Name: "dict", Params: []Type{object, {Name: "unicode"}}}
	}
	return object
}
