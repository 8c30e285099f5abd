package peer

import (
	"context"
)

// DefaultMaxFrameSize is the largest frame a connection reads unless
// configured otherwise: 4 MiB.
const DefaultMaxFrameSize = 4 << 20

// Frame is one transport message: a whole envelope or a handshake line.
// Text frames hold UTF-8 (the handshake, the JSON codec); the others
// binary data. An empty frame is a keepalive and is ignored.
type Frame struct {
	Data []byte
	Text bool
	// own is set by this package's transports on a frame whose data is
	// in a buffer of its own, never reused: its reader may keep it.
	own bool
}

// FrameConn is one framed connection. ReadFrame is called by one
// goroutine and WriteFrames by one other; Close may be called at any time
// from any goroutine and makes both return.
type FrameConn interface {
	// ReadFrame returns the next frame, whose data may be valid only
	// until the next ReadFrame: a caller that keeps it copies it. It
	// fails with a *service.Error of kind [service.KindTooLarge] for a frame over the
	// connection's limit, after which the connection cannot be read and
	// should be closed (a Conn first tells the remote why), and with
	// io.EOF or another error when the connection ends. ctx bounds the
	// wait.
	ReadFrame(ctx context.Context) (Frame, error)
	// WriteFrames writes frames in order as one batch: with one write
	// system call on stream transports. It must not keep the frames or
	// their data after it returns: the caller reuses them.
	WriteFrames(ctx context.Context, frames []Frame) error
	// Close closes the connection.
	Close() error
	// LocalAddr and RemoteAddr describe the ends, for logs.
	LocalAddr() string
	RemoteAddr() string
}

// A ReasonCloser is a [FrameConn] that can tell the remote why it is
// closed: the WebSocket FrameConns of this package (from [Dial] and
// [NewWebSocketHandler]) send a close status and the reason's text. A [Conn]
// that closes because of an error (a bad frame, a frame over the limit, an
// internal error) calls CloseWithReason instead of Close. A FrameConn that
// wraps another should implement it by passing the reason on, or the
// remote sees a plain close; Go does not promote the method through an
// embedded FrameConn.
type ReasonCloser interface {
	FrameConn
	// CloseWithReason closes the connection as Close does, telling the
	// remote reason, which may be nil.
	CloseWithReason(reason error) error
}

// A Pinger is a [FrameConn] whose transport has keepalive messages of its
// own: the WebSocket FrameConns of this package send ping control frames,
// which every WebSocket library answers. A [Conn] whose remote lacks the
// "ping" extension (a baseline duplex peer) keeps the connection alive
// with them, as [WithKeepAlive] says. A FrameConn that wraps another
// should implement it by passing the call on.
type Pinger interface {
	FrameConn
	// Ping sends a ping and waits for its answer, or until ctx ends. It
	// needs a concurrent ReadFrame, which a Conn always has.
	Ping(ctx context.Context) error
}

// closeFrameConn closes fc, telling the peer the reason where the
// transport can carry one (a WebSocket close status).
func closeFrameConn(fc FrameConn, reason error) {
	if rc, ok := fc.(ReasonCloser); ok {
		rc.CloseWithReason(reason)
		return
	}
	fc.Close()
}
