package hyperhttp

import (
	"context"
	"sync"
	"time"
)

// The decode budget of a Handler without WithDecodeBudget.
const (
	// DefaultDecodeBudget is how many bytes of form bodies a Handler
	// decodes at once, over all its requests.
	DefaultDecodeBudget = 16 << 20
	// DefaultDecodeWait is how long a request waits for room in the
	// budget before it is answered 503.
	DefaultDecodeWait = time.Second
)

// budget is a weighted semaphore: bytes of request bodies being decoded.
// Waiters are served in order, so that a large request is not starved
// by small ones.
type budget struct {
	mu      sync.Mutex
	free    int64     // guarded by mu
	waiters []*waiter // guarded by mu
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when granted
}

// acquire takes n bytes of the budget, waiting up to wait for them; it
// reports whether it got them. The caller releases them when done.
func (b *budget) acquire(ctx context.Context, n int64, wait time.Duration) bool {
	b.mu.Lock()
	if len(b.waiters) == 0 && b.free >= n {
		b.free -= n
		b.mu.Unlock()
		return true
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-w.ready:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		return true // granted as the wait ended
	default:
	}
	for i, x := range b.waiters {
		if x == w {
			b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
			break
		}
	}
	b.grantLocked() // the next one may fit now
	return false
}

// release gives back n bytes.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.free += n
	b.grantLocked()
	b.mu.Unlock()
}

func (b *budget) grantLocked() {
	for len(b.waiters) > 0 && b.free >= b.waiters[0].n {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.free -= w.n
		close(w.ready)
	}
}
