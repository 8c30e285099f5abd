package peer

import (
	"log/slog"
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
	defaultStallTimeout     = 30 * time.Second
	defaultIdleTimeout      = 5 * time.Minute
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
	// StallTimeout is how long the remote may read nothing of what this
	// side writes before the connection is closed with
	// [service.KindOverloaded]; default 30s. While what waits to be
	// written is over the write queue's limit (the larger of 1 MiB and
	// MaxFrameSize), this side stops reading from the remote as well.
	StallTimeout time.Duration
	// IdleTimeout closes the connection when nothing came from the remote
	// for that long and no call is in flight either way; default 5
	// minutes, negative for never. A remote that pings (extension "ping",
	// or WebSocket pings) is not idle while it answers; a baseline peer
	// over TCP that only keeps the connection open is.
	IdleTimeout time.Duration
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
	if c.StallTimeout <= 0 {
		c.StallTimeout = defaultStallTimeout
	}
	switch {
	case c.IdleTimeout == 0:
		c.IdleTimeout = defaultIdleTimeout
	case c.IdleTimeout < 0:
		c.IdleTimeout = 0
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
