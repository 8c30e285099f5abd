package service

import (
	"context"
	"errors"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/glyph-ipc/glyph/intercept"
)

// WithInterceptors makes [Service.Serve] run ics around every call it
// serves, on every transport, the first given the outermost (package
// intercept). Each call is an [intercept.Call] on the server side: its
// Procedure is the request's path below the root, Safe says it was a GET,
// Header is the request's header, Peer what the transport put in the
// context ([intercept.WithPeer]), Args the arguments as the transport
// decoded them (see [intercept.Call.Args]), and Sizes the transport's
// count of the call's bytes ([Request.Sizes]).
//
// A call whose arguments stream (a function with an iter.Seq input given
// a Request.Stream) or whose result streams (a function returning an
// iter.Seq) runs through the interceptors' WrapStream: their
// [intercept.Stream] receives the arguments and sends the results, one
// message each (the one result of a call whose arguments stream is sent
// as one message too), and is closed when the results end or the call
// fails. Other calls, and reads of the index, resources and forms, run
// through WrapUnary; the value an interceptor's next returns is the
// Result's Value, and a value an interceptor returns without calling next
// is answered with [StatusOK].
//
// A request marked [Request.FollowUp] runs without them: it is part of a
// call that ran through them already.
func WithInterceptors(ics ...intercept.Interceptor) Option {
	return func(s *Service) { s.interceptors = append(s.interceptors, ics...) }
}

// serveState is what the innermost step of the interceptors' chain needs
// of one call: the request, and the result to answer with. It travels in
// the context, since the chain is built once for all calls.
type serveState struct {
	svc    *Service
	req    *Request
	res    *Result         // a unary call's, once served
	stream *serverStream   // a streaming call's innermost stream
	ctx    context.Context // the context the stream was opened with
}

type serveStateKey struct{}

// buildChain folds the interceptors into the steps Serve runs.
func (s *Service) buildChain() {
	if len(s.interceptors) > 0 {
		c := intercept.Chain(s.interceptors...)
		s.unary = c.WrapUnary(serveUnary)
		s.openStream = c.WrapStream(openServerStream)
	}
	if !s.noCallLog {
		c := intercept.Chain(append([]intercept.Interceptor{callLog{log: s.logOption, level: s.callLevel}}, s.interceptors...)...)
		s.loggedUnary = c.WrapUnary(serveUnary)
		s.loggedStream = c.WrapStream(openServerStream)
	}
}

// logOption is the logger of WithLogger, nil without one.
func (s *Service) logOption() *slog.Logger { return s.logger }

// logsCalls reports whether the call log is on and its logger logs at
// its level: then Serve runs the chain with it.
func (s *Service) logsCalls(ctx context.Context) bool {
	return s.loggedUnary != nil && s.log().Enabled(ctx, s.callLevel)
}

// serveIntercepted serves req through the interceptors: unary and open,
// with or without the call log.
func (s *Service) serveIntercepted(ctx context.Context, req *Request, unary intercept.UnaryFunc, open intercept.StreamFunc) (*Result, error) {
	call := &intercept.Call{
		Procedure:  req.Path,
		Side:       intercept.SideServer,
		StreamType: s.streamType(req),
		Safe:       isGet(req.Method),
		Header:     http.Header(req.Header),
		Args:       requestArgs(req),
		Sizes:      req.Sizes,
	}
	call.Peer, _ = intercept.PeerFromContext(ctx)
	st := &serveState{svc: s, req: req}
	ctx = context.WithValue(ctx, serveStateKey{}, st)
	if call.StreamType == intercept.StreamUnary {
		v, err := unary(ctx, call)
		if err != nil {
			return nil, err
		}
		if st.res == nil {
			return &Result{Value: v}, nil
		}
		st.res.Value = v
		return st.res, nil
	}
	ws, err := open(ctx, call)
	if err != nil {
		return nil, err
	}
	if st.ctx != nil {
		// The context the interceptors passed on, with what they added
		// (an identity, a span).
		ctx = st.ctx
	}
	r := *req
	if r.Stream != nil {
		r.Stream = receiveSeq(ws)
	}
	res, err := s.serve(ctx, &r)
	if err != nil {
		ws.Close(err)
		return nil, err
	}
	if items, ok := res.Value.(Stream); ok {
		res.Value = sendStream(st.base(), ws, items)
		return res, nil
	}
	// The one result of a call whose arguments streamed, or of a call
	// that answered without streaming (a redirect, an error page).
	one := st.base()
	one.one = true
	if err := ws.Send(res.Value); err != nil {
		ws.Close(err)
		return nil, err
	}
	res.Value = one.value
	ws.Close(nil)
	return res, nil
}

// serveUnary is the innermost unary step: the call itself.
func serveUnary(ctx context.Context, call *intercept.Call) (any, error) {
	st, _ := ctx.Value(serveStateKey{}).(*serveState)
	if st == nil {
		return nil, &Error{Kind: KindInternal, Message: "an interceptor called next with a context not derived from its own"}
	}
	// The serving side's Header is read, not changed: the request goes
	// on as it came.
	res, err := st.svc.serve(ctx, st.req)
	if err != nil {
		return nil, err
	}
	st.res = res
	return res.Value, nil
}

// openServerStream is the innermost stream step: the stream whose
// messages are the request's and the result's.
func openServerStream(ctx context.Context, call *intercept.Call) (intercept.Stream, error) {
	st, _ := ctx.Value(serveStateKey{}).(*serveState)
	if st == nil {
		return nil, &Error{Kind: KindInternal, Message: "an interceptor called next with a context not derived from its own"}
	}
	st.ctx = ctx
	return st.base(), nil
}

// base returns the call's innermost stream, made on first use.
func (st *serveState) base() *serverStream {
	if st.stream == nil {
		st.stream = &serverStream{args: st.req.Stream}
	}
	return st.stream
}

// serverStream is the innermost [intercept.Stream] of a call served with
// streams: Receive pulls the transport's arguments, Send hands a result
// to the transport's range over the Stream (or, for a call with one
// result, keeps it).
type serverStream struct {
	args iter.Seq2[any, error]

	mu    sync.Mutex // guards next and stop
	next  func() (any, error, bool)
	stop  func()
	yield func(any, error) bool // the transport's range, while it runs
	one   bool                  // Send keeps the one result in value
	value any
}

func (b *serverStream) Receive() (any, error) {
	b.mu.Lock()
	if b.next == nil {
		if b.args == nil {
			b.mu.Unlock()
			return nil, io.EOF
		}
		b.next, b.stop = iter.Pull2(b.args)
	}
	next := b.next
	b.mu.Unlock()
	v, err, ok := next()
	if !ok {
		return nil, io.EOF
	}
	return v, err
}

// errStopped is what Send returns when the transport stopped reading the
// results (its caller went away).
var errStopped = &Error{Kind: KindCanceled, Message: "the results were not all read"}

func (b *serverStream) Send(m any) error {
	if b.one {
		b.value = m
		return nil
	}
	if b.yield == nil || !b.yield(m, nil) {
		b.yield = nil
		return errStopped
	}
	return nil
}

func (b *serverStream) CloseSend() error { return nil }

func (b *serverStream) Close(error) {
	b.mu.Lock()
	stop := b.stop
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// receiveSeq is the arguments' stream as the function reads it: through
// s's Receive, so that the interceptors see each item.
func receiveSeq(s intercept.Stream) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for {
			v, err := s.Receive()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// sendStream is the result's stream as the transport ranges over it:
// each item goes through ws's Send, whose innermost step (b) yields it to
// the transport, and the end of the range closes ws.
func sendStream(b *serverStream, ws intercept.Stream, items Stream) Stream {
	return func(yield func(any, error) bool) {
		b.yield = yield
		for item, err := range items {
			if err != nil {
				ws.Close(err)
				yield(nil, err)
				return
			}
			if err := ws.Send(item); err != nil {
				ws.Close(err)
				return
			}
		}
		ws.Close(nil)
	}
}

// streamType says how the call req asks for streams: its arguments when
// it has a Stream and what it calls takes an iter.Seq, its results when
// what it calls returns one.
func (s *Service) streamType(req *Request) intercept.StreamType {
	c := s.callableAt(req.Path)
	if c == nil {
		return intercept.StreamUnary
	}
	in := req.Stream != nil && c.seqIn >= 0
	out := c.streams != notSeq
	switch {
	case in && out:
		return intercept.StreamBidi
	case in:
		return intercept.StreamClient
	case out:
		return intercept.StreamServer
	}
	return intercept.StreamUnary
}

// callableAt returns the function, constructor or method path names, or
// nil for the index, an instance's resource and a path naming nothing.
func (s *Service) callableAt(path string) *callable {
	head, rest, nested := strings.Cut(path, "/")
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !nested {
		if fn := s.funcs[head]; fn != nil {
			return fn
		}
		if cl := s.classes[head]; cl != nil {
			return cl.ctor
		}
		return nil
	}
	if o := s.objects[head]; o != nil {
		return o.methods[rest]
	}
	if cl := s.classes[head]; cl != nil {
		i := strings.LastIndexByte(rest, '/')
		return cl.methods[rest[i+1:]]
	}
	return nil
}

// requestArgs is a request's arguments as [intercept.Call.Args] shows
// them: named, positional, a blob, or nil.
func requestArgs(req *Request) any {
	switch {
	case req.Args != nil:
		return req.Args
	case len(req.Positional) > 0:
		return req.Positional
	case req.Blob != nil:
		return req.Blob
	}
	return nil
}
