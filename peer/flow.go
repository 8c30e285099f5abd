package peer

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/glyph-ipc/glyph/service"
)

// Flow control by bytes (extension "window", spec.md section 5). A
// message counts when it carries a payload (a req that is not "open", a
// rep without error), by the size of its frame. The sender of a message
// spends its size from the stream's credit and the connection's, and
// starts a message only while both are positive, so that one message of
// any size passes a window that is open at all. The receiver counts what
// it holds, checks the remote kept to that rule, and grants credit back as
// the application takes messages.

// credit is what this side may still send under one of the remote's
// windows: a stream's or the connection's. It goes below zero when a
// message larger than what was left is sent. Its wake-up channel is made
// only when a sender has to wait.
type credit struct {
	n    atomic.Int64
	mu   sync.Mutex    // guards wake
	wake chan struct{} // capacity 1; nil until someone waits
}

func (c *credit) init(n int64) { c.n.Store(n) }

// add takes a grant of the remote.
func (c *credit) add(n int64) {
	c.n.Add(n)
	c.mu.Lock()
	w := c.wake
	c.mu.Unlock()
	signal(w)
}

// positive reports whether a message may start.
func (c *credit) positive() bool { return c.n.Load() > 0 }

// spend counts a message of n bytes sent.
func (c *credit) spend(n int64) { c.n.Add(-n) }

// wait waits until the credit is positive; errDone if a, b or d closes
// first (any may be nil).
func (c *credit) wait(a, b, d <-chan struct{}) error {
	if c.n.Load() > 0 {
		return nil
	}
	c.mu.Lock()
	if c.wake == nil {
		c.wake = make(chan struct{}, 1)
	}
	w := c.wake
	c.mu.Unlock()
	// add adds before it looks for the channel: a grant made since the
	// check above is seen here, or wakes us.
	for c.n.Load() <= 0 {
		select {
		case <-w:
		case <-a:
			return errDone
		case <-b:
			return errDone
		case <-d:
			return errDone
		}
	}
	// Several senders may wait on a connection's credit: pass the
	// wake-up on to the next.
	signal(w)
	return nil
}

// waitCredit waits until the stream's credit sc (nil for a notification,
// which has none) and the connection's are positive; errDone if a or b
// closes first, a lost error if the connection does.
func (c *Conn) waitCredit(sc *credit, a, b <-chan struct{}) error {
	if sc != nil {
		if err := sc.wait(a, b, c.closed); err != nil {
			return c.waitEnded(err)
		}
	}
	if err := c.sendCredit.wait(a, b, c.closed); err != nil {
		return c.waitEnded(err)
	}
	return nil
}

// waitEnded tells a wait that ended because the connection closed from
// one whose own channels did.
func (c *Conn) waitEnded(err error) error {
	select {
	case <-c.closed:
		return lostError("", c.Err())
	default:
		return err
	}
}

// queueCounted queues e, a message that counts under flow control, if
// the stream's credit sc (nil: none) and the connection's are positive,
// and spends its size from both; it reports false, queueing nothing,
// when either is not. Spending under the queue's lock keeps the order
// in which credit is spent the order in which the remote reads the
// messages, which its checks rely on.
func (c *Conn) queueCounted(e encoded, sc *credit) bool {
	q := &c.wq
	n := int64(len(*e.bp))
	q.mu.Lock()
	if (sc != nil && !sc.positive()) || !c.sendCredit.positive() {
		q.mu.Unlock()
		return false
	}
	if sc != nil {
		sc.spend(n)
	}
	c.sendCredit.spend(n)
	own := c.queueLocked(e)
	q.mu.Unlock()
	c.queued(e, own)
	return true
}

// flowIn is the receiving side of flow control for one direction of a
// stream. The stream's mutex guards it.
type flowIn struct {
	held int64 // bytes of the messages received and not taken yet
	free int64 // bytes of the messages taken and not granted back yet
	gone bool  // the stream ended: what it held went back to the connection
}

// flowSize is what env, which the reader just read, counts under flow
// control: its frame's size, or 0.
func (c *Conn) flowSize(env *Envelope) int64 {
	if !c.has(extWindow) {
		return 0
	}
	switch {
	case env.Type == TypeReq && !env.Open, env.Type == TypeRep && env.Error == nil:
		return c.rxSize
	}
	return 0
}

// admitConn counts n bytes the reader got under the connection's window,
// or closes the connection, reporting false, if the remote sent them
// past it: a message may only start while less than the window is
// held.
func (c *Conn) admitConn(n int64) bool {
	if n == 0 {
		return true
	}
	if c.inCounted.Load() >= int64(c.cfg.ConnWindow) {
		c.failTelling(errorf(service.KindOverloaded, "the remote sent past the connection's window of %d bytes", c.cfg.ConnWindow))
		return false
	}
	c.inCounted.Add(n)
	return true
}

// admitLocked counts a message of n bytes of a stream under its window,
// or reports false, counting nothing, if the remote sent it past the
// window (or the stream ended). The caller gives the bytes back to the
// connection (tookConn) when it drops the message.
func (f *flowIn) admitLocked(n int64, window int) bool {
	if f.gone || f.held+f.free >= int64(window) {
		return false
	}
	f.held += n
	return true
}

// tookLocked counts a message of n bytes the application took from a
// stream, and grants the remote credit with an envelope of type typ (for
// call id) once the bytes taken since the last grant reach half the
// stream's window, unless the remote sends nothing more on the stream
// (open is false).
func (c *Conn) tookLocked(f *flowIn, n int64, open bool, typ string, id uint64) {
	if f.gone || n == 0 {
		return
	}
	f.held -= n
	c.tookConn(n)
	if !open {
		return
	}
	f.free += n
	if f.free >= threshold(c.cfg.StreamWindow) {
		c.grant(typ, id, f.free)
		f.free = 0
	}
}

// endFlowLocked gives what a stream holds back to the connection's
// window, once: the stream ended, and what the application has not taken
// of it no longer counts.
func (c *Conn) endFlowLocked(f *flowIn) {
	if f.gone {
		return
	}
	f.gone = true
	c.tookConn(f.held)
	f.held, f.free = 0, 0
}

// tookConn counts n bytes of the remote's messages the application took
// or this side dropped, and grants them back to the remote's connection
// credit once half the connection's window is to be granted.
func (c *Conn) tookConn(n int64) {
	if n == 0 {
		return
	}
	if c.inFree.Add(n) < threshold(c.cfg.ConnWindow) {
		return
	}
	if g := c.inFree.Swap(0); g > 0 {
		c.inCounted.Add(-g)
		c.grant(TypeCredit, 0, g)
	}
}

// grant queues envelopes of type typ granting n bytes of credit, split
// into grants that fit the credit field.
func (c *Conn) grant(typ string, id uint64, n int64) {
	for n > 0 {
		k := min(n, math.MaxInt32)
		c.pushEnvelope(&Envelope{Type: typ, ID: id, Credit: k})
		n -= k
	}
}

// threshold is how many bytes taken a receiver grants back at once: half
// the window.
func threshold(window int) int64 { return max(1, int64(window)/2) }
