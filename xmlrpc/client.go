package xmlrpc

import (
	"context"
	"fmt"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/callchain"
	"math"
	"net/http"
	"strings"

	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// HTTPClient sends HTTP requests: an *http.Client, or anything that wraps
// one.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Client calls the methods of an XML-RPC server over HTTP: a glyph
// [Handler], or any other XML-RPC server. A Client is safe for concurrent
// use.
type Client struct {
	url         string
	http        HTTPClient
	header      http.Header
	maxResponse int64
	lim         limits

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

// WithClientLimits bounds the decoding of responses as [WithLimits]
// bounds requests.
func WithClientLimits(l wire.Limits) ClientOption { return func(c *Client) { c.lim = limitsOf(l) } }

// WithInterceptors runs ics around the client's calls, the first given
// the outermost (package intercept): each a unary call whose Procedure
// is the method name, Args the arguments (named ones as a map) and Peer
// the server (transport "xmlrpc"). What an interceptor puts in the call's
// Header is sent as HTTP headers, over those of the call's context.
func WithInterceptors(ics ...intercept.Interceptor) ClientOption {
	return func(c *Client) { c.interceptors = append(c.interceptors, ics...) }
}

// NewClient returns a Client for the XML-RPC server at url.
func NewClient(url string, opts ...ClientOption) *Client {
	c := &Client{url: url, http: http.DefaultClient, header: http.Header{}, maxResponse: 64 << 20, lim: limitsOf(wire.Limits{})}
	for _, o := range opts {
		o(c)
	}
	c.chain = callchain.New(intercept.TransportXMLRPC, url, c.interceptors)
	return c
}

// Call calls method with args and decodes the result into result, a
// pointer as for wire.Unmarshal (into *any: int64, float64, string,
// bool, []byte, time.Time, nil, []any, and *wire.OrderedDict for a
// struct); nil discards it. XML-RPC passes arguments by position only:
// named must be empty ([service.KindUnsupported] otherwise). Arguments
// are written as spec.md says for results.
//
// ctx's deadline travels in the [TimeoutHeader], and the headers it
// carries ([github.com/glyph-ipc/glyph/client.WithCallHeader],
// [github.com/glyph-ipc/glyph/peer.WithHeader]) as HTTP headers,
// under those of [WithHeader]. Every error is a
// *[service.Error]: the kind of the fault's code (see [KindForCode]),
// [service.KindInvalid] for arguments that cannot be sent or a result
// that does not decode into result, [service.KindUnavailable] when the
// server cannot be reached, [service.KindCanceled] or
// [service.KindDeadlineExceeded] when ctx ends, and
// [service.KindInternal] for an answer that is not XML-RPC.
func (c *Client) Call(ctx context.Context, method string, args []any, named map[string]any, result any) error {
	return c.chain.Call(ctx, method, args, named, result, false, func(ctx context.Context) error { return c.call(ctx, method, args, named, result) })
}

// call is Call below the interceptors.
func (c *Client) call(ctx context.Context, method string, args []any, named map[string]any, result any) error {
	if len(named) > 0 {
		return &service.Error{Op: method, Kind: service.KindUnsupported, Message: "XML-RPC passes arguments by position only"}
	}
	params := make([]any, len(args))
	for i, a := range args {
		p, err := rpcmap.Plain(a, math.MaxInt64-1)
		if err != nil {
			return &service.Error{Op: method, Kind: service.KindInvalid, Message: fmt.Sprintf("argument %d: %v", i, errMessage(err)), Err: err}
		}
		params[i] = p
	}
	body, err := appendCall(nil, method, params)
	if err != nil {
		return &service.Error{Op: method, Kind: service.KindInvalid, Message: errMessage(err), Err: err}
	}
	raw, err := c.post(ctx, method, body)
	if err != nil {
		return err
	}
	v, fault, err := newDecoder(raw, c.lim).response()
	if err != nil {
		return &service.Error{Op: method, Kind: service.KindInternal, Message: "bad XML-RPC answer: " + errMessage(err), Err: err}
	}
	if fault != nil {
		return &service.Error{Op: method, Kind: KindForCode(fault.Code), Message: strings.TrimPrefix(fault.String, method+": "), Err: fault}
	}
	return decodeResult(method, v, result)
}

// decodeResult stores a decoded value in result.
func decodeResult(method string, v any, result any) error {
	switch p := result.(type) {
	case nil:
		return nil
	case *any:
		*p = v
		return nil
	}
	b, err := wire.Marshal(v)
	if err == nil {
		err = wire.Unmarshal(b, result)
	}
	if err != nil {
		return &service.Error{Op: method, Kind: service.KindInvalid, Message: "result: " + err.Error(), Err: err}
	}
	return nil
}

// post sends a methodCall and returns the response body.
func (c *Client) post(ctx context.Context, method string, body []byte) ([]byte, error) {
	header := c.header.Clone()
	header.Set("Content-Type", "text/xml")
	resp, raw, err := rpcmap.Post(ctx, c.http, c.url, header, method, body, c.maxResponse)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && !strings.Contains(resp.Header.Get("Content-Type"), "xml") {
		return nil, &service.Error{Op: method, Kind: service.KindForStatus(resp.StatusCode), Message: "HTTP " + resp.Status}
	}
	return raw, nil
}

func errMessage(err error) string { return rpcmap.ErrMessage(err) }
