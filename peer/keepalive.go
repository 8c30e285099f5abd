package peer

import (
	"context"
	"fmt"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// keepAlive pings a silent remote with ping and closes the connection
// when ping reports no answer within KeepAliveTimeout.
func (c *Conn) keepAlive(ping func(wait time.Duration) bool) {
	every, wait := c.cfg.KeepAlive, c.cfg.KeepAliveTimeout
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
		}
		since := time.Since(time.Unix(0, c.lastRecv.Load()))
		if since < every {
			t.Reset(every - since)
			continue
		}
		if !ping(wait) {
			select {
			case <-c.closed:
			default:
				c.fail(wrapErr(service.KindUnavailable, fmt.Sprintf("keepalive: no answer from the remote within %v", wait), context.DeadlineExceeded))
			}
			return
		}
		t.Reset(every)
	}
}

// pingEnvelope sends a ping envelope (extension "ping") and reports
// whether any frame came within wait.
func (c *Conn) pingEnvelope(wait time.Duration) bool {
	sent := time.Now().UnixNano()
	c.pingID++
	c.pushEnvelope(&Envelope{Type: TypePing, ID: c.pingID})
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.closed:
		return true
	case <-t.C:
	}
	return c.lastRecv.Load() >= sent
}

// pingTransport returns a ping that uses the transport's own (a WebSocket
// ping, which the remote's library answers with a pong).
func (c *Conn) pingTransport(p Pinger) func(wait time.Duration) bool {
	return func(wait time.Duration) bool {
		ctx, cancel := context.WithTimeout(c.ctx, wait)
		defer cancel()
		err := p.Ping(ctx)
		return err == nil || c.ctx.Err() != nil
	}
}
