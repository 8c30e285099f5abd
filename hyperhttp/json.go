package hyperhttp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/wire/glyphjson"
)

// The JSON representation (spec.md, section 10): responses for clients
// that send Accept: application/json, request bodies of Content-Type
// application/json, and query arguments spelled in JSON. Values map to
// JSON as package glyphjson says.

// jsonMaxBlobBytes bounds the blob content a JSON answer (or one item of
// a streamed answer) carries inline as base64. A single blob as the whole
// result is sent raw instead, at any size.
const jsonMaxBlobBytes = 8 << 20

var hdrJSON = []string{mediaJSON}

// jsonList writes a streamed result as a JSON array.
var jsonList = listFormat{open: "[", sep: ",", close: "]", contentType: hdrJSON, item: appendJSON}

// appendJSON appends the JSON of a value, its blobs inline up to
// jsonMaxBlobBytes, or fails with a *service.Error.
func appendJSON(b []byte, v any) ([]byte, error) {
	b, err := glyphjson.AppendMarshal(b, v, glyphjson.WithMaxBlobBytes(jsonMaxBlobBytes))
	var le *wire.LimitError
	switch {
	case errors.As(err, &le):
		return b, &service.Error{Kind: service.KindUnsupported, Err: err, Message: fmt.Sprintf(
			"the result holds blobs over %d bytes, too large for JSON: ask for %s", jsonMaxBlobBytes, MediaType)}
	case err != nil:
		return b, &service.Error{Kind: service.KindInternal, Message: "cannot encode the result", Err: err}
	}
	return b, nil
}

// writeValueJSON sends the value of a result as JSON: a stream as an
// array flushed item by item, any other value whole, with an ETag of its
// JSON bytes.
func (h *Handler) writeValueJSON(w http.ResponseWriter, r *http.Request, res *service.Result) {
	if st, ok := res.Value.(service.Stream); ok {
		h.writeList(w, r, res, st, &jsonList)
		return
	}
	bp := bufPool.Get().(*[]byte)
	b, err := appendJSON((*bp)[:0], res.Value)
	defer func() {
		if cap(b) <= 1<<20 {
			*bp = b[:0]
			bufPool.Put(bp)
		}
	}()
	if err != nil {
		forEachBlob(res.Value, func(b *wire.Blob) { b.Close() })
		h.writeError(w, r, err)
		return
	}
	h.writeEncoded(w, r, res, b, hdrJSON)
}

// writeErrorJSON sends an error as JSON: the error extension of
// [service.Error.Hyper] as glyphjson writes it, with the kind's name
// added to its attributes.
func (h *Handler) writeErrorJSON(w http.ResponseWriter, r *http.Request, e *service.Error, status int) {
	body := e.Hyper()
	body.Extra = map[string]any{"kind": e.Kind.String()}
	body.Message = strings.ToValidUTF8(body.Message, "\uFFFD")
	b, err := glyphjson.Marshal(body)
	if err != nil {
		// Nothing in an error's attributes fails to encode; should it,
		// the status still says what happened.
		b = []byte(`{"$error":{}}`)
	}
	writeBody(w, r, status, hdrJSON, b)
}

// jsonEnvelope decodes a JSON request body, the arguments of a call: an
// object by name, an array by position, as the form envelope. The body,
// blobs included (inline, base64), is bounded by the maximum request
// bytes and takes its share of the decode budget.
func (h *Handler) jsonEnvelope(r *http.Request, x *exchange, req *service.Request, rd io.Reader, compressed bool) error {
	max := h.cfg.maxRequestBytes
	if !compressed && r.ContentLength > max {
		return tooLarge(max)
	}
	if err := h.reserve(r, x, compressed); err != nil {
		return err
	}
	body := &x.body
	body.limited = x.lim.reset(rd, max)
	lim := h.cfg.limits
	lim.MaxMessageBytes = -1 // the limit reader bounds the body
	lim.MaxBlobBytes = minLimit(lim.MaxBlobBytes, wire.DefaultLimits().MaxBlobBytes, h.cfg.maxBlobBytes)
	dec := glyphjson.NewDecoderConfig(body.limited, wire.DecodeConfig{Limits: lim, SpoolThreshold: -1})
	var args any
	err := dec.Decode(&args)
	if err == nil {
		// The body is one value: only white space may follow it.
		switch err = dec.Decode(&body.extra); err {
		case io.EOF:
			err = nil
		case nil:
			err = errors.New("more than one JSON value")
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		return body.blame(&service.Error{Kind: service.KindInvalid, Message: "bad request body: no JSON value"})
	case err != nil:
		return body.blame(badBody(err))
	}
	return setArgs(req, args)
}

// isJSONQuery reports whether a query is spelled in JSON: a
// percent-encoded object, `?{"x":1}`. A glyph query envelope starts with
// a type letter and an HTML form's query with a name, never with `{`.
func isJSONQuery(q string) bool {
	return strings.HasPrefix(q, "{") || len(q) >= 3 && q[0] == '%' && q[1] == '7' && (q[2] == 'B' || q[2] == 'b')
}

// jsonQuery returns the glyph query envelope that a JSON query stands
// for: the object as a dict, in the spelling the service reads.
func (h *Handler) jsonQuery(q string) (string, error) {
	b, err := hyper.UnescapeQuery(q)
	if err != nil {
		return "", &service.Error{Kind: service.KindInvalid, Message: "bad query arguments: " + err.Error()}
	}
	var args any
	if err := glyphjson.UnmarshalConfig(b, &args, wire.DecodeConfig{Limits: h.cfg.limits}); err != nil {
		e := badBody(err)
		e.Message = "bad query arguments: " + err.Error()
		return "", e
	}
	switch args.(type) {
	case map[string]any, *wire.OrderedDict:
	default:
		return "", &service.Error{Kind: service.KindInvalid, Message: "query arguments are " + wire.TypeName(args) + ", expected a JSON object"}
	}
	g, err := wire.Marshal(args)
	if err != nil {
		return "", &service.Error{Kind: service.KindInvalid, Message: "bad query arguments: " + err.Error()}
	}
	return hyper.EscapeQuery(g), nil
}
