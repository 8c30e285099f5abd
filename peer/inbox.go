package peer

import (
	"context"
	"errors"
	"sync"
)

// errDone is returned by waits that ended because their done channel or
// context did; callers translate it.
var errDone = errors.New("peer: done")

// inbox holds the messages of one direction of a stream that the reader
// delivered and the application has not taken yet. Pushing never blocks.
// The zero value is ready; its wake-up channel is made only when someone
// has to wait, so a call whose reply is there when it looks allocates
// none.
type inbox struct {
	mu     sync.Mutex // guards the fields below
	items  []item     // items[head:] are waiting
	head   int
	end    error // why the direction ended (io.EOF or an error), once closed
	closed bool
	wake   chan struct{} // capacity 1; nil until someone waits
	small  [2]item       // the first items' room, in the stream's allocation
}

// item is a message waiting in an inbox, with the bytes it counts towards
// the connection's inbound bound until it is taken (n, 0 for none) and
// towards the windows of flow control (flow, 0 for none).
type item struct {
	v    any
	n    int64
	flow int64
}

// signal sends a wake-up on ch, a channel of capacity 1, if there is
// one and it holds none yet.
func signal(ch chan struct{}) {
	if ch == nil {
		return
	}
	select {
	case ch <- struct{}{}:
	default:
	}
}

// push adds an item and returns how many are buffered; -1 if closed.
func (b *inbox) push(it item) int {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return -1
	}
	if b.head > 0 && len(b.items) == cap(b.items) {
		// Move the waiting items down rather than grow.
		n := copy(b.items, b.items[b.head:])
		clear(b.items[n:])
		b.items, b.head = b.items[:n], 0
	}
	if b.items == nil {
		b.items = b.small[:0]
	}
	b.items = append(b.items, it)
	waiting := len(b.items) - b.head
	w := b.wake
	b.mu.Unlock()
	signal(w)
	return waiting
}

// close ends the direction after the buffered items; the first close
// wins.
func (b *inbox) close(err error) {
	b.mu.Lock()
	if !b.closed {
		b.closed, b.end = true, err
	}
	w := b.wake
	b.mu.Unlock()
	signal(w)
}

// next returns the next item, or the end once the items are taken, or
// errDone when done is closed or ctx is done first (done may be nil, and
// ctx context.Background(); ctx's Done is asked for only when there is a
// wait).
func (b *inbox) next(ctx context.Context, done <-chan struct{}) (item, error) {
	for {
		b.mu.Lock()
		if b.head < len(b.items) {
			it := b.items[b.head]
			b.items[b.head] = item{}
			b.head++
			if b.head == len(b.items) {
				b.items, b.head = b.items[:0], 0
			}
			b.mu.Unlock()
			return it, nil
		}
		if b.closed {
			err := b.end
			b.mu.Unlock()
			return item{}, err
		}
		if b.wake == nil {
			b.wake = make(chan struct{}, 1)
		}
		w := b.wake
		b.mu.Unlock()
		ctxDone := ctx.Done()
		select {
		case <-w:
		case <-done:
		case <-ctxDone:
		}
		b.mu.Lock()
		ready := b.head < len(b.items) || b.closed
		b.mu.Unlock()
		if !ready {
			// Prefer what is already there; else the wait ended.
			select {
			case <-done:
				return item{}, errDone
			case <-ctxDone:
				return item{}, errDone
			default:
			}
		}
	}
}

// heldBack is the last message a baseline stream holds back, so that it
// can be sent without "more" once the sender knows it is the last: an
// argument of a ClientStream, a result of a ServerStream. Its owner's
// mutex guards it.
type heldBack struct {
	v  any
	ok bool
}

// swap holds v and returns the message held before it, to send now; ok
// is false when nothing was held (v is only held).
func (h *heldBack) swap(v any) (prev any, ok bool) {
	prev, ok = h.v, h.ok
	h.v, h.ok = v, true
	return prev, ok
}

// take returns the message held, if any, and forgets it.
func (h *heldBack) take() (v any, ok bool) {
	v, ok = h.v, h.ok
	*h = heldBack{}
	return v, ok
}
