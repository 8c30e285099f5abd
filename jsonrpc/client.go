package jsonrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/callchain"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
)

// HTTPClient sends HTTP requests: an *http.Client, or anything that wraps
// one.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Client calls the methods of a JSON-RPC 2.0 server over HTTP: a glyph
// [Handler], or any other server that speaks JSON-RPC 2.0. A Client is
// safe for concurrent use.
type Client struct {
	url         string
	http        HTTPClient
	header      http.Header
	maxResponse int64
	id          atomic.Int64

	interceptors []intercept.Interceptor // WithInterceptors
	chain        *callchain.Chain        // nil without interceptors
}

// A ClientOption configures a [Client].
type ClientOption func(*Client)

// WithHTTPClient sends the requests with h instead of http.DefaultClient.
func WithHTTPClient(h HTTPClient) ClientOption { return func(c *Client) { c.http = h } }

// WithHeader sends the header key: value with every request.
func WithHeader(key, value string) ClientOption {
	return func(c *Client) { c.header.Add(key, value) }
}

// WithMaxResponseBytes bounds a response body (default 64 MiB); a
// larger one fails the call with a [service.KindTooLarge] error.
func WithMaxResponseBytes(n int64) ClientOption { return func(c *Client) { c.maxResponse = n } }

// WithInterceptors runs ics around the client's calls, the first given
// the outermost (package intercept): each a unary call whose Procedure
// is the method name, Args the arguments (named ones as a map) and Peer
// the server (transport "jsonrpc"). What an interceptor puts in the call's
// Header is sent as HTTP headers, over those of the call's context.
func WithInterceptors(ics ...intercept.Interceptor) ClientOption {
	return func(c *Client) { c.interceptors = append(c.interceptors, ics...) }
}

// NewClient returns a Client for the JSON-RPC server at url.
func NewClient(url string, opts ...ClientOption) *Client {
	c := &Client{url: url, http: http.DefaultClient, header: http.Header{}, maxResponse: 64 << 20}
	for _, o := range opts {
		o(c)
	}
	c.chain = callchain.New(intercept.TransportJSONRPC, url, c.interceptors)
	return c
}

// Error is a JSON-RPC error object, as a server answered it. The error a
// call returns is a *[service.Error] whose kind [KindForCode] gives, and
// which wraps the Error (reach it with errors.As).
type Error struct {
	Code    int
	Message string
	Data    json.RawMessage // absent: nil
}

// Error returns the message and the code.
func (e *Error) Error() string {
	return fmt.Sprintf("%s (JSON-RPC error %d)", e.Message, e.Code)
}

// Call calls method with arguments by position (args) or by name
// (named), not both (JSON-RPC has one or the other), and decodes the
// result into result, a pointer as for json.Unmarshal (into *any,
// integral numbers become int64, others float64); nil discards it.
// Arguments are written as spec.md says for results: []byte as base64,
// time.Time as RFC 3339, structs as dicts of their glyph fields; a
// json.Marshaler (json.RawMessage included) writes its own JSON.
//
// ctx's deadline travels in the [TimeoutHeader], and the headers it
// carries ([github.com/glyph-ipc/glyph/client.WithCallHeader],
// [github.com/glyph-ipc/glyph/peer.WithHeader]) as HTTP headers,
// under those of [WithHeader]. Every error is a
// *[service.Error]: the kind of the code of the server's error (see
// [KindForCode]), [service.KindInvalid] for arguments that cannot be
// sent, [service.KindUnavailable] when the server cannot be reached,
// [service.KindCanceled] or [service.KindDeadlineExceeded] when ctx ends,
// and [service.KindInternal] for an answer that is not JSON-RPC.
func (c *Client) Call(ctx context.Context, method string, args []any, named map[string]any, result any) error {
	return c.chain.Call(ctx, method, args, named, result, false, func(ctx context.Context) error { return c.call(ctx, method, args, named, result) })
}

// call is Call below the interceptors.
func (c *Client) call(ctx context.Context, method string, args []any, named map[string]any, result any) error {
	id := c.id.Add(1)
	resp, err := c.post(ctx, method, args, named, id)
	if err != nil {
		return err
	}
	return c.decode(method, resp, id, result)
}

// Notify sends method as a notification: the server calls it and answers
// nothing, not even an error.
func (c *Client) Notify(ctx context.Context, method string, args []any, named map[string]any) error {
	return c.chain.Call(ctx, method, args, named, nil, true, func(ctx context.Context) error {
		_, err := c.post(ctx, method, args, named, 0)
		return err
	})
}

// post sends one request (a notification when id is 0) and returns the
// response body.
func (c *Client) post(ctx context.Context, method string, args []any, named map[string]any, id int64) ([]byte, error) {
	body, err := encodeRequest(method, args, named, id)
	if err != nil {
		return nil, err
	}
	header := c.header.Clone()
	header.Set("Content-Type", "application/json")
	header.Set("Accept", "application/json")
	resp, raw, err := rpcmap.Post(ctx, c.http, c.url, header, method, body, c.maxResponse)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNoContent && id == 0:
		return nil, nil
	case resp.StatusCode >= 300 && !isJSON(resp):
		return nil, &service.Error{Op: method, Kind: service.KindForStatus(resp.StatusCode), Message: "HTTP " + resp.Status}
	}
	return raw, nil
}

func isJSON(resp *http.Response) bool {
	return strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
}

// response is a response object as the client reads it.
type response struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    json.Number     `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
	ID json.RawMessage `json:"id"`
}

func (c *Client) decode(method string, raw []byte, id int64, result any) error {
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return badAnswer(method, "not a JSON-RPC response: %v", err)
	}
	if r.Error != nil {
		return remoteError(method, r.Error.Code, r.Error.Message, r.Error.Data)
	}
	if string(r.ID) != strconv.FormatInt(id, 10) {
		return badAnswer(method, "the response's id %s is not the request's %d", r.ID, id)
	}
	if r.Result == nil {
		return badAnswer(method, "a response with neither result nor error")
	}
	if result == nil {
		return nil
	}
	if p, ok := result.(*any); ok {
		dec := json.NewDecoder(bytes.NewReader(r.Result))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return badAnswer(method, "result: %v", err)
		}
		*p = rpcmap.Generic(v)
		return nil
	}
	if err := json.Unmarshal(r.Result, result); err != nil {
		return &service.Error{Op: method, Kind: service.KindInvalid, Message: "result: " + err.Error(), Err: err}
	}
	return nil
}

// remoteError rebuilds the error a server answered.
func remoteError(method string, code json.Number, message string, data json.RawMessage) error {
	n, err := strconv.ParseInt(string(code), 10, 64)
	if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return badAnswer(method, "the error code %q is not an integer", code)
	}
	e := &Error{Code: int(n), Message: message, Data: data}
	se := &service.Error{Op: method, Kind: KindForCode(e.Code), Message: strings.TrimPrefix(message, method+": "), Err: e}
	var d struct {
		Kind   string `json:"kind"`
		Logref string `json:"logref"`
	}
	if json.Unmarshal(data, &d) == nil {
		se.Logref = d.Logref
	}
	return se
}

func badAnswer(method, format string, args ...any) error {
	return &service.Error{Op: method, Kind: service.KindInternal, Message: "bad JSON-RPC answer: " + fmt.Sprintf(format, args...)}
}

// encodeRequest writes a request object; id 0 makes a notification.
func encodeRequest(method string, args []any, named map[string]any, id int64) ([]byte, error) {
	if len(args) > 0 && len(named) > 0 {
		return nil, &service.Error{Op: method, Kind: service.KindInvalid, Message: "JSON-RPC takes arguments by position or by name, not both"}
	}
	b := append(make([]byte, 0, 128), `{"jsonrpc":"2.0","method":`...)
	b = rpcmap.AppendJSONString(b, method)
	var err error
	switch {
	case len(named) > 0:
		b = append(b, `,"params":{`...)
		keys := make([]string, 0, len(named))
		for k := range named {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = rpcmap.AppendJSONString(b, k)
			b = append(b, ':')
			if b, err = appendArg(b, named[k]); err != nil {
				return nil, argError(method, k, err)
			}
		}
		b = append(b, '}')
	case args != nil:
		b = append(b, `,"params":[`...)
		for i, a := range args {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendArg(b, a); err != nil {
				return nil, argError(method, strconv.Itoa(i), err)
			}
		}
		b = append(b, ']')
	}
	if id != 0 {
		b = append(b, `,"id":`...)
		b = strconv.AppendInt(b, id, 10)
	}
	return append(b, '}'), nil
}

func argError(method, name string, err error) error {
	return &service.Error{Op: method, Kind: service.KindInvalid, Message: fmt.Sprintf("argument %s: %v", name, errMessage(err)), Err: err}
}

func errMessage(err error) string { return rpcmap.ErrMessage(err) }

// appendArg writes an argument: a json.Marshaler's own JSON, or the plain
// form of a glyph value.
func appendArg(b []byte, v any) ([]byte, error) {
	if m, ok := v.(json.Marshaler); ok {
		j, err := m.MarshalJSON()
		if err != nil {
			return nil, err
		}
		var c bytes.Buffer
		if err := json.Compact(&c, j); err != nil {
			return nil, err
		}
		return append(b, c.Bytes()...), nil
	}
	p, err := rpcmap.Plain(v, math.MaxInt64-1)
	if err != nil {
		return nil, err
	}
	return rpcmap.AppendJSON(b, p)
}
