package hyper

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// This file holds what the six extension types share: reading attributes
// from a decoded extension and writing them into a new one.

// attrs are the attributes of one extension being decoded. Each take call
// removes the attribute it reads, so what is left at the end is Extra.
type attrs struct {
	ext string // extension name, for error messages
	m   map[string]any
}

// readAttrs collects x's attributes. Attribute names must be unicode:
// hyperglyph names attributes by string, and Extra could not keep others.
func readAttrs(x wire.Extension) (*attrs, error) {
	a := &attrs{ext: x.Name, m: make(map[string]any, x.Attrs.Len())}
	for _, e := range x.Attrs.Entries() {
		k, ok := e.Key.(string)
		if !ok {
			return nil, fmt.Errorf("%s attribute name %s is %s, expected unicode", x.Name, describe(e.Key), typeName(e.Key))
		}
		a.m[k] = e.Value
	}
	return a, nil
}

// take removes and returns the attribute name. An attribute whose value is
// nil counts as absent: senders that fill optional attributes with None
// mean "not given".
func (a *attrs) take(name string) (any, bool) {
	v, ok := a.m[name]
	if !ok {
		return nil, false
	}
	delete(a.m, name)
	return v, v != nil
}

func (a *attrs) wrongType(name string, v any, want string) error {
	return fmt.Errorf("%s attribute %q is %s, expected %s", a.ext, name, typeName(v), want)
}

func (a *attrs) string(name string) (string, error) {
	v, ok := a.take(name)
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", a.wrongType(name, v, "unicode")
	}
	return s, nil
}

func (a *attrs) bool(name string) (bool, error) {
	v, ok := a.take(name)
	if !ok {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, a.wrongType(name, v, "true or false")
	}
	return b, nil
}

func (a *attrs) time(name string) (time.Time, error) {
	v, ok := a.take(name)
	if !ok {
		return time.Time{}, nil
	}
	t, ok := v.(time.Time)
	if !ok {
		return time.Time{}, a.wrongType(name, v, "a datetime")
	}
	return t, nil
}

func (a *attrs) int(name string) (int64, error) {
	v, ok := a.take(name)
	if !ok {
		return 0, nil
	}
	switch n := v.(type) {
	case int64:
		return n, nil
	case *big.Int:
		return 0, fmt.Errorf("%s attribute %q is %s, which does not fit in 64 bits", a.ext, name, n)
	}
	return 0, a.wrongType(name, v, "an integer")
}

// headers reads a dict of unicode to unicode.
func (a *attrs) headers(name string) (map[string]string, error) {
	v, ok := a.take(name)
	if !ok {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, a.wrongType(name, v, "a dict of unicode to unicode")
	}
	h := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s, ok := m[k].(string)
		if !ok {
			return nil, fmt.Errorf("%s attribute %q: key %s is %s, expected unicode", a.ext, name, strconv.Quote(k), typeName(m[k]))
		}
		h[k] = s
	}
	return h, nil
}

// extra returns the attributes no take call read, or nil if there are none.
func (a *attrs) extra() map[string]any {
	if len(a.m) == 0 {
		return nil
	}
	return a.m
}

// noContent rejects content on the extensions whose content is always nil.
func noContent(x wire.Extension) error {
	if x.Content != nil {
		return fmt.Errorf("%s content is %s, expected nil", x.Name, typeName(x.Content))
	}
	return nil
}

// dictContent reads the content of resource and error: a dict of unicode
// to values, or nil. An empty dict gives a nil map: both encode as `D;`.
func dictContent(x wire.Extension) (map[string]any, error) {
	switch c := x.Content.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		if len(c) == 0 {
			return nil, nil
		}
		return c, nil
	}
	return nil, fmt.Errorf("%s content is %s, expected a dict with unicode keys", x.Name, typeName(x.Content))
}

// newExt builds the extension a MarshalGlyph returns. Its attributes are a
// dict (not an ordered dict), so the encoder writes them in canonical
// order. extra is added after checking it does not shadow a field.
func newExt(name string, attrs *wire.OrderedDict, extra map[string]any, known []string, content any) (wire.Extension, error) {
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if slices.Contains(known, k) {
			return wire.Extension{}, fmt.Errorf("hyper: %s Extra holds %q, which is a field of %s", name, k, name)
		}
		attrs.Set(k, extra[k])
	}
	return wire.Extension{Name: name, Attrs: attrs, Content: content}, nil
}

// setString adds a string attribute unless it is empty.
func setString(o *wire.OrderedDict, name, v string) {
	if v != "" {
		o.Set(name, v)
	}
}

// setHeaders adds a headers attribute unless h is nil.
func setHeaders(o *wire.OrderedDict, name string, h map[string]string) {
	if h != nil {
		o.Set(name, h)
	}
}

// unmarshal implements UnmarshalGlyph for the six types: v is what the
// decoder produced, normally already a T (then the decoder assigns it
// without calling us), else a generic extension of the right name. nil
// leaves dst unchanged, as it does for every non-nillable target in wire.
func unmarshal[T any](dst *T, v any, name string, conv func(wire.Extension) (T, error)) error {
	switch v := v.(type) {
	case nil:
		return nil
	case T:
		*dst = v
		return nil
	case *T:
		if v != nil {
			*dst = *v
		}
		return nil
	case wire.Extension:
		if v.Name != name {
			return fmt.Errorf("expected a %s extension, got extension %s", name, v.Name)
		}
		t, err := conv(v)
		if err != nil {
			return err
		}
		*dst = t
		return nil
	}
	return fmt.Errorf("expected a %s extension, got %s", name, typeName(v))
}

// typeName is [wire.TypeName] that also names this package's types: to wire
// they are structs, which it would call dicts.
func typeName(v any) string {
	switch v.(type) {
	case Link, *Link:
		return "extension link"
	case Form, *Form:
		return "extension form"
	case Input, *Input:
		return "extension input"
	case Resource, *Resource:
		return "extension resource"
	case Error, *Error:
		return "extension error"
	case Collection, *Collection:
		return "extension collection"
	case map[string]any, map[any]any:
		return "dict"
	case []any:
		return "list"
	}
	return wire.TypeName(v)
}

// describe renders a key or item for an error message: short scalars by
// value, anything else by type.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 64 {
			v = v[:61] + "..."
		}
		return strconv.Quote(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case nil:
		return "nil"
	}
	return typeName(v)
}
