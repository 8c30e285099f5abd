package peer

import (
	"context"
	"runtime"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// sendSlots is how many senders of a connection may encode at once (see
// waitSend): as many as there are cores to encode on, within 2 to 8.
func sendSlots() int { return min(max(runtime.GOMAXPROCS(0), 2), 8) }

// outboundRoom holds the reader while the write queue is at its limit:
// a remote that does not read what it is sent is not read from either,
// so that it cannot make this side start calls whose answers could only
// pile up (TCP then pushes back on it). It reports false when the
// connection closed meanwhile; watch closes it when the remote reads
// nothing for StallTimeout.
func (c *Conn) outboundRoom() bool {
	return c.waitSpace(context.Background(), nil) == nil
}

// watch closes the connection when a batch has been written for longer
// than StallTimeout (the remote reads nothing of what it is sent), and
// when it has been idle for IdleTimeout: nothing read, no call in flight
// either way and none ended in that time (its reply may still be queued).
func (c *Conn) watch() {
	stall, idle := c.cfg.StallTimeout, c.cfg.IdleTimeout
	every := stall
	if idle > 0 {
		every = min(every, idle)
	}
	t := time.NewTicker(max(every/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case now := <-t.C:
			if w := c.wq.writing.Load(); w != 0 && now.Sub(time.Unix(0, w)) > stall {
				reason := errorf(service.KindOverloaded, "the remote read nothing of what it was sent for %v", stall)
				c.log.Info("peer: connection closed: the remote does not read", "err", reason)
				c.fail(reason)
				return
			}
			last := max(c.lastRecv.Load(), c.callEnded.Load())
			if idle > 0 && now.Sub(time.Unix(0, last)) > idle && c.inFlight() == 0 {
				c.fail(errorf(service.KindUnavailable, "idle for %v", idle))
				return
			}
		}
	}
}

// inFlight returns how many calls are in flight on the connection, in
// either direction.
func (c *Conn) inFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.in) + len(c.out)
}
