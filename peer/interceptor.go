package peer

import "context"

// CallFunc makes a unary call: the shape of [Peer.Call] and [Conn.Call].
type CallFunc func(ctx context.Context, method string, args any, opts ...CallOption) (any, error)

// NotifyFunc sends a notification: the shape of [Peer.Notify] and
// [Conn.Notify].
type NotifyFunc func(ctx context.Context, method string, args any, opts ...CallOption) error

// StreamFunc starts a call whose arguments or results stream: the shape
// of [Peer.NewStream] and [Conn.NewStream].
type StreamFunc func(ctx context.Context, method string, opts ...CallOption) (*ClientStream, error)

// An Interceptor is middleware for the calls a [Peer] makes and serves
// (see [WithInterceptors]). Each method receives the next step and returns
// the step to run instead, which usually does something before or after
// calling next: add headers to the context ([WithHeader]), check them,
// log, measure, translate errors.
//
// On the calling side WrapCall wraps [Peer.Call], WrapNotify [Peer.Notify]
// and WrapStream [Peer.NewStream]: a stream interceptor sees the stream
// being opened (and can refuse it or return it with headers added), not
// its messages. On the serving side WrapHandler wraps the [Handler] that
// serves the calls arriving on every connection of the peer, unary and
// streaming alike: the [ServerStream] it is given carries the method, the
// headers and the arguments.
//
// Interceptors run in the order given: the first is the outermost, so
// it sees a call first and its result last.
type Interceptor interface {
	WrapCall(next CallFunc) CallFunc
	WrapNotify(next NotifyFunc) NotifyFunc
	WrapStream(next StreamFunc) StreamFunc
	WrapHandler(next Handler) Handler
}

// InterceptorFuncs is an [Interceptor] made of the functions it has; a nil
// field leaves that kind of call as it is.
type InterceptorFuncs struct {
	Call    func(next CallFunc) CallFunc
	Notify  func(next NotifyFunc) NotifyFunc
	Stream  func(next StreamFunc) StreamFunc
	Handler func(next Handler) Handler
}

// WrapCall returns f.Call(next), or next when f.Call is nil.
func (f InterceptorFuncs) WrapCall(next CallFunc) CallFunc {
	if f.Call == nil {
		return next
	}
	return f.Call(next)
}

// WrapNotify returns f.Notify(next), or next when f.Notify is nil.
func (f InterceptorFuncs) WrapNotify(next NotifyFunc) NotifyFunc {
	if f.Notify == nil {
		return next
	}
	return f.Notify(next)
}

// WrapStream returns f.Stream(next), or next when f.Stream is nil.
func (f InterceptorFuncs) WrapStream(next StreamFunc) StreamFunc {
	if f.Stream == nil {
		return next
	}
	return f.Stream(next)
}

// WrapHandler returns f.Handler(next), or next when f.Handler is nil.
func (f InterceptorFuncs) WrapHandler(next Handler) Handler {
	if f.Handler == nil {
		return next
	}
	return f.Handler(next)
}

// wrapClient wraps the calling side's steps in ics, the first outermost.
// A wrapper that returns nil leaves its step as it was.
func wrapClient(ics []Interceptor, call CallFunc, notify NotifyFunc, stream StreamFunc) (CallFunc, NotifyFunc, StreamFunc) {
	for i := len(ics) - 1; i >= 0; i-- {
		if c := ics[i].WrapCall(call); c != nil {
			call = c
		}
		if n := ics[i].WrapNotify(notify); n != nil {
			notify = n
		}
		if s := ics[i].WrapStream(stream); s != nil {
			stream = s
		}
	}
	return call, notify, stream
}

// wrapHandler wraps h in ics, the first outermost.
func wrapHandler(ics []Interceptor, h Handler) Handler {
	for i := len(ics) - 1; i >= 0; i-- {
		if w := ics[i].WrapHandler(h); w != nil {
			h = w
		}
	}
	return h
}
