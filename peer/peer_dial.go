package peer

import (
	"context"
	"log/slog"
	"time"
)

// A dialer keeps a connection to one address for its owners: Connect
// and the resolvers that name the address.
type dialer struct {
	addr   string
	owners map[owner]struct{}
	ctx    context.Context // ends when the last owner lets go, or the peer stops
	cancel context.CancelFunc
	conn   *Conn // the connection up now, or nil; guarded by Peer.mu
}

// An owner is what keeps a dialer: Connect (connectOwner), or one
// ConnectResolver (a number of its own, from Peer.owners).
type owner uint64

// connectOwner owns the dialers of Connect.
const connectOwner owner = 0

// connectLocked makes owner one of addr's dialer's owners, starting the
// dialer if needed. p.mu is held and the peer is not closing.
func (p *Peer) connectLocked(addr string, o owner) {
	d := p.dialers[addr]
	if d == nil {
		d = &dialer{addr: addr, owners: map[owner]struct{}{}}
		d.ctx, d.cancel = context.WithCancel(p.ctx)
		if !p.goLocked(func() { p.dialLoop(d) }) {
			d.cancel()
			return
		}
		p.dialers[addr] = d
	}
	d.owners[o] = struct{}{}
}

// disconnectLocked removes owner from addr's dialer's owners and returns
// the dialer, stopped, when that was its last owner; else nil. p.mu is
// held.
func (p *Peer) disconnectLocked(addr string, o owner) *dialer {
	d := p.dialers[addr]
	if d == nil {
		return nil
	}
	if _, ok := d.owners[o]; !ok {
		return nil
	}
	delete(d.owners, o)
	if len(d.owners) > 0 {
		return nil
	}
	delete(p.dialers, addr)
	d.cancel()
	return d
}

// dialLoop keeps d's connection up until d.ctx ends.
func (p *Peer) dialLoop(d *dialer) {
	failures := 0
	for d.ctx.Err() == nil {
		fc, err := Dial(d.ctx, d.addr, p.dialOpts...)
		var c *Conn
		if err == nil {
			c, err = clientHandshake(d.ctx, fc, p.cfg)
		}
		if err != nil {
			if d.ctx.Err() != nil {
				return
			}
			wait := p.backoff(failures)
			level := slog.LevelDebug
			if failures == 0 {
				level = slog.LevelWarn
			}
			p.log.Log(d.ctx, level, "peer: cannot connect", "addr", d.addr, "err", err, "retry_in", wait)
			failures++
			if !sleep(d.ctx, wait) {
				return
			}
			continue
		}
		if !p.addConn(c, d) {
			p.drop(c)
			return
		}
		p.log.Info("peer: connected", "addr", d.addr)
		failures = 0
		select {
		case <-c.Done():
		case <-d.ctx.Done():
			// Whoever stopped the dialer shuts the connection down.
			return
		}
		if d.ctx.Err() != nil {
			return
		}
		p.log.Warn("peer: connection lost", "addr", d.addr, "err", c.Err())
		if !sleep(d.ctx, p.backoff(failures)) {
			return
		}
		failures++
	}
}

// backoff returns the wait before the next attempt after failures
// failed ones, between WithBackoff's min and max.
func (p *Peer) backoff(failures int) time.Duration {
	return backoff(p.backoffMin, p.backoffMax, failures)
}

// sleep waits for d and reports true, or false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
