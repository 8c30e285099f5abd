package peer

import (
	"context"
	"errors"
	"github.com/glyph-ipc/glyph/intercept"
	"io"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// ServerStream is the provider's view of one incoming call: its
// arguments (Recv) and its streamed results (Send).
type ServerStream struct {
	ic     intercept.Stream // the interceptors' stream, whose innermost is this one's; nil without
	peeked *peekedArg       // the first argument, read for the interceptors' Call.Args
	c      *Conn
	method string
	id     uint64
	ext    any
	header map[string]string
	safe   bool
	ctx    context.Context
	cancel context.CancelCauseFunc
	stopTO context.CancelFunc

	args   inbox
	credit credit // for our results (flow)
	lone   bool   // the first req came without more: it was the call's only one

	mu          sync.Mutex // guards the fields below
	argsDone    bool       // the last argument, reqend or cancel arrived
	handlerDone bool
	dead        bool     // canceled or failed: send nothing more
	sent        bool     // Send was called
	streams     bool     // the results are a stream, even of no item
	held        heldBack // the result held back (baseline)
	flow        flowIn   // the arguments under flow control
	holdsPlace  bool     // counts among the calls the remote may make at once (Conn.calls)
	lingers     bool     // canceled or failed while its handler runs (Conn.lingering)
	// argBytes is what the arguments waiting in args count towards the
	// connection's inbound bound (Conn.inbound); firstBytes, the first
	// message's, counts until the handler returns.
	argBytes, firstBytes int64
	// sizes counts the call's frames both ways (see Sizes).
	sizes intercept.Sizes
}

// newServerStream makes the stream for the first req of a call, which
// counts fn bytes under flow control. c.mu is held.
func (c *Conn) newServerStream(env *Envelope, fn int64) *ServerStream {
	s := &ServerStream{c: c, method: env.Method, id: env.ID, ext: env.Ext, header: stringEntries(env.Ext), safe: env.Safe && c.has(extSafe), lone: !env.More}
	ctx := c.ctx
	if len(s.header) > 0 {
		ctx = context.WithValue(ctx, headerKey{}, s.header)
	}
	ctx, s.cancel = context.WithCancelCause(ctx)
	if env.Timeout > 0 && c.has(extDeadline) {
		ctx, s.stopTO = context.WithTimeout(ctx, time.Duration(min(env.Timeout, int64(1<<62)/int64(time.Millisecond)))*time.Millisecond)
	}
	s.ctx = ctx
	s.credit.init(c.peerStreamWindow)
	if !env.Open {
		// The first message fits any window.
		s.flow.held = fn
		s.args.push(item{v: env.Payload, flow: fn})
	}
	if !env.More {
		s.argsDone = true
		s.args.close(io.EOF)
	}
	return s
}

// ArgForm is what the first message of a call says of its arguments:
// whether they stream, and whether a lone message could be a stream of
// one item. See [ServerStream.ArgForm].
type ArgForm uint8

const (
	// ArgFormStream: the first req came with more (or opened a stream of
	// none, extension "end"): the arguments stream, one item per message.
	ArgFormStream ArgForm = iota
	// ArgFormWhole: the first req came alone from a remote with the
	// "end" extension, which sends even a stream of one item with more
	// and then a reqend: the message holds the call's arguments.
	ArgFormWhole
	// ArgFormEither: the first req came alone from a remote without
	// "end" (a baseline peer), which sends the last item of a stream
	// without more: the message holds the call's arguments or the only
	// item of a stream, and only the handler can tell which.
	ArgFormEither
)

// ArgForm reports how the call's arguments came, for a handler that binds
// them to parameters: [ArgFormWhole], one message that is the arguments;
// [ArgFormStream], a stream of items ([ServerStream.Recv] until io.EOF);
// or [ArgFormEither], one message from a baseline remote that may be
// either, which the handler decides by what it expects (package
// hyperpeer asks the function's parameters). A handler that only reads
// its arguments with Recv need not know.
func (s *ServerStream) ArgForm() ArgForm {
	switch {
	case !s.lone:
		return ArgFormStream
	case s.c.has(extEnd):
		return ArgFormWhole
	}
	return ArgFormEither
}

// Method returns the called method's name.
func (s *ServerStream) Method() string { return s.method }

// ID returns the caller's id for the call; 0 for a notification.
func (s *ServerStream) ID() uint64 { return s.id }

// Conn returns the connection the call came on, to call the caller back.
func (s *ServerStream) Conn() *Conn { return s.c }

// Ext returns the request's ext as it came.
func (s *ServerStream) Ext() any { return s.ext }

// Header returns the string-valued entries of the request's ext. The map
// must not be modified.
func (s *ServerStream) Header() map[string]string { return s.header }

// StreamResults declares the call's results a stream, for a handler
// whose results may be no item at all: returning (nil, nil) without a
// Send then ends an empty stream (a lone repend with the "end"
// extension; an empty list to a baseline remote, which has no way to
// send zero items) instead of replying one null. Items are sent with
// Send as usual; a handler that always sends at least one need not call
// it.
func (s *ServerStream) StreamResults() {
	s.mu.Lock()
	s.streams = true
	s.mu.Unlock()
}

// Safe reports whether the caller marked the call as only reading
// (extension "safe").
func (s *ServerStream) Safe() bool { return s.safe }

// Sizes counts the call's bytes for [intercept.Call.Sizes]: In the data
// of the frames of its arguments, Out those of its replies as they are
// queued to be written (the encoded envelope, without the frame's length
// prefix). Its End runs when the handler's last reply is queued.
func (s *ServerStream) Sizes() *intercept.Sizes { return &s.sizes }

// Recv returns the next argument: the first call returns the first
// message's payload, and io.EOF follows the last. It fails with the
// handler context's error when the call is canceled.
func (s *ServerStream) Recv() (any, error) {
	if s.ic != nil {
		return s.ic.Receive()
	}
	return s.recv()
}

// recv is Recv below the interceptors: the argument an interceptor
// peeked at first.
func (s *ServerStream) recv() (any, error) {
	if p := s.peeked; p != nil {
		s.peeked = nil
		return p.v, p.err
	}
	it, err := s.args.next(s.ctx, nil)
	if err == errDone {
		return nil, ctxError(s.method, s.ctx)
	}
	if err != nil {
		return nil, err
	}
	if it.n > 0 || it.flow > 0 {
		s.mu.Lock()
		if it.n > 0 && s.argBytes >= it.n {
			s.argBytes -= it.n
			s.c.releaseInbound(it.n)
		}
		s.c.tookLocked(&s.flow, it.flow, s.id != 0 && !s.argsDone, TypeReqCredit, s.id)
		s.mu.Unlock()
	}
	return it.v, nil
}

// Send sends one streamed result. It blocks only this call: while the
// caller has no credit left for it (extension "window") or the
// connection's write queue is full. With a baseline caller one result is
// held back until the next Send or the handler's return, so that the
// last one goes without `more`. v must not be modified after Send.
func (s *ServerStream) Send(v any) error {
	if s.ic != nil {
		return s.ic.Send(v)
	}
	return s.send(v)
}

// send is Send below the interceptors.
func (s *ServerStream) send(v any) error {
	s.mu.Lock()
	switch {
	case s.dead:
		s.mu.Unlock()
		return ctxError(s.method, s.ctx)
	case s.handlerDone:
		s.mu.Unlock()
		return opErrorf(s.method, service.KindInvalid, "Send after the handler returned")
	case s.id == 0:
		s.mu.Unlock()
		return opErrorf(s.method, service.KindInvalid, "a notification has no reply")
	}
	s.sent = true
	if !s.c.has(extEnd) {
		var ok bool
		if v, ok = s.held.swap(v); !ok {
			s.mu.Unlock()
			return nil
		}
	}
	s.mu.Unlock()
	return s.sendItem(v)
}

// sendRep sends a reply message, waiting for credit if it carries an
// item.
func (s *ServerStream) sendRep(env *Envelope) error {
	c := s.c
	counted := env.Type == TypeRep && env.Error == nil && c.has(extWindow)
	if counted {
		if err := c.waitCredit(&s.credit, s.ctx.Done(), nil); err != nil {
			if err == errDone {
				return ctxError(s.method, s.ctx)
			}
			return opError(s.method, err)
		}
	}
	// A reply is encoded only once it can be queued (see waitSend).
	if err := c.waitSend(s.ctx, nil); err != nil {
		if err == errDone {
			return ctxError(s.method, s.ctx)
		}
		return opError(s.method, err)
	}
	defer c.doneSend()
	e, err := c.encode(env)
	if err != nil {
		return opError(s.method, err)
	}
	s.sizes.AddOut(int64(len(*e.bp)))
	for {
		s.mu.Lock()
		if s.dead {
			s.mu.Unlock()
			e.discard()
			return ctxError(s.method, s.ctx)
		}
		if env.Type == TypeRepEnd || !env.More {
			// The caller may start its next call as soon as it has the
			// last reply: the place is free before that is queued, and no
			// sooner, so that a handler done with its reply waiting for
			// the queue still holds it.
			s.leavePlaceLocked()
		}
		if !counted {
			c.queue(e)
			s.mu.Unlock()
			return nil
		}
		if c.queueCounted(e, &s.credit) {
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		// Another sender spent the connection's credit first: wait again.
		if err := c.waitCredit(&s.credit, s.ctx.Done(), nil); err != nil {
			e.discard()
			if err == errDone {
				return ctxError(s.method, s.ctx)
			}
			return opError(s.method, err)
		}
	}
}

// finish sends the handler's result (see Handler) and forgets the call
// once its arguments have ended too.
func (s *ServerStream) finish(v any, err error) {
	defer func() {
		if s.stopTO != nil {
			s.stopTO()
		}
		s.cancel(context.Canceled)
		s.sizes.End()
	}()
	if s.id == 0 {
		if err != nil {
			s.c.log.Debug("peer: notification handler failed", "method", s.method, "err", err)
		}
		return
	}
	s.mu.Lock()
	dead := s.dead
	s.mu.Unlock()
	switch {
	case dead:
	case err != nil:
		s.replyError(err)
	default:
		s.reply(v)
	}
	s.leavePlace() // if no last reply went out
	s.mu.Lock()
	s.handlerDone = true
	remove := s.argsDone
	s.mu.Unlock()
	if remove {
		s.c.removeIn(s.id, s)
	}
}

// leavePlace frees the call's place among those the remote may make at
// once, once: its last reply is about to be queued, or it was canceled or
// failed.
func (s *ServerStream) leavePlace() {
	s.mu.Lock()
	s.leavePlaceLocked()
	s.mu.Unlock()
}

// lingerLocked frees the place of a call canceled or failed before its
// handler returned, which counts among the lingering handlers until it
// does. s.mu is held.
func (s *ServerStream) lingerLocked() {
	if s.holdsPlace && !s.handlerDone {
		s.lingers = true
		s.c.lingering.Add(1)
	}
	s.leavePlaceLocked()
}

// leavePlaceLocked is leavePlace with s.mu held.
func (s *ServerStream) leavePlaceLocked() {
	if s.holdsPlace {
		s.holdsPlace = false
		s.c.calls.Add(-1)
	}
}

// releaseInbound gives back what the call's messages count towards the
// connection's inbound bound and its window, once its handler returned.
func (s *ServerStream) releaseInbound() {
	s.mu.Lock()
	n := s.argBytes + s.firstBytes
	s.argBytes, s.firstBytes = 0, 0
	s.c.endFlowLocked(&s.flow)
	s.mu.Unlock()
	s.c.releaseInbound(n)
}

// takeHeld returns the result held back for a baseline caller, if there
// is one, and forgets it.
func (s *ServerStream) takeHeld() (v any, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held.take()
}

// replyError ends the call with an error reply, after the result held
// back for a baseline caller.
func (s *ServerStream) replyError(err error) {
	if held, ok := s.takeHeld(); ok && s.sendItem(held) != nil {
		return
	}
	s.sendError(err)
}

// reply ends the call with the handler's result v (see Handler): the one
// reply, or the end of the streamed results.
func (s *ServerStream) reply(v any) {
	s.mu.Lock()
	sent, streams := s.sent, s.streams
	s.mu.Unlock()
	held, _ := s.takeHeld()
	var err error
	switch {
	case !sent && v == nil && streams:
		err = s.sendNoItems()
	case !sent:
		err = s.sendLast(v)
	case s.c.has(extEnd) && v != nil:
		err = s.sendLast(v)
	case s.c.has(extEnd):
		err = s.sendEnd()
	case v != nil:
		if err = s.sendItem(held); err == nil {
			err = s.sendLast(v)
		}
	default:
		err = s.sendLast(held)
	}
	var se *service.Error
	if err != nil && errors.As(err, &se) && se.Kind == service.KindInvalid {
		// The result could not be encoded: say so instead.
		s.sendError(&service.Error{Op: s.method, Kind: service.KindInternal, Message: "cannot encode the result: " + se.Message})
	}
}

// sendItem sends a streamed result, with more to come.
func (s *ServerStream) sendItem(v any) error {
	return s.sendRep(&Envelope{Type: TypeRep, ID: s.id, Payload: v, More: true, Ext: s.ext})
}

// sendLast sends the last result, or the only one.
func (s *ServerStream) sendLast(v any) error {
	return s.sendRep(&Envelope{Type: TypeRep, ID: s.id, Payload: v, Ext: s.ext})
}

// sendEnd ends streamed results (extension "end").
func (s *ServerStream) sendEnd() error {
	return s.sendRep(&Envelope{Type: TypeRepEnd, ID: s.id})
}

// sendNoItems sends a stream of no result (see StreamResults): a lone
// repend with the "end" extension; else the empty list, as HTTP sends
// it, since a baseline remote cannot be sent no item.
func (s *ServerStream) sendNoItems() error {
	if s.c.has(extEnd) {
		return s.sendEnd()
	}
	return s.sendLast([]any{})
}

func (s *ServerStream) sendError(err error) {
	s.sendRep(&Envelope{Type: TypeRep, ID: s.id, Ext: s.ext, Error: errorBody(err)})
}

// deliver takes the next req of this call from the reader: a message of
// size bytes, fn of which count under flow control.
func (s *ServerStream) deliver(env *Envelope, size, fn int64) {
	s.mu.Lock()
	if s.argsDone {
		s.mu.Unlock()
		s.c.tookConn(fn)
		s.c.log.Debug("peer: argument after the last", "method", s.method, "id", s.id)
		return
	}
	if !env.More {
		s.argsDone = true
	}
	drop := s.dead || s.handlerDone
	remove := s.argsDone && s.handlerDone
	over, overWindow := false, false
	switch {
	case drop:
	case fn > 0 && !s.flow.admitLocked(fn, s.c.cfg.StreamWindow):
		overWindow = true
	default:
		if over = !s.c.admitInbound(size); !over {
			s.argBytes += size
			s.sizes.AddIn(size)
		} else {
			s.flow.held -= fn
		}
	}
	s.mu.Unlock()
	if drop || over || overWindow {
		s.c.tookConn(fn)
	}
	switch {
	case overWindow:
		s.fail(opErrorf(s.method, service.KindOverloaded, "arguments sent past the window of %d bytes", s.c.cfg.StreamWindow))
	case over:
		s.fail(opErrorf(s.method, service.KindOverloaded, "arguments waiting for the handler over the limit of %d bytes", s.c.cfg.MaxInboundBytes))
	case !drop:
		if n := s.args.push(item{v: env.Payload, n: size, flow: fn}); fn == 0 && n > s.c.cfg.MaxBuffered {
			s.fail(opErrorf(s.method, service.KindOverloaded, "more than %d arguments unread", s.c.cfg.MaxBuffered))
		}
	}
	if !env.More {
		s.args.close(io.EOF)
	}
	if remove {
		s.c.removeIn(s.id, s)
	}
}

// endArgs handles reqend: no more arguments.
func (s *ServerStream) endArgs() {
	s.mu.Lock()
	if s.argsDone {
		s.mu.Unlock()
		return
	}
	s.argsDone = true
	remove := s.handlerDone
	s.mu.Unlock()
	s.args.close(io.EOF)
	if remove {
		s.c.removeIn(s.id, s)
	}
}

// canceled handles the caller's cancel: the handler's context is
// canceled and nothing more is sent for the call.
func (s *ServerStream) canceled() {
	err := opErrorf(s.method, service.KindCanceled, "canceled by the caller")
	s.mu.Lock()
	s.dead, s.argsDone = true, true
	remove := s.handlerDone
	s.lingerLocked()
	s.c.endFlowLocked(&s.flow)
	s.mu.Unlock()
	s.cancel(err)
	s.args.close(err)
	if remove {
		s.c.removeIn(s.id, s)
	}
}

// fail ends the call with an error reply now (a bad or overflowing
// argument): the handler's context is canceled and what it sends later
// is dropped. Its further arguments are read and dropped.
func (s *ServerStream) fail(err *service.Error) {
	s.mu.Lock()
	if s.dead || s.handlerDone {
		s.mu.Unlock()
		return
	}
	s.dead = true
	s.mu.Unlock()
	e := *err
	if e.Op == "" {
		e.Op = s.method
	}
	s.cancel(&e)
	s.args.close(&e)
	s.mu.Lock()
	s.lingerLocked()
	s.c.endFlowLocked(&s.flow)
	s.mu.Unlock()
	s.c.replyError(s.id, s.ext, &e)
}
