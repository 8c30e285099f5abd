package peer

import (
	"github.com/glyph-ipc/glyph/intercept"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// DefaultServerInboundBytes is the size of the [Budget] that [Serve] and
// [New] share between their connections when the options give none (see
// [WithInboundBudget]).
const DefaultServerInboundBytes = 256 << 20

// Defaults of a connection's settings.
const (
	defaultStreamWindow     = 256 << 10
	defaultConnWindow       = 16 << 20
	defaultMaxBuffered      = 1024
	defaultMaxStreams       = 256
	defaultMaxInboundBytes  = 32 << 20
	defaultKeepAlive        = 30 * time.Second
	defaultKeepAliveTimeout = 15 * time.Second
	defaultHandshakeTimeout = 10 * time.Second
	defaultStallTimeout     = 30 * time.Second
	defaultIdleTimeout      = 5 * time.Minute
)

// An Option configures a connection: Client, Server, Serve, and (since
// every Option is a [PeerOption]) every connection of a [Peer].
type Option interface {
	PeerOption
	applyConn(*connConfig)
}

// A PeerOption configures a [Peer] (New): every Option, for each of its
// connections, and the settings of the peer itself ([WithQueue],
// [WithBackoff], [WithInterceptors], [WithDialOptions]).
type PeerOption interface {
	applyPeer(*Peer)
}

// peerOption is a PeerOption that sets the peer's own settings.
type peerOption func(*Peer)

func (f peerOption) applyPeer(p *Peer) { f(p) }

// WithQueue lets up to n calls wait for a connection when there is none;
// more fail at once with [service.KindOverloaded]. With n = 0 no call
// waits: a call made without a connection fails at once with
// [service.KindUnavailable]. The default is 1024.
func WithQueue(n int) PeerOption {
	return peerOption(func(p *Peer) { p.queueMax = max(n, 0) })
}

// WithBackoff sets how long the peer waits before it redials an address
// that failed or dropped: about least the first time, twice as long
// after each failure up to most, each wait picked at random between half
// and all of that. Defaults 100ms and 30s, which a duration ≤ 0 keeps.
func WithBackoff(least, most time.Duration) PeerOption {
	return peerOption(func(p *Peer) {
		if least > 0 {
			p.backoffMin = least
		}
		if most > 0 {
			p.backoffMax = most
		}
	})
}

// WithInterceptors adds middleware (package intercept) to the calls the
// peer makes and serves with its Handler; the first given is the
// outermost. A service served by package hyperpeer takes its interceptors
// on the service instead (service.WithInterceptors), where they see every
// transport's calls. See [Peer.Call], [Peer.NewStream] and [WithHandler]
// for what the interceptors see.
func WithInterceptors(ics ...intercept.Interceptor) PeerOption {
	ics = append([]intercept.Interceptor(nil), ics...)
	return peerOption(func(p *Peer) { p.interceptors = append(p.interceptors, ics...) })
}

// WithDialOptions sets how Connect and ConnectResolver dial (WebSocket
// HTTP client and headers, frame limit, [WithTLS] for "tls://"). Without
// [WithMaxFrameSize] among them, the connections' own frame limit applies.
func WithDialOptions(opts ...DialOption) PeerOption {
	opts = append([]DialOption(nil), opts...)
	return peerOption(func(p *Peer) { p.dialOpts = append(p.dialOpts, opts...) })
}

// connConfig is a connection's settings, as the Options set them; zero
// fields take the defaults (withDefaults).
type connConfig struct {
	Codecs                      []string
	Handler                     Handler
	MaxFrameSize                int
	StreamWindow, ConnWindow    int // bytes (extension "window")
	MaxBuffered                 int
	MaxStreams                  int
	MaxInboundBytes             int64
	InboundBudget               *Budget       // shared with other connections; nil: none
	KeepAlive, KeepAliveTimeout time.Duration // KeepAlive < 0: none
	Baseline                    bool
	Limits                      wire.Limits
	Logger                      *slog.Logger
	HandshakeTimeout            time.Duration
	StallTimeout                time.Duration
	IdleTimeout                 time.Duration // < 0: never
	ConnState                   func(*Conn, ConnState)
	RatePerSecond               float64 // the remote's calls; ≤ 0: no limit
	RateBurst                   int
}

// connOption is an Option that sets a field of connConfig: a
// connection's, or those of every connection of a Peer.
type connOption func(*connConfig)

func (f connOption) applyConn(c *connConfig) { f(c) }
func (f connOption) applyPeer(p *Peer)       { f(&p.cfg) }

// connConfigOf returns the settings opts make, before the defaults.
func connConfigOf(opts []Option) connConfig {
	var c connConfig
	for _, o := range opts {
		if o != nil { // a nil option does nothing, as a nil config did
			o.applyConn(&c)
		}
	}
	return c
}

// WithCodecs sets the codecs this side speaks, in order of preference;
// default glyph, msgpack, json. A connector offers them all; an acceptor
// picks the connector's first that it has. A name other than these
// three makes the connection fail with [service.KindInvalid].
func WithCodecs(names ...string) Option {
	names = append([]string(nil), names...)
	return connOption(func(c *connConfig) { c.Codecs = names })
}

// WithHandler makes h serve the calls the remote makes, after the
// handlers of [Conn.Register]; without it every call is answered "method
// not found". On a [Peer], h serves the calls of every connection, after
// the interceptors' handler wrappers.
func WithHandler(h Handler) Option {
	return connOption(func(c *connConfig) { c.Handler = h })
}

// WithStreamWindow sets how many bytes of a stream's messages this side
// lets the remote send ahead of what the application has taken, in each
// direction of each call (extension "window", spec.md section 5): a
// slow reader stalls only its stream's sender. Default 256 KiB; at most 1
// GiB. A message larger than the window still passes, one at a time.
func WithStreamWindow(n int) Option {
	return connOption(func(c *connConfig) { c.StreamWindow = n })
}

// WithConnWindow sets how many bytes of messages this side lets the
// remote send ahead of what the application has taken, over all the
// calls of the connection together (extension "window"). Default 16
// MiB; at most 1 GiB. Together with [WithMaxFrameSize] it bounds what a
// connection holds for its readers (see the package doc's Memory).
func WithConnWindow(n int) Option {
	return connOption(func(c *connConfig) { c.ConnWindow = n })
}

// WithMaxBuffered bounds the unread messages of one stream when the
// remote has no flow control (a baseline peer); beyond it the stream
// fails with [service.KindOverloaded] rather than stall the connection.
// Default 1024.
func WithMaxBuffered(n int) Option {
	return connOption(func(c *connConfig) { c.MaxBuffered = n })
}

// WithMaxStreams bounds the incoming calls served at once; default 256.
// This side announces n in the handshake, and a glyph remote keeps its
// calls within it: a call beyond it waits (bounded by its context) for
// one of the remote's calls to end. A remote that announces nothing (a
// baseline or duplex peer) and calls more at once gets
// [service.KindOverloaded] replies. A call's place is free once its last
// reply is sent or it is canceled; handlers that still run after their
// call was canceled, and notifications, are bounded too: with n of
// either running, new calls (resp. notifications) are refused.
func WithMaxStreams(n int) Option {
	return connOption(func(c *connConfig) { c.MaxStreams = n })
}

// WithMaxInboundBytes bounds the bytes of the remote's messages that this
// side holds for its handlers (default 32 MiB, at least twice the frame
// size): a call's request counts from its arrival until the call ends,
// and each further streamed argument until the handler takes it. A
// message that would go past the bound is refused rather than read
// into memory: a new call gets a [service.KindOverloaded] reply, and a
// streaming call whose argument does not fit fails with one. Replies this
// side's calls receive are bounded by [WithConnWindow] instead.
func WithMaxInboundBytes(n int64) Option {
	return connOption(func(c *connConfig) { c.MaxInboundBytes = n })
}

// A Budget bounds what many connections hold together: see
// [WithInboundBudget]. It is safe for concurrent use.
type Budget struct {
	max  int64
	used atomic.Int64
}

// NewBudget returns a budget of n bytes (at least 1).
func NewBudget(n int64) *Budget { return &Budget{max: max(n, 1)} }

// Used returns the bytes counted against b now.
func (b *Budget) Used() int64 { return b.used.Load() }

// WithInboundBudget makes what the connection holds for its handlers
// (see [WithMaxInboundBytes]) count against b as well, which the
// connections given the same b share: a message that would go past
// either bound is refused with [service.KindOverloaded]. [Serve] and
// [New] share one of [DefaultServerInboundBytes] (256 MiB) between all
// their connections unless the options give one; a lone [Conn] has none.
func WithInboundBudget(b *Budget) Option {
	return connOption(func(c *connConfig) { c.InboundBudget = b })
}

// WithKeepAlive sets how long the connection may be silent before this
// side pings (extension "ping"), and how long it then waits for any frame
// before it declares the remote dead and closes the connection with
// [service.KindUnavailable]. A remote without the extension (a baseline
// duplex peer) is pinged the transport's own way when the [FrameConn] is a
// [Pinger] (WebSocket is), and must answer within timeout. Defaults 30s
// and 15s, which a duration ≤ 0 keeps.
func WithKeepAlive(interval, timeout time.Duration) Option {
	return connOption(func(c *connConfig) { c.KeepAlive, c.KeepAliveTimeout = max(interval, 0), timeout })
}

// WithoutKeepAlive makes this side never ping: a dead remote is noticed
// only when the transport fails.
func WithoutKeepAlive() Option {
	return connOption(func(c *connConfig) { c.KeepAlive = -1 })
}

// WithBaseline makes this side offer and accept no extensions and no
// codec negotiation: it talks exactly like a public duplex peer.
func WithBaseline() Option {
	return connOption(func(c *connConfig) { c.Baseline = true })
}

// WithLimits bounds what the decoders accept (depth, items, string
// sizes); zero fields take [wire.DefaultLimits].
func WithLimits(l wire.Limits) Option {
	return connOption(func(c *connConfig) { c.Limits = l })
}

// WithLogger makes the connection log to l: protocol diagnostics
// (unknown ids at debug, bad frames and handler panics at warn and error)
// and what handlers log through [Conn.Logger], such as the calls of
// [github.com/glyph-ipc/glyph/hyperpeer.NewHandler]. A [Peer] logs there
// too what happens to its connections (dialed, lost, refused). Without
// it, [slog.Default] (see the package doc).
func WithLogger(l *slog.Logger) Option {
	return connOption(func(c *connConfig) { c.Logger = l })
}

// WithStallTimeout is how long the remote may read nothing of what this
// side writes before the connection is closed with
// [service.KindOverloaded]; default 30s. While what waits to be written is
// over the write queue's limit (the larger of 1 MiB and the frame size),
// this side stops reading from the remote as well (see Memory in the
// package doc).
func WithStallTimeout(d time.Duration) Option {
	return connOption(func(c *connConfig) { c.StallTimeout = d })
}

// WithIdleTimeout closes the connection when nothing came from the remote
// for d and no call is in flight either way; default 5 minutes, d < 0 for
// never. A remote that pings (extension "ping", or WebSocket pings) is
// not idle while it answers; a baseline peer over TCP that only keeps the
// connection open is.
func WithIdleTimeout(d time.Duration) Option {
	return connOption(func(c *connConfig) { c.IdleTimeout = d })
}

// WithRateLimit bounds the calls and notifications the remote makes on
// the connection to perSecond on average, and burst at once after a
// quiet spell (a token bucket). A call over it is answered with a
// [service.KindOverloaded] error that says so (the caller may back off
// and retry), a notification over it is dropped, and the first refusal
// after calls were admitted is logged at info level (each at debug).
// The default, and perSecond ≤ 0, is no limit, as in grpc-go and NATS.
// The rate is per connection: [WithMaxConnsPerHost] times it bounds what
// one remote address can make a listener serve.
func WithRateLimit(perSecond float64, burst int) Option {
	return connOption(func(c *connConfig) { c.RatePerSecond, c.RateBurst = perSecond, burst })
}

// WithHandshakeTimeout bounds the handshake; default 10s.
func WithHandshakeTimeout(d time.Duration) Option {
	return connOption(func(c *connConfig) { c.HandshakeTimeout = d })
}

// WithMaxFrameSize bounds a received frame; default 4 MiB
// ([DefaultMaxFrameSize]), which n ≤ 0 keeps. For a connection, a bigger
// frame closes it; the same option bounds the frames that [Dial], [Listen]
// and [NewWebSocketHandler] read, and the connections a [Peer] makes and
// accepts.
func WithMaxFrameSize(n int) FrameSizeOption { return maxFrameSize(n) }

// A FrameSizeOption is what [WithMaxFrameSize] returns: an Option, a
// [DialOption], a [ListenOption] and a [WebSocketOption].
type FrameSizeOption interface {
	Option
	DialOption
	ListenOption
	WebSocketOption
}

type maxFrameSize int

func (n maxFrameSize) applyConn(c *connConfig)           { c.MaxFrameSize = int(n) }
func (n maxFrameSize) applyPeer(p *Peer)                 { p.cfg.MaxFrameSize = int(n) }
func (n maxFrameSize) applyDial(d *dialConfig)           { d.maxFrameSize = int(n) }
func (n maxFrameSize) applyListen(l *listenConfig)       { l.maxFrameSize = int(n) }
func (n maxFrameSize) applyWebSocket(w *webSocketConfig) { w.maxFrameSize = int(n) }

// withDefaults returns a copy of cfg with defaults filled in, or an error
// for settings that cannot work.
func (cfg connConfig) withDefaults() (connConfig, error) {
	c := cfg
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
	if c.StreamWindow <= 0 {
		c.StreamWindow = defaultStreamWindow
	}
	c.StreamWindow = min(c.StreamWindow, maxWindow)
	if c.ConnWindow <= 0 {
		c.ConnWindow = defaultConnWindow
	}
	c.ConnWindow = min(c.ConnWindow, maxWindow)
	if c.MaxBuffered <= 0 {
		c.MaxBuffered = defaultMaxBuffered
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = defaultMaxStreams
	}
	c.MaxStreams = min(c.MaxStreams, maxAnnounced)
	if c.MaxInboundBytes <= 0 {
		c.MaxInboundBytes = defaultMaxInboundBytes
	}
	// A frame of the largest size must fit, twice: one call waiting to
	// be taken beside another's.
	c.MaxInboundBytes = max(c.MaxInboundBytes, 2*int64(c.MaxFrameSize))
	if c.KeepAlive == 0 {
		c.KeepAlive = defaultKeepAlive
	}
	if c.KeepAliveTimeout <= 0 {
		c.KeepAliveTimeout = defaultKeepAliveTimeout
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = defaultHandshakeTimeout
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = defaultStallTimeout
	}
	switch {
	case c.IdleTimeout == 0:
		c.IdleTimeout = defaultIdleTimeout
	case c.IdleTimeout < 0:
		c.IdleTimeout = 0
	}
	if c.Logger == nil {
		c.Logger = defaultLogger()
	}
	return c, nil
}
