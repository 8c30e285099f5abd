package rpcmap

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/wire/glyphjson"
)

// AppendJSON appends the JSON of a plain value, one that [Plain]
// returns, as encoding/json would write it without HTML escaping:
// []byte as base64, time.Time as RFC 3339, objects from Go maps with
// their keys sorted, ordered dicts in their order. NaN, infinities and
// values that are not plain are a *[service.Error].
func AppendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case *big.Int:
		return x.Append(b, 10), nil
	case float64:
		return appendFloat(b, x)
	case string:
		return AppendJSONString(b, x), nil
	case []byte:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, '"'), nil
	case time.Time:
		b = append(b, '"')
		b = x.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"'), nil
	case []any:
		b = append(b, '[')
		for i, it := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendJSON(b, it); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = AppendJSON(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case *wire.OrderedDict:
		b = append(b, '{')
		for i, e := range x.Entries() {
			if i > 0 {
				b = append(b, ',')
			}
			k, _ := e.Key.(string)
			b = AppendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = AppendJSON(b, e.Value); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, &service.Error{Kind: service.KindInternal, Message: fmt.Sprintf("a %s has no JSON form", wire.TypeName(v))}
}

// appendFloat writes a float as encoding/json does; NaN and infinities,
// which JSON lacks, are an error.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, &service.Error{Kind: service.KindUnsupported, Message: fmt.Sprintf("the float %v has no JSON form", f)}
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 becomes 1e-7, as in encoding/json.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// AppendJSONString writes s as a JSON string, as encoding/json does without
// HTML escaping: invalid UTF-8 becomes U+FFFD, and U+2028 and U+2029 are
// escaped for JavaScript.
func AppendJSONString(b []byte, s string) []byte { return glyphjson.AppendString(b, s) }
