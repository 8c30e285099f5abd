package hypernats

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// jsonObject is a JSON object as the payload decoder reads it: its
// members in the order they came, so that named arguments keep it and an
// ordered_dict input gets it.
type jsonObject []jsonMember

type jsonMember struct {
	key   string
	value any
}

// decodeJSON decodes one JSON value, bounded by limits (depth, items
// per array or object, bytes per string, digits per number), into nil,
// bool, json.Number, string, []any and jsonObject. Anything but white
// space after the value is an error.
func decodeJSON(data []byte, limits wire.Limits) (any, error) {
	d := jsonDecoder{dec: json.NewDecoder(bytes.NewReader(data)), limits: limits}
	d.dec.UseNumber()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

type jsonDecoder struct {
	dec    *json.Decoder
	limits wire.Limits
}

func (d *jsonDecoder) token() (json.Token, error) {
	t, err := d.dec.Token()
	if err == io.EOF {
		return nil, errors.New("unexpected end of JSON")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return nil, fmt.Errorf("bad JSON at byte %d: %v", se.Offset, se)
	}
	return t, err
}

func (d *jsonDecoder) value(depth int) (any, error) {
	t, err := d.token()
	if err != nil {
		return nil, err
	}
	return d.fromToken(t, depth)
}

func (d *jsonDecoder) fromToken(t json.Token, depth int) (any, error) {
	switch x := t.(type) {
	case json.Delim:
		if depth >= d.limits.MaxDepth {
			return nil, fmt.Errorf("JSON nested deeper than %d", d.limits.MaxDepth)
		}
		if x == '[' {
			return d.array(depth + 1)
		}
		return d.object(depth + 1)
	case string:
		if len(x) > d.limits.MaxStringBytes {
			return nil, fmt.Errorf("a JSON string over %d bytes", d.limits.MaxStringBytes)
		}
		return x, nil
	case json.Number:
		if len(x) > d.limits.MaxIntegerDigits {
			return nil, fmt.Errorf("a JSON number over %d digits", d.limits.MaxIntegerDigits)
		}
		return x, nil
	}
	return t, nil // nil, bool
}

func (d *jsonDecoder) array(depth int) (any, error) {
	out := []any{}
	for d.dec.More() {
		if len(out) >= d.limits.MaxItems {
			return nil, fmt.Errorf("a JSON array over %d items", d.limits.MaxItems)
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	_, err := d.token() // ]
	return out, err
}

func (d *jsonDecoder) object(depth int) (any, error) {
	out := jsonObject{}
	for d.dec.More() {
		if len(out) >= d.limits.MaxItems {
			return nil, fmt.Errorf("a JSON object over %d members", d.limits.MaxItems)
		}
		k, err := d.token()
		if err != nil {
			return nil, err
		}
		key, _ := k.(string)
		if len(key) > d.limits.MaxStringBytes {
			return nil, fmt.Errorf("a JSON string over %d bytes", d.limits.MaxStringBytes)
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, jsonMember{key, v})
	}
	_, err := d.token() // }
	return out, err
}

// fromJSON converts a decoded JSON value to the glyph value an input of
// type t takes (see spec.md, "JSON arguments"): integers for integer,
// base64 strings to bytes for bytearray and blob, RFC 3339 strings to
// datetimes, durations for timedelta, lists, sets and dicts item by
// item. A value the type does not explain is converted as for object
// (numbers to integers when integral, else floats), for the service to
// check against the input's type as it checks every argument.
func fromJSON(v any, t hyper.Type) (any, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	case json.Number:
		switch t.Name {
		case "float":
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				return nil, fmt.Errorf("number %s: %v", x, err)
			}
			return f, nil
		case "timedelta":
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil || math.Abs(f) > math.MaxInt64/1e9 {
				return nil, fmt.Errorf("number %s is not a duration in seconds", x)
			}
			return time.Duration(f * 1e9), nil
		}
		return number(x)
	case string:
		switch t.Name {
		case "bytearray", "blob":
			b, err := decodeBase64(x)
			if err != nil {
				return nil, fmt.Errorf("expected base64 for %s: %v", t.Name, err)
			}
			if t.Name == "blob" {
				return wire.BytesBlob("application/octet-stream", b), nil
			}
			return b, nil
		case "datetime":
			tm, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, fmt.Errorf("expected an RFC 3339 datetime: %v", err)
			}
			return tm, nil
		case "timedelta":
			d, err := time.ParseDuration(x)
			if err != nil {
				return nil, fmt.Errorf("expected a duration such as \"1.5s\": %v", err)
			}
			return d, nil
		}
		return x, nil
	case []any:
		elem := t.Elem()
		if t.Name != "list" && t.Name != "set" {
			elem = hyper.Type{}
		}
		out := make([]any, len(x))
		for i, it := range x {
			c, err := fromJSON(it, elem)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = c
		}
		if t.Name == "set" {
			return wire.AnySet{Items: out}, nil
		}
		return out, nil
	case jsonObject:
		return objectFromJSON(x, t)
	}
	return nil, fmt.Errorf("unexpected JSON value %T", v)
}

// objectFromJSON converts a JSON object: to an ordered dict for an
// ordered_dict input, to a dict with converted keys for a dict whose keys
// are not unicode, and to a map of strings otherwise.
func objectFromJSON(x jsonObject, t hyper.Type) (any, error) {
	elem, key := hyper.Type{}, hyper.Type{}
	if t.Name == "dict" || t.Name == "ordered_dict" {
		elem, key = t.Elem(), t.Key()
	}
	convKey := func(k string) (any, error) {
		switch key.Name {
		case "integer":
			n, ok := new(big.Int).SetString(k, 10)
			if !ok {
				return nil, fmt.Errorf("key %q: expected an integer", short(k))
			}
			if n.IsInt64() {
				return n.Int64(), nil
			}
			return n, nil
		case "", "object", "unicode":
			return k, nil
		}
		c, err := fromJSON(k, key)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", short(k), err)
		}
		return c, nil
	}
	if t.Name == "ordered_dict" {
		out := wire.NewOrderedDict()
		for _, m := range x {
			k, err := convKey(m.key)
			if err != nil {
				return nil, err
			}
			v, err := fromJSON(m.value, elem)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", short(m.key), err)
			}
			out.Set(k, v)
		}
		return out, nil
	}
	if key.Name == "" || key.Name == "object" || key.Name == "unicode" {
		out := make(map[string]any, len(x))
		for _, m := range x {
			v, err := fromJSON(m.value, elem)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", short(m.key), err)
			}
			out[m.key] = v
		}
		return out, nil
	}
	out := make(map[any]any, len(x))
	for _, m := range x {
		k, err := convKey(m.key)
		if err != nil {
			return nil, err
		}
		if _, ok := k.(*big.Int); ok {
			return nil, fmt.Errorf("key %q: integer keys are bounded by 64 bits", short(m.key))
		}
		v, err := fromJSON(m.value, elem)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", short(m.key), err)
		}
		out[k] = v
	}
	return out, nil
}

// number converts a JSON number: an integer (int64, or *big.Int beyond)
// when it is integral, 1.0 and 3e2 included, and a float64 otherwise.
func number(x json.Number) (any, error) {
	s := string(x)
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, fmt.Errorf("bad number %s", short(s))
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("number %s: %v", short(s), err)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), nil
	}
	return f, nil
}

// decodeBase64 accepts standard base64, padded or not, and the URL-safe
// alphabet.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// short cuts a string for an error message.
func short(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
