package peer

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// stopLocked makes the peer take nothing new and returns what to stop:
// listeners, dialers, waiting calls and connections. p.mu is held.
func (p *Peer) stopLocked() ([]Listener, []*waiter, []*Conn) {
	p.closing = true
	p.cancel()
	ls := p.listeners
	p.listeners = nil
	for _, d := range p.dialers {
		d.cancel()
	}
	clear(p.dialers)
	ws := p.queue
	p.queue = nil
	for _, w := range ws {
		w.queued = false
	}
	return ls, ws, slices.Clone(p.conns)
}

func stopOthers(ls []Listener, ws []*waiter) {
	for _, l := range ls {
		l.Close()
	}
	for _, w := range ws {
		w.done <- errPeerClosed(w.method)
	}
}

// Shutdown shuts the peer down gracefully: it stops listening, dialing
// and resolving, fails the calls waiting for a connection with
// [service.KindUnavailable], shuts every connection down gracefully ([Conn.Shutdown]:
// the calls in flight both ways finish, new ones are refused) and
// returns once all is stopped. If ctx ends first it closes everything at
// once (Close) and returns ctx's error.
func (p *Peer) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	ls, ws, conns := p.stopLocked()
	p.mu.Unlock()
	stopOthers(ls, ws)
	var wg sync.WaitGroup
	errs := make([]error, len(conns))
	for i, c := range conns {
		wg.Go(func() { errs[i] = c.Shutdown(ctx) })
	}
	wg.Wait()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		p.Close()
		return ctx.Err()
	}
	p.Close()
	return errors.Join(errs...)
}

// Close closes the peer now: listeners, dialers and every connection.
// Calls in flight fail with a retryable [service.KindUnavailable] error, the handlers
// serving the remotes' calls see their context canceled. Close returns
// once the peer's goroutines have ended.
func (p *Peer) Close() error {
	p.mu.Lock()
	ls, ws, conns := p.stopLocked()
	p.mu.Unlock()
	p.closeCancel()
	stopOthers(ls, ws)
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
	return nil
}
