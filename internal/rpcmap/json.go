package rpcmap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/glyph-ipc/glyph/wire"
)

// Object is a JSON object as [DecodeJSON] reads it: its members in the
// order they came, so that named arguments keep it and an ordered_dict
// input gets it.
type Object []Member

// Member is one member of an [Object].
type Member struct {
	Key   string
	Value any
}

// DecodeJSON decodes one JSON value, bounded by limits (depth, items
// per array or object, bytes per string, digits per number: each field
// is used as it is), into the plain values [Arg] converts: nil, bool,
// json.Number, string, []any and [Object]. Anything but white space
// after the value is an error.
func DecodeJSON(data []byte, limits wire.Limits) (any, error) {
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
	out := Object{}
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
		out = append(out, Member{key, v})
	}
	_, err := d.token() // }
	return out, err
}
