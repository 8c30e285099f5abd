package front

import (
	"reflect"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

var anyType = reflect.TypeFor[any]()

// scalarTypes are the Go types of the input types without parameters
// (the inverse of hyper.TypeOf for them).
var scalarTypes = map[string]reflect.Type{
	"bool":      reflect.TypeFor[bool](),
	"integer":   reflect.TypeFor[int64](),
	"float":     reflect.TypeFor[float64](),
	"unicode":   reflect.TypeFor[string](),
	"bytearray": reflect.TypeFor[[]byte](),
	"datetime":  reflect.TypeFor[time.Time](),
	"timedelta": reflect.TypeFor[time.Duration](),
	"blob":      reflect.TypeFor[*wire.Blob](),
	"extension": reflect.TypeFor[wire.Extension](),
}

// setTypes are the Go types of sets of the scalars: a wire.Set of a type
// known only at run time cannot be made with reflect.
var setTypes = map[string]reflect.Type{
	"object":  reflect.TypeFor[wire.AnySet](),
	"integer": reflect.TypeFor[wire.Set[int64]](),
	"unicode": reflect.TypeFor[wire.Set[string]](),
	"float":   reflect.TypeFor[wire.Set[float64]](),
	"bool":    reflect.TypeFor[wire.Set[bool]](),
}

// goType returns a Go type whose input type (hyper.TypeOf) is t, so that
// a forwarder taking it shows the provider's input types and the service
// converts arguments to them as the provider's would. A type with no
// such Go type (a set of lists, a nullable blob) is object: any, which
// the provider then checks.
func goType(t hyper.Type) reflect.Type {
	g := baseType(t)
	if g == nil {
		return anyType
	}
	if t.Nullable {
		if g.Kind() == reflect.Pointer {
			return anyType
		}
		g = reflect.PointerTo(g)
	}
	return g
}

// baseType is goType without nullability, nil when there is none.
func baseType(t hyper.Type) reflect.Type {
	if g := scalarTypes[t.Name]; g != nil {
		return g
	}
	switch t.Name {
	case "object", "":
		return anyType
	case "list":
		elem := anyType
		if t.Params != nil {
			elem = goType(t.Params[0])
		}
		if elem.Kind() == reflect.Uint8 {
			return nil // a list of small integers is not a bytearray
		}
		return reflect.SliceOf(elem)
	case "set":
		name := "object"
		if t.Params != nil {
			if t.Params[0].Nullable || t.Params[0].Params != nil {
				return nil
			}
			name = t.Params[0].Name
		}
		return setTypes[name]
	case "dict":
		if t.Params == nil {
			return reflect.TypeFor[wire.Dict]()
		}
		val, key := goType(t.Params[0]), goType(t.Params[1])
		if key == anyType && val == anyType {
			return reflect.TypeFor[wire.Dict]()
		}
		// A pointer key compares by address, not by the value it points
		// to, so two equal keys would be two entries: no Go map then.
		if !key.Comparable() || key.Kind() == reflect.Pointer {
			return nil
		}
		return reflect.MapOf(key, val)
	case "ordered_dict":
		if t.Params == nil || (t.Params[0].Name == "object" && t.Params[1].Name == "object") {
			return reflect.TypeFor[*wire.OrderedDict]()
		}
	}
	return nil
}
