package peer

import (
	"context"
	"io"
	"net/http"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/service"
)

// The calls a [Peer] makes and serves run through the interceptors of
// [WithInterceptors] (package intercept):
//
//   - [Peer.Call] is a unary call and [Peer.Notify] one with Notify set;
//     the [intercept.Call]'s Procedure is the method, Args the arguments,
//     Header the call's headers ([WithCallHeader]; those of [Header](ctx)
//     are sent as well) with the keys as given, Safe the [Safe] option.
//     What an interceptor puts in Header is sent as call headers.
//     The connection is picked below the interceptors, so Call.Peer is
//     empty until their next picks it: it is the connection's
//     ([Conn.Peer]) once next returns, or fails after picking one.
//     Sizes counts the call's frames as [WithSizes] does, final once
//     next returns (a stream's once its Receive returned an error or it
//     was closed).
//   - [Peer.NewStream] is a [intercept.StreamBidi] stream: the interceptors'
//     Stream sends the arguments ([ClientStream.Send], CloseSend) and
//     receives the results ([ClientStream.Recv]); it is closed when Recv
//     returns an error (nil for io.EOF) or the caller closes the stream.
//   - On the serving side, a call whose arguments are one message is
//     unary, its Args that message and its result the handler's. A
//     handler decides as it goes whether its results stream, so results
//     it sends with [ServerStream.Send] in such a call pass by the
//     interceptors. A call whose arguments stream is a StreamBidi stream
//     whose Receive is the handler's [ServerStream.Recv] and Send its
//     [ServerStream.Send], closed when the handler returns.
//
// The serving side's Header has canonical keys (http.CanonicalHeaderKey)
// and Peer is [Conn.Peer].

// clientChain is a Peer's calling side folded into its interceptors.
type clientChain struct {
	unary intercept.UnaryFunc
	open  intercept.StreamFunc
}

// buildClientChain folds ics around p's steps below the interceptors.
func (p *Peer) buildClientChain(ics []intercept.Interceptor) {
	c := intercept.Chain(ics...)
	p.chain = &clientChain{unary: c.WrapUnary(p.unaryBelowInterceptors), open: c.WrapStream(p.openBelowInterceptors)}
}

// clientCall describes a call the peer makes.
func clientCall(method string, args any, notify bool, opts []CallOption) *intercept.Call {
	o := callOpts(opts)
	h := make(http.Header, len(o.header))
	for k, v := range o.header {
		h[k] = []string{v}
	}
	return &intercept.Call{Procedure: method, Side: intercept.SideClient, Safe: o.safe, Notify: notify, Header: h, Args: args, Sizes: new(intercept.Sizes)}
}

// callOptionsOf is the options a call's description says: its headers
// (a name's values joined with ", "), Safe, and its Sizes to count in.
func callOptionsOf(call *intercept.Call) []CallOption {
	var opts []CallOption
	if call.Sizes != nil {
		opts = append(opts, WithSizes(call.Sizes))
	}
	if call.Safe {
		opts = append(opts, Safe())
	}
	if len(call.Header) > 0 {
		h := make(map[string]string, len(call.Header))
		for k, vs := range call.Header {
			h[k] = joinValues(vs)
		}
		opts = append(opts, WithCallHeader(h))
	}
	return opts
}

func joinValues(vs []string) string {
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	out := vs[0]
	for _, v := range vs[1:] {
		out += ", " + v
	}
	return out
}

// unaryBelowInterceptors makes a call or sends a notification on a
// connection: the innermost unary step.
func (p *Peer) unaryBelowInterceptors(ctx context.Context, call *intercept.Call) (any, error) {
	defer call.Sizes.End()
	opts := callOptionsOf(call)
	if call.Notify {
		return nil, p.notifyBelowInterceptors(ctx, call, call.Procedure, call.Args, opts...)
	}
	return p.callBelowInterceptors(ctx, call, call.Procedure, call.Args, opts...)
}

// openBelowInterceptors starts a stream on a connection: the innermost
// stream step.
func (p *Peer) openBelowInterceptors(ctx context.Context, call *intercept.Call) (intercept.Stream, error) {
	s, err := p.streamBelowInterceptors(ctx, call, call.Procedure, callOptionsOf(call)...)
	if err != nil {
		call.Sizes.End()
		return nil, err
	}
	if opened, ok := ctx.Value(openedKey{}).(**ClientStream); ok {
		*opened = s
	}
	return clientBase{s, call.Sizes}, nil
}

// openedKey is where what the innermost stream step opened is left, in
// the context: NewStream's ClientStream (a **ClientStream), a served
// stream's context (a *context.Context).
type openedKey struct{}

// clientBase is a ClientStream as the innermost [intercept.Stream], and
// the Sizes it counts in, which its end ends.
type clientBase struct {
	s     *ClientStream
	sizes *intercept.Sizes
}

func (b clientBase) Send(m any) error { return b.s.send(m) }
func (b clientBase) CloseSend() error { return b.s.closeSend() }

func (b clientBase) Receive() (any, error) {
	v, err := b.s.recv()
	if err != nil {
		// The results ended: nothing more comes or goes.
		b.sizes.End()
	}
	return v, err
}

func (b clientBase) Close(error) {
	b.s.close()
	b.sizes.End()
}

// endIntercepted closes the interceptors' stream once, with nil when err
// is io.EOF.
func (s *ClientStream) endIntercepted(err error) {
	s.icOnce.Do(func() {
		if err == io.EOF {
			err = nil
		}
		s.ic.Close(err)
	})
}

// interceptedHandler serves calls through the interceptors.
type interceptedHandler struct {
	next  Handler
	unary intercept.UnaryFunc
	open  intercept.StreamFunc
}

type serverStreamKey struct{}

// wrapHandler returns h served through ics.
func wrapHandler(ics []intercept.Interceptor, h Handler) Handler {
	ih := &interceptedHandler{next: h}
	c := intercept.Chain(ics...)
	ih.unary = c.WrapUnary(ih.serveBelowInterceptors)
	ih.open = c.WrapStream(openServerBase)
	return ih
}

// ServePeer implements [Handler].
func (h *interceptedHandler) ServePeer(ctx context.Context, s *ServerStream) (any, error) {
	call := &intercept.Call{Procedure: s.method, Side: intercept.SideServer, Safe: s.safe, Notify: s.id == 0,
		Header: canonicalHeader(s.header), Peer: s.c.Peer(), Sizes: &s.sizes}
	ctx = context.WithValue(ctx, serverStreamKey{}, s)
	if s.ArgForm() != ArgFormStream {
		v, err := s.recv()
		s.peeked = &peekedArg{v, err}
		if err == nil {
			call.Args = v
		}
		return h.unary(ctx, call)
	}
	call.StreamType = intercept.StreamBidi
	opened := new(context.Context)
	ws, err := h.open(context.WithValue(ctx, openedKey{}, opened), call)
	if err != nil {
		return nil, err
	}
	if *opened != nil {
		// The context the interceptors passed on, with what they added.
		ctx = *opened
	}
	s.ic = ws
	v, err := h.next.ServePeer(ctx, s)
	ws.Close(err)
	return v, err
}

// serveBelowInterceptors is the innermost unary step: the handler.
func (h *interceptedHandler) serveBelowInterceptors(ctx context.Context, call *intercept.Call) (any, error) {
	s, _ := ctx.Value(serverStreamKey{}).(*ServerStream)
	if s == nil {
		return nil, errorf(service.KindInternal, "an interceptor called next with a context not derived from its own")
	}
	return h.next.ServePeer(ctx, s)
}

// openServerBase is the innermost stream step: the call's ServerStream.
func openServerBase(ctx context.Context, call *intercept.Call) (intercept.Stream, error) {
	s, _ := ctx.Value(serverStreamKey{}).(*ServerStream)
	if s == nil {
		return nil, errorf(service.KindInternal, "an interceptor called next with a context not derived from its own")
	}
	if opened, ok := ctx.Value(openedKey{}).(*context.Context); ok {
		*opened = ctx
	}
	return serverBase{s}, nil
}

// serverBase is a ServerStream as the innermost [intercept.Stream].
type serverBase struct{ s *ServerStream }

func (b serverBase) Send(m any) error      { return b.s.send(m) }
func (b serverBase) CloseSend() error      { return nil }
func (b serverBase) Receive() (any, error) { return b.s.recv() }
func (b serverBase) Close(error)           {}

// peekedArg is a call's first argument, read before its handler runs.
type peekedArg struct {
	v   any
	err error
}

// canonicalHeader is a call's headers in net/http's shape, with
// canonical keys.
func canonicalHeader(h map[string]string) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		k = http.CanonicalHeaderKey(k)
		out[k] = append(out[k], v)
	}
	return out
}
