package peer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/glyph-ipc/glyph/service"
)

// A DialOption configures [Dial]: [WithMaxFrameSize], [WithHTTPClient],
// [WithHTTPHeader], [WithTLS].
type DialOption interface{ applyDial(*dialConfig) }

type dialConfig struct {
	maxFrameSize int
	httpClient   *http.Client
	httpHeader   http.Header
	tls          *tls.Config
}

type dialOption func(*dialConfig)

func (f dialOption) applyDial(d *dialConfig) { f(d) }

// WithHTTPClient makes the WebSocket handshakes of [Dial] with hc (its
// Transport's TLS config for wss://); default http.DefaultClient.
func WithHTTPClient(hc *http.Client) DialOption {
	return dialOption(func(d *dialConfig) { d.httpClient = hc })
}

// WithHTTPHeader sends h with the WebSocket handshakes of [Dial] (for
// example Authorization, or the Origin a browser would send).
func WithHTTPHeader(h http.Header) DialOption {
	h = h.Clone()
	return dialOption(func(d *dialConfig) { d.httpHeader = h })
}

// Dial connects to addr and returns the framed connection, ready for
// Client. Addresses name their transport: "ws://host/path" and
// "wss://host/path" (WebSocket), "tcp://host:port", "tls://host:port"
// (TCP with TLS, configured by [WithTLS]; the TLS handshake runs as the
// first part of the peer handshake), "unix:///path/to/socket".
func Dial(ctx context.Context, addr string, opts ...DialOption) (FrameConn, error) {
	var cfg dialConfig
	for _, o := range opts {
		if o != nil {
			o.applyDial(&cfg)
		}
	}
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return nil, errorf(service.KindInvalid, "peer address %q has no scheme (ws://, wss://, tcp://, tls://, unix://)", addr)
	}
	var d net.Dialer
	switch scheme {
	case "ws", "wss":
		return dialWebSocket(ctx, addr, &cfg)
	case "tcp":
		nc, err := d.DialContext(ctx, "tcp", rest)
		if err != nil {
			return nil, dialError(addr, err)
		}
		return NewStreamConn(nc, cfg.maxFrameSize), nil
	case "tls":
		tc, err := tlsClientConfig(rest, cfg.tls)
		if err != nil {
			return nil, errorf(service.KindInvalid, "peer address %q: %v", addr, err)
		}
		nc, err := d.DialContext(ctx, "tcp", rest)
		if err != nil {
			return nil, dialError(addr, err)
		}
		return NewStreamConn(tls.Client(nc, tc), cfg.maxFrameSize), nil
	case "unix":
		nc, err := d.DialContext(ctx, "unix", rest)
		if err != nil {
			return nil, dialError(addr, err)
		}
		return NewStreamConn(nc, cfg.maxFrameSize), nil
	}
	return nil, errorf(service.KindInvalid, "peer address %q: unknown scheme %q", addr, scheme)
}

// tlsClientConfig returns a copy of cfg (a zero one when nil) whose
// ServerName is hostPort's host when cfg names none.
func tlsClientConfig(hostPort string, cfg *tls.Config) (*tls.Config, error) {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	return cfg, nil
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
