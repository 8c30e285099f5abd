// Package flood opens many connections to a server at once and sorts
// how each was answered, for the fault tests of the transports' connection
// limits (hyperhttp and peer), and measures the heap they made the
// server hold.
package flood

import (
	"fmt"
	"net"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// HeapInUse returns the bytes of live heap objects and goroutine stacks
// after a collection: what the process holds, not what waits for the
// collector.
func HeapInUse() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64() + s[1].Value.Uint64())
}

// Outcome is how the server answered one connection.
type Outcome uint8

const (
	// OutcomeServed: the server took the connection; it stays open.
	OutcomeServed Outcome = iota
	// OutcomeRefused: the server refused it with the reason expected.
	OutcomeRefused
	// OutcomeClosed: the server closed it without an answer.
	OutcomeClosed
	// OutcomeWrong: anything else, which the test reports.
	OutcomeWrong
)

// Result is what a [Open] saw.
type Result struct {
	Served          []net.Conn // open: Close closes them
	Refused, Closed int
	Wrong           string // the first unexpected answer, "" for none
	Took            time.Duration
	total           int
}

// Open dials total connections to the TCP address addr, 32 at a time, and
// greets each: greet writes its first request and reads the answer (with
// a deadline set) and says how it went and, for OutcomeWrong, what came.
func Open(addr string, total int, greet func(nc net.Conn) (Outcome, string)) *Result {
	var (
		mu       sync.Mutex // guards served
		served   []net.Conn
		refused  atomic.Int64
		closed   atomic.Int64
		wrong    atomic.Value
		next     = make(chan struct{})
		wg       sync.WaitGroup
		begin    = time.Now()
		recorded = func(s string) { wrong.CompareAndSwap(nil, s) }
	)
	for range 32 {
		wg.Go(func() {
			for range next {
				nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					recorded("dial: " + err.Error())
					continue
				}
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				switch o, what := greet(nc); o {
				case OutcomeServed:
					nc.SetDeadline(time.Time{})
					mu.Lock()
					served = append(served, nc)
					mu.Unlock()
				case OutcomeRefused:
					refused.Add(1)
					nc.Close()
				case OutcomeClosed:
					closed.Add(1)
					nc.Close()
				default:
					recorded(what)
					nc.Close()
				}
			}
		})
	}
	for range total {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	r := &Result{Served: served, Refused: int(refused.Load()), Closed: int(closed.Load()), Took: time.Since(begin), total: total}
	if w, ok := wrong.Load().(string); ok {
		r.Wrong = w
	}
	return r
}

// Check reports, on t, an unexpected answer, a number served other than
// limit, and refusals that were not answered with the reason: the server
// answers refusals 64 at once and closes those past that unanswered,
// which 32 clients that wait for their answer hardly ever meet, so at
// most one in a hundred may be.
func (r *Result) Check(t testing.TB, limit int) {
	t.Helper()
	if r.Wrong != "" {
		t.Errorf("a connection: %v", r.Wrong)
	}
	if len(r.Served) != limit {
		t.Errorf("%d connections served, want %d", len(r.Served), limit)
	}
	if over := r.total - limit; r.Refused+r.Closed != over || r.Closed > over/100 {
		t.Errorf("%d refused with the reason and %d closed unanswered, want %d refused", r.Refused, r.Closed, over)
	}
}

// CheckHeap reports, on t, heap growth (since before, a [HeapInUse])
// over perConn bytes for each connection served, and logs it.
func (r *Result) CheckHeap(t testing.TB, before, perConn int64) {
	t.Helper()
	grew := HeapInUse() - before
	n := int64(max(len(r.Served), 1))
	t.Logf("%d connections in %v; the heap grew by %d MiB (%d KiB per connection served)", r.total, r.Took.Round(time.Millisecond), grew>>20, grew/n>>10)
	if bound := n * perConn; grew > bound {
		t.Errorf("the heap grew by %d MiB with %d connections served, over %d MiB", grew>>20, n, bound>>20)
	}
}

// Close closes the connections served.
func (r *Result) Close() {
	for _, nc := range r.Served {
		nc.Close()
	}
}

// String says what happened, for logs.
func (r *Result) String() string {
	return fmt.Sprintf("%d served, %d refused, %d closed unanswered of %d in %v", len(r.Served), r.Refused, r.Closed, r.total, r.Took)
}
