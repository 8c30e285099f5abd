package hyperhttp

import (
	"reflect"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// A result that holds blobs is streamed (its blobs may be larger than
// memory); any other result is encoded first, so it gets an ETag and a
// Content-Length. These functions find the blobs in a result: quickly for
// the types the service layer builds (any, []any, map[string]any, hyper
// values, ordered dicts), by reflection for the user's own types, skipping
// every type that cannot hold a blob. A blob that a [wire.Marshaler]
// returns from MarshalGlyph is not seen: it is encoded, in memory, with
// the rest of the result.

// maxBlobDepth bounds the search; deeper values (cyclic ones included)
// are left to the encoder, which rejects them.
const maxBlobDepth = 256

// hasBlob reports whether v holds a *[wire.Blob].
func hasBlob(v any) bool {
	found := false
	walkAny(v, 0, func(*wire.Blob) bool { found = true; return false })
	return found
}

// forEachBlob calls fn for every blob in v.
func forEachBlob(v any, fn func(*wire.Blob)) {
	walkAny(v, 0, func(b *wire.Blob) bool { fn(b); return true })
}

var (
	blobPtrType = reflect.TypeFor[*wire.Blob]()
	timeType    = reflect.TypeFor[time.Time]()
)

// walkAny calls fn for each blob in x until fn returns false, and reports
// whether to go on. The types that decoding into any gives are handled
// without reflection.
func walkAny(x any, depth int, fn func(*wire.Blob) bool) bool {
	if depth > maxBlobDepth {
		return true
	}
	switch x := x.(type) {
	case nil, bool, int64, int, float64, string, []byte, time.Time, time.Duration:
		return true
	case *wire.Blob:
		return x == nil || fn(x)
	case []any:
		for _, it := range x {
			if !walkAny(it, depth+1, fn) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, it := range x {
			if !walkAny(it, depth+1, fn) {
				return false
			}
		}
		return true
	}
	return walkBlobs(reflect.ValueOf(x), depth, fn)
}

// walkBlobs calls fn for each blob in v until fn returns false, and
// reports whether to go on.
func walkBlobs(v reflect.Value, depth int, fn func(*wire.Blob) bool) bool {
	if !v.IsValid() || depth > maxBlobDepth {
		return true
	}
	t := v.Type()
	if t == blobPtrType {
		if v.IsNil() {
			return true
		}
		return fn((*wire.Blob)(v.UnsafePointer()))
	}
	if !mayHoldBlob(t) {
		return true
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return true
		}
		if v.CanInterface() {
			return walkAny(v.Interface(), depth+1, fn)
		}
		return walkBlobs(v.Elem(), depth+1, fn)
	case reflect.Pointer:
		if v.IsNil() {
			return true
		}
		return walkBlobs(v.Elem(), depth+1, fn)
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if !walkBlobs(v.Index(i), depth+1, fn) {
				return false
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if !walkBlobs(it.Key(), depth+1, fn) || !walkBlobs(it.Value(), depth+1, fn) {
				return false
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if !walkBlobs(v.Field(i), depth+1, fn) {
				return false
			}
		}
	}
	return true
}

// holdCache maps a reflect.Type to whether its values may hold a blob.
var holdCache sync.Map

// mayHoldBlob reports whether a value of type t may hold a *[wire.Blob]:
// t is one, or holds an interface or a blob in an element, key or field.
func mayHoldBlob(t reflect.Type) bool {
	if v, ok := holdCache.Load(t); ok {
		return v.(bool)
	}
	r := typeHoldsBlob(t, map[reflect.Type]bool{})
	holdCache.Store(t, r)
	return r
}

func typeHoldsBlob(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == blobPtrType {
		return true
	}
	if seen[t] || t == timeType {
		return false // a type being examined already answers for itself
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return typeHoldsBlob(t.Elem(), seen)
	case reflect.Map:
		return typeHoldsBlob(t.Key(), seen) || typeHoldsBlob(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if typeHoldsBlob(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}
