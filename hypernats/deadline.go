package hypernats

import (
	"context"
	"sync"
	"time"
)

// deadlineCtx is a call's context with the deadline of its Glyph-Timeout
// header. Unlike [context.WithDeadline] it arms no timer until something
// waits on Done: most calls return well before their deadline without
// waiting on their context, and a timer and a cancelable context per call
// were a good part of a short call's cost (bench/README.md). Err checks
// the clock and the parent whenever it is asked.
//
// Its values come from a context that carries no cancelation (see
// [context.WithoutCancel]), so that [context.Cause] does not find the
// parent's cause in them but asks Err.
type deadlineCtx struct {
	context.Context                 // the values, without cancelation
	parent          context.Context // ends the call when it ends
	deadline        time.Time

	mu    sync.Mutex
	done  chan struct{} // made by the first Done
	err   error
	timer *time.Timer // armed by the first Done
	stop  func() bool // stops watching the parent, once Done armed it
}

// withDeadline returns a context with the values of values (which must
// carry no cancelation), that ends with parent or at deadline d; cancel
// it once the call is over.
func withDeadline(values, parent context.Context, d time.Time) *deadlineCtx {
	return &deadlineCtx{Context: values, parent: parent, deadline: d}
}

// Deadline returns the call's deadline.
func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Done returns a channel closed when the deadline passes, the parent ends
// or the call is over; the first call arms the timer.
func (c *deadlineCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err == nil {
		c.err = c.expired()
	}
	if c.err != nil {
		close(c.done)
		return c.done
	}
	c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.end(context.DeadlineExceeded) })
	c.stop = context.AfterFunc(c.parent, func() { c.end(c.parent.Err()) })
	return c.done
}

// Err returns nil until the context ends, then why it did.
func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		if err := c.expired(); err != nil {
			c.endLocked(err)
		}
	}
	return c.err
}

// expired returns the parent's error, or DeadlineExceeded once the
// deadline passed, or nil.
func (c *deadlineCtx) expired() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// cancel ends the context, if there is one.
func (c *deadlineCtx) cancel() {
	if c != nil {
		c.end(context.Canceled)
	}
}

func (c *deadlineCtx) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.endLocked(err)
	}
}

// endLocked ends the context with err, with c.mu held.
func (c *deadlineCtx) endLocked(err error) {
	c.err = err
	if c.done == nil {
		return
	}
	close(c.done)
	c.timer.Stop()
	c.stop()
}

// String names the context as context.WithDeadline's does.
func (c *deadlineCtx) String() string {
	return "hypernats.withDeadline(" + c.deadline.String() + ")"
}
