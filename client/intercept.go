package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/pulled"
	"github.com/glyph-ipc/glyph/service"
)

// WithInterceptors runs ics around the calls the client makes, over HTTP
// and peers alike, the first given the outermost (package intercept).
// [Client.Get] and [Value.Call] are unary calls; [Value.Stream] is a
// [intercept.StreamServer] stream whose Receive yields the items. Each
// call's Procedure is the URL's path (over HTTP) or the peer method, its
// Peer the server's address and transport ("http", "ws", "tcp", "tls",
// "unix"), Args the arguments given to Call, and Header the headers of
// [WithCallHeader] and [WithCallHeaderFunc] (made once for the call):
// what an interceptor adds there is sent with every request of the call
// (as HTTP headers or peer call headers), and it is the one way to add a
// header to every call of a client whose value changes. The deadline is
// the context's, sent as [TimeoutHeader] over HTTP and in the peer
// envelope. The call's Sizes counts, over HTTP, the bytes of its
// requests' bodies as sent and of its responses' as read (before gunzip,
// and as they are read: a streamed result's when its stream ends), and
// over peers the data of the frames of its requests and replies
// ([peer.WithSizes]). A result an interceptor returns without calling next
// that is not a *Value is wrapped in one.
func WithInterceptors(ics ...intercept.Interceptor) Option {
	return func(c *Client) { c.interceptors = append(c.interceptors, ics...) }
}

// buildChain folds the interceptors into the client's steps.
func (c *Client) buildChain() {
	if len(c.interceptors) == 0 {
		return
	}
	ch := intercept.Chain(c.interceptors...)
	c.unary = ch.WrapUnary(runUnary)
	c.open = ch.WrapStream(openItems)
}

// runKey is where the innermost steps find what to run, in the context:
// a runFunc or an itemsFunc.
type runKey struct{}

type runFunc func(ctx context.Context) (*Value, error)

type itemsFunc func(ctx context.Context) iter.Seq2[*Value, error]

// runUnary is the innermost unary step: the call's requests.
func runUnary(ctx context.Context, call *intercept.Call) (any, error) {
	run, _ := ctx.Value(runKey{}).(runFunc)
	if run == nil {
		return nil, &service.Error{Op: call.Procedure, Kind: service.KindInternal, Message: "an interceptor called next with a context not derived from its own"}
	}
	v, err := run(WithCallHeaders(ctx, call.Header))
	if err != nil {
		return nil, err
	}
	return v, nil
}

// unaryCall runs run as call through the interceptors.
func (c *Client) unaryCall(ctx context.Context, call *intercept.Call, run runFunc) (*Value, error) {
	call.Header = callHeaderOf(ctx)
	ctx = withSizes(ctx, call)
	v, err := c.unary(context.WithValue(ctx, runKey{}, run), call)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case *Value:
		if x != nil {
			return x, nil
		}
		return &Value{c: c}, nil
	case nil:
		return &Value{c: c}, nil
	default:
		return &Value{c: c, v: x}, nil
	}
}

// withSizes gives a call its [intercept.Call.Sizes], which the requests
// made for it count (over HTTP request bodies as sent and response
// bodies as read, before gunzip; over peers the data of the frames, as
// [peer.WithSizes] counts them), and returns ctx carrying it to them.
func withSizes(ctx context.Context, call *intercept.Call) context.Context {
	call.Sizes = new(intercept.Sizes)
	return context.WithValue(ctx, sizesKey{}, call.Sizes)
}

// callHeaderOf is the headers ctx carries for calls, as a call's own.
func callHeaderOf(ctx context.Context) http.Header {
	if h := CallHeader(ctx); h != nil {
		return h.Clone()
	}
	return http.Header{}
}

// openItems is the innermost stream step: the items of the call, pulled
// as Receive is called.
func openItems(ctx context.Context, call *intercept.Call) (intercept.Stream, error) {
	items, _ := ctx.Value(runKey{}).(itemsFunc)
	if items == nil {
		return nil, &service.Error{Op: call.Procedure, Kind: service.KindInternal, Message: "an interceptor called next with a context not derived from its own"}
	}
	return pulled.New(items(WithCallHeaders(ctx, call.Header))), nil
}

// streamCall yields the items of items as the interceptors' stream
// receives them.
func (c *Client) streamCall(ctx context.Context, call *intercept.Call, items itemsFunc) iter.Seq2[*Value, error] {
	return func(yield func(*Value, error) bool) {
		call.Header = callHeaderOf(ctx)
		call.StreamType = intercept.StreamServer
		ctx := withSizes(ctx, call)
		ws, err := c.open(context.WithValue(ctx, runKey{}, items), call)
		if err != nil {
			yield(nil, err)
			return
		}
		pulled.Yield(ws, call.Procedure, func(m any) *Value {
			if v, ok := m.(*Value); ok {
				return v
			}
			return &Value{c: c, v: m}
		}, yield)
	}
}

// describeCall describes a call of the link or form at u of v (nil for
// Client.Get) with args.
func (c *Client) describeCall(v *Value, method, u string, args []any) *intercept.Call {
	call := &intercept.Call{Side: intercept.SideClient, Safe: method == http.MethodGet || method == http.MethodHead}
	if len(args) > 0 {
		call.Args = args
	}
	ep, path, ok := "", "", false
	if v != nil {
		ep, path, ok = v.peerTarget(u)
	} else {
		ep, path, ok = parsePeerURL(u)
	}
	if ok {
		call.Procedure = path
		call.Peer = intercept.Peer{Transport: peerTransport(ep), Addr: ep}
		return call
	}
	call.Peer.Transport = intercept.TransportHTTP
	if pu, err := url.Parse(u); err == nil {
		call.Procedure, call.Peer.Addr = pu.Path, pu.Host
	} else {
		call.Procedure = u
	}
	return call
}

// peerTransport names the transport of a peer endpoint, as
// [intercept.Peer.Transport] does.
func peerTransport(endpoint string) string {
	scheme, _, _ := strings.Cut(endpoint, "://")
	switch strings.ToLower(scheme) {
	case "ws", "wss":
		return intercept.TransportWS
	case "tls":
		return intercept.TransportTLS
	case "unix":
		return intercept.TransportUnix
	}
	return intercept.TransportTCP
}

// requests reports whether calling v makes a request (a link that is not
// inline, or a form), which the interceptors see.
func (v *Value) requests() (method, u string, ok bool) {
	switch x := v.v.(type) {
	case hyper.Link:
		return http.MethodGet, x.URL, !x.Inline
	case hyper.Form:
		return strings.ToUpper(x.HTTPMethod()), x.URL, true
	}
	return "", "", false
}
