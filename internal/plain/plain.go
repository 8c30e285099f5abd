// Package plain recognises glyph values that are plain data: what every
// codec carries as it is and what holds no URL to resolve.
package plain

import (
	"fmt"
	"math/big"
)

// Is reports whether v is plain data: nil, bools, integers, floats,
// strings and bytes, and lists and string-keyed maps of them, a few
// levels deep and of a few items each (the bounds keep the check cheap;
// a bigger value is simply not plain).
func Is(v any) bool { return is(v, 0) }

func is(v any, depth int) bool {
	switch x := v.(type) {
	case nil, bool, int, int64, float64, string, []byte:
		return true
	case []any:
		if depth >= 4 || len(x) > 64 {
			return false
		}
		for _, it := range x {
			if !is(it, depth+1) {
				return false
			}
		}
		return true
	case map[string]any:
		if depth >= 4 || len(x) > 64 {
			return false
		}
		for _, it := range x {
			if !is(it, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// TypeName names the type of a decoded value in errors, as the codecs of
// peer decode them: "null", "a boolean", "an integer", "a list", ...
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case int64, *big.Int:
		return "an integer"
	case float64:
		return "a float"
	case string:
		return "a string"
	case []byte:
		return "bytes"
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a map"
	}
	return fmt.Sprintf("%T", v)
}
