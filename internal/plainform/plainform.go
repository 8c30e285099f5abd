// Package plainform turns glyph results into the plain form that the
// peer protocol's codecs without glyph's extensions (JSON, msgpack)
// carry, extensions kept as small maps, for hyperpeer; and reads the
// blobs of a result into memory (hyperpeer, hypernats). The method-name
// transports' plain form, which writes links as URLs and blobs as their
// bytes, is package rpcmap's Plain.
package plainform

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// maxValueDepth bounds the walks over result values, which Go code
// built and which may contain themselves.
const maxValueDepth = 1000

var errTooDeep = errors.New("value nested too deeply")

// ReadBlobs returns v with each blob read into memory (and closed), the
// containers that hold one copied, counting their bytes in *total
// against max: over it, the error is a [service.KindTooLarge]
// *service.Error for op. Blobs inside Go values that are not glyph
// containers are left to the encoder.
func ReadBlobs(op string, v any, max int64, total *int64) (any, error) {
	return readBlobs(op, v, max, total, 0)
}

func readBlobs(op string, v any, maxBytes int64, total *int64, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, &service.Error{Op: op, Kind: service.KindInternal, Message: errTooDeep.Error()}
	}
	depth++
	switch x := v.(type) {
	case *wire.Blob:
		defer x.Close()
		data, err := io.ReadAll(io.LimitReader(x, maxBytes-*total+1))
		if err != nil {
			return nil, &service.Error{Op: op, Kind: service.KindOf(err), Message: "reading the blob: " + err.Error(), Err: err}
		}
		*total += int64(len(data))
		if *total > maxBytes {
			return nil, &service.Error{Op: op, Kind: service.KindTooLarge, Message: fmt.Sprintf("blobs in the result over %d bytes", maxBytes)}
		}
		b := wire.BytesBlob(x.ContentType, data)
		if len(x.Attrs) > 0 {
			b.Attrs = make(map[string]any, len(x.Attrs))
			for k, a := range x.Attrs {
				b.Attrs[k] = a
			}
		}
		return b, nil
	case []any:
		var out []any
		for i, it := range x {
			if !mayHoldBlob(it) {
				continue
			}
			r, err := readBlobs(op, it, maxBytes, total, depth)
			if err != nil {
				return nil, err
			}
			if out == nil {
				// Not r != it: items may be maps, which do not compare.
				out = slices.Clone(x)
			}
			out[i] = r
		}
		if out != nil {
			return out, nil
		}
	case map[string]any:
		var out map[string]any
		for k, it := range x {
			if !mayHoldBlob(it) {
				continue
			}
			r, err := readBlobs(op, it, maxBytes, total, depth)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = make(map[string]any, len(x))
				for k2, v2 := range x {
					out[k2] = v2
				}
			}
			out[k] = r
		}
		if out != nil {
			return out, nil
		}
	case *wire.OrderedDict:
		if !slices.ContainsFunc(x.Entries(), func(e wire.Entry) bool { return mayHoldBlob(e.Value) }) {
			return v, nil
		}
		out := wire.NewOrderedDict()
		for _, e := range x.Entries() {
			r, err := readBlobs(op, e.Value, maxBytes, total, depth)
			if err != nil {
				return nil, err
			}
			out.Set(e.Key, r)
		}
		return out, nil
	case hyper.Resource:
		c, err := readBlobs(op, x.Content, maxBytes, total, depth)
		if err != nil {
			return nil, err
		}
		if m, ok := c.(map[string]any); ok {
			x.Content = m
		}
		return x, nil
	case hyper.Link:
		c, err := readBlobs(op, x.Content, maxBytes, total, depth)
		if err != nil {
			return nil, err
		}
		x.Content = c
		return x, nil
	}
	return v, nil
}

// mayHoldBlob reports whether v is a blob or a container readBlobs looks
// into.
func mayHoldBlob(v any) bool {
	switch v.(type) {
	case *wire.Blob, []any, map[string]any, *wire.OrderedDict, hyper.Resource, hyper.Link:
		return true
	}
	return false
}

// Form converts a generic glyph value (as wire decodes it into any) to
// what codecs without glyph's extensions carry: each extension becomes a
// map {"extension": name, "attrs": {...}, "content": ...} (a blob's attrs
// hold its "content-type" and its content is its bytes), an ordered dict
// with string keys becomes a map and a set a list. Dicts with keys other
// than strings and timedeltas have no such form: Form fails on them.
func Form(v any) (any, error) { return plainForm(v, 0) }

func plainForm(v any, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, errTooDeep
	}
	depth++
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			p, err := plainForm(it, depth)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, it := range x {
			p, err := plainForm(it, depth)
			if err != nil {
				return nil, err
			}
			out[k] = p
		}
		return out, nil
	case *wire.OrderedDict:
		out := make(map[string]any, x.Len())
		for _, e := range x.Entries() {
			k, ok := e.Key.(string)
			if !ok {
				return nil, fmt.Errorf("an ordered dict with a %s key", wire.TypeName(e.Key))
			}
			p, err := plainForm(e.Value, depth)
			if err != nil {
				return nil, err
			}
			out[k] = p
		}
		return out, nil
	case wire.Set[any]:
		out := make([]any, 0, len(x))
		for it := range x {
			p, err := plainForm(it, depth)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	case wire.AnySet:
		return plainForm(x.Items, depth)
	case *wire.Blob:
		data, err := io.ReadAll(x)
		x.Close()
		if err != nil {
			return nil, err
		}
		attrs := map[string]any{"content-type": x.ContentType}
		for k, a := range x.Attrs {
			p, err := plainForm(a, depth)
			if err != nil {
				return nil, err
			}
			attrs[k] = p
		}
		return map[string]any{"extension": "blob", "attrs": attrs, "content": data}, nil
	case wire.Extension:
		m := map[string]any{"extension": x.Name}
		if x.Attrs != nil && x.Attrs.Len() > 0 {
			a, err := plainForm(x.Attrs, depth)
			if err != nil {
				return nil, err
			}
			m["attrs"] = a
		}
		if x.Content != nil {
			c, err := plainForm(x.Content, depth)
			if err != nil {
				return nil, err
			}
			m["content"] = c
		}
		return m, nil
	case wire.Marshaler:
		mv, err := x.MarshalGlyph()
		if err != nil {
			return nil, err
		}
		return plainForm(mv, depth)
	case map[any]any, wire.Dict:
		return nil, errors.New("a dict with keys other than strings")
	case wire.Period, time.Duration:
		return nil, errors.New("a timedelta")
	}
	return v, nil
}
