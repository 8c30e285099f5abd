package supervisor

import (
	"context"
	"fmt"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/secret"
	"github.com/glyph-ipc/glyph/service"
)

// watchHealth checks, every health interval, that the replica answers
// on its first socket: it asks for the description of the component
// served there, with a proof of the secret. Any answer counts, an error
// included; a refused connection or no answer within the timeout is a
// miss, and the configured number of misses in a row kills the child,
// which the loop then restarts. It returns a function that stops the
// checks. A replica without a socket (NATS) is not checked.
func (p *proc) watchHealth() (stop func()) {
	if len(p.sockets) == 0 {
		return func() {}
	}
	h := p.spec.Main().Health
	target, comp := p.sockets[0].url, p.sockets[0].comp
	ctx, cancel := context.WithCancel(p.s.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var prov component.Provider
		defer func() {
			if prov != nil {
				prov.Close()
			}
		}()
		t := time.NewTicker(h.Interval)
		defer t.Stop()
		misses := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if prov == nil {
				var err error
				if prov, err = component.DialProvider(ctx, target); err != nil {
					return
				}
			}
			cctx, ccancel := context.WithTimeout(client.WithCallHeaderFunc(ctx, secret.Header, p.s.keyring.Proof), h.Timeout)
			_, err := prov.Describe(cctx, comp)
			ccancel()
			if ctx.Err() != nil {
				return
			}
			if answered(err) {
				misses = 0
				continue
			}
			misses++
			prov.Close()
			prov = nil
			if misses >= h.Failures {
				select {
				case p.kick <- fmt.Sprintf("no answer to %d health checks in a row (%v)", misses, err):
				default:
				}
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

// answered reports whether a health check got an answer: no error, or
// one the server sent.
func answered(err error) bool {
	if err == nil {
		return true
	}
	switch service.KindOf(err) {
	case service.KindUnavailable, service.KindDeadlineExceeded, service.KindCanceled:
		return false
	}
	return true
}
