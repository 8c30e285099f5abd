package hyperpeer

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/plain"
	"github.com/glyph-ipc/glyph/internal/plainform"
	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// An Option configures [NewHandler].
type Option func(*handler)

// WithMaxBlobBytes bounds the blob content a result may carry, all its
// blobs together (default [peer.DefaultMaxFrameSize]): a peer reply is one
// frame, so a blob travels in memory, and a bigger one fails the call
// with [service.KindTooLarge] instead of a frame the remote would refuse.
func WithMaxBlobBytes(n int64) Option {
	return func(h *handler) {
		if n > 0 {
			h.maxBlob = n
		}
	}
}

// maxServiceRedirects bounds the See Other answers a handler follows for
// one call.
const maxServiceRedirects = 10

// NewHandler returns a [peer.Handler] that serves svc: the same
// registrations an HTTP server serves
// ([github.com/glyph-ipc/glyph/hyperhttp.NewHandler]), reached
// over a peer connection. Each call is a [service.Request] and its reply
// the [service.Result], as the package doc says.
func NewHandler(svc *service.Service, opts ...Option) peer.Handler {
	h := &handler{svc: svc, maxBlob: peer.DefaultMaxFrameSize}
	for _, o := range opts {
		o(h)
	}
	return h
}

type handler struct {
	svc     *service.Service
	maxBlob int64
}

// ServePeer implements [peer.Handler]: serve answers the call, and a failure is
// logged with the logref its reply carries (see logFailure), unless the
// call's context ended first: then the caller canceled the call or its
// deadline passed, the connection ended, or the connection answered a
// bad argument already, and nobody awaits this answer. The line per call
// is the service's (service.LogCalls).
func (h *handler) ServePeer(ctx context.Context, s *peer.ServerStream) (any, error) {
	v, err := h.serve(ctx, s)
	if err != nil && ctx.Err() == nil {
		err = logFailure(ctx, s.Conn().Logger(), s.Method(), err)
	}
	return v, err
}

// serve answers a call as NewHandler says.
func (h *handler) serve(ctx context.Context, s *peer.ServerStream) (any, error) {
	path, query := splitMethod(s.Method())
	first, err := s.Recv()
	if err != nil && err != io.EOF {
		return nil, err
	}
	req := &service.Request{Method: "POST", Root: "/", Path: path, Query: query, Header: requestHeader(s.Header()), Sizes: s.Sizes()}
	if s.Safe() {
		req.Method = "GET"
	}
	rpcmap.BindPayload(req, first)
	switch s.ArgForm() {
	case peer.ArgFormStream:
		req.Stream = argStream(s, first)
		if err == io.EOF {
			// An opening without an item (extension "end"): a stream of
			// none.
			req.Stream = noArgs
		}
	case peer.ArgFormEither:
		// The service tells, by the function's inputs.
		req.Stream, req.StreamOrArgs = argStream(s, first), true
	}
	req.Callback = func(ref any) (service.CallbackFunc, error) { return callback(s.Conn(), ref) }
	res, err := h.svc.Serve(ctx, req)
	if err != nil && req.Method != "GET" && first == nil && service.KindOf(err) == service.KindMethodNotAllowed {
		// Only GET reads this (the index, an instance), and the caller
		// could not say it meant to: a baseline peer. The refusal came
		// before any of the service's code ran, so asking again is safe.
		req.Method = "GET"
		res, err = h.svc.Serve(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	base := "/" + s.Method()
	if strings.HasPrefix(s.Method(), "/") {
		base = s.Method()
	}
	for range maxServiceRedirects {
		switch res.Status {
		case service.StatusNoContent:
			return nil, nil
		case service.StatusCreated:
			return h.outValue(s, hyper.Link{URL: res.Location}, new(int64))
		case service.StatusSeeOther:
			loc, err := hyper.Resolve(base, res.Location)
			if err != nil {
				return nil, &service.Error{Op: s.Method(), Kind: service.KindInternal, Message: "bad redirect: " + err.Error(), Err: err}
			}
			if u, err := url.Parse(loc); err != nil || u.Scheme != "" || u.Host != "" {
				// Elsewhere: the caller decides whether to go there.
				return h.outValue(s, hyper.Link{URL: loc}, new(int64))
			}
			base = loc
			path, query := splitMethod(loc)
			res, err = h.svc.Serve(ctx, &service.Request{Method: "GET", Root: "/", Path: path, Query: query, Header: req.Header, FollowUp: true})
			if err != nil {
				return nil, err
			}
			continue
		}
		if st, ok := res.Value.(service.Stream); ok {
			return h.sendStream(s, st)
		}
		return h.outValue(s, res.Value, new(int64))
	}
	return nil, &service.Error{Op: s.Method(), Kind: service.KindInternal, Message: fmt.Sprintf("more than %d redirects", maxServiceRedirects)}
}

// splitMethod splits a method into the path below the root, without a
// leading "/", and the query.
func splitMethod(m string) (path, query string) {
	m = strings.TrimPrefix(m, "/")
	path, query, _ = strings.Cut(m, "?")
	return path, query
}

// requestHeader gives a call's headers the shape of a service.Request's,
// with canonical keys as an HTTP request's have them (a JavaScript peer's
// "authorization" is "Authorization"), so that a function or an
// interceptor reads a header the same way whatever the transport.
func requestHeader(h map[string]string) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		k = http.CanonicalHeaderKey(k)
		out[k] = append(out[k], v)
	}
	return out
}

// noArgs is the stream of a call that opened a stream of no argument.
func noArgs(yield func(any, error) bool) {}

// argStream returns the call's payloads as a stream: first, then what
// Recv gives until the arguments end. It can be ranged over once.
func argStream(s *peer.ServerStream, first any) iter.Seq2[any, error] {
	used := false
	return func(yield func(any, error) bool) {
		if used {
			return
		}
		used = true
		if !yield(first, nil) {
			return
		}
		for {
			v, err := s.Recv()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// callback resolves a callback reference: the name of a method the caller
// registered on its side of c.
func callback(c *peer.Conn, ref any) (service.CallbackFunc, error) {
	name, ok := ref.(string)
	if !ok || name == "" {
		return nil, &service.Error{Kind: service.KindInvalid, Message: fmt.Sprintf("a callback is the name of a method on the caller's side, got %s", typeName(ref))}
	}
	return func(ctx context.Context, args []any) (any, error) {
		return c.Call(ctx, name, callbackPayload(args))
	}, nil
}

// typeName names the type of a decoded value in errors.
func typeName(v any) string { return plain.TypeName(v) }

// callbackPayload is the payload of a callback's call: nil for no
// arguments, a single argument that is not a list or map as it is, else
// the list of arguments.
func callbackPayload(args []any) any {
	switch len(args) {
	case 0:
		return nil
	case 1:
		if !isCollection(args[0]) {
			return args[0]
		}
	}
	return args
}

// isCollection reports whether v is a list or a map (or another glyph
// collection), which a single callback argument cannot be sent as.
func isCollection(v any) bool {
	switch v.(type) {
	case nil, []byte, string:
		return false
	case *wire.OrderedDict, wire.Dict, wire.AnySet:
		return true
	}
	switch reflect.TypeOf(v).Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return true
	}
	return false
}

// sendStream sends a streamed result one item per message. A stream
// without items ends at once with the "end" extension (the caller sees
// an empty stream), and is otherwise answered with an empty list, as
// HTTP sends it (see [peer.ServerStream.StreamResults]).
func (h *handler) sendStream(s *peer.ServerStream, st service.Stream) (any, error) {
	s.StreamResults()
	var blobBytes int64
	for item, err := range st {
		if err != nil {
			return nil, err
		}
		v, err := h.outValue(s, item, &blobBytes)
		if err != nil {
			return nil, err
		}
		if err := s.Send(v); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// outValue prepares a result value for the connection's codec: its blobs
// read into memory (counted in *blobBytes, against the bound), and for
// codecs other than glyph, the plain form of what they cannot carry.
func (h *handler) outValue(s *peer.ServerStream, v any, blobBytes *int64) (any, error) {
	op := s.Method()
	v, err := plainform.ReadBlobs(op, v, h.maxBlob, blobBytes)
	if err != nil {
		return nil, err
	}
	if s.Conn().Codec() == "glyph" || plain.Is(v) {
		return v, nil
	}
	// Through glyph and back: the value as generic glyph values, whatever
	// Go types it was made of.
	b, err := wire.Marshal(v)
	if err != nil {
		return nil, &service.Error{Op: op, Kind: service.KindInternal, Message: "cannot encode the result: " + err.Error(), Err: err}
	}
	var g any
	if err := wire.Unmarshal(b, &g); err != nil {
		return nil, &service.Error{Op: op, Kind: service.KindInternal, Message: "cannot encode the result: " + err.Error(), Err: err}
	}
	p, err := plainform.Form(g)
	if err != nil {
		return nil, &service.Error{Op: op, Kind: service.KindUnsupported, Message: fmt.Sprintf("the result cannot travel with the %s codec: %v (the glyph codec carries it)", s.Conn().Codec(), err)}
	}
	return p, nil
}
