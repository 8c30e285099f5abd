package peer

import (
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// ConnectResolver connects the peer "auto": to the addresses r returns,
// as Connect does for each, and keeps the connections matching them as
// they change. It resolves at once, then every interval (≤ 0 means 30s)
// and whenever a [Watcher] says the addresses changed, until the peer
// shuts down. Addresses that appear are dialed; the connections of
// addresses that disappear are shut down gracefully (their calls in
// flight finish). When Resolve fails the peer keeps the connections it
// has and logs the error. Resolve is given a context that ends when the
// peer shuts down, and must honour it.
func (p *Peer) ConnectResolver(r Resolver, interval time.Duration) error {
	if p.cfgErr != nil {
		return p.cfgErr
	}
	if r == nil {
		return errorf(service.KindInvalid, "peer: ConnectResolver without a resolver")
	}
	if interval <= 0 {
		interval = defaultResolveEvery
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.owners++
	o := p.owners
	if !p.goLocked(func() { p.resolveLoop(r, interval, o) }) {
		return errPeerClosed("connect")
	}
	return nil
}

func (p *Peer) resolveLoop(r Resolver, interval time.Duration, o owner) {
	ctx := p.ctx
	var changes <-chan struct{}
	if w, ok := r.(Watcher); ok {
		changes = w.Watch(ctx)
	}
	current := map[string]bool{}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case _, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
		}
		addrs, err := r.Resolve(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			p.log.Warn("peer: resolve failed; keeping the connections", "err", err)
		default:
			p.applyResolved(o, current, addrs)
		}
		t.Reset(interval)
	}
}

// applyResolved connects to the addresses in addrs that current lacks,
// lets go of those in current that addrs lacks, and updates current.
func (p *Peer) applyResolved(o owner, current map[string]bool, addrs []string) {
	want := map[string]bool{}
	for _, a := range addrs {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if err := checkAddr(a); err != nil {
			p.log.Warn("peer: resolver gave an address that cannot be dialed", "addr", a, "err", err)
			continue
		}
		want[a] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return
	}
	for a := range want {
		if !current[a] {
			p.log.Info("peer: resolver added an address", "addr", a)
			p.connectLocked(a, o)
			current[a] = true
		}
	}
	for a := range current {
		if want[a] {
			continue
		}
		delete(current, a)
		p.log.Info("peer: resolver removed an address", "addr", a)
		if d := p.disconnectLocked(a, o); d != nil && d.conn != nil {
			c := d.conn
			p.goLocked(func() { c.Shutdown(p.closeCtx) })
		}
	}
}
