package peer

import (
	"context"
	"errors"
	"io"
	"maps"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// Handler serves calls that arrive on a connection.
//
// ServePeer runs on its own goroutine with a context that carries the
// call's headers (see Header), its deadline (extension "deadline"), and
// that is canceled when the caller cancels (extension "cancel") or the
// connection ends. Its results are the reply:
//   - without Send calls, (v, nil) is the one reply, v its payload;
//   - after Send calls, nil ends the stream and a non-nil v is sent as
//     its last item;
//   - a non-nil error is an error reply, which ends the call (after the
//     items already sent): a *service.Error chooses its kind, context
//     errors become canceled or deadline_exceeded, other errors are
//     internal errors with their text.
//
// A panic is recovered and answered as an internal error; the
// connection stays up. For a notification (ID 0) the results are
// dropped.
type Handler interface {
	ServePeer(ctx context.Context, s *ServerStream) (any, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, s *ServerStream) (any, error)

// ServePeer calls f.
func (f HandlerFunc) ServePeer(ctx context.Context, s *ServerStream) (any, error) {
	return f(ctx, s)
}

// errDone is returned by waits that ended because their done channel or
// context did; callers translate it.
var errDone = errors.New("peer: done")

// ---- headers ----

type headerKey struct{}

// Header returns the headers in ctx: those of the incoming call that a
// handler's context carries, plus what WithHeader added. Calls made with
// ctx send them as their ext, so trace and identity headers travel on
// through every call a handler makes. The map must not be modified.
func Header(ctx context.Context) map[string]string {
	h, _ := ctx.Value(headerKey{}).(map[string]string)
	return h
}

// WithHeader returns a context whose Header is ctx's merged with h (h's
// values win).
func WithHeader(ctx context.Context, h map[string]string) context.Context {
	if len(h) == 0 {
		return ctx
	}
	merged := maps.Clone(Header(ctx))
	if merged == nil {
		merged = make(map[string]string, len(h))
	}
	maps.Copy(merged, h)
	return context.WithValue(ctx, headerKey{}, merged)
}

// stringEntries returns the string-valued entries of an ext map.
func stringEntries(ext any) map[string]string {
	var out map[string]string
	add := func(k, v any) {
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if ok1 && ok2 {
			if out == nil {
				out = map[string]string{}
			}
			out[ks] = vs
		}
	}
	switch m := ext.(type) {
	case map[string]any:
		for k, v := range m {
			add(k, v)
		}
	case map[any]any:
		for k, v := range m {
			add(k, v)
		}
	case map[string]string:
		return maps.Clone(m)
	}
	return out
}

// ---- call options ----

// CallOption configures one call, notification or stream.
type CallOption interface{ applyCall(*callOptions) }

type callOptions struct {
	header map[string]string
	safe   bool
}

type callOptionFunc func(*callOptions)

func (f callOptionFunc) applyCall(o *callOptions) { f(o) }

// WithCallHeader adds headers to the call's ext, over those of
// Header(ctx).
func WithCallHeader(h map[string]string) CallOption {
	return callOptionFunc(func(o *callOptions) {
		if o.header == nil {
			o.header = map[string]string{}
		}
		maps.Copy(o.header, h)
	})
}

// Safe marks the call as one that only reads and changes nothing, so
// that the remote (or a proxy) may retry or route it freely (extension
// "safe"; not sent to baseline peers).
func Safe() CallOption {
	return callOptionFunc(func(o *callOptions) { o.safe = true })
}

func callOpts(opts []CallOption) callOptions {
	if len(opts) == 0 {
		return callOptions{} // without the allocation the loop needs
	}
	o := new(callOptions)
	for _, opt := range opts {
		opt.applyCall(o)
	}
	return *o
}

// ext returns the request's ext: Header(ctx) merged with the call's
// headers, or nil when there are none.
func (o *callOptions) ext(ctx context.Context) any {
	h := Header(ctx)
	if len(h) == 0 && len(o.header) == 0 {
		return nil
	}
	m := make(map[string]any, len(h)+len(o.header))
	for k, v := range h {
		m[k] = v
	}
	for k, v := range o.header {
		m[k] = v
	}
	return m
}

// ---- stream plumbing ----

// inbox holds the messages of one direction of a stream that the reader
// delivered and the application has not taken yet. Pushing never blocks.
// The zero value is ready; its wake-up channel is made only when someone
// has to wait, so a call whose reply is there when it looks allocates
// none.
type inbox struct {
	mu     sync.Mutex // guards the fields below
	items  []any      // items[head:] are waiting
	head   int
	end    error // why the direction ended (io.EOF or an error), once closed
	closed bool
	wake   chan struct{} // capacity 1; nil until someone waits
	small  [2]any        // the first items' room, in the stream's allocation
}

// signal sends a wake-up on ch, a channel of capacity 1, if there is
// one and it holds none yet.
func signal(ch chan struct{}) {
	if ch == nil {
		return
	}
	select {
	case ch <- struct{}{}:
	default:
	}
}

// push adds an item and returns how many are buffered; -1 if closed.
func (b *inbox) push(v any) int {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return -1
	}
	if b.head > 0 && len(b.items) == cap(b.items) {
		// Move the waiting items down rather than grow.
		n := copy(b.items, b.items[b.head:])
		clear(b.items[n:])
		b.items, b.head = b.items[:n], 0
	}
	if b.items == nil {
		b.items = b.small[:0]
	}
	b.items = append(b.items, v)
	n := len(b.items) - b.head
	w := b.wake
	b.mu.Unlock()
	signal(w)
	return n
}

// close ends the direction after the buffered items; the first close
// wins.
func (b *inbox) close(err error) {
	b.mu.Lock()
	if !b.closed {
		b.closed, b.end = true, err
	}
	w := b.wake
	b.mu.Unlock()
	signal(w)
}

// next returns the next item, or the end once the items are taken, or
// errDone when done is closed or ctx is done first (done may be nil, and
// ctx context.Background(); ctx's Done is asked for only when there is a
// wait).
func (b *inbox) next(ctx context.Context, done <-chan struct{}) (any, error) {
	for {
		b.mu.Lock()
		if b.head < len(b.items) {
			v := b.items[b.head]
			b.items[b.head] = nil
			b.head++
			if b.head == len(b.items) {
				b.items, b.head = b.items[:0], 0
			}
			b.mu.Unlock()
			return v, nil
		}
		if b.closed {
			err := b.end
			b.mu.Unlock()
			return nil, err
		}
		if b.wake == nil {
			b.wake = make(chan struct{}, 1)
		}
		w := b.wake
		b.mu.Unlock()
		ctxDone := ctx.Done()
		select {
		case <-w:
		case <-done:
		case <-ctxDone:
		}
		b.mu.Lock()
		ready := b.head < len(b.items) || b.closed
		b.mu.Unlock()
		if !ready {
			// Prefer what is already there; else the wait ended.
			select {
			case <-done:
				return nil, errDone
			case <-ctxDone:
				return nil, errDone
			default:
			}
		}
	}
}

// credit is a stream's send credit under flow control: how many more
// messages the remote agreed to buffer. Its wake-up channel is made only
// when a sender has to wait.
type credit struct {
	mu   sync.Mutex // guards the fields below
	n    int64
	wake chan struct{} // capacity 1; nil until someone waits
}

func (c *credit) init(n int64) { c.n = n }

func (c *credit) add(n int64) {
	c.mu.Lock()
	c.n += n
	w := c.wake
	c.mu.Unlock()
	signal(w)
}

// take waits for one credit; errDone if a or b closes first.
func (c *credit) take(a, b <-chan struct{}) error {
	for {
		c.mu.Lock()
		if c.n > 0 {
			c.n--
			more := c.n > 0
			w := c.wake
			c.mu.Unlock()
			if more {
				// Pass the wake-up on to nobody in particular: keeps the
				// channel's state simple for the next waiter.
				signal(w)
			}
			return nil
		}
		if c.wake == nil {
			c.wake = make(chan struct{}, 1)
		}
		w := c.wake
		c.mu.Unlock()
		select {
		case <-w:
		case <-a:
			return errDone
		case <-b:
			return errDone
		}
	}
}

// ---- the caller's side ----

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
	c      *Conn
	method string
	ctx    context.Context
	ext    any
	safe   bool
	unary  bool
	stop   func() bool // stops watching ctx

	res    inbox         // the results
	credit credit        // for our arguments (flow)
	done   chan struct{} // closed when the results ended

	mu       sync.Mutex // guards the fields below
	id       uint64     // 0 until the first req is queued
	started  bool
	argsDone bool // the last argument is queued or abandoned
	held     any  // the argument held back (baseline)
	hasHeld  bool
	resDone  bool
	header   map[string]string
	gotFirst bool
	streamed bool  // a result came with more: the reply streams
	consumed int64 // results taken since the last repcredit
}

// NewStream starts a call of method whose arguments, results or both
// stream. ctx bounds the whole call: when it ends the call is canceled
// (extension "cancel") and Recv returns its error. Call Close (or Recv
// until it returns an error) to release the call.
func (c *Conn) NewStream(ctx context.Context, method string, opts ...CallOption) (*ClientStream, error) {
	return c.newClientStream(ctx, method, opts, false)
}

func (c *Conn) newClientStream(ctx context.Context, method string, opts []CallOption, unary bool) (*ClientStream, error) {
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
	s := &ClientStream{c: c, method: method, ctx: ctx, ext: o.ext(ctx), unary: unary, done: make(chan struct{})}
	s.safe = o.safe && c.has(extSafe)
	s.credit.init(c.peerWindow)
	if ctx.Done() != nil {
		s.stop = context.AfterFunc(ctx, func() { s.end(ctxError(method, ctx), true) })
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
// left for this stream (extension "flow") or the connection's write
// queue is full. After the call ended (the remote replied, the call was
// canceled, or the connection closed) Send returns io.EOF; Recv tells
// how the call ended. v must not be modified after Send. With a baseline
// remote v is held back until the next Send or CloseSend, which report
// an error in encoding it.
func (s *ClientStream) Send(v any) error {
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
		if !s.hasHeld {
			s.held, s.hasHeld = v, true
			s.mu.Unlock()
			return nil
		}
		v, s.held = s.held, v
	}
	s.mu.Unlock()
	return s.sendArg(v, true)
}

// CloseSend ends the arguments (half-close); results keep coming. With a
// baseline remote it sends the held-back argument as the last one, or a
// single null argument when none was sent; with the "end" extension a
// call without arguments is started empty (an "open" req and reqend), so
// that the handler's first Recv returns io.EOF.
func (s *ClientStream) CloseSend() error {
	s.mu.Lock()
	if s.argsDone || s.resDone {
		s.argsDone = true
		s.mu.Unlock()
		return nil
	}
	s.argsDone = true
	held, hasHeld, started := s.held, s.hasHeld, s.started
	s.held, s.hasHeld = nil, false
	s.mu.Unlock()
	switch {
	case hasHeld:
		return s.sendArg(held, false)
	case !started && s.c.has(extEnd) && !s.unary:
		if err := s.send(nil, true, true); err != nil {
			return err
		}
		return s.sendControl(TypeReqEnd)
	case !started:
		return s.sendArg(nil, false)
	default:
		return s.sendControl(TypeReqEnd)
	}
}

// sendArg sends a req with one argument, starting the call if it is the
// first.
func (s *ClientStream) sendArg(v any, more bool) error { return s.send(v, more, false) }

// send sends a req; with open, the first req of a call without
// arguments, which carries none.
func (s *ClientStream) send(v any, more, open bool) error {
	c := s.c
	s.mu.Lock()
	if s.resDone {
		s.mu.Unlock()
		return io.EOF
	}
	first := !s.started
	if first {
		id, err := c.addOut(s)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		s.id, s.started = id, true
	}
	env := &Envelope{Type: TypeReq, Method: s.method, ID: s.id, Payload: v, More: more, Open: open}
	if first {
		env.Ext, env.Safe = s.ext, s.safe
		if d, ok := s.ctx.Deadline(); ok && c.has(extDeadline) {
			// The time left when the call starts, rounded up.
			env.Timeout = max(1, int64((time.Until(d)+time.Millisecond-1)/time.Millisecond))
		}
	}
	s.mu.Unlock()
	e, err := c.encode(env)
	if err != nil {
		if first {
			// Nothing went out: the call has not started.
			s.mu.Lock()
			c.removeOut(s.id, s)
			s.id, s.started = 0, false
			s.mu.Unlock()
		}
		return opError(s.method, err)
	}
	if c.has(extFlow) && !open {
		if err := s.credit.take(s.done, c.closed); err != nil {
			e.discard()
			return io.EOF
		}
	}
	if err := c.waitSpace(s.ctx, s.done); err != nil {
		e.discard()
		if err == errDone {
			return io.EOF
		}
		return opError(s.method, err)
	}
	s.mu.Lock()
	if s.resDone {
		s.mu.Unlock()
		e.discard()
		return io.EOF
	}
	c.queue(e)
	s.mu.Unlock()
	return nil
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
// ends the results with that error (a *service.Error), after the items
// that came before it.
func (s *ClientStream) Recv() (any, error) {
	v, err := s.res.next(context.Background(), s.c.closed)
	if err == errDone {
		return nil, lostError(s.method, s.c.Err())
	}
	if err != nil {
		return nil, err
	}
	if s.c.has(extFlow) {
		s.mu.Lock()
		s.c.consumedLocked(&s.consumed, s.resDone, TypeRepCredit, s.id)
		s.mu.Unlock()
	}
	return v, nil
}

// creditThreshold is how many messages a receiver consumes before it
// grants them back: half the window.
func creditThreshold(window int) int64 { return max(1, int64(window)/2) }

// consumedLocked counts one message the application took from stream id
// (consumed is the stream's count since its last grant) and grants the
// remote that much credit, with an envelope of type typ, once it reaches
// the threshold. Nothing is counted once the remote's side of the stream
// is done. The stream's lock is held.
func (c *Conn) consumedLocked(consumed *int64, done bool, typ string, id uint64) {
	if done {
		return
	}
	*consumed++
	if *consumed >= creditThreshold(c.cfg.Window) {
		c.pushEnvelope(&Envelope{Type: typ, ID: id, Credit: *consumed})
		*consumed = 0
	}
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
	s.end(opErrorf(s.method, service.KindCanceled, "stream closed"), true)
	s.release()
	return nil
}

// deliver takes a rep for this call from the reader.
func (s *ClientStream) deliver(env *Envelope) {
	s.mu.Lock()
	if s.resDone {
		s.mu.Unlock()
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
		s.end(remoteError(s.method, env.Error), false)
	case s.unary && env.More:
		s.end(opErrorf(s.method, service.KindUnsupported, "the reply streams; use NewStream"), true)
	default:
		n := s.res.push(env.Payload)
		switch {
		case !env.More:
			s.end(io.EOF, false)
		case n > s.c.bufferBound():
			s.end(opErrorf(s.method, service.KindOverloaded, "more than %d results unread", s.c.bufferBound()), true)
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
		s.res.push([]any{})
	}
	s.end(io.EOF, false)
}

// bufferBound is how many unread messages a stream may hold: the window
// under flow control (a remote that sends more breaks the protocol),
// else MaxBuffered.
func (c *Conn) bufferBound() int {
	if c.has(extFlow) {
		return c.cfg.Window
	}
	return c.cfg.MaxBuffered
}

// end ends the results with err (io.EOF for a normal end) and forgets
// the call. With abort, a started call is canceled on the remote
// (extension "cancel"). A call whose results ended while its arguments
// were still open tells the remote to stop waiting for them (cancel, or
// reqend), except with a baseline remote, which has no way to be told.
func (s *ClientStream) end(err error, abort bool) {
	c := s.c
	s.mu.Lock()
	if s.resDone {
		s.mu.Unlock()
		return
	}
	s.resDone = true
	argsOpen := !s.argsDone
	s.argsDone = true
	s.held, s.hasHeld = nil, false
	if s.started {
		c.removeOut(s.id, s)
		if (abort || argsOpen) && c.has(extCancel) {
			c.pushEnvelope(&Envelope{Type: TypeCancel, ID: s.id})
		} else if argsOpen && c.has(extEnd) {
			c.pushEnvelope(&Envelope{Type: TypeReqEnd, ID: s.id})
		}
	}
	s.mu.Unlock()
	s.res.close(err)
	close(s.done)
}

// ---- the provider's side ----

// ServerStream is the provider's view of one incoming call: its
// arguments (Recv) and its streamed results (Send).
type ServerStream struct {
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
	dead        bool // canceled or failed: send nothing more
	sent        bool // Send was called
	streams     bool // the results are a stream, even of no item
	held        any  // the result held back (baseline)
	hasHeld     bool
	consumed    int64 // arguments taken since the last reqcredit
}

// newServerStream makes the stream for the first req of a call. c.mu is
// held.
func (c *Conn) newServerStream(env *Envelope) *ServerStream {
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
	s.credit.init(c.peerWindow)
	if !env.Open {
		s.args.push(env.Payload)
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

// Recv returns the next argument: the first call returns the first
// message's payload, and io.EOF follows the last. It fails with the
// handler context's error when the call is canceled.
func (s *ServerStream) Recv() (any, error) {
	v, err := s.args.next(s.ctx, nil)
	if err == errDone {
		return nil, ctxError(s.method, s.ctx)
	}
	if err != nil {
		return nil, err
	}
	if s.c.has(extFlow) && s.id != 0 {
		s.mu.Lock()
		s.c.consumedLocked(&s.consumed, s.argsDone, TypeReqCredit, s.id)
		s.mu.Unlock()
	}
	return v, nil
}

// Send sends one streamed result. It blocks only this call: while the
// caller has no credit left for it (extension "flow") or the
// connection's write queue is full. With a baseline caller one result is
// held back until the next Send or the handler's return, so that the
// last one goes without `more`. v must not be modified after Send.
func (s *ServerStream) Send(v any) error {
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
		if !s.hasHeld {
			s.held, s.hasHeld = v, true
			s.mu.Unlock()
			return nil
		}
		v, s.held = s.held, v
	}
	s.mu.Unlock()
	return s.sendRep(&Envelope{Type: TypeRep, ID: s.id, Payload: v, More: true, Ext: s.ext})
}

// sendRep sends a reply message, waiting for credit if it carries an
// item.
func (s *ServerStream) sendRep(env *Envelope) error {
	c := s.c
	e, err := c.encode(env)
	if err != nil {
		return opError(s.method, err)
	}
	if env.Type == TypeRep && env.Error == nil && c.has(extFlow) {
		if err := s.credit.take(s.ctx.Done(), nil); err != nil {
			e.discard()
			return ctxError(s.method, s.ctx)
		}
	}
	if err := c.waitSpace(s.ctx, nil); err != nil {
		e.discard()
		if err == errDone {
			return ctxError(s.method, s.ctx)
		}
		return opError(s.method, err)
	}
	s.mu.Lock()
	if s.dead {
		s.mu.Unlock()
		e.discard()
		return ctxError(s.method, s.ctx)
	}
	c.queue(e)
	s.mu.Unlock()
	return nil
}

// finish sends the handler's result (see Handler) and forgets the call
// once its arguments have ended too.
func (s *ServerStream) finish(v any, err error) {
	defer func() {
		if s.stopTO != nil {
			s.stopTO()
		}
		s.cancel(context.Canceled)
	}()
	if s.id == 0 {
		if err != nil {
			s.c.log.Debug("peer: notification handler failed", "method", s.method, "err", err)
		}
		return
	}
	s.mu.Lock()
	dead, sent, held, hasHeld := s.dead, s.sent, s.held, s.hasHeld
	s.held, s.hasHeld = nil, false
	s.mu.Unlock()
	if !dead {
		s.reply(v, err, sent, held, hasHeld)
	}
	s.mu.Lock()
	s.handlerDone = true
	remove := s.argsDone
	s.mu.Unlock()
	if remove {
		s.c.removeIn(s.id, s)
	}
}

func (s *ServerStream) reply(v any, err error, sent bool, held any, hasHeld bool) {
	rep := func(payload any, more bool) error {
		return s.sendRep(&Envelope{Type: TypeRep, ID: s.id, Payload: payload, More: more, Ext: s.ext})
	}
	if err != nil {
		if hasHeld && rep(held, true) != nil {
			return
		}
		s.sendError(err)
		return
	}
	var werr error
	switch {
	case !sent && v == nil && s.streams && s.c.has(extEnd):
		werr = s.sendRep(&Envelope{Type: TypeRepEnd, ID: s.id})
	case !sent && v == nil && s.streams:
		// A stream of no item, to a remote that cannot be sent one: the
		// empty list, as HTTP sends it.
		werr = rep([]any{}, false)
	case !sent:
		werr = rep(v, false)
	case s.c.has(extEnd):
		if v != nil {
			werr = rep(v, false)
		} else {
			werr = s.sendRep(&Envelope{Type: TypeRepEnd, ID: s.id})
		}
	case v != nil:
		if werr = rep(held, true); werr == nil {
			werr = rep(v, false)
		}
	default:
		werr = rep(held, false)
	}
	var se *service.Error
	if werr != nil && errors.As(werr, &se) && se.Kind == service.KindInvalid {
		// The result could not be encoded: say so instead.
		s.sendError(&service.Error{Op: s.method, Kind: service.KindInternal, Message: "cannot encode the result: " + se.Message})
	}
}

func (s *ServerStream) sendError(err error) {
	s.sendRep(&Envelope{Type: TypeRep, ID: s.id, Ext: s.ext, Error: errorBody(err)})
}

// deliver takes the next req of this call from the reader.
func (s *ServerStream) deliver(env *Envelope) {
	s.mu.Lock()
	if s.argsDone {
		s.mu.Unlock()
		s.c.log.Debug("peer: argument after the last", "method", s.method, "id", s.id)
		return
	}
	if !env.More {
		s.argsDone = true
	}
	drop := s.dead || s.handlerDone
	remove := s.argsDone && s.handlerDone
	s.mu.Unlock()
	if !drop {
		if n := s.args.push(env.Payload); n > s.c.bufferBound() {
			s.fail(opErrorf(s.method, service.KindOverloaded, "more than %d arguments unread", s.c.bufferBound()))
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
	s.c.replyError(s.id, s.ext, &e)
}

// opError sets op on a *service.Error from the codec or the connection.
func opError(op string, err error) error {
	var se *service.Error
	if errors.As(err, &se) {
		c := *se
		if c.Op == "" {
			c.Op = op
		}
		return &c
	}
	return &service.Error{Op: op, Kind: service.KindOf(err), Message: err.Error(), Err: err}
}
