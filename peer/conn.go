package peer

import (
	"context"
	"errors"
	"github.com/glyph-ipc/glyph/intercept"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/internal/ratelimit"
	"github.com/glyph-ipc/glyph/service"
)

// Conn is one peer connection: after the handshake both ends are equal,
// and either calls the other. It is safe for concurrent use. A Conn runs
// one reader goroutine, which demultiplexes incoming envelopes to calls
// by (type, id), and one writer goroutine, which writes what is queued
// in batches; handlers run on their own goroutines.
type Conn struct {
	fc    FrameConn
	cfg   connConfig
	codec Codec
	ext   extSet
	// peerStreamWindow is the credit each stream starts with (extension
	// "window"): the remote's window per stream.
	peerStreamWindow int64
	log              *slog.Logger

	ctx    context.Context // parent of handler contexts; canceled on close
	cancel context.CancelCauseFunc

	pingID uint64 // the last ping envelope's id; keepAlive's alone

	wq writeQueue
	// sendSlots holds a token per sender encoding a frame (waitSend).
	sendSlots chan struct{}
	lastRecv  atomic.Int64 // unix nanoseconds of the last frame read
	// callEnded is when the last call in either direction ended, in unix
	// nanoseconds: the idle clock (watch) runs from the later of it and
	// lastRecv, so a call's reply is written before its connection can
	// count as idle however long the call took.
	callEnded atomic.Int64
	stats     connStats
	// sendCredit is what this side may still send under the remote's
	// connection window (extension "window").
	sendCredit credit
	// inCounted is the bytes of the remote's messages counted under this
	// side's connection window and not granted back yet; inFree, those of
	// them taken (or dropped) and not granted back yet (flow.go).
	inCounted, inFree atomic.Int64
	// inbound is what the remote's messages held for handlers count
	// towards MaxInboundBytes (admitInbound).
	inbound atomic.Int64
	// calls counts the remote's calls holding a place (WithMaxStreams):
	// only the reader adds to it, so that what it checks stays true.
	calls atomic.Int64
	// lingering counts the handlers still running after their calls were
	// canceled or failed, and notifying the notification handlers
	// running: bounded by WithMaxStreams too.
	lingering, notifying atomic.Int64
	// places holds a token per call of ours the remote is serving, when
	// it announced how many it serves at once (WithMaxStreams); nil
	// otherwise.
	places chan struct{}

	// The reader's own: the envelope it decodes into (nothing keeps it
	// past dispatch) and the method names it has read.
	rx Envelope
	// rxSize is the size of the frame rx came in.
	rxSize int64
	names  nameCache

	mu            sync.Mutex // guards the fields below
	nextID        uint64
	out           map[uint64]*ClientStream // our calls waiting for results
	in            map[uint64]*ServerStream // the remote's calls being served
	refused       map[uint64]struct{}      // the remote's calls refused before their last argument
	handlers      map[string]registered
	registrations uint64        // the handlers Register made; numbers them
	running       int           // handler goroutines, notifications included
	lastIn        uint64        // the highest incoming call id seen
	closing       bool          // Shutdown began: refuse new calls both ways
	away          bool          // the remote sent goaway: make no new calls
	ended         bool          // the connection is closed
	drained       chan struct{} // closed when closing and nothing is in flight
	err           error         // why the connection ended
	// remoteReason is the error of a goaway: why the remote closes.
	remoteReason *service.Error
	reason       *service.Error // the first reason given to fail
	// rate admits the remote's calls (WithRateLimit); nil: no limit.
	// rateRefusing is set while it refuses them, to log the first.
	rate         *ratelimit.Bucket
	rateRefusing bool

	closeOnce sync.Once
	closed    chan struct{}
}

// registered is a handler of Register, with the number that tells its
// release from that of a later one under the same name.
type registered struct {
	h Handler
	n uint64
}

// greetingLineEnd ends a connector's greeting on a byte stream: an empty
// parameter, which acceptors ignore, and a line feed, which makes an HTTP
// server answer.
const greetingLineEnd = ";\n"

// Client runs the connecting side's handshake on fc (spec.md, 3) and
// returns the connection. ctx bounds the handshake only. On error fc is
// closed; the error is a [*service.Error]: [service.KindUnsupported] when the remote
// refused (no common codec), [service.KindBadFrame] for an answer that is not the
// protocol's (an HTTP server's included, on a byte stream from
// [NewStreamConn], [Dial] or [Listen], at once), [service.KindDeadlineExceeded] after
// the handshake timeout ([WithHandshakeTimeout]), [service.KindUnavailable]
// when the transport failed. opts configure the connection.
func Client(ctx context.Context, fc FrameConn, opts ...Option) (*Conn, error) {
	return clientHandshake(ctx, fc, connConfigOf(opts))
}

// clientHandshake is Client with the settings of its options.
func clientHandshake(ctx context.Context, fc FrameConn, cfg connConfig) (*Conn, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		fc.Close()
		return nil, err
	}
	h, err := runHandshake(ctx, fc, c.HandshakeTimeout, func(ctx context.Context) (handshake, error) {
		if err := tlsHandshake(ctx, fc); err != nil {
			return handshake{}, err
		}
		g := greeting(&c)
		if _, ok := fc.(*streamConn); ok {
			// An HTTP server reached by mistake (tcp:// to an HTTP port)
			// answers only once a request line ends; without a line end
			// it would wait as long as we do (spec.md, 3.1).
			g += greetingLineEnd
		}
		if err := fc.WriteFrames(ctx, []Frame{{Data: []byte(g), Text: true}}); err != nil {
			return handshake{}, err
		}
		a, err := readHandshakeFrame(ctx, fc)
		if err != nil {
			return handshake{}, err
		}
		return parseAnswer(a, &c)
	})
	if err != nil {
		return nil, err
	}
	return newConn(fc, c, h), nil
}

// Server runs the accepting side's handshake on fc (spec.md, 3) and
// returns the connection. ctx bounds the handshake only. A greeting that
// offers no codec this side has is answered with "-ERR <reason>" and
// fails with [service.KindUnsupported]; on any error fc is closed. opts
// configure the connection.
func Server(ctx context.Context, fc FrameConn, opts ...Option) (*Conn, error) {
	return serverHandshake(ctx, fc, connConfigOf(opts))
}

// serverHandshake is Server with the settings of its options.
func serverHandshake(ctx context.Context, fc FrameConn, cfg connConfig) (*Conn, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		fc.Close()
		return nil, err
	}
	h, err := runHandshake(ctx, fc, c.HandshakeTimeout, func(ctx context.Context) (handshake, error) {
		if err := tlsHandshake(ctx, fc); err != nil {
			return handshake{}, err
		}
		g, err := readHandshakeFrame(ctx, fc)
		if err != nil {
			return handshake{}, err
		}
		ans, h, err := answerGreeting(g, &c)
		if err != nil {
			var se *service.Error
			msg := err.Error()
			if errors.As(err, &se) {
				msg = se.Message
			}
			// Best effort: the error answer tells the connector why.
			fc.WriteFrames(ctx, []Frame{{Data: []byte("-ERR " + msg), Text: true}})
			return handshake{}, err
		}
		if err := fc.WriteFrames(ctx, []Frame{{Data: []byte(ans), Text: true}}); err != nil {
			return handshake{}, err
		}
		return h, nil
	})
	if err != nil {
		return nil, err
	}
	return newConn(fc, c, h), nil
}

func newConn(fc FrameConn, cfg connConfig, h handshake) *Conn {
	codec, _ := codecFor(h.codec, cfg.Limits)
	c := &Conn{
		fc:               fc,
		cfg:              cfg,
		codec:            codec,
		ext:              h.ext,
		peerStreamWindow: int64(h.peerStreamWindow),
		log:              cfg.Logger.With("remote", fc.RemoteAddr()),
		out:              map[uint64]*ClientStream{},
		in:               map[uint64]*ServerStream{},
		refused:          map[uint64]struct{}{},
		handlers:         map[string]registered{},
		closed:           make(chan struct{}),
	}
	// The calls c serves find it, and who is at the other end, in their
	// contexts (ConnFromContext, intercept.PeerFromContext).
	base := intercept.WithPeer(context.WithValue(context.Background(), connKey{}, c), c.Peer())
	c.ctx, c.cancel = context.WithCancelCause(base)
	c.sendCredit.init(int64(h.peerConnWindow))
	if h.peerStreams > 0 {
		c.places = make(chan struct{}, h.peerStreams)
	}
	if cfg.RatePerSecond > 0 {
		c.rate = ratelimit.NewBucket(cfg.RatePerSecond, cfg.RateBurst)
	}
	c.wq.init(max(1<<20, cfg.MaxFrameSize))
	c.sendSlots = make(chan struct{}, sendSlots())
	c.lastRecv.Store(time.Now().UnixNano())
	if cfg.ConnState != nil {
		// Before the reader starts, so that the connection's end is
		// reported after it.
		cfg.ConnState(c, ConnStateOpen)
	}
	go c.readLoop()
	go c.writeLoop()
	go c.watch()
	if cfg.KeepAlive > 0 {
		if c.has(extPing) {
			go c.keepAlive(c.pingEnvelope)
		} else if p, ok := fc.(Pinger); ok {
			go c.keepAlive(c.pingTransport(p))
		}
	}
	return c
}

// Stats counts what a connection has carried since its handshake, and
// the calls open on it now.
type Stats struct {
	FramesSent     int64
	FramesReceived int64 // keepalive frames included
	// BytesSent and BytesReceived count frame data, without the
	// transport's own framing.
	BytesSent     int64
	BytesReceived int64
	// Batches counts the batches of frames written to the transport: on
	// a stream transport (TCP, Unix sockets, stdio), one write system
	// call each for a batch of up to 64 KiB. FramesSent / Batches is how
	// many frames a write carried on average.
	Batches int64
	// Streams is how many calls are open on the connection now, both
	// ways: this side's awaiting their results and the remote's being
	// served (every call is a stream on the wire, unary or not).
	Streams int
}

type connStats struct {
	framesOut, framesIn, bytesOut, bytesIn, batches atomic.Int64
}

// Stats returns the connection's counts so far.
func (c *Conn) Stats() Stats {
	return Stats{
		FramesSent:     c.stats.framesOut.Load(),
		FramesReceived: c.stats.framesIn.Load(),
		BytesSent:      c.stats.bytesOut.Load(),
		BytesReceived:  c.stats.bytesIn.Load(),
		Batches:        c.stats.batches.Load(),
		Streams:        c.openStreams(),
	}
}

// openStreams counts the calls open both ways.
func (c *Conn) openStreams() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.out) + len(c.in)
}

// Codec returns the name of the negotiated codec.
func (c *Conn) Codec() string { return c.codec.Name() }

// Extensions returns the negotiated extensions, sorted; none when the
// remote is a baseline peer or either side has [WithBaseline].
func (c *Conn) Extensions() []string { return c.ext.names() }

// LocalAddr returns this end's address, for logs.
func (c *Conn) LocalAddr() string { return c.fc.LocalAddr() }

// RemoteAddr returns the remote end's address, for logs.
func (c *Conn) RemoteAddr() string { return c.fc.RemoteAddr() }

// Logger returns the logger the connection logs to: [WithLogger]'s, or
// the default (see the package doc), with the remote's address. A handler that logs about the calls it
// serves logs there, so that its lines go where the connection's go.
func (c *Conn) Logger() *slog.Logger { return c.log }

func (c *Conn) has(e extSet) bool { return c.ext&e == e }

// Done returns a channel that is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.closed }

// Err returns nil while the connection is open, and then why it ended:
// a [*service.Error] of kind [service.KindUnavailable] for a connection closed by either
// side, lost, or whose remote stopped answering pings; [service.KindBadFrame],
// [service.KindTooLarge] or [service.KindOverloaded] for a remote that broke the protocol.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection now. Calls in flight in either direction
// fail: ours with a retryable [service.KindUnavailable] error, the remote's handlers
// see their context canceled.
func (c *Conn) Close() error {
	c.fail(errClosed)
	return nil
}

// Shutdown closes the connection gracefully: it tells the remote it is
// going away (extension "goaway"), refuses new calls in both directions
// with a retryable [service.KindUnavailable] error, waits for the calls in flight in
// both directions to finish and their replies to be written, then closes.
// If ctx ends first, it closes at once and returns ctx's error.
func (c *Conn) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return nil
	}
	first := !c.closing
	c.closing = true
	if c.drained == nil {
		c.drained = make(chan struct{})
	}
	drained := c.drained
	last := c.lastIn
	c.checkDrainedLocked()
	c.mu.Unlock()
	if first && c.has(extGoaway) {
		c.pushEnvelope(&Envelope{Type: TypeGoaway, ID: last})
	}
	select {
	case <-drained:
	case <-c.closed:
		return nil
	case <-ctx.Done():
		c.Close()
		return ctx.Err()
	}
	if err := c.flush(ctx); err != nil {
		c.Close()
		if ctx.Err() == nil && closedNormally(c.Err()) {
			// The remote hung up as we were finishing, as a remote
			// shutting down too does: the end we were heading for.
			return nil
		}
		return err
	}
	c.Close()
	return nil
}

// checkDrainedLocked closes drained when Shutdown waits and nothing is
// in flight. c.mu is held.
func (c *Conn) checkDrainedLocked() {
	if c.closing && c.drained != nil && c.running == 0 && len(c.out) == 0 {
		select {
		case <-c.drained:
		default:
			close(c.drained)
		}
	}
}

// fail ends the connection with reason: pending calls fail with
// [service.KindUnavailable], handlers are canceled, the transport is
// closed (with the reason, where it carries one). The first reason
// given wins.
func (c *Conn) fail(reason *service.Error) {
	c.recordReason(reason)
	c.closeOnce.Do(c.teardown)
}

// failTelling ends the connection as fail does, after sending a remote
// that negotiated goaway one with the reason as error: for a remote
// that broke the protocol, which is told why it is cut off.
func (c *Conn) failTelling(reason *service.Error) {
	first, last := c.recordReason(reason)
	if first {
		c.log.Info("peer: connection closed: the remote broke the protocol", "err", reason)
	}
	if first && c.has(extGoaway) {
		// Outside closeOnce, so that a writer failing meanwhile closes
		// the connection instead of waiting for this.
		c.pushEnvelope(&Envelope{Type: TypeGoaway, ID: last, Error: errorBody(reason)})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.flush(ctx)
		cancel()
	}
	c.fail(reason)
}

// recordReason makes reason why the connection ends, unless there is
// one already, and reports whether it did, with the highest incoming
// call id.
func (c *Conn) recordReason(reason *service.Error) (first bool, lastIn uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first = c.reason == nil
	if first {
		c.reason = reason
	}
	return first, c.lastIn
}

// teardown ends the connection for the reason recorded; it runs once.
func (c *Conn) teardown() {
	c.mu.Lock()
	reason := c.reason
	c.err = reason
	c.ended = true
	outs := make([]*ClientStream, 0, len(c.out))
	for _, s := range c.out {
		outs = append(outs, s)
	}
	c.mu.Unlock()
	if reason != errClosed {
		c.log.Debug("peer: connection ended", "reason", reason)
	}
	close(c.closed)
	if c.cfg.ConnState != nil {
		c.cfg.ConnState(c, ConnStateClosed)
	}
	closeFrameConn(c.fc, reason)
	c.cancel(lostError("", reason))
	for _, s := range outs {
		s.end(lostError(s.method, reason))
	}
}

// replyError queues an error reply to the remote's call id.
func (c *Conn) replyError(id uint64, ext any, err error) {
	c.pushEnvelope(&Envelope{Type: TypeRep, ID: id, Ext: ext, Error: errorBody(err)})
}
