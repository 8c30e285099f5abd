package peer

import (
	"context"
	"github.com/glyph-ipc/glyph/intercept"
	"io"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// ClientStream is a call whose arguments or results stream. One
// goroutine may Send and CloseSend while another Recvs; Close may be
// called from any goroutine.
//
// The call starts with the first message: the first Send on a connection
// with the "end" extension, otherwise (baseline) the second Send or
// CloseSend, because a baseline stream must mark its last message and
// so holds one back. Recv waits for results, so with a baseline remote
// results can start only after CloseSend or once two items are sent.
type ClientStream struct {
	ic     intercept.Stream // the interceptors' stream, whose innermost is this one's; nil without
	icOnce sync.Once        // closes ic once
	c      *Conn
	method string
	ctx    context.Context
	ext    any
	safe   bool
	unary  bool
	stop   func() bool // stops watching ctx
	// sizes counts the call's frames both ways (WithSizes); nil without.
	sizes *intercept.Sizes

	res    inbox         // the results
	credit credit        // for our arguments (extension "window")
	done   chan struct{} // closed when the results ended

	mu       sync.Mutex // guards the fields below
	id       uint64     // 0 until the first req is queued
	started  bool
	argsDone bool     // the last argument is queued or abandoned
	held     heldBack // the argument held back (baseline)
	resDone  bool
	header   map[string]string
	gotFirst bool
	streamed bool   // a result came with more: the reply streams
	flow     flowIn // the results under flow control
	place    bool   // holds a token of c.places
}

// NewStream starts a call of method whose arguments, results or both
// stream. ctx bounds the whole call: when it ends the call is canceled
// (extension "cancel") and Recv returns its error. Call Close (or Recv
// until it returns an error) to release the call.
func (c *Conn) NewStream(ctx context.Context, method string, opts ...CallOption) (*ClientStream, error) {
	return c.newClientStream(ctx, method, opts, callShapeStream)
}

// callShape says what a call's reply may be.
type callShape uint8

const (
	// callShapeStream: one result or a stream (NewStream, CallStream).
	callShapeStream callShape = iota
	// callShapeUnary: one result (Call); a reply that streams fails the
	// call.
	callShapeUnary
)

func (c *Conn) newClientStream(ctx context.Context, method string, opts []CallOption, shape callShape) (*ClientStream, error) {
	if method == "" {
		return nil, errorf(service.KindInvalid, "peer: empty method name")
	}
	if ctx.Err() != nil {
		return nil, ctxError(method, ctx)
	}
	c.mu.Lock()
	err := c.refusingLocked(method)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	o := callOpts(opts)
	s := &ClientStream{c: c, method: method, ctx: ctx, ext: o.ext(ctx), unary: shape == callShapeUnary, done: make(chan struct{}), sizes: o.sizes}
	s.safe = o.safe && c.has(extSafe)
	s.credit.init(c.peerStreamWindow)
	if ctx.Done() != nil {
		s.stop = context.AfterFunc(ctx, func() { s.abort(ctxError(method, ctx)) })
	}
	return s, nil
}

// release stops watching the call's context.
func (s *ClientStream) release() {
	if s.stop != nil {
		s.stop()
	}
}

// Send sends one argument. It blocks only while the remote has no credit
// left for this stream or the connection (extension "window") or the connection's write
// queue is full. After the call ended (the remote replied, the call was
// canceled, or the connection closed) Send returns io.EOF; Recv tells
// how the call ended. v must not be modified after Send. With a baseline
// remote v is held back until the next Send or CloseSend, which report
// an error in encoding it.
func (s *ClientStream) Send(v any) error {
	if s.ic != nil {
		return s.ic.Send(v)
	}
	return s.send(v)
}

// send is Send below the interceptors.
func (s *ClientStream) send(v any) error {
	s.mu.Lock()
	if s.resDone {
		s.mu.Unlock()
		return io.EOF
	}
	if s.argsDone {
		s.mu.Unlock()
		return opErrorf(s.method, service.KindInvalid, "Send after CloseSend")
	}
	if !s.c.has(extEnd) {
		var ok bool
		if v, ok = s.held.swap(v); !ok {
			s.mu.Unlock()
			return nil
		}
	}
	s.mu.Unlock()
	return s.sendArg(v)
}

// CloseSend ends the arguments (half-close); results keep coming. With a
// baseline remote it sends the held-back argument as the last one, or a
// single null argument when none was sent; with the "end" extension a
// call without arguments is started empty (an "open" req and reqend), so
// that the handler's first Recv returns io.EOF.
func (s *ClientStream) CloseSend() error {
	if s.ic != nil {
		return s.ic.CloseSend()
	}
	return s.closeSend()
}

// closeSend is CloseSend below the interceptors.
func (s *ClientStream) closeSend() error {
	s.mu.Lock()
	if s.argsDone || s.resDone {
		s.argsDone = true
		s.mu.Unlock()
		return nil
	}
	s.argsDone = true
	held, hasHeld := s.held.take()
	started := s.started
	s.mu.Unlock()
	switch {
	case hasHeld:
		return s.sendLastArg(held)
	case !started && s.c.has(extEnd) && !s.unary:
		if err := s.sendOpen(); err != nil {
			return err
		}
		return s.sendControl(TypeReqEnd)
	case !started:
		return s.sendLastArg(nil)
	default:
		return s.sendControl(TypeReqEnd)
	}
}

// sendArg sends a req with one argument and more to come, starting the
// call if it is the first.
func (s *ClientStream) sendArg(v any) error { return s.sendReq(Envelope{Payload: v, More: true}) }

// sendLastArg sends a req with the last argument, starting the call if
// it is the first.
func (s *ClientStream) sendLastArg(v any) error { return s.sendReq(Envelope{Payload: v}) }

// sendOpen starts a call without arguments with an "open" req, which
// carries none (extension "end").
func (s *ClientStream) sendOpen() error { return s.sendReq(Envelope{More: true, Open: true}) }

// sendReq sends a req with the payload, more and open of env, starting
// the call if it is the first.
func (s *ClientStream) sendReq(env Envelope) error {
	c := s.c
	s.mu.Lock()
	if s.resDone {
		s.mu.Unlock()
		return io.EOF
	}
	first := !s.started
	if first && c.places != nil && !s.place {
		s.mu.Unlock()
		if err := s.takePlace(); err != nil {
			return err
		}
		s.mu.Lock()
		if s.resDone {
			s.mu.Unlock()
			s.leavePlace()
			return io.EOF
		}
		first = !s.started
	}
	if first {
		id, err := c.addOut(s)
		if err != nil {
			s.mu.Unlock()
			s.leavePlace()
			return err
		}
		s.id, s.started = id, true
	}
	env.Type, env.Method, env.ID = TypeReq, s.method, s.id
	if first {
		env.Ext, env.Safe = s.ext, s.safe
		if d, ok := s.ctx.Deadline(); ok && c.has(extDeadline) {
			// The time left when the call starts, rounded up.
			env.Timeout = max(1, int64((time.Until(d)+time.Millisecond-1)/time.Millisecond))
		}
	}
	s.mu.Unlock()
	counted := c.has(extWindow) && !env.Open
	if counted {
		if err := c.waitCredit(&s.credit, s.done, s.ctx.Done()); err != nil {
			return s.creditWaitError(err)
		}
	}
	// An argument is encoded only once it can be queued (see waitSend).
	if err := c.waitSend(s.ctx, s.done); err != nil {
		if err == errDone {
			return io.EOF
		}
		return opError(s.method, err)
	}
	defer c.doneSend()
	e, err := c.encode(&env)
	if err != nil {
		if first {
			// Nothing went out: the call has not started.
			s.mu.Lock()
			c.removeOut(s.id, s)
			s.id, s.started = 0, false
			s.mu.Unlock()
			s.leavePlace()
		}
		return opError(s.method, err)
	}
	size := int64(len(*e.bp)) // before the queue takes e
	for {
		s.mu.Lock()
		if s.resDone {
			s.mu.Unlock()
			e.discard()
			return io.EOF
		}
		if !counted {
			c.queue(e)
			s.sizes.AddOut(size)
			s.mu.Unlock()
			return nil
		}
		if c.queueCounted(e, &s.credit) {
			s.sizes.AddOut(size)
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		// Another sender spent the connection's credit first: wait again.
		if err := c.waitCredit(&s.credit, s.done, s.ctx.Done()); err != nil {
			e.discard()
			return s.creditWaitError(err)
		}
	}
}

// creditWaitError is what Send returns when a wait for credit ended: the
// call ended (io.EOF, and Recv tells how), or the connection did.
func (s *ClientStream) creditWaitError(err error) error {
	if err == errDone {
		return io.EOF
	}
	return opError(s.method, err)
}

// sendControl sends a reqend or cancel for a started call.
func (s *ClientStream) sendControl(typ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.resDone {
		return nil
	}
	s.c.pushEnvelope(&Envelope{Type: typ, ID: s.id})
	return nil
}

// Recv returns the next result; io.EOF after the last. An error reply
// ends the results with that error (a [*service.Error]), after the items
// that came before it.
func (s *ClientStream) Recv() (any, error) {
	if s.ic != nil {
		v, err := s.ic.Receive()
		if err != nil {
			// The results ended: the call is over for the interceptors.
			s.endIntercepted(err)
		}
		return v, err
	}
	return s.recv()
}

// recv is Recv below the interceptors.
func (s *ClientStream) recv() (any, error) {
	it, err := s.res.next(context.Background(), s.c.closed)
	if err == errDone {
		return nil, lostError(s.method, s.c.Err())
	}
	if err != nil {
		return nil, err
	}
	if it.flow > 0 {
		s.mu.Lock()
		s.c.tookLocked(&s.flow, it.flow, !s.resDone, TypeRepCredit, s.id)
		s.mu.Unlock()
	}
	return it.v, nil
}

// Header returns the string-valued entries of the first reply's ext (the
// remote copies the request's ext there); nil before the first reply.
func (s *ClientStream) Header() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.header
}

// Streamed reports whether the results stream: whether a result has
// come marked with more, so that a reply of one message (a unary
// result) can be told from a stream of one item once Recv returned it.
// A baseline remote marks the last item of a stream like a unary
// result, so a stream of one item from it looks unary.
func (s *ClientStream) Streamed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streamed
}

// Close ends the call: if its results have not ended it is canceled (the
// remote's handler sees its context canceled, with extension "cancel")
// and Recv returns [service.KindCanceled]. Close after the end only releases the
// stream.
func (s *ClientStream) Close() error {
	if s.ic != nil {
		s.endIntercepted(opErrorf(s.method, service.KindCanceled, "stream closed"))
	}
	return s.close()
}

// close is Close below the interceptors.
func (s *ClientStream) close() error {
	s.abort(opErrorf(s.method, service.KindCanceled, "stream closed"))
	s.release()
	return nil
}

// deliver takes a rep for this call from the reader, which counts fn
// bytes under flow control.
func (s *ClientStream) deliver(env *Envelope, fn int64) {
	s.mu.Lock()
	if s.resDone {
		s.mu.Unlock()
		s.c.tookConn(fn)
		return
	}
	if fn > 0 && !s.flow.admitLocked(fn, s.c.cfg.StreamWindow) {
		s.mu.Unlock()
		s.c.tookConn(fn)
		s.abort(opErrorf(s.method, service.KindOverloaded, "results sent past the window of %d bytes", s.c.cfg.StreamWindow))
		return
	}
	if !s.gotFirst {
		s.gotFirst = true
		s.header = stringEntries(env.Ext)
	}
	if env.More {
		s.streamed = true
	}
	s.mu.Unlock()
	switch {
	case env.Error != nil:
		s.end(remoteError(s.method, env.Error))
	case s.unary && env.More:
		s.abort(opErrorf(s.method, service.KindUnsupported, "the reply streams; use NewStream"))
	default:
		n := s.res.push(item{v: env.Payload, flow: fn})
		switch {
		case !env.More:
			s.end(io.EOF)
		case fn == 0 && n > s.c.cfg.MaxBuffered:
			s.abort(opErrorf(s.method, service.KindOverloaded, "more than %d results unread", s.c.cfg.MaxBuffered))
		}
	}
}

// endResults takes a repend: the results ended, the reply streamed (with
// no item at all if no rep came).
func (s *ClientStream) endResults() {
	s.mu.Lock()
	zero := !s.gotFirst
	s.streamed = true
	s.mu.Unlock()
	if zero && s.unary {
		// Call of a stream without items: the empty list, which is what
		// a remote without "end" replies.
		s.res.push(item{v: []any{}})
	}
	s.end(io.EOF)
}

// end ends the results with err (io.EOF for a normal end) and forgets
// the call: the remote ended it, or the connection did. A call whose
// results ended while its arguments were still open tells the remote to
// stop waiting for them (cancel, or reqend), except with a baseline
// remote, which has no way to be told.
func (s *ClientStream) end(err error) { s.finish(err, endingRemote) }

// abort ends the results with err as end does, because this side gives
// up on the call: a started call is canceled on the remote (extension
// "cancel").
func (s *ClientStream) abort(err error) { s.finish(err, endingLocal) }

// An ending says which side ends a call's results.
type ending uint8

const (
	endingRemote ending = iota // the remote replied, or the connection ended
	endingLocal                // this side gave up: cancel the call
)

// finish ends the results with err and forgets the call, once.
func (s *ClientStream) finish(err error, how ending) {
	c := s.c
	s.mu.Lock()
	if s.resDone {
		s.mu.Unlock()
		return
	}
	s.resDone = true
	c.endFlowLocked(&s.flow)
	argsOpen := !s.argsDone
	s.argsDone = true
	s.held.take()
	if s.started {
		c.removeOut(s.id, s)
		if (how == endingLocal || argsOpen) && c.has(extCancel) {
			c.pushEnvelope(&Envelope{Type: TypeCancel, ID: s.id})
		} else if argsOpen && c.has(extEnd) {
			c.pushEnvelope(&Envelope{Type: TypeReqEnd, ID: s.id})
		}
	}
	s.mu.Unlock()
	// After the cancel, if any, is queued: the remote frees the call's
	// place when it reads that, before it reads a later call.
	s.leavePlace()
	s.res.close(err)
	close(s.done)
}

// takePlace waits until the remote serves fewer calls of ours than it
// announced it serves at once (see WithMaxStreams), and takes a place.
func (s *ClientStream) takePlace() error {
	select {
	case s.c.places <- struct{}{}:
	case <-s.ctx.Done():
		return ctxError(s.method, s.ctx)
	case <-s.done:
		return io.EOF
	case <-s.c.closed:
		return lostError(s.method, s.c.Err())
	}
	s.mu.Lock()
	s.place = true
	s.mu.Unlock()
	return nil
}

// leavePlace gives the call's place back, once.
func (s *ClientStream) leavePlace() {
	s.mu.Lock()
	held := s.place
	s.place = false
	s.mu.Unlock()
	if held {
		<-s.c.places
	}
}
