package peer

import (
	"context"
	"sync"

	"github.com/glyph-ipc/glyph/service"
)

// ---- writing ----
//
// Envelopes are encoded by the goroutine that sends them, into a buffer
// of a pool, and queued on the connection's writeQueue. Small frames are
// copied into the queue's batch buffer, so a batch is a few large
// allocations reused from batch to batch rather than one per frame.
//
// One goroutine at a time holds the writing role and writes what is
// queued, all of it in one WriteFrames. Usually that is the connection's
// writer goroutine. A sender whose frame is the last of its call (a
// unary request, a final reply) and finds no one writing takes the role
// itself and writes at once, which saves waking the writer goroutine on
// the path of every call; it then hands whatever was queued meanwhile to
// the writer goroutine, so its own caller is not kept writing for others.
// Frames of a stream with more to come always go through the writer
// goroutine, which batches them.

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
	// hold before the connection is closed as Overloaded.
	maxQueuedFactor = 4
)

// framePool holds the buffers envelopes are encoded into.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// encoded is an envelope encoded in a buffer of framePool, not queued
// yet. Exactly one of Conn.queue and discard consumes it.
type encoded struct {
	bp   *[]byte
	text bool
}

// discard gives back the buffer of a frame that will not be sent.
func (e encoded) discard() { putFrameBuf(e.bp) }

func putFrameBuf(bp *[]byte) {
	if cap(*bp) <= maxKeptBuffer {
		*bp = (*bp)[:0]
		framePool.Put(bp)
	}
}

// encode marshals env with the connection's codec.
func (c *Conn) encode(env *Envelope) (encoded, error) {
	bp := framePool.Get().(*[]byte)
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
	writing bool          // a goroutine holds the writing role
	rest    []byte        // the part of a batch a direct write left, to go first
	space   chan struct{} // closed when a writer takes the queue, if waited on
	waited  bool          // someone waits on space
	// The buffers of the batch last written, for the next batch.
	spareBuf    []byte
	spareFrames []queuedFrame

	wake chan struct{} // the writer goroutine's wake-up call (capacity 1)

	// out is the frames handed to WriteFrames; used only by the holder of
	// the writing role.
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

// empty reports whether there is nothing to write. q.mu is held.
func (q *writeQueue) empty() bool {
	return len(q.frames) == 0 && len(q.flushes) == 0 && q.rest == nil
}

// directWriter is a FrameConn that can write a batch without waiting
// (the stream transport over a socket), which is what lets a sender
// write its own last message: a sender never blocks on a slow remote.
type directWriter interface {
	// tryWriteFrames writes what the socket takes at once, and returns
	// ok false if it cannot try, or the rest, to be written before
	// anything else with writeRest.
	tryWriteFrames(frames []Frame) (ok bool, rest []byte, err error)
	writeRest(b []byte) error
}

// queue puts e on the write queue and returns how many bytes are queued.
// With direct, a caller that finds no one writing, on a transport that
// can write without waiting, takes the writing role (claim), and must
// then call c.writeHeld(true) as soon as it holds no lock; otherwise the
// writer goroutine is woken when it needs to be.
func (c *Conn) queue(e encoded, direct bool) (queued int, claim bool) {
	q := &c.wq
	data := *e.bp
	q.mu.Lock()
	qf := queuedFrame{n: len(data), text: e.text}
	if len(data) <= maxArenaFrame {
		qf.off = len(q.buf)
		q.buf = append(q.buf, data...)
	} else {
		qf.own = e.bp
	}
	q.frames = append(q.frames, qf)
	q.bytes += len(data)
	queued = q.bytes
	wake := false
	if !q.writing {
		if direct && c.direct != nil && q.rest == nil {
			q.writing, claim = true, true
		} else {
			wake = true
		}
	}
	q.mu.Unlock()
	if qf.own == nil {
		putFrameBuf(e.bp)
	}
	if wake {
		q.signal()
	}
	return queued, claim
}

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

// writeLoop is the writer goroutine: it takes the writing role whenever
// something is queued and no one else holds it.
func (c *Conn) writeLoop() {
	q := &c.wq
	for {
		select {
		case <-q.wake:
		case <-c.closed:
			return
		}
		q.mu.Lock()
		if q.writing || q.empty() {
			// The holder writes it, or hands it back with a wake-up.
			q.mu.Unlock()
			continue
		}
		q.writing = true
		q.mu.Unlock()
		if !c.writeHeld(false) {
			return
		}
	}
}

// writeHeld writes what is queued, batch after batch, by the holder of
// the writing role, and gives the role up when the queue is empty. A
// direct writer (a sender: direct) writes one batch without waiting for
// the socket and passes what is left, and what came meanwhile, to the
// writer goroutine. It reports false when the connection failed or
// closed; the role is then never given up, so nothing more is written.
func (c *Conn) writeHeld(direct bool) bool {
	q := &c.wq
	for round := 0; ; round++ {
		q.mu.Lock()
		if q.empty() {
			q.writing = false
			q.mu.Unlock()
			return true
		}
		if direct && (round > 0 || q.rest != nil || q.bytes+4*len(q.frames) > maxCopiedBatch) {
			// Only what one write takes at once, the first time round:
			// a sender never waits for the socket.
			q.writing = false
			q.mu.Unlock()
			q.signal()
			return true
		}
		rest := q.rest
		buf, frames, flushes := q.buf, q.frames, q.flushes
		q.buf, q.frames, q.flushes, q.rest = q.spareBuf[:0], q.spareFrames[:0], nil, nil
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
			return false
		default:
		}
		out := q.out[:0]
		for _, f := range frames {
			if f.own != nil {
				out = append(out, Frame{Data: *f.own, Text: f.text})
			} else {
				out = append(out, Frame{Data: buf[f.off : f.off+f.n : f.off+f.n], Text: f.text})
			}
		}
		var err error
		if rest != nil {
			err = c.direct.writeRest(rest)
			rest = nil
		}
		tried := false
		if err == nil && direct && len(out) > 0 {
			tried, rest, err = c.direct.tryWriteFrames(out)
		}
		if err == nil && !tried && len(out) > 0 {
			err = c.fc.WriteFrames(context.Background(), out)
		}
		clear(out)
		q.out = out[:0]
		if err != nil {
			c.fail(wrapErr(service.Unavailable, "write: "+err.Error(), err), false)
			return false
		}
		c.stats.batches.Add(1)
		c.stats.framesOut.Add(int64(len(frames)))
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
		if rest != nil {
			// The socket took part of the batch: the writer goroutine
			// writes the rest first, then closes these flushes.
			q.rest = rest
			q.flushes = append(flushes, q.flushes...)
			flushes = nil
		}
		q.mu.Unlock()
		for _, ch := range flushes {
			close(ch)
		}
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
	if n, _ := c.queue(e, false); n > maxQueuedFactor*c.wq.limit {
		// Control envelopes answer what the remote sends (pongs, credit,
		// error replies) and never wait for room; a remote that keeps
		// sending without reading what comes back would make them grow
		// without bound. fail takes locks its callers may hold: run it
		// on its own.
		go c.fail(errorf(service.Overloaded, "the remote does not read what it is sent (%d bytes queued)", c.wq.limit*maxQueuedFactor), false)
	}
}
