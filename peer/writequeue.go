package peer

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// Envelopes are encoded by the goroutine that sends them, into a buffer
// of a pool, and queued on the connection's writeQueue. Small frames are
// copied into the queue's batch buffer, so a batch is a few large
// allocations reused from batch to batch rather than one per frame. The
// connection's writer goroutine writes everything queued in one
// WriteFrames.
//
// Senders never write themselves. A sender writing its own last message
// when no batch is being written saves a wake-up of the writer per call,
// but measured it made calls slower, since the cores then sleep between
// the messages of a call and each message has to wake one (bench/README.md
// has the figures).

const (
	// maxArenaFrame is the largest frame copied into the batch buffer;
	// larger ones are queued in their own buffer.
	maxArenaFrame = 16 << 10
	// maxKeptBuffer is the largest buffer kept for reuse, in the pool
	// and as a batch buffer.
	maxKeptBuffer = 64 << 10
	// maxKeptBatch is the largest batch buffer kept for the next batch.
	maxKeptBatch = 1 << 20
	// maxQueuedFactor times the write queue's limit is the most it may
	// hold before the connection is closed as [service.KindOverloaded].
	maxQueuedFactor = 4
	// minBatchBytes is the size under which the writer yields once before
	// taking a batch.
	minBatchBytes = 1 << 10
)

// framePool holds the buffers envelopes are encoded into.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// largePools hold the buffers of envelopes with a large payload of bytes
// or text, by size: largePools[i] those of largeBufSize(i) bytes, from
// twice maxKeptBuffer up to maxLargeBuffer. A stream of large items then
// reuses its buffers instead of allocating (and clearing) one per item;
// like every sync.Pool they are let go at garbage collection.
var largePools [largeTiers]sync.Pool

const (
	largeTiers     = 8
	maxLargeBuffer = maxKeptBuffer << largeTiers // 16 MiB
)

func largeBufSize(tier int) int { return maxKeptBuffer << (tier + 1) }

// largeTier is the tier of the smallest large buffer of at least n bytes;
// -1 when n needs none (or is over the largest).
func largeTier(n int) int {
	if n <= maxKeptBuffer || n > maxLargeBuffer {
		return -1
	}
	t := 0
	for largeBufSize(t) < n {
		t++
	}
	return t
}

// getFrameBuf returns an empty buffer for an envelope whose payload is
// of about payload bytes (0 for small or unknown).
func getFrameBuf(payload int) *[]byte {
	t := largeTier(payload + largeRoom)
	if t < 0 {
		return framePool.Get().(*[]byte)
	}
	if bp, ok := largePools[t].Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, largeBufSize(t))
	return &b
}

// largeRoom is room enough for an envelope's fields besides a large
// payload.
const largeRoom = 4 << 10

// payloadSize is the size of a payload of bytes or text, which every codec
// writes as it is plus a short header; 0 for other payloads.
func payloadSize(v any) int {
	switch x := v.(type) {
	case []byte:
		return len(x)
	case string:
		return len(x)
	}
	return 0
}

// encoded is an envelope encoded in a buffer of framePool, not queued
// yet. Exactly one of Conn.queue and discard consumes it.
type encoded struct {
	bp   *[]byte
	text bool
}

// discard gives back the buffer of a frame that will not be sent.
func (e encoded) discard() { putFrameBuf(e.bp) }

func putFrameBuf(bp *[]byte) {
	c := cap(*bp)
	if c <= maxKeptBuffer {
		*bp = (*bp)[:0]
		framePool.Put(bp)
		return
	}
	if t := largeTier(c); t >= 0 && largeBufSize(t) == c {
		*bp = (*bp)[:0]
		largePools[t].Put(bp)
	}
}

// encode marshals env with the connection's codec.
func (c *Conn) encode(env *Envelope) (encoded, error) {
	bp := getFrameBuf(payloadSize(env.Payload))
	b, err := appendEnvelope(c.codec, (*bp)[:0], env)
	*bp = b
	if err != nil {
		putFrameBuf(bp)
		return encoded{}, err
	}
	return encoded{bp: bp, text: !c.codec.Binary()}, nil
}

// queuedFrame is a frame in a writeQueue: a span of its batch buffer, or
// a large frame's own buffer.
type queuedFrame struct {
	off, n int
	own    *[]byte // a buffer of framePool, or nil for a span
	text   bool
}

// writeQueue holds the frames waiting to be written. Pushing never
// blocks, so the reader can always answer (pongs, credit, error replies);
// callers sending data first wait for the queue to be under its byte
// limit, which is how a slow network pushes back.
type writeQueue struct {
	mu      sync.Mutex // guards the fields below
	buf     []byte     // the small frames queued, back to back
	frames  []queuedFrame
	flushes []chan struct{}
	bytes   int
	limit   int
	space   chan struct{} // closed when a writer takes the queue, if waited on
	waited  bool          // someone waits on space
	// The buffers of the batch last written, for the next batch.
	spareBuf    []byte
	spareFrames []queuedFrame

	wake chan struct{} // the writer goroutine's wake-up call (capacity 1)

	// writing is when the writer goroutine started the batch it is
	// writing, in unix nanoseconds; 0 while it is not writing.
	writing atomic.Int64

	// out is the frames handed to WriteFrames; the writer goroutine's.
	out []Frame
}

func (q *writeQueue) init(limit int) {
	q.limit = limit
	q.space = make(chan struct{})
	q.wake = make(chan struct{}, 1)
}

func (q *writeQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// queue puts e on the write queue, wakes the writer goroutine, and
// returns how many bytes are queued.
func (c *Conn) queue(e encoded) (queued int) {
	q := &c.wq
	q.mu.Lock()
	own := c.queueLocked(e)
	queued = q.bytes
	q.mu.Unlock()
	c.queued(e, own)
	return queued
}

// queueLocked appends e to the queue and reports whether the queue owns
// e's buffer now (a large frame) rather than a copy. q.mu is held.
func (c *Conn) queueLocked(e encoded) (own bool) {
	q := &c.wq
	data := *e.bp
	qf := queuedFrame{n: len(data), text: e.text}
	if len(data) <= maxArenaFrame {
		qf.off = len(q.buf)
		q.buf = append(q.buf, data...)
	} else {
		qf.own = e.bp
	}
	q.frames = append(q.frames, qf)
	q.bytes += len(data)
	return qf.own != nil
}

// queued finishes queueing e: gives its buffer back if it was copied, and
// wakes the writer goroutine.
func (c *Conn) queued(e encoded, own bool) {
	if !own {
		putFrameBuf(e.bp)
	}
	c.wq.signal()
}

// waitSend waits for a send slot, then until the queue holds less than its
// limit; the caller then encodes its envelope, queues it and calls
// doneSend. Encoding only what can be queued, in at most cap(c.sendSlots)
// senders at once, bounds what a connection holds for a remote that
// reads slowly or not at all: the queue's limit plus that many frames,
// plus the batch being written; nothing waits encoded outside the queue.
func (c *Conn) waitSend(ctx context.Context, done <-chan struct{}) error {
	select {
	case c.sendSlots <- struct{}{}:
		// A free slot, the common case: without the select below,
		// which costs more.
	default:
		select {
		case c.sendSlots <- struct{}{}:
		case <-c.closed:
			return lostError("", c.Err())
		case <-done:
			return errDone
		case <-ctx.Done():
			return errDone
		}
	}
	if err := c.waitSpace(ctx, done); err != nil {
		<-c.sendSlots
		return err
	}
	return nil
}

// doneSend gives back the slot of waitSend.
func (c *Conn) doneSend() { <-c.sendSlots }

// waitSpace waits until the queue holds less than its limit.
func (c *Conn) waitSpace(ctx context.Context, done <-chan struct{}) error {
	q := &c.wq
	for {
		q.mu.Lock()
		if q.bytes < q.limit {
			q.mu.Unlock()
			return nil
		}
		space := q.space
		q.waited = true
		q.mu.Unlock()
		select {
		case <-space:
		case <-c.closed:
			return lostError("", c.Err())
		case <-done:
			return errDone
		case <-ctx.Done():
			return errDone
		}
	}
}

// flush waits until everything queued so far is written.
func (c *Conn) flush(ctx context.Context) error {
	ch := make(chan struct{})
	q := &c.wq
	q.mu.Lock()
	q.flushes = append(q.flushes, ch)
	q.mu.Unlock()
	q.signal()
	select {
	case <-ch:
		return nil
	case <-c.closed:
		return lostError("", c.Err())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeLoop is the writer goroutine: whenever something is queued, it
// takes the whole queue and writes it as one batch.
func (c *Conn) writeLoop() {
	q := &c.wq
	for {
		select {
		case <-q.wake:
		case <-c.closed:
			return
		}
		// A batch of a few small frames: let the goroutines that are
		// ready to run (other callers, handlers) queue theirs first, so
		// that one write carries them all, as grpc-go's writer does. With
		// nothing else ready this returns at once.
		q.mu.Lock()
		small := q.bytes < minBatchBytes
		q.mu.Unlock()
		if small {
			runtime.Gosched()
		}
		q.mu.Lock()
		buf, frames, flushes := q.buf, q.frames, q.flushes
		q.buf, q.frames, q.flushes = q.spareBuf[:0], q.spareFrames[:0], nil
		q.spareBuf, q.spareFrames = nil, nil
		q.bytes = 0
		if q.waited {
			close(q.space)
			q.space = make(chan struct{})
			q.waited = false
		}
		q.mu.Unlock()
		select {
		case <-c.closed:
			// Nothing goes out after Close, not even replies that
			// handlers finished while the connection was closing.
			return
		default:
		}
		if len(frames) > 0 {
			out := q.out[:0]
			for _, f := range frames {
				if f.own != nil {
					out = append(out, Frame{Data: *f.own, Text: f.text})
				} else {
					out = append(out, Frame{Data: buf[f.off : f.off+f.n : f.off+f.n], Text: f.text})
				}
			}
			q.writing.Store(time.Now().UnixNano())
			err := c.fc.WriteFrames(context.Background(), out)
			q.writing.Store(0)
			clear(out)
			q.out = out[:0]
			if err != nil {
				c.fail(wrapErr(service.KindUnavailable, "write: "+err.Error(), err))
				return
			}
			c.stats.batches.Add(1)
			c.stats.framesOut.Add(int64(len(frames)))
		}
		for _, ch := range flushes {
			close(ch)
		}
		for i, f := range frames {
			c.stats.bytesOut.Add(int64(f.n))
			if f.own != nil {
				putFrameBuf(f.own)
			}
			frames[i] = queuedFrame{}
		}
		q.mu.Lock()
		if cap(buf) <= maxKeptBatch {
			q.spareBuf = buf[:0]
		}
		q.spareFrames = frames[:0]
		q.mu.Unlock()
	}
}

// pushEnvelope queues a control envelope; it never blocks. Control
// envelopes hold only values every codec carries, so marshalling them
// cannot fail except for an error reply's data, which is then dropped.
func (c *Conn) pushEnvelope(env *Envelope) {
	e, err := c.encode(env)
	if err != nil && env.Error != nil && env.Error.Data != nil {
		eb := *env.Error
		eb.Data = nil
		env.Error = &eb
		e, err = c.encode(env)
	}
	if err != nil {
		c.log.Error("peer: cannot encode a control envelope", "type", env.Type, "err", err)
		return
	}
	if c.queue(e) > maxQueuedFactor*c.wq.limit {
		// Control envelopes answer what the remote sends (pongs, credit,
		// error replies) and never wait for room; a remote that keeps
		// sending without reading what comes back would make them grow
		// without bound. fail takes locks its callers may hold: run it
		// on its own.
		go c.fail(errorf(service.KindOverloaded, "the remote does not read what it is sent (%d bytes queued)", c.wq.limit*maxQueuedFactor))
	}
}
