// Package pulled makes the items of a streamed result, an iterator, the
// innermost [intercept.Stream] of a calling side's interceptor chain: the
// one shape client.Client, the component router and the JSON-RPC,
// XML-RPC and NATS clients hand their interceptors.
package pulled

import (
	"io"
	"iter"
	"sync"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/service"
)

// Stream is the items of a streamed result as an [intercept.Stream]:
// Receive pulls the next. Its arguments went with the call, so Send
// fails.
type Stream[T any] struct {
	mu   sync.Mutex // guards next: Close may come from another goroutine
	next func() (T, error, bool)
	stop func()
}

// New returns the stream of seq's items.
func New[T any](seq iter.Seq2[T, error]) *Stream[T] {
	next, stop := iter.Pull2(seq)
	return &Stream[T]{next: next, stop: stop}
}

// Receive returns the next item; io.EOF after the last.
func (s *Stream[T]) Receive() (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err, ok := s.next()
	switch {
	case !ok:
		return nil, io.EOF
	case err != nil:
		return nil, err
	}
	return v, nil
}

// Send fails: the arguments went with the call.
func (s *Stream[T]) Send(any) error {
	return &service.Error{Kind: service.KindUnsupported, Message: "the arguments are sent with the call"}
}

// CloseSend does nothing.
func (s *Stream[T]) CloseSend() error { return nil }

// Close stops the items.
func (s *Stream[T]) Close(error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop()
}

// Yield hands the messages ws receives to yield until the stream ends,
// converting each with conv, and closes ws once, with how it ended: nil
// at io.EOF, the error Receive returned (which yield gets too), or a
// canceled error for op when yield stops early.
func Yield[T any](ws intercept.Stream, op string, conv func(any) T, yield func(T, error) bool) {
	for {
		m, err := ws.Receive()
		if err == io.EOF {
			ws.Close(nil)
			return
		}
		if err != nil {
			ws.Close(err)
			var zero T
			yield(zero, err)
			return
		}
		if !yield(conv(m), nil) {
			ws.Close(&service.Error{Op: op, Kind: service.KindCanceled, Message: "the caller stopped reading the items"})
			return
		}
	}
}
