package hypernats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"sync"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/faillog"
	"github.com/glyph-ipc/glyph/internal/plainform"
	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// The media types of the two codecs, as the Content-Type header names
// them.
const (
	MediaTypeGlyph = "application/vnd.hyperglyph"
	MediaTypeJSON  = "application/json"
)

// Codec is how a payload is encoded: [CodecGlyph] or [CodecJSON].
type Codec uint8

const (
	// CodecJSON is plain JSON, what NATS tooling sends: a request
	// without a Content-Type header is JSON.
	CodecJSON Codec = iota
	// CodecGlyph is the hyperglyph encoding (package wire), which carries
	// every glyph value as it is.
	CodecGlyph
)

// String returns the codec's media type.
func (c Codec) String() string {
	if c == CodecGlyph {
		return MediaTypeGlyph
	}
	return MediaTypeJSON
}

// codecOf picks the codec of a request by its Content-Type header: JSON
// when there is none (see spec.md).
func codecOf(contentType string) (Codec, error) {
	switch contentType {
	case "", MediaTypeJSON:
		return CodecJSON, nil
	case MediaTypeGlyph:
		return CodecGlyph, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
		return CodecJSON, &service.Error{Kind: service.KindUnsupported, Message: fmt.Sprintf("bad Content-Type %q: %v", short(contentType), err)}
	case mt == MediaTypeGlyph:
		return CodecGlyph, nil
	case mt == MediaTypeJSON:
		return CodecJSON, nil
	}
	return CodecJSON, &service.Error{Kind: service.KindUnsupported, Message: fmt.Sprintf("Content-Type %q: the payload is %s or %s", short(mt), MediaTypeJSON, MediaTypeGlyph)}
}

// bindArgs sets req's arguments from a request payload (see spec.md,
// "Arguments"): a list is positional arguments, a dict named ones, an
// empty payload or nil none, and any other value the one positional
// argument. JSON arguments are converted by the declared types of m's
// inputs.
func bindArgs(req *service.Request, codec Codec, data []byte, m *rpcmap.Method, limits wire.Limits) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if codec == CodecGlyph {
		p := anys.Get().(*any)
		err := wire.UnmarshalConfig(data, p, wire.DecodeConfig{Limits: limits, SpoolThreshold: -1})
		v := *p
		*p = nil
		anys.Put(p)
		if err != nil {
			return badPayload(err)
		}
		rpcmap.BindPayload(req, v)
		return nil
	}
	v, err := rpcmap.DecodeJSON(data, limits)
	if err != nil {
		return badPayload(err)
	}
	return bindJSON(req, v, m)
}

// anys are the variables payloads are decoded into: a variable of its
// own would cost each call an allocation.
var anys = sync.Pool{New: func() any { return new(any) }}

func badPayload(err error) *service.Error {
	return &service.Error{Kind: service.KindInvalid, Message: "bad payload: " + err.Error(), Err: err}
}

// bindJSON binds a decoded JSON payload, each argument converted by the
// type of the input it goes to; named ones keep the payload's order.
func bindJSON(req *service.Request, v any, m *rpcmap.Method) error {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		req.Positional = make([]any, len(x))
		for i, a := range x {
			c, err := m.ArgAt(i, a)
			if err != nil {
				return err
			}
			req.Positional[i] = c
		}
		return nil
	case rpcmap.Object:
		d := wire.NewOrderedDict()
		for _, a := range x {
			c, err := m.ArgNamed(a.Key, a.Value)
			if err != nil {
				return err
			}
			d.Set(a.Key, c)
		}
		req.Args = d
		return nil
	}
	c, err := m.ArgAt(0, v)
	if err != nil {
		return err
	}
	req.Positional = []any{c}
	return nil
}

// encodeValue encodes a result value in codec, its blobs read into
// memory against maxBytes; a value over maxBytes encoded is
// [service.KindTooLarge].
func encodeValue(op string, codec Codec, v any, maxBytes int64) ([]byte, error) {
	return appendValue(nil, op, codec, v, maxBytes)
}

// appendValue is encodeValue encoding a glyph value after dst.
func appendValue(dst []byte, op string, codec Codec, v any, maxBytes int64) ([]byte, error) {
	var b []byte
	var err error
	if codec == CodecGlyph {
		var total int64
		if v, err = plainform.ReadBlobs(op, v, maxBytes, &total); err != nil {
			return nil, err
		}
		if b, err = wire.AppendMarshal(dst, v); err != nil {
			return nil, &service.Error{Op: op, Kind: service.KindInternal, Message: "cannot encode the result: " + err.Error(), Err: err}
		}
	} else if b, err = encodeJSON(op, v, maxBytes); err != nil {
		return nil, err
	}
	if int64(len(b)) > maxBytes {
		return nil, &service.Error{Op: op, Kind: service.KindTooLarge, Message: fmt.Sprintf("the result is %d bytes encoded, over the %d a message may carry", len(b), maxBytes)}
	}
	return b, nil
}

// encodeJSON encodes a value in its plain JSON form (spec.md, "JSON
// results"), the one JSON-RPC writes too, reading its blobs up to
// maxBlob bytes each.
func encodeJSON(op string, v any, maxBlob int64) ([]byte, error) {
	p, err := rpcmap.Plain(v, maxBlob)
	var b []byte
	if err == nil {
		b, err = rpcmap.AppendJSON(nil, p)
	}
	if err == nil {
		return b, nil
	}
	e := faillog.Error(err)
	if e.Op == "" {
		e.Op = op
	}
	if e.Kind == service.KindUnsupported {
		e.Message = fmt.Sprintf("the result has no JSON form: %s (the glyph codec carries it)", e.Message)
	}
	return nil, e
}

// jsonError is the JSON body of an error reply.
type jsonError struct {
	Kind    string `json:"kind"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	Logref  string `json:"logref,omitempty"`
}

// encodeError encodes the body of an error reply: the hyperglyph error
// extension with the kind's name in its attribute "kind", or its JSON
// object.
func encodeError(codec Codec, e *service.Error) []byte {
	h := e.Hyper()
	if codec == CodecGlyph {
		h.Extra = map[string]any{"kind": e.Kind.String()}
		b, err := wire.Marshal(h)
		if err == nil {
			return b
		}
	}
	b, _ := json.Marshal(jsonError{Kind: e.Kind.String(), Code: int(h.Code), Message: h.Message, Logref: h.Logref})
	return b
}

// decodeError reads the body of an error reply into what it says: the
// kind (by name, else by code), message and logref. A body it cannot read
// leaves the description from the headers.
func decodeError(codec Codec, body []byte, code int, description string) *service.Error {
	e := &service.Error{Kind: service.KindForStatus(code), Message: description}
	if codec == CodecGlyph {
		var h hyper.Error
		if err := wire.Unmarshal(body, &h); err == nil {
			e.Message, e.Logref = h.Message, h.Logref
			if k, ok := h.Extra["kind"].(string); ok {
				e.Kind = kindNamed(k, e.Kind)
			}
			return e
		}
	}
	var j jsonError
	if err := json.Unmarshal(body, &j); err == nil && j.Message != "" {
		e.Message, e.Logref = j.Message, j.Logref
		e.Kind = kindNamed(j.Kind, e.Kind)
	}
	return e
}

// kindNamed returns the kind whose name is name, or def.
func kindNamed(name string, def service.Kind) service.Kind {
	for k := range service.Kind(64) {
		if k.String() == name {
			return k
		}
	}
	return def
}
