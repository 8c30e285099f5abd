package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// request is one request object of a body, decoded and checked.
type request struct {
	id     json.RawMessage // the id as sent; nil for a notification
	method string
	params any    // nil, []any or map[string]any, JSON numbers as json.Number
	err    *reply // set when the request is invalid: the answer to send
}

// envelope is a request object's members as encoding/json reads them.
type envelope struct {
	JSONRPC *string         `json:"jsonrpc"`
	Method  *string         `json:"method"`
	Params  any             `json:"params"`
	ID      json.RawMessage `json:"id"`
}

// limits bound what a request body may hold.
type limits struct {
	maxDepth, maxItems, maxString, maxDigits, maxBatch int
}

// decodeBody decodes a request body: one request, or a batch (batch is
// true). An error is the single answer to send instead (a body that is
// not JSON, an empty batch, a body over a limit).
func decodeBody(body []byte, lim limits) (reqs []request, batch bool, fail *reply) {
	body = bytes.TrimLeft(body, " \t\r\n")
	if err := checkDepth(body, lim.maxDepth); err != nil {
		return nil, false, errorReply(nil, err)
	}
	if len(body) == 0 || body[0] != '[' {
		r := decodeRequest(body, lim)
		if r.err != nil && r.err.code == CodeParseError {
			return nil, false, r.err
		}
		return []request{r}, false, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, true, protocolError(CodeParseError, "parse error: "+err.Error())
	}
	switch {
	case len(raws) == 0:
		return nil, true, protocolError(CodeInvalidRequest, "invalid request: an empty batch")
	case len(raws) > lim.maxBatch:
		return nil, true, errorReply(nil, &service.Error{Kind: service.KindTooLarge,
			Message: fmt.Sprintf("a batch of %d requests, more than %d", len(raws), lim.maxBatch)})
	}
	reqs = make([]request, len(raws))
	for i, raw := range raws {
		reqs[i] = decodeRequest(raw, lim)
	}
	return reqs, true, nil
}

// decodeRequest decodes one request object.
func decodeRequest(raw []byte, lim limits) request {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var env envelope
	err := dec.Decode(&env)
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return request{err: protocolError(CodeParseError, "parse error: "+parseMessage(err))}
	case err == nil:
		if _, terr := dec.Token(); terr != io.EOF {
			return request{err: protocolError(CodeParseError, "parse error: data after the request")}
		}
	}
	r := request{id: env.ID}
	if !validID(r.id) {
		r.id = nil
		return r.invalid("the id is not a string, a number or null")
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return r.invalid("not a request object")
		}
		return r.invalid(fmt.Sprintf("member %q is not a %s", typeErr.Field, typeErr.Type))
	case err != nil:
		return r.invalid(err.Error())
	case env.JSONRPC == nil || *env.JSONRPC != "2.0":
		return r.invalid(`"jsonrpc" must be "2.0"`)
	case env.Method == nil:
		return r.invalid(`no "method"`)
	}
	r.method = *env.Method
	switch env.Params.(type) {
	case nil, []any, map[string]any:
	default:
		return r.invalid(`"params" must be an array or an object`)
	}
	if err := checkValue(env.Params, lim); err != nil {
		r.err = errorReply(r.idOrNull(), err)
		return r
	}
	r.params = env.Params
	return r
}

// invalid marks r as an invalid request, which is answered even without
// an id, as JSON-RPC asks.
func (r request) invalid(msg string) request {
	r.err = protocolError(CodeInvalidRequest, "invalid request: "+msg)
	r.err.id = r.idOrNull()
	return r
}

// idOrNull returns the id to answer with: the request's, or null.
func (r request) idOrNull() json.RawMessage {
	if r.id == nil {
		return nullID
	}
	return r.id
}

var nullID = json.RawMessage("null")

// validID reports whether an id is absent, a string, a number or null.
func validID(id json.RawMessage) bool {
	if id == nil {
		return true
	}
	switch c := id[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9', c == 'n':
		return true
	}
	return false
}

// parseMessage says what is wrong with a body that is not JSON.
func parseMessage(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON input"
	}
	return err.Error()
}

// checkDepth fails a body whose arrays and objects nest deeper than max,
// before encoding/json spends anything on it. Strings are skipped; what
// is not JSON is left to the decoder.
func checkDepth(b []byte, max int) error {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if depth++; depth > max {
				return &service.Error{Kind: service.KindTooLarge, Message: fmt.Sprintf("the request nests deeper than %d", max)}
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}

// checkValue bounds the items of each array and object, the bytes of
// each string and the characters of each number of decoded params (big
// integers cost more than linear time to convert).
func checkValue(v any, lim limits) error {
	switch x := v.(type) {
	case json.Number:
		if len(x) > lim.maxDigits {
			return rpcmap.TooLarge("a number of %d characters, more than %d", len(x), lim.maxDigits)
		}
	case string:
		if len(x) > lim.maxString {
			return rpcmap.TooLarge("a string of %d bytes, more than %d", len(x), lim.maxString)
		}
	case []any:
		if len(x) > lim.maxItems {
			return rpcmap.TooLarge("an array of %d items, more than %d", len(x), lim.maxItems)
		}
		for _, it := range x {
			if err := checkValue(it, lim); err != nil {
				return err
			}
		}
	case map[string]any:
		if len(x) > lim.maxItems {
			return rpcmap.TooLarge("an object of %d members, more than %d", len(x), lim.maxItems)
		}
		for k, it := range x {
			if len(k) > lim.maxString {
				return rpcmap.TooLarge("a member name of %d bytes, more than %d", len(k), lim.maxString)
			}
			if err := checkValue(it, lim); err != nil {
				return err
			}
		}
	}
	return nil
}

// limitsOf returns the limits for l's fields (zero: wire's defaults;
// negative: none) and a batch size.
func limitsOf(l wire.Limits, maxBatch int) limits {
	r := l.Resolved()
	return limits{
		maxDepth:  r.MaxDepth,
		maxItems:  r.MaxItems,
		maxString: r.MaxStringBytes,
		maxDigits: r.MaxIntegerDigits,
		maxBatch:  rpcmap.Limit(maxBatch, DefaultMaxBatch),
	}
}
