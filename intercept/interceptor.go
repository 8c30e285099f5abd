package intercept

import "context"

// UnaryFunc runs a call whose arguments and result are one message each:
// on the calling side it sends call and returns what came back, on the
// serving side it answers call.
type UnaryFunc func(ctx context.Context, call *Call) (any, error)

// StreamFunc opens a call whose arguments, results or both stream, and
// returns its [Stream]; an error means the call did not start (or, on the
// serving side, was refused before it ran).
type StreamFunc func(ctx context.Context, call *Call) (Stream, error)

// Stream is the messages of a streaming call. On the calling side Send
// sends an argument and Receive returns a result; on the serving side
// Receive returns an argument and Send sends a result. A transport or a
// client never calls Send concurrently with Send, nor Receive with
// Receive, but may call Send while another goroutine calls Receive.
type Stream interface {
	// Send sends one message.
	Send(msg any) error
	// CloseSend says that no more messages will be sent: on the calling
	// side, the end of the arguments. The serving side's results end
	// with the call instead, so there it does nothing.
	CloseSend() error
	// Receive returns the next message; io.EOF after the last.
	Receive() (any, error)
	// Close ends the stream: whoever drives it calls it once, when the
	// call is over, with nil when it ended well (the last result
	// received or sent) or the error it ended with (the call's, or
	// context.Canceled for a caller that gave up). Interceptors see the
	// end of a stream here.
	Close(err error)
}

// An Interceptor wraps the steps that run calls. WrapUnary wraps the
// unary calls and WrapStream the opening of streams; each returns the
// step to run instead, which usually does something before or after
// calling next: add or check headers, log, measure, translate errors. A
// wrapper may answer without calling next (a cache, a refusal).
//
// The same Interceptor serves both sides: [Call.Side] tells which it is
// looking at.
type Interceptor interface {
	WrapUnary(next UnaryFunc) UnaryFunc
	WrapStream(next StreamFunc) StreamFunc
}

// UnaryInterceptorFunc is an [Interceptor] of unary calls only: streams
// pass through it as they are.
type UnaryInterceptorFunc func(next UnaryFunc) UnaryFunc

// WrapUnary returns f(next).
func (f UnaryInterceptorFunc) WrapUnary(next UnaryFunc) UnaryFunc { return f(next) }

// WrapStream returns next.
func (f UnaryInterceptorFunc) WrapStream(next StreamFunc) StreamFunc { return next }

// Chain returns an [Interceptor] that runs ics in order, the first
// outermost; nil entries are skipped. A wrapper that returns nil leaves
// its step as it was.
func Chain(ics ...Interceptor) Interceptor {
	var c chain
	for _, ic := range ics {
		switch ic := ic.(type) {
		case nil:
		case chain:
			c = append(c, ic...)
		default:
			c = append(c, ic)
		}
	}
	return c
}

type chain []Interceptor

func (c chain) WrapUnary(next UnaryFunc) UnaryFunc {
	for i := len(c) - 1; i >= 0; i-- {
		if w := c[i].WrapUnary(next); w != nil {
			next = w
		}
	}
	return next
}

func (c chain) WrapStream(next StreamFunc) StreamFunc {
	for i := len(c) - 1; i >= 0; i-- {
		if w := c[i].WrapStream(next); w != nil {
			next = w
		}
	}
	return next
}
