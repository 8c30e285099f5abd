package rpcmap

import (
	"bytes"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// maxResultDepth bounds the nesting of a result, as the transports'
// decoders bound their input's.
const maxResultDepth = 256

// Plain maps a glyph result to the plain values every method-name
// transport can write: nil, bool, int64, *big.Int, float64, string,
// []byte, time.Time, []any, map[string]any and *wire.OrderedDict with
// string keys. Durations become float64 seconds, periods their ISO 8601
// string; sets become lists; dicts with non-string keys string-keyed
// dicts (integer, float, bool and datetime keys written as text); links
// and forms their URL; resources their content; collections their items;
// errors a dict of message and logref; other extensions a dict of
// extension, attributes and content; blobs their bytes, read up to
// maxBlob bytes (a larger one is a [service.KindTooLarge] error). Any
// other Go value is mapped as package wire encodes it.
//
// Plain shares what it can with v and never changes it.
func Plain(v any, maxBlob int64) (any, error) {
	p := plainer{maxBlob: maxBlob}
	return p.value(v, 0)
}

type plainer struct {
	maxBlob int64
	decoded bool // the value came from wire: no second round through it
}

func (p plainer) value(v any, depth int) (any, error) {
	if depth > maxResultDepth {
		return nil, &service.Error{Kind: service.KindInternal, Message: fmt.Sprintf("result nested deeper than %d", maxResultDepth)}
	}
	switch x := v.(type) {
	case nil, bool, int64, float64, string, []byte, time.Time:
		return v, nil
	case int:
		return int64(x), nil
	case *big.Int:
		if x == nil {
			return nil, nil
		}
		if x.IsInt64() {
			return x.Int64(), nil
		}
		return x, nil
	case time.Duration:
		return x.Seconds(), nil
	case wire.Period:
		return x.String(), nil
	case []any:
		return p.list(x, depth)
	case map[string]any:
		return p.stringMap(x, depth)
	case *wire.OrderedDict:
		if x == nil {
			return nil, nil
		}
		return p.entries(x.Entries(), true, depth)
	case *wire.Dict:
		if x == nil {
			return nil, nil
		}
		return p.entries(x.Entries, false, depth)
	case wire.Dict:
		return p.entries(x.Entries, false, depth)
	case wire.AnySet:
		return p.list(x.Items, depth)
	case hyper.Link:
		return x.URL, nil
	case hyper.Form:
		return x.URL, nil
	case hyper.Resource:
		return p.stringMap(x.Content, depth)
	case hyper.Collection:
		return p.list(x.Items, depth)
	case hyper.Error:
		m := map[string]any{"message": x.Message}
		if x.Logref != "" {
			m["logref"] = x.Logref
		}
		return m, nil
	case wire.Extension:
		return p.extension(x, depth)
	case *wire.Blob:
		return p.blob(x)
	}
	return p.reflected(v, depth)
}

func (p plainer) list(l []any, depth int) (any, error) {
	var out []any // a copy, made at the first item that changes
	for i, it := range l {
		c, err := p.value(it, depth+1)
		if err != nil {
			return nil, err
		}
		if out == nil && !same(c, it) {
			out = make([]any, len(l))
			copy(out, l[:i])
		}
		if out != nil {
			out[i] = c
		}
	}
	if out == nil {
		if l == nil {
			return []any{}, nil
		}
		return l, nil
	}
	return out, nil
}

func (p plainer) stringMap(m map[string]any, depth int) (any, error) {
	var out map[string]any
	for k, it := range m {
		c, err := p.value(it, depth+1)
		if err != nil {
			return nil, err
		}
		if out == nil && !same(c, it) {
			out = make(map[string]any, len(m))
			for k2, v2 := range m {
				out[k2] = v2
			}
		}
		if out != nil {
			out[k] = c
		}
	}
	if out == nil {
		if m == nil {
			return map[string]any{}, nil
		}
		return m, nil
	}
	return out, nil
}

// entries maps a dict's entries; ordered says to keep their order.
func (p plainer) entries(es []wire.Entry, ordered bool, depth int) (any, error) {
	if ordered {
		out := wire.NewOrderedDict()
		for _, e := range es {
			k, err := p.key(e.Key)
			if err != nil {
				return nil, err
			}
			c, err := p.value(e.Value, depth+1)
			if err != nil {
				return nil, err
			}
			out.Set(k, c)
		}
		return out, nil
	}
	out := make(map[string]any, len(es))
	for _, e := range es {
		k, err := p.key(e.Key)
		if err != nil {
			return nil, err
		}
		c, err := p.value(e.Value, depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = c
	}
	return out, nil
}

// key writes a dict key as text.
func (p plainer) key(k any) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case *big.Int:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	}
	pk, err := p.value(k, 0)
	if err == nil {
		switch x := pk.(type) {
		case string:
			return x, nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	}
	return "", &service.Error{Kind: service.KindUnsupported, Message: fmt.Sprintf("a dict key of type %s has no plain form", wire.TypeName(k))}
}

func (p plainer) extension(x wire.Extension, depth int) (any, error) {
	m := map[string]any{"extension": x.Name}
	if x.Attrs != nil && x.Attrs.Len() > 0 {
		a, err := p.value(x.Attrs, depth+1)
		if err != nil {
			return nil, err
		}
		m["attributes"] = a
	}
	c, err := p.value(x.Content, depth+1)
	if err != nil {
		return nil, err
	}
	m["content"] = c
	return m, nil
}

// blob reads a blob's data, up to maxBlob bytes.
func (p plainer) blob(b *wire.Blob) (any, error) {
	if b == nil {
		return nil, nil
	}
	defer b.Close()
	data, err := io.ReadAll(io.LimitReader(b, p.maxBlob+1))
	if err != nil {
		return nil, &service.Error{Kind: service.KindInternal, Message: "reading the result's blob failed", Err: err}
	}
	if int64(len(data)) > p.maxBlob {
		return nil, &service.Error{Kind: service.KindTooLarge, Message: fmt.Sprintf("the result's blob is larger than %d bytes", p.maxBlob)}
	}
	return data, nil
}

var marshalerType = reflect.TypeFor[wire.Marshaler]()

// reflected maps a Go value the switch does not know: slices and string
// maps item by item, pointers through, basic kinds to their plain type;
// structs and everything else as wire encodes them (and decodes them
// into any).
func (p plainer) reflected(v any, depth int) (any, error) {
	rv := reflect.ValueOf(v)
	if !rv.Type().Implements(marshalerType) {
		switch rv.Kind() {
		case reflect.Bool:
			return rv.Bool(), nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return rv.Int(), nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			u := rv.Uint()
			if u <= 1<<63-1 {
				return int64(u), nil
			}
			return new(big.Int).SetUint64(u), nil
		case reflect.Float32, reflect.Float64:
			return rv.Float(), nil
		case reflect.String:
			return rv.String(), nil
		case reflect.Pointer:
			if rv.IsNil() {
				return nil, nil
			}
			return p.value(rv.Elem().Interface(), depth+1)
		case reflect.Slice:
			if rv.IsNil() {
				return []any{}, nil
			}
			fallthrough
		case reflect.Array:
			if rv.Type().Elem().Kind() == reflect.Uint8 {
				break // bytes, as wire encodes them
			}
			out := make([]any, rv.Len())
			for i := range out {
				c, err := p.value(rv.Index(i).Interface(), depth+1)
				if err != nil {
					return nil, err
				}
				out[i] = c
			}
			return out, nil
		case reflect.Map:
			if rv.IsNil() {
				return map[string]any{}, nil
			}
			if rv.Type().Elem() == emptyStruct {
				return p.set(rv, depth)
			}
			out := make(map[string]any, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				k, err := p.key(it.Key().Interface())
				if err != nil {
					return nil, err
				}
				c, err := p.value(it.Value().Interface(), depth+1)
				if err != nil {
					return nil, err
				}
				out[k] = c
			}
			return out, nil
		}
	}
	if p.decoded {
		return nil, &service.Error{Kind: service.KindUnsupported, Message: fmt.Sprintf("a result of type %s has no plain form", wire.TypeName(v))}
	}
	b, err := wire.Marshal(v)
	if err != nil {
		return nil, &service.Error{Kind: service.KindInternal, Message: "the result does not encode", Err: err}
	}
	var g any
	if err := wire.UnmarshalConfig(b, &g, wire.DecodeConfig{Limits: wire.Limits{MaxMessageBytes: -1, MaxBlobBytes: -1}}); err != nil {
		return nil, &service.Error{Kind: service.KindInternal, Message: "the result does not encode", Err: err}
	}
	p.decoded = true
	return p.value(g, depth)
}

var emptyStruct = reflect.TypeFor[struct{}]()

// set maps a set (a Go map of items to struct{}, as wire.Set is) to a
// list in canonical order.
func (p plainer) set(rv reflect.Value, depth int) (any, error) {
	type item struct {
		enc []byte
		v   any
	}
	items := make([]item, 0, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		k := it.Key().Interface()
		enc, err := wire.Marshal(k)
		if err != nil {
			return nil, &service.Error{Kind: service.KindInternal, Message: "the result does not encode", Err: err}
		}
		c, err := p.value(k, depth+1)
		if err != nil {
			return nil, err
		}
		items = append(items, item{enc, c})
	}
	slices.SortFunc(items, func(a, b item) int { return bytes.Compare(a.enc, b.enc) })
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out, nil
}

// same reports whether a mapped value is the value it came from, for the
// copy-on-change of lists and maps.
func same(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool, int64, float64, string, time.Time:
		return a == b
	case []byte:
		y, ok := b.([]byte)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer()
	}
	return false
}
