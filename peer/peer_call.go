package peer

import (
	"context"
	"fmt"
	"github.com/glyph-ipc/glyph/intercept"
	"slices"

	"github.com/glyph-ipc/glyph/service"
)

// A waiter is a call waiting in the queue for a connection.
type waiter struct {
	ctx    context.Context
	method string
	start  func(*Conn) error // sends the call out on a connection
	done   chan error        // start's result; capacity 1
	// queued is whether the waiter is in Peer.queue; guarded by Peer.mu.
	queued bool
}

// acquire runs start, which sends a call out, on the next usable
// connection, or when there is none on the first that comes up, after
// the calls that wait already. start must send nothing when it fails; a
// retryable failure on a connection that went down meanwhile moves the
// call on to another connection.
func (p *Peer) acquire(ctx context.Context, method string, start func(*Conn) error) error {
	if p.cfgErr != nil {
		return p.cfgErr
	}
	if ctx.Err() != nil {
		return ctxError(method, ctx)
	}
	for attempt := 0; ; attempt++ {
		p.mu.Lock()
		if p.closing {
			p.mu.Unlock()
			return errPeerClosed(method)
		}
		if len(p.queue) == 0 && !p.dispatching {
			if c := p.pickLocked(); c != nil {
				p.mu.Unlock()
				err := start(c)
				if err != nil && Retryable(err) && !usable(c) && attempt < maxStartAttempts {
					continue
				}
				return err
			}
		}
		switch {
		case p.queueMax == 0:
			p.mu.Unlock()
			return &service.Error{Op: method, Kind: service.KindUnavailable, Message: "no connection"}
		case len(p.queue) >= p.queueMax:
			p.mu.Unlock()
			return &service.Error{Op: method, Kind: service.KindOverloaded, Message: fmt.Sprintf("no connection, and %d calls wait for one already", p.queueMax)}
		}
		w := &waiter{ctx: ctx, method: method, start: start, done: make(chan error, 1), queued: true}
		p.queue = append(p.queue, w)
		p.mu.Unlock()
		select {
		case err := <-w.done:
			return err
		case <-ctx.Done():
		}
		p.mu.Lock()
		if w.queued {
			p.queue = slices.DeleteFunc(p.queue, func(x *waiter) bool { return x == w })
			w.queued = false
			p.mu.Unlock()
			return ctxError(method, ctx)
		}
		p.mu.Unlock()
		// Being sent out right now: start sees ctx ended, or has sent.
		return <-w.done
	}
}

// dispatchLocked starts sending the queue out if it waits and a
// connection can take it. p.mu is held.
func (p *Peer) dispatchLocked() {
	if len(p.queue) == 0 || p.dispatching {
		return
	}
	if p.goLocked(p.dispatch) {
		p.dispatching = true
	}
}

// dispatch sends the waiting calls out one after the other, oldest
// first, round robin over the usable connections, until the queue is
// empty or no connection is usable.
func (p *Peer) dispatch() {
	for {
		p.mu.Lock()
		var c *Conn
		if !p.closing && len(p.queue) > 0 {
			c = p.pickLocked()
		}
		if c == nil {
			p.dispatching = false
			p.mu.Unlock()
			return
		}
		w := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		w.queued = false
		p.mu.Unlock()

		err := w.start(c)
		if err != nil && Retryable(err) && !usable(c) && w.ctx.Err() == nil {
			// Nothing went out: back to the head of the queue, for the
			// next connection.
			p.mu.Lock()
			if !p.closing {
				p.queue = slices.Insert(p.queue, 0, w)
				w.queued = true
				p.mu.Unlock()
				continue
			}
			p.mu.Unlock()
		}
		w.done <- err
	}
}

// Call calls method with args on the next connected remote and returns
// its result, as [Conn.Call] does; see [Peer] for what happens without a
// connection. Call runs the interceptors' WrapUnary.
func (p *Peer) Call(ctx context.Context, method string, args any, opts ...CallOption) (any, error) {
	if p.chain == nil {
		return p.callBelowInterceptors(ctx, nil, method, args, opts...)
	}
	return p.chain.unary(ctx, clientCall(method, args, false, opts))
}

// Notify sends a notification to the next connected remote, as
// [Conn.Notify] does; see [Peer] for what happens without a connection.
// Notify runs the interceptors' WrapUnary, with [intercept.Call.Notify]
// set.
func (p *Peer) Notify(ctx context.Context, method string, args any, opts ...CallOption) error {
	if p.chain == nil {
		return p.notifyBelowInterceptors(ctx, nil, method, args, opts...)
	}
	_, err := p.chain.unary(ctx, clientCall(method, args, true, opts))
	return err
}

// NewStream starts a streaming call on the next connected remote, as
// [Conn.NewStream] does; the stream stays on that connection. See [Peer] for
// what happens without a connection. NewStream runs the interceptors'
// WrapStream, and the stream's messages go through the stream they
// return.
func (p *Peer) NewStream(ctx context.Context, method string, opts ...CallOption) (*ClientStream, error) {
	if p.chain == nil {
		return p.streamBelowInterceptors(ctx, nil, method, opts...)
	}
	call := clientCall(method, nil, false, opts)
	call.StreamType = intercept.StreamBidi
	opened := new(*ClientStream)
	ws, err := p.chain.open(context.WithValue(ctx, openedKey{}, opened), call)
	if err != nil {
		if *opened != nil {
			(*opened).close()
		}
		return nil, err
	}
	base := *opened
	if base == nil {
		return nil, opErrorf(method, service.KindInternal, "an interceptor returned a stream it did not open with next")
	}
	base.ic = ws
	return base, nil
}

// callBelowInterceptors makes a call on a connection; call, when not
// nil, is the interceptors' description of it, whose Peer becomes the
// connection's (see onConn).
func (p *Peer) callBelowInterceptors(ctx context.Context, call *intercept.Call, method string, args any, opts ...CallOption) (any, error) {
	var s *ClientStream
	err := p.acquire(ctx, method, func(c *Conn) error {
		onConn(call, c)
		var err error
		s, err = startCall(ctx, c, method, args, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return finishCall(s)
}

// notifyBelowInterceptors sends a notification on a connection.
func (p *Peer) notifyBelowInterceptors(ctx context.Context, call *intercept.Call, method string, args any, opts ...CallOption) error {
	return p.acquire(ctx, method, func(c *Conn) error {
		onConn(call, c)
		return c.Notify(ctx, method, args, opts...)
	})
}

// streamBelowInterceptors starts a stream on a connection.
func (p *Peer) streamBelowInterceptors(ctx context.Context, call *intercept.Call, method string, opts ...CallOption) (*ClientStream, error) {
	var s *ClientStream
	err := p.acquire(ctx, method, func(c *Conn) error {
		onConn(call, c)
		var err error
		s, err = c.NewStream(ctx, method, opts...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// onConn tells the interceptors' call, when there is one, the
// connection it goes out on: its Peer is the connection's. The
// interceptors read it once their next has returned (acquire returns
// after start ran).
func onConn(call *intercept.Call, c *Conn) {
	if call != nil {
		call.Peer = c.Peer()
	}
}
