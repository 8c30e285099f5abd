package peer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"time"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/service"
)

// addOut registers an outgoing call and returns its id.
func (c *Conn) addOut(s *ClientStream) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.refusingLocked(s.method); err != nil {
		return 0, err
	}
	c.nextID++
	c.out[c.nextID] = s
	return c.nextID, nil
}

// refusingLocked returns why no new call can start, or nil.
func (c *Conn) refusingLocked(method string) error {
	switch {
	case c.ended:
		return lostError(method, c.err)
	case c.closing:
		return &service.Error{Op: method, Kind: service.KindUnavailable, Message: "connection shutting down"}
	case c.away:
		return &service.Error{Op: method, Kind: service.KindUnavailable, Message: "remote is going away"}
	}
	return nil
}

func (c *Conn) removeOut(id uint64, s *ClientStream) {
	c.mu.Lock()
	if c.out[id] == s {
		delete(c.out, id)
		c.callEnded.Store(time.Now().UnixNano())
		c.checkDrainedLocked()
	}
	c.mu.Unlock()
}

func (c *Conn) removeIn(id uint64, s *ServerStream) {
	c.mu.Lock()
	if c.in[id] == s {
		delete(c.in, id)
		c.callEnded.Store(time.Now().UnixNano())
	}
	c.mu.Unlock()
}

// Call calls method with args and returns its result. By convention args
// is a list for positional arguments, a map for named ones, any other
// value for a single argument and nil for none; the engine carries it as
// it is.
//
// Call is unary: if the remote streams its reply (a rep with more), Call
// fails with [service.KindUnsupported] and cancels the call; use NewStream for methods
// that stream. Errors are [*service.Error]: the remote's error reply (its
// code mapped to a Kind, unknown codes as [service.KindOther], with a [*RemoteError] as
// Err), [service.KindCanceled] or [service.KindDeadlineExceeded] when ctx ends, [service.KindUnavailable]
// (retryable) when the connection is or goes down before the reply.
//
// The request's ext carries Header(ctx) merged with [WithCallHeader]; ctx's
// deadline travels as the call's timeout (extension "deadline").
func (c *Conn) Call(ctx context.Context, method string, args any, opts ...CallOption) (any, error) {
	s, err := startCall(ctx, c, method, args, opts)
	if err != nil {
		return nil, err
	}
	return finishCall(s)
}

// CallStream calls method with args as Call does, in one req without
// more, and returns the stream its results come on: one result, or a
// stream of them ([ClientStream.Streamed] tells which once Recv returned
// the first). The call's arguments are closed: Send fails and CloseSend
// does nothing. Recv until an error (io.EOF after the last result), or
// Close, releases the call; Close before the end cancels it.
//
// Use it rather than NewStream, Send and CloseSend when args are the
// call's arguments rather than the one item of a stream. With the "end"
// extension those send a stream of one item (a req with more, then a
// reqend), which a remote tells from a call's arguments (see
// [ServerStream.ArgForm]): package hyperpeer gives that item to a
// function's iter.Seq parameter.
func (c *Conn) CallStream(ctx context.Context, method string, args any, opts ...CallOption) (*ClientStream, error) {
	s, err := c.newClientStream(ctx, method, opts, callShapeStream)
	if err != nil {
		return nil, err
	}
	return s.sendWhole(args)
}

// startCall queues the request of a unary call on c and returns the
// stream its reply comes on: Conn.Call up to the wait for the reply, which
// Peer uses on its own so that calls leaving its queue go out in order.
// When it fails nothing was sent.
func startCall(ctx context.Context, c *Conn, method string, args any, opts []CallOption) (*ClientStream, error) {
	s, err := c.newClientStream(ctx, method, opts, callShapeUnary)
	if err != nil {
		return nil, err
	}
	return s.sendWhole(args)
}

// sendWhole sends args as the call's only req, without more, and returns
// s; when that fails it closes s and returns why.
func (s *ClientStream) sendWhole(args any) (*ClientStream, error) {
	c, method := s.c, s.method
	s.mu.Lock()
	s.argsDone = true
	s.mu.Unlock()
	if err := s.sendLastArg(args); err != nil {
		if err == io.EOF {
			// The call ended before its request went out: say why.
			if _, rerr := s.Recv(); rerr != nil && rerr != io.EOF {
				err = rerr
			} else {
				err = lostError(method, c.Err())
			}
		}
		s.Close()
		return nil, err
	}
	return s, nil
}

// finishCall waits for the reply of a call startCall sent.
func finishCall(s *ClientStream) (any, error) {
	v, err := s.Recv()
	s.release()
	if err == io.EOF {
		return nil, nil // a stream that ended without an item
	}
	return v, err
}

// Notify sends a notification: method runs on the remote with args, and
// nothing is replied, not even an error. Notify returns once the
// notification is queued for writing.
func (c *Conn) Notify(ctx context.Context, method string, args any, opts ...CallOption) error {
	if method == "" {
		return errorf(service.KindInvalid, "peer: empty method name")
	}
	o := callOpts(opts)
	env := &Envelope{Type: TypeReq, Method: method, Payload: args, Ext: o.ext(ctx)}
	if o.safe && c.has(extSafe) {
		env.Safe = true
	}
	counted := c.has(extWindow)
	for {
		if counted {
			if err := c.waitCredit(nil, ctx.Done(), nil); err != nil {
				if err == errDone {
					return ctxError(method, ctx)
				}
				return opError(method, err)
			}
		}
		done, err := c.notifyOnce(ctx, method, env, counted, o.sizes)
		if done || err != nil {
			return err
		}
	}
}

// notifyOnce encodes and queues a notification; done is false, with a
// nil error, when the connection's credit was spent by another sender
// first (extension "window"), so that the caller waits and tries again.
func (c *Conn) notifyOnce(ctx context.Context, method string, env *Envelope, counted bool, sizes *intercept.Sizes) (done bool, err error) {
	if err := c.waitSend(ctx, nil); err != nil {
		if err == errDone {
			return false, ctxError(method, ctx)
		}
		return false, err
	}
	defer c.doneSend()
	e, err := c.encode(env)
	if err != nil {
		return false, opError(method, err)
	}
	c.mu.Lock()
	err = c.refusingLocked(method)
	c.mu.Unlock()
	if err != nil {
		e.discard()
		return false, err
	}
	size := int64(len(*e.bp)) // before the queue takes e
	if !counted {
		c.queue(e)
		sizes.AddOut(size)
		return true, nil
	}
	if !c.queueCounted(e, nil) {
		e.discard()
		return false, nil
	}
	sizes.AddOut(size)
	return true, nil
}

// Register makes h serve calls of the method name on this connection
// only, before the handler of [WithHandler]: callbacks, typically under a name from
// [NewCallbackName] sent to the remote in a call's arguments. release
// removes it (if it is still the one registered under name).
func (c *Conn) Register(name string, h Handler) (release func()) {
	c.mu.Lock()
	c.registrations++
	r := registered{h: h, n: c.registrations}
	c.handlers[name] = r
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		if c.handlers[name].n == r.n {
			delete(c.handlers, name)
		}
		c.mu.Unlock()
	}
}

// NewCallbackName returns a fresh method name for a callback:
// "_callback." followed by 32 random hex digits.
func NewCallbackName() string {
	var b [16]byte
	rand.Read(b[:])
	return "_callback." + hex.EncodeToString(b[:])
}
