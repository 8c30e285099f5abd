package rpcmap

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// Arg converts a plain argument, as a transport decoded it, into the glyph
// value that the input of type t expects, so that the service's checks
// see what a glyph client would have sent: a JSON number becomes an
// integer for an integer input, a base64 string bytes for a bytearray, an
// RFC 3339 string a datetime, a list a set for a set input, and so on,
// item by item through lists and dicts. A value whose shape does not fit
// t is left as it is (numbers made glyph numbers), for the service to
// refuse with its own message; an error is a value of the right shape
// that does not decode (a string that is not base64), naming what it is.
//
// Plain values are nil, bool, string, json.Number, int64, float64,
// []byte, time.Time, []any, map[string]any, [Object] and
// *wire.OrderedDict with string keys. Arg may change v's lists and maps
// in place.
func Arg(v any, t hyper.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t.Name {
	case "integer":
		if n, ok := v.(json.Number); ok {
			return integer(string(n)), nil
		}
	case "float":
		if n, ok := v.(json.Number); ok {
			if f, err := strconv.ParseFloat(string(n), 64); err == nil {
				return f, nil
			}
		}
	case "bytearray", "blob":
		b, err := bytesArg(v)
		if err != nil || b == nil {
			return Generic(v), err
		}
		if t.Name == "blob" {
			return wire.BytesBlob("application/octet-stream", b), nil
		}
		return b, nil
	case "datetime":
		if s, ok := v.(string); ok {
			tm, err := ParseTime(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not a date and time (RFC 3339, such as 2006-01-02T15:04:05Z)", short(s))
			}
			return tm, nil
		}
	case "timedelta":
		return durationArg(v)
	case "list", "set":
		l, ok := v.([]any)
		if !ok {
			break
		}
		for i, it := range l {
			c, err := Arg(it, t.Elem())
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			l[i] = c
		}
		if t.Name == "set" {
			return wire.AnySet{Items: dedupe(l)}, nil
		}
		return l, nil
	case "dict", "ordered_dict":
		return dictArg(v, t)
	case "object", "":
		return Generic(v), nil
	}
	return Generic(v), nil
}

// integer converts a JSON number of an integer input: an int64, a
// *big.Int beyond, or the float64 of a number with a fraction or an
// exponent, which the service refuses unless it is integral and in range.
func integer(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f)
		}
		return f
	}
	if b, ok := new(big.Int).SetString(s, 10); ok {
		return b
	}
	return s
}

// bytesArg decodes the base64 string of a bytearray or blob input; nil
// without error for a value of another shape.
func bytesArg(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		b, err := decodeBase64(x)
		if err != nil {
			return nil, fmt.Errorf("%q is not base64", short(x))
		}
		if b == nil {
			b = []byte{}
		}
		return b, nil
	}
	return nil, nil
}

// decodeBase64 accepts standard base64, padded or not, and the URL-safe
// alphabet.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// durationArg converts a timedelta input: a number of seconds, or a Go
// duration string such as "1h30m".
func durationArg(v any) (any, error) {
	var secs float64
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return Generic(v), nil
		}
		secs = f
	case float64:
		secs = x
	case int64:
		secs = float64(x)
	case string:
		d, err := time.ParseDuration(x)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration (seconds, or such as 1h30m)", short(x))
		}
		return d, nil
	default:
		return Generic(v), nil
	}
	if math.IsNaN(secs) || math.Abs(secs) > math.MaxInt64/1e9 {
		return nil, fmt.Errorf("%v seconds is out of range", secs)
	}
	return time.Duration(math.Round(secs * 1e9)), nil
}

// dictArg converts a dict or ordered dict input: its values by the
// value type, its keys (strings in JSON and XML-RPC) by the key type.
func dictArg(v any, t hyper.Type) (any, error) {
	var entries []wire.Entry
	switch x := v.(type) {
	case map[string]any:
		if t.Name == "dict" && isStringKey(t.Key()) {
			for k, e := range x {
				c, err := Arg(e, t.Elem())
				if err != nil {
					return nil, fmt.Errorf("key %q: %w", short(k), err)
				}
				x[k] = c
			}
			return x, nil
		}
		entries = make([]wire.Entry, 0, len(x))
		for _, k := range sortedKeys(x) {
			entries = append(entries, wire.Entry{Key: k, Value: x[k]})
		}
	case *wire.OrderedDict:
		entries = x.Entries()
	case Object:
		entries = make([]wire.Entry, len(x))
		for i, m := range x {
			entries[i] = wire.Entry{Key: m.Key, Value: m.Value}
		}
	default:
		return Generic(v), nil
	}
	out := wire.NewOrderedDict()
	for _, e := range entries {
		ks, _ := e.Key.(string)
		k, err := keyArg(ks, t.Key())
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", short(ks), err)
		}
		c, err := Arg(e.Value, t.Elem())
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", short(ks), err)
		}
		out.Set(k, c)
	}
	if t.Name == "ordered_dict" {
		return out, nil
	}
	if isStringKey(t.Key()) {
		m := make(map[string]any, out.Len())
		for _, e := range out.Entries() {
			m[e.Key.(string)] = e.Value
		}
		return m, nil
	}
	m := make(map[any]any, out.Len())
	for _, e := range out.Entries() {
		switch e.Key.(type) {
		case *big.Int, []byte: // not Go map keys
			return &wire.Dict{Entries: out.Entries()}, nil
		}
		m[e.Key] = e.Value
	}
	return m, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func isStringKey(t hyper.Type) bool {
	return t.Name == "unicode" || t.Name == "object" || t.Name == ""
}

// keyArg converts a dict key, a string on the wire, to the key type.
func keyArg(s string, t hyper.Type) (any, error) {
	switch t.Name {
	case "integer", "float", "timedelta":
		return Arg(json.Number(s), t)
	case "bool":
		if b, err := strconv.ParseBool(s); err == nil {
			return b, nil
		}
	case "bytearray", "datetime":
		return Arg(s, t)
	}
	return s, nil
}

// Generic converts the JSON numbers in v, which Arg leaves to the service
// to check, into glyph numbers: those without a fraction or an exponent
// into int64 (or *big.Int), others into float64; and an [Object] into a
// map of strings.
func Generic(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
			if b, ok := new(big.Int).SetString(s, 10); ok {
				return b
			}
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case []any:
		for i, it := range x {
			x[i] = Generic(it)
		}
	case map[string]any:
		for k, it := range x {
			x[k] = Generic(it)
		}
	case *wire.OrderedDict:
		for _, e := range x.Entries() {
			x.Set(e.Key, Generic(e.Value))
		}
	case Object:
		m := make(map[string]any, len(x))
		for _, it := range x {
			m[it.Key] = Generic(it.Value)
		}
		return m
	}
	return v
}

// ParseTime parses a datetime argument: RFC 3339, or the forms XML-RPC
// peers write (20060102T15:04:05, with or without dashes, a zone or
// fractional seconds), read as UTC when they have no zone.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", short(s))
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"20060102T15:04:05",
	"20060102T15:04:05Z07:00",
	"2006-01-02T15:04:05.999999999",
	"20060102T150405",
	"20060102T150405Z07:00",
	"20060102T15:04:05.999999999Z07:00",
}

func short(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// dedupe drops the repeats of the scalar items of a list that is to be a
// set (a JSON or XML-RPC array may repeat what a set holds once).
func dedupe(l []any) []any {
	seen := make(map[any]bool, len(l))
	out := l[:0]
	for _, it := range l {
		switch it.(type) {
		case string, int64, float64, bool:
			if seen[it] {
				continue
			}
			seen[it] = true
		}
		out = append(out, it)
	}
	return out
}
