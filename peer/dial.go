package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/glyph-ipc/glyph/service"
)

// DialOptions configures Dial. The zero value is valid.
type DialOptions struct {
	// MaxFrameSize bounds the frames read; ≤ 0 means DefaultMaxFrameSize.
	MaxFrameSize int
	// HTTPClient makes WebSocket handshakes (its Transport's TLS config
	// for wss://); nil means http.DefaultClient.
	HTTPClient *http.Client
	// HTTPHeader is sent with a WebSocket handshake (for example
	// Authorization, or the Origin a browser would send).
	HTTPHeader http.Header
}

// Dial connects to addr and returns the framed connection, ready for
// Client. Addresses name their transport: "ws://host/path" and
// "wss://host/path" (WebSocket), "tcp://host:port", "unix:///path/to/socket".
func Dial(ctx context.Context, addr string, opts *DialOptions) (FrameConn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return nil, errorf(service.KindInvalid, "peer address %q has no scheme (ws://, wss://, tcp://, unix://)", addr)
	}
	var d net.Dialer
	switch scheme {
	case "ws", "wss":
		return dialWebSocket(ctx, addr, opts)
	case "tcp":
		nc, err := d.DialContext(ctx, "tcp", rest)
		if err != nil {
			return nil, dialError(addr, err)
		}
		return NewStreamConn(nc, opts.MaxFrameSize), nil
	case "unix":
		nc, err := d.DialContext(ctx, "unix", rest)
		if err != nil {
			return nil, dialError(addr, err)
		}
		return NewStreamConn(nc, opts.MaxFrameSize), nil
	}
	return nil, errorf(service.KindInvalid, "peer address %q: unknown scheme %q", addr, scheme)
}

// dialError reports a failed dial as [service.KindUnavailable] (retryable) or, when
// ctx ended, as the context's kind. Its message names addr and the cause
// once: a *net.OpError already says "dial tcp host:port: ...", and the
// layers a WebSocket dial wraps around the cause (the library's, net/http's
// *url.Error) repeat what addr says.
func dialError(addr string, err error) error {
	var msg string
	var oe *net.OpError
	var ue *url.Error
	switch {
	case errors.As(err, &oe):
		msg = oe.Error()
	case errors.As(err, &ue):
		msg = fmt.Sprintf("dial %s: %v", addr, ue.Err)
	default:
		msg = fmt.Sprintf("dial %s: %v", addr, err)
	}
	se := wrapErr(service.KindUnavailable, msg, err)
	switch {
	case errors.Is(err, context.Canceled):
		se.Kind = service.KindCanceled
	case errors.Is(err, context.DeadlineExceeded):
		se.Kind = service.KindDeadlineExceeded
	}
	return se
}
