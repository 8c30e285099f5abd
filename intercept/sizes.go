package intercept

import (
	"sync"
	"sync/atomic"
)

// Sizes counts the bytes of a call as its transport reads and writes
// them: In the bytes that came in (on the serving side the request, on
// the calling side the reply), Out those that went out. What is counted
// is the transport's payload: an HTTP body as sent (after any gzip), a
// peer frame's payload, a NATS message's data, a JSON-RPC or XML-RPC
// body; headers and framing are not.
//
// A transport that counts puts a Sizes in [Call.Sizes]; it is nil on a
// transport that does not. On the calling side the numbers are final when
// a unary call returns, or when its [Stream] is closed. On the serving
// side the reply is written after the interceptors return: an interceptor
// that needs the final numbers registers a function with [Sizes.OnEnd],
// which the transport runs once the reply is written (or failed).
//
// Its methods are safe for concurrent use, and those of a nil *Sizes do
// nothing.
type Sizes struct {
	in, out atomic.Int64

	mu    sync.Mutex // guards ended and fns
	ended bool
	fns   []func(in, out int64)
}

// AddIn counts n bytes that came in: what a transport calls as it reads.
func (s *Sizes) AddIn(n int64) {
	if s != nil {
		s.in.Add(n)
	}
}

// AddOut counts n bytes that went out: what a transport calls as it
// writes.
func (s *Sizes) AddOut(n int64) {
	if s != nil {
		s.out.Add(n)
	}
}

// In returns the bytes counted in so far.
func (s *Sizes) In() int64 {
	if s == nil {
		return 0
	}
	return s.in.Load()
}

// Out returns the bytes counted out so far.
func (s *Sizes) Out() int64 {
	if s == nil {
		return 0
	}
	return s.out.Load()
}

// OnEnd registers f to run with the final numbers once the transport
// ends the call ([Sizes.End]), or now when it has ended already. It
// reports whether f will run: false for a nil Sizes (a transport that
// does not count), and then the caller does without.
func (s *Sizes) OnEnd(f func(in, out int64)) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	if !s.ended {
		s.fns = append(s.fns, f)
		s.mu.Unlock()
		return true
	}
	s.mu.Unlock()
	f(s.In(), s.Out())
	return true
}

// End says the call is over on the transport (its reply written, or the
// attempt failed) and runs the functions of [Sizes.OnEnd] in the order
// they were registered, once: a transport that puts a Sizes in a Call
// calls it when the call is over, on every path. Later calls do nothing.
func (s *Sizes) End() {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	fns := s.fns
	s.fns = nil
	s.mu.Unlock()
	in, out := s.In(), s.Out()
	for _, f := range fns {
		f(in, out)
	}
}
