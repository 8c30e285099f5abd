// Package intercepttest records what interceptors see, for the tests of
// every transport that runs them.
package intercepttest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/intercept"
)

// Seen is one call as a [Recorder] saw it.
type Seen struct {
	Name        string // the Recorder's
	Procedure   string
	Side        intercept.Side
	StreamType  intercept.StreamType
	Safe        bool
	Notify      bool
	Header      http.Header // a copy, as the call began
	Peer        intercept.Peer
	Deadline    time.Time // zero without one
	Args        any
	Result      any   // a unary call's
	Err         error // the call's, or what its stream was closed with
	Sent, Recvd int   // a stream's messages
	Ended       bool  // a unary call returned, a stream was closed
}

// Recorder is an [intercept.Interceptor] that records each call it sees
// and may add a header to it. It is safe for concurrent use.
type Recorder struct {
	Name string
	// SetHeader, when set, is added to each call's header before next.
	SetHeader http.Header
	// Journal, when set, gets "<name> <procedure>" as a call begins and
	// "<name> <procedure> done" as it ends.
	Journal *Journal

	mu   sync.Mutex // guards seen
	seen []*Seen
}

// Calls returns copies of the calls seen so far.
func (r *Recorder) Calls() []Seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Seen, len(r.seen))
	for i, s := range r.seen {
		out[i] = *s
	}
	return out
}

// Reset forgets the calls seen so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.seen = nil
	r.mu.Unlock()
}

// Wait waits until n calls have ended, or fails after 10 s, and returns
// the calls.
func (r *Recorder) Wait(n int) ([]Seen, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		calls := r.Calls()
		ended := 0
		for _, c := range calls {
			if c.Ended {
				ended++
			}
		}
		if ended >= n {
			return calls, nil
		}
		if time.Now().After(deadline) {
			return calls, fmt.Errorf("%s: %d calls ended, want %d", r.Name, ended, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *Recorder) begin(ctx context.Context, c *intercept.Call) *Seen {
	for k, vs := range r.SetHeader {
		c.Header[k] = append([]string(nil), vs...)
	}
	s := &Seen{Name: r.Name, Procedure: c.Procedure, Side: c.Side, StreamType: c.StreamType, Safe: c.Safe,
		Notify: c.Notify, Header: c.Header.Clone(), Peer: c.Peer, Args: c.Args}
	s.Deadline, _ = ctx.Deadline()
	r.mu.Lock()
	r.seen = append(r.seen, s)
	r.mu.Unlock()
	r.Journal.Add(r.Name + " " + c.Procedure)
	return s
}

func (r *Recorder) end(s *Seen, v any, err error) {
	r.mu.Lock()
	s.Result, s.Err, s.Ended = v, err, true
	r.mu.Unlock()
	r.Journal.Add(r.Name + " " + s.Procedure + " done")
}

// WrapUnary records the call, its result and its error.
func (r *Recorder) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	return func(ctx context.Context, c *intercept.Call) (any, error) {
		s := r.begin(ctx, c)
		v, err := next(ctx, c)
		r.end(s, v, err)
		return v, err
	}
}

// WrapStream records the opening and counts the messages.
func (r *Recorder) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
		s := r.begin(ctx, c)
		st, err := next(ctx, c)
		if err != nil {
			r.end(s, nil, err)
			return nil, err
		}
		return &countingStream{Stream: st, r: r, s: s}, nil
	}
}

type countingStream struct {
	intercept.Stream
	r    *Recorder
	s    *Seen
	once sync.Once
}

func (c *countingStream) Send(m any) error {
	err := c.Stream.Send(m)
	if err == nil {
		c.r.mu.Lock()
		c.s.Sent++
		c.r.mu.Unlock()
	}
	return err
}

func (c *countingStream) Receive() (any, error) {
	m, err := c.Stream.Receive()
	if err == nil {
		c.r.mu.Lock()
		c.s.Recvd++
		c.r.mu.Unlock()
	}
	return m, err
}

func (c *countingStream) Close(err error) {
	c.once.Do(func() { c.r.end(c.s, nil, err) })
	c.Stream.Close(err)
}

// Journal is a list of lines that several recorders add to, in order.
type Journal struct {
	mu    sync.Mutex // guards lines
	lines []string
}

// Add appends a line; on a nil Journal it does nothing.
func (j *Journal) Add(line string) {
	if j == nil {
		return
	}
	j.mu.Lock()
	j.lines = append(j.lines, line)
	j.mu.Unlock()
}

// Take returns the lines so far and forgets them.
func (j *Journal) Take() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	l := j.lines
	j.lines = nil
	return l
}
