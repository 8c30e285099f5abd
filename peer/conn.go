package peer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Defaults of Config.
const (
	defaultWindow           = 64
	defaultMaxBuffered      = 1024
	defaultMaxStreams       = 4096
	defaultKeepAlive        = 30 * time.Second
	defaultKeepAliveTimeout = 15 * time.Second
	defaultHandshakeTimeout = 10 * time.Second
)

// Config configures a connection. The zero value is valid; zero fields
// take the defaults named on each.
type Config struct {
	// Codecs lists the codecs this side speaks, in order of preference;
	// default glyph, msgpack, json. A connector offers them all; an
	// acceptor picks the connector's first that it has.
	Codecs []string
	// Handler serves the calls the remote makes on this connection, after
	// the handlers of Register. Nil answers every call "method not found".
	Handler Handler
	// MaxFrameSize bounds a received frame; default 4 MiB
	// (DefaultMaxFrameSize). A bigger frame closes the connection.
	MaxFrameSize int
	// Window is the per-stream flow-control credit in messages that this
	// side grants in each direction (extension "flow"); default 64.
	Window int
	// MaxBuffered bounds the unread messages of one stream when the
	// remote has no flow control (a baseline peer); beyond it the stream
	// fails with [service.KindOverloaded] rather than stall the connection. Default 1024.
	MaxBuffered int
	// MaxStreams bounds the incoming calls served at once, notifications
	// included; more are refused with [service.KindOverloaded]. Default 4096.
	MaxStreams int
	// KeepAlive is how long the connection may be silent before this side
	// pings (extension "ping"), and KeepAliveTimeout how long it then
	// waits for any frame before it declares the remote dead and closes
	// the connection with [service.KindUnavailable]. A remote without the extension (a
	// baseline duplex peer) is pinged the transport's own way when the
	// FrameConn is a Pinger (WebSocket is), and must answer within
	// KeepAliveTimeout. Defaults 30s and 15s; a negative KeepAlive
	// disables pinging.
	KeepAlive, KeepAliveTimeout time.Duration
	// Baseline makes this side offer and accept no extensions and no
	// codec negotiation: it talks exactly like a public duplex peer.
	Baseline bool
	// Limits bound what the decoders accept (depth, items, string
	// sizes); zero fields take wire.DefaultLimits.
	Limits wire.Limits
	// Logger receives protocol diagnostics (unknown ids at debug, bad
	// frames and handler panics at warn and error) and what handlers log
	// through [Conn.Logger], such as the calls of
	// [github.com/glyph-ipc/glyph/hyperpeer.NewHandler]; nil means
	// [slog.Default] (see the package doc).
	Logger *slog.Logger
	// HandshakeTimeout bounds the handshake; default 10s.
	HandshakeTimeout time.Duration
}

// withDefaults returns a copy of cfg with defaults filled in, or an error
// for settings that cannot work.
func (cfg *Config) withDefaults() (Config, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if len(c.Codecs) == 0 {
		c.Codecs = codecNames
	}
	for _, n := range c.Codecs {
		if _, ok := CodecByName(n); !ok {
			return c, errorf(service.KindInvalid, "peer: unknown codec %q (glyph, msgpack, json)", n)
		}
	}
	c.Codecs = append([]string(nil), c.Codecs...)
	if c.MaxFrameSize <= 0 {
		c.MaxFrameSize = DefaultMaxFrameSize
	}
	if c.Window <= 0 {
		c.Window = defaultWindow
	}
	c.Window = min(c.Window, maxWindow)
	if c.MaxBuffered <= 0 {
		c.MaxBuffered = defaultMaxBuffered
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = defaultMaxStreams
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = defaultKeepAlive
	}
	if c.KeepAliveTimeout <= 0 {
		c.KeepAliveTimeout = defaultKeepAliveTimeout
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = defaultHandshakeTimeout
	}
	if c.Logger == nil {
		c.Logger = defaultLogger()
	}
	return c, nil
}

// Conn is one peer connection: after the handshake both ends are equal,
// and either calls the other. It is safe for concurrent use. A Conn runs
// one reader goroutine, which demultiplexes incoming envelopes to calls
// by (type, id), and one writer goroutine, which writes what is queued
// in batches; handlers run on their own goroutines.
type Conn struct {
	fc         FrameConn
	cfg        Config
	codec      Codec
	ext        extSet
	peerWindow int64 // initial send credit per stream (flow)
	log        *slog.Logger

	ctx    context.Context // parent of handler contexts; canceled on close
	cancel context.CancelCauseFunc

	pingID uint64 // the last ping envelope's id; keepAlive's alone

	wq       writeQueue
	lastRecv atomic.Int64 // unix nanoseconds of the last frame read
	stats    connStats

	// The reader's own: the envelope it decodes into (nothing keeps it
	// past dispatch) and the method names it has read.
	rx    Envelope
	names nameCache

	mu       sync.Mutex // guards the fields below
	nextID   uint64
	out      map[uint64]*ClientStream // our calls waiting for results
	in       map[uint64]*ServerStream // the remote's calls being served
	refused  map[uint64]struct{}      // the remote's calls refused before their last argument
	handlers map[string]*registered
	running  int           // handler goroutines, notifications included
	lastIn   uint64        // the highest incoming call id seen
	closing  bool          // Shutdown began: refuse new calls both ways
	away     bool          // the remote sent goaway: make no new calls
	ended    bool          // the connection is closed
	drained  chan struct{} // closed when closing and nothing is in flight
	err      error         // why the connection ended
	// remoteReason is the error of a goaway: why the remote closes.
	remoteReason *service.Error
	reason       *service.Error // the first reason given to fail

	closeOnce sync.Once
	closed    chan struct{}
}

type registered struct{ h Handler }

// greetingLineEnd ends a connector's greeting on a byte stream: an empty
// parameter, which acceptors ignore, and a line feed, which makes an HTTP
// server answer.
const greetingLineEnd = ";\n"

// Client runs the connecting side's handshake on fc (spec.md, 3) and
// returns the connection. ctx bounds the handshake only. On error fc is
// closed; the error is a *service.Error: [service.KindUnsupported] when the remote
// refused (no common codec), [service.KindBadFrame] for an answer that is not the
// protocol's (an HTTP server's included, on a byte stream from
// NewStreamConn, Dial or Listen, at once), [service.KindDeadlineExceeded] after
// cfg.HandshakeTimeout, [service.KindUnavailable] when the transport failed.
func Client(ctx context.Context, fc FrameConn, cfg *Config) (*Conn, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		fc.Close()
		return nil, err
	}
	h, err := runHandshake(ctx, fc, c.HandshakeTimeout, func(ctx context.Context) (handshake, error) {
		g := greeting(c.Codecs, c.Baseline, c.Window)
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
		return parseAnswer(a, c.Codecs, c.Baseline)
	})
	if err != nil {
		return nil, err
	}
	return newConn(fc, c, h), nil
}

// Server runs the accepting side's handshake on fc (spec.md, 3) and
// returns the connection. ctx bounds the handshake only. A greeting that
// offers no codec this side has is answered with "-ERR <reason>" and
// fails with [service.KindUnsupported]; on any error fc is closed.
func Server(ctx context.Context, fc FrameConn, cfg *Config) (*Conn, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		fc.Close()
		return nil, err
	}
	h, err := runHandshake(ctx, fc, c.HandshakeTimeout, func(ctx context.Context) (handshake, error) {
		g, err := readHandshakeFrame(ctx, fc)
		if err != nil {
			return handshake{}, err
		}
		ans, h, err := answerGreeting(g, c.Codecs, c.Baseline, c.Window)
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

func newConn(fc FrameConn, cfg Config, h handshake) *Conn {
	codec, _ := codecFor(h.codec, cfg.Limits)
	c := &Conn{
		fc:         fc,
		cfg:        cfg,
		codec:      codec,
		ext:        h.ext,
		peerWindow: int64(h.peerWindow),
		log:        cfg.Logger.With("remote", fc.RemoteAddr()),
		out:        map[uint64]*ClientStream{},
		in:         map[uint64]*ServerStream{},
		refused:    map[uint64]struct{}{},
		handlers:   map[string]*registered{},
		closed:     make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	c.wq.init(max(1<<20, cfg.MaxFrameSize))
	c.lastRecv.Store(time.Now().UnixNano())
	go c.readLoop()
	go c.writeLoop()
	if cfg.KeepAlive > 0 {
		if c.has(extPing) {
			go c.keepAlive(c.pingEnvelope)
		} else if p, ok := fc.(Pinger); ok {
			go c.keepAlive(c.pingTransport(p))
		}
	}
	return c
}

// Stats counts what a connection has carried since its handshake.
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
	}
}

// Codec returns the name of the negotiated codec.
func (c *Conn) Codec() string { return c.codec.Name() }

// Extensions returns the negotiated extensions, sorted; none when the
// remote is a baseline peer or either side was configured Baseline.
func (c *Conn) Extensions() []string { return c.ext.names() }

// LocalAddr returns this end's address, for logs.
func (c *Conn) LocalAddr() string { return c.fc.LocalAddr() }

// RemoteAddr returns the remote end's address, for logs.
func (c *Conn) RemoteAddr() string { return c.fc.RemoteAddr() }

// Logger returns the logger the connection logs to: [Config.Logger]
// with the remote's address. A handler that logs about the calls it
// serves logs there, so that its lines go where the connection's go.
func (c *Conn) Logger() *slog.Logger { return c.log }

func (c *Conn) has(e extSet) bool { return c.ext&e == e }

// Done returns a channel that is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.closed }

// Err returns nil while the connection is open, and then why it ended:
// a *service.Error of kind [service.KindUnavailable] for a connection closed by either
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
	c.fail(errClosed, false)
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
// [service.KindUnavailable], handlers are canceled, the transport is closed (with the
// reason, where it carries one). With tell, a remote that negotiated
// goaway is first sent one with the reason as error.
func (c *Conn) fail(reason *service.Error, tell bool) {
	c.mu.Lock()
	first := c.reason == nil
	if first {
		c.reason = reason
	}
	last := c.lastIn
	c.mu.Unlock()
	if first && tell && c.has(extGoaway) {
		// Outside closeOnce, so that a writer failing meanwhile closes
		// the connection instead of waiting for this.
		c.pushEnvelope(&Envelope{Type: TypeGoaway, ID: last, Error: errorBody(reason)})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.flush(ctx)
		cancel()
	}
	c.closeOnce.Do(func() {
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
		closeFrameConn(c.fc, reason)
		c.cancel(lostError("", reason))
		for _, s := range outs {
			s.end(lostError(s.method, reason), false)
		}
	})
}

// replyError queues an error reply to the remote's call id.
func (c *Conn) replyError(id uint64, ext any, err error) {
	c.pushEnvelope(&Envelope{Type: TypeRep, ID: id, Ext: ext, Error: errorBody(err)})
}

// ---- reading ----

func (c *Conn) readLoop() {
	for {
		// The frame's data lasts until the next read: the codecs copy
		// what they decode.
		f, err := c.fc.ReadFrame(context.Background())
		if err != nil {
			reason := readError(err)
			// A frame over the limit: tell the remote before closing
			// (a WebSocket library has already, with status 1009).
			_, ws := c.fc.(*wsConn)
			tell := reason.Kind == service.KindTooLarge && !ws
			c.mu.Lock()
			if c.remoteReason != nil {
				reason, tell = c.remoteReason, false
			}
			c.mu.Unlock()
			c.fail(reason, tell)
			return
		}
		c.lastRecv.Store(time.Now().UnixNano())
		c.stats.framesIn.Add(1)
		c.stats.bytesIn.Add(int64(len(f.Data)))
		if len(f.Data) == 0 {
			continue // keepalive
		}
		if len(f.Data) > c.cfg.MaxFrameSize {
			c.fail(errorf(service.KindTooLarge, "frame of %d bytes over the limit of %d", len(f.Data), c.cfg.MaxFrameSize), true)
			return
		}
		env := &c.rx
		if g, ok := c.codec.(glyphCodec); ok {
			err = g.unmarshalGlyph(f.Data, env, &c.names)
		} else {
			err = c.codec.Unmarshal(f.Data, env)
		}
		if err != nil {
			if !c.badEnvelope(env, err) {
				return
			}
			continue
		}
		if !c.dispatch(env) {
			return
		}
	}
}

// badEnvelope handles an envelope that did not decode or validate: an
// error reply to a call whose id could be read, else the connection
// closes with the reason. It reports whether to keep reading.
func (c *Conn) badEnvelope(env *Envelope, err error) bool {
	se, ok := err.(*service.Error)
	if !ok {
		se = wrapErr(service.KindBadFrame, err.Error(), err)
	}
	if env.Type == TypeRep && env.ID == 0 {
		// No call can be waiting for it: duplex's JavaScript peer
		// answers notifications this way ("id":null).
		c.log.Debug("peer: reply without an id ignored", "err", err)
		return true
	}
	c.log.Warn("peer: bad envelope", "type", env.Type, "id", env.ID, "err", err)
	switch {
	case env.Type == TypeReq && env.ID != 0:
		c.mu.Lock()
		s := c.in[env.ID]
		_, refused := c.refused[env.ID]
		if s == nil && !refused {
			// Whether more arguments follow cannot be told: remember the
			// id, so that any that do are not taken for a new call.
			c.refuseLocked(env.ID)
		}
		c.mu.Unlock()
		switch {
		case s != nil:
			s.fail(se)
		case !refused:
			c.replyError(env.ID, nil, se)
		}
		return true
	case env.Type == TypeRep && env.ID != 0:
		c.mu.Lock()
		s := c.out[env.ID]
		c.mu.Unlock()
		if s != nil {
			s.end(&service.Error{Op: s.method, Kind: se.Kind, Message: "bad reply: " + se.Message, Err: se}, true)
		}
		return true
	}
	c.fail(se, true)
	return false
}

// typeExt is the extension each envelope type needs.
var typeExt = map[string]extSet{
	TypeCancel: extCancel, TypeReqEnd: extEnd, TypeRepEnd: extEnd,
	TypeReqCredit: extFlow, TypeRepCredit: extFlow,
	TypePing: extPing, TypePong: extPing, TypeGoaway: extGoaway,
}

// dispatch routes one envelope. The reader never blocks here: it only
// queues messages for streams and frames for the writer. It reports
// whether to keep reading.
func (c *Conn) dispatch(env *Envelope) bool {
	if e, ok := typeExt[env.Type]; ok && !c.has(e) {
		c.fail(badFrame("envelope type %q without the %q extension", env.Type, e.names()[0]), true)
		return false
	}
	switch env.Type {
	case TypeReq:
		c.incoming(env)
	case TypeRep:
		if s := c.outStream(env.ID); s != nil {
			s.deliver(env)
		}
	case TypeRepEnd:
		if s := c.outStream(env.ID); s != nil {
			s.endResults()
		}
	case TypeReqCredit:
		if s := c.outStream(env.ID); s != nil {
			s.credit.add(env.Credit)
		}
	case TypeCancel:
		if s := c.inStream(env.ID); s != nil {
			s.canceled()
		}
	case TypeReqEnd:
		if s := c.inStream(env.ID); s != nil {
			s.endArgs()
		}
	case TypeRepCredit:
		if s := c.inStream(env.ID); s != nil {
			s.credit.add(env.Credit)
		}
	case TypePing:
		c.pushEnvelope(&Envelope{Type: TypePong, ID: env.ID})
	case TypePong:
	case TypeGoaway:
		c.mu.Lock()
		c.away = true
		if env.Error != nil {
			// The remote is closing because of us: that is the reason
			// the connection will end.
			re := remoteError("", env.Error)
			re.Message = "closed by the remote: " + re.Message
			c.remoteReason = re
		}
		c.mu.Unlock()
		if env.Error != nil {
			c.log.Warn("peer: remote is going away", "code", env.Error.Code, "message", env.Error.Message)
		}
	}
	return true
}

func (c *Conn) outStream(id uint64) *ClientStream {
	c.mu.Lock()
	s := c.out[id]
	c.mu.Unlock()
	if s == nil {
		c.log.Debug("peer: reply for an unknown call id", "id", id)
	}
	return s
}

func (c *Conn) inStream(id uint64) *ServerStream {
	c.mu.Lock()
	s := c.in[id]
	c.mu.Unlock()
	if s == nil {
		c.log.Debug("peer: message for an unknown incoming call id", "id", id)
	}
	return s
}

// incoming handles a req: the next argument of a call being served, or
// a new call (or notification) to start a handler for.
func (c *Conn) incoming(env *Envelope) {
	c.mu.Lock()
	if env.ID != 0 {
		if s := c.in[env.ID]; s != nil {
			c.mu.Unlock()
			s.deliver(env)
			return
		}
		if _, ok := c.refused[env.ID]; ok {
			// The rest of a call already answered with an error.
			if !env.More {
				delete(c.refused, env.ID)
			}
			c.mu.Unlock()
			return
		}
		if env.ID > c.lastIn {
			c.lastIn = env.ID
		}
	}
	var refuse error
	var h Handler
	switch {
	case c.closing || c.ended:
		refuse = opErrorf(env.Method, service.KindUnavailable, "connection shutting down")
	case c.running >= c.cfg.MaxStreams || len(c.in) >= c.cfg.MaxStreams:
		refuse = opErrorf(env.Method, service.KindOverloaded, "too many calls at once (%d)", c.cfg.MaxStreams)
	default:
		if r := c.handlers[env.Method]; r != nil {
			h = r.h
		} else if c.cfg.Handler != nil {
			h = c.cfg.Handler
		} else {
			refuse = errorf(service.KindNotFound, "method not found: %s", env.Method)
		}
	}
	if refuse != nil {
		if env.ID != 0 && env.More {
			c.refuseLocked(env.ID)
		}
		c.mu.Unlock()
		if env.ID == 0 {
			c.log.Debug("peer: notification dropped", "method", env.Method, "err", refuse)
			return
		}
		c.replyError(env.ID, env.Ext, refuse)
		return
	}
	s := c.newServerStream(env)
	if env.ID != 0 {
		c.in[env.ID] = s
	}
	c.running++
	c.mu.Unlock()
	go c.serve(s, h)
}

// refuseLocked remembers a call answered with an error before its last
// argument arrived, so that its other arguments are dropped rather than
// taken for a new call (a caller never reuses an id). The memory is
// bounded: past MaxStreams ids, later arguments are answered again
// instead. c.mu is held.
func (c *Conn) refuseLocked(id uint64) {
	if len(c.refused) < c.cfg.MaxStreams {
		c.refused[id] = struct{}{}
	}
}

// serve runs a handler and sends its result.
func (c *Conn) serve(s *ServerStream, h Handler) {
	var v any
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				logref := newLogref()
				c.log.Error("peer: handler panic", "method", s.method, "panic", p, "logref", logref, "stack", string(debug.Stack()))
				v, err = nil, &service.Error{Op: s.method, Kind: service.KindInternal, Message: "internal error", Logref: logref}
			}
		}()
		v, err = h.ServePeer(s.ctx, s)
	}()
	s.finish(v, err)
	c.mu.Lock()
	c.running--
	c.checkDrainedLocked()
	c.mu.Unlock()
}

// ---- calls ----

// addOut registers an outgoing call and returns its id.
func (c *Conn) addOut(s *ClientStream) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.refusingLocked(s.method); err != nil {
		return 0, err
	}
	c.nextID++
	c.out[c.nextID] = s
	return c.nextID, nil
}

// refusingLocked returns why no new call can start, or nil.
func (c *Conn) refusingLocked(method string) error {
	switch {
	case c.ended:
		return lostError(method, c.err)
	case c.closing:
		return &service.Error{Op: method, Kind: service.KindUnavailable, Message: "connection shutting down"}
	case c.away:
		return &service.Error{Op: method, Kind: service.KindUnavailable, Message: "remote is going away"}
	}
	return nil
}

func (c *Conn) removeOut(id uint64, s *ClientStream) {
	c.mu.Lock()
	if c.out[id] == s {
		delete(c.out, id)
		c.checkDrainedLocked()
	}
	c.mu.Unlock()
}

func (c *Conn) removeIn(id uint64, s *ServerStream) {
	c.mu.Lock()
	if c.in[id] == s {
		delete(c.in, id)
	}
	c.mu.Unlock()
}

// Call calls method with args and returns its result. By convention args
// is a list for positional arguments, a map for named ones, any other
// value for a single argument and nil for none; the engine carries it as
// it is.
//
// Call is unary: if the remote streams its reply (a rep with more), Call
// fails with [service.KindUnsupported] and cancels the call; use NewStream for methods
// that stream. Errors are *service.Error: the remote's error reply (its
// code mapped to a Kind, unknown codes as [service.KindOther], with a *RemoteError as
// Err), [service.KindCanceled] or [service.KindDeadlineExceeded] when ctx ends, [service.KindUnavailable]
// (retryable) when the connection is or goes down before the reply.
//
// The request's ext carries Header(ctx) merged with WithCallHeader; ctx's
// deadline travels as the call's timeout (extension "deadline").
func (c *Conn) Call(ctx context.Context, method string, args any, opts ...CallOption) (any, error) {
	s, err := startCall(ctx, c, method, args, opts)
	if err != nil {
		return nil, err
	}
	return finishCall(s)
}

// CallStream calls method with args as Call does, in one req without
// more, and returns the stream its results come on: one result, or a
// stream of them (ClientStream.Streamed tells which once Recv returned
// the first). The call's arguments are closed: Send fails and CloseSend
// does nothing. Recv until an error (io.EOF after the last result), or
// Close, releases the call; Close before the end cancels it.
//
// Use it rather than NewStream, Send and CloseSend when args are the
// call's arguments rather than the one item of a stream. With the "end"
// extension those send a stream of one item (a req with more, then a
// reqend), which a remote tells from a call's arguments (see
// [ServerStream.ArgForm]): package hyperpeer gives that item to a
// function's iter.Seq parameter.
func (c *Conn) CallStream(ctx context.Context, method string, args any, opts ...CallOption) (*ClientStream, error) {
	s, err := c.newClientStream(ctx, method, opts, false)
	if err != nil {
		return nil, err
	}
	return s.sendWhole(args)
}

// startCall queues the request of a unary call on c and returns the
// stream its reply comes on: Conn.Call up to the wait for the reply, which
// Peer uses on its own so that calls leaving its queue go out in order.
// When it fails nothing was sent.
func startCall(ctx context.Context, c *Conn, method string, args any, opts []CallOption) (*ClientStream, error) {
	s, err := c.newClientStream(ctx, method, opts, true)
	if err != nil {
		return nil, err
	}
	return s.sendWhole(args)
}

// sendWhole sends args as the call's only req, without more, and returns
// s; when that fails it closes s and returns why.
func (s *ClientStream) sendWhole(args any) (*ClientStream, error) {
	c, method := s.c, s.method
	s.mu.Lock()
	s.argsDone = true
	s.mu.Unlock()
	if err := s.sendArg(args, false); err != nil {
		if err == io.EOF {
			// The call ended before its request went out: say why.
			if _, rerr := s.Recv(); rerr != nil && rerr != io.EOF {
				err = rerr
			} else {
				err = lostError(method, c.Err())
			}
		}
		s.Close()
		return nil, err
	}
	return s, nil
}

// finishCall waits for the reply of a call startCall sent.
func finishCall(s *ClientStream) (any, error) {
	v, err := s.Recv()
	s.release()
	if err == io.EOF {
		return nil, nil // a stream that ended without an item
	}
	return v, err
}

// Notify sends a notification: method runs on the remote with args, and
// nothing is replied, not even an error. Notify returns once the
// notification is queued for writing.
func (c *Conn) Notify(ctx context.Context, method string, args any, opts ...CallOption) error {
	if method == "" {
		return errorf(service.KindInvalid, "peer: empty method name")
	}
	o := callOpts(opts)
	env := &Envelope{Type: TypeReq, Method: method, Payload: args, Ext: o.ext(ctx)}
	if o.safe && c.has(extSafe) {
		env.Safe = true
	}
	e, err := c.encode(env)
	if err != nil {
		return opError(method, err)
	}
	if err := c.waitSpace(ctx, nil); err != nil {
		e.discard()
		if err == errDone {
			return ctxError(method, ctx)
		}
		return err
	}
	c.mu.Lock()
	err = c.refusingLocked(method)
	c.mu.Unlock()
	if err != nil {
		e.discard()
		return err
	}
	c.queue(e)
	return nil
}

// Register makes h serve calls of the method name on this connection
// only, before Config.Handler: callbacks, typically under a name from
// NewCallbackName sent to the remote in a call's arguments. release
// removes it (if it is still the one registered under name).
func (c *Conn) Register(name string, h Handler) (release func()) {
	r := &registered{h: h}
	c.mu.Lock()
	c.handlers[name] = r
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		if c.handlers[name] == r {
			delete(c.handlers, name)
		}
		c.mu.Unlock()
	}
}

// NewCallbackName returns a fresh method name for a callback:
// "_callback." followed by 32 random hex digits.
func NewCallbackName() string {
	var b [16]byte
	rand.Read(b[:])
	return "_callback." + hex.EncodeToString(b[:])
}

func newLogref() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ---- keepalive ----

// keepAlive pings a silent remote with ping and closes the connection
// when ping reports no answer within KeepAliveTimeout.
func (c *Conn) keepAlive(ping func(wait time.Duration) bool) {
	every, wait := c.cfg.KeepAlive, c.cfg.KeepAliveTimeout
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
		}
		since := time.Since(time.Unix(0, c.lastRecv.Load()))
		if since < every {
			t.Reset(every - since)
			continue
		}
		if !ping(wait) {
			select {
			case <-c.closed:
			default:
				c.fail(wrapErr(service.KindUnavailable, fmt.Sprintf("keepalive: no answer from the remote within %v", wait), context.DeadlineExceeded), false)
			}
			return
		}
		t.Reset(every)
	}
}

// pingEnvelope sends a ping envelope (extension "ping") and reports
// whether any frame came within wait.
func (c *Conn) pingEnvelope(wait time.Duration) bool {
	sent := time.Now().UnixNano()
	c.pingID++
	c.pushEnvelope(&Envelope{Type: TypePing, ID: c.pingID})
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.closed:
		return true
	case <-t.C:
	}
	return c.lastRecv.Load() >= sent
}

// pingTransport returns a ping that uses the transport's own (a WebSocket
// ping, which the remote's library answers with a pong).
func (c *Conn) pingTransport(p Pinger) func(wait time.Duration) bool {
	return func(wait time.Duration) bool {
		ctx, cancel := context.WithTimeout(c.ctx, wait)
		defer cancel()
		err := p.Ping(ctx)
		return err == nil || c.ctx.Err() != nil
	}
}
