// Package notify wakes every goroutine waiting for something to change,
// each time it changes: a channel closed and replaced at each change, so
// that a waiter that took the channel before looking never misses one.
package notify

import "sync"

// A Notifier wakes the goroutines waiting on the channels [Notifier.C]
// returned, at each [Notifier.Notify]. Its zero value is ready to use.
type Notifier struct {
	mu sync.Mutex    // guards ch
	ch chan struct{} // closed and replaced at each Notify
}

// C returns a channel that the next Notify closes. Take it before
// looking at what it announces, so that a change in between is not
// missed.
func (n *Notifier) C() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

// Notify wakes every goroutine waiting on a channel C returned.
func (n *Notifier) Notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
