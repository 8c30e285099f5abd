package peer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// A ListenOption configures [Listen]: [WithMaxFrameSize], [WithMaxConns],
// [WithMaxConnsPerHost], [WithTLS].
type ListenOption interface{ applyListen(*listenConfig) }

type listenConfig struct {
	maxFrameSize int
	limits       connLimiter
	tls          *tls.Config
}

// Listener accepts framed connections on a stream transport.
type Listener interface {
	// Accept waits for the next connection, ready for Server.
	Accept(ctx context.Context) (FrameConn, error)
	// Close stops listening (and removes a Unix socket's file).
	Close() error
	// Addr returns the address in the form Dial takes, such as
	// "tcp://127.0.0.1:40123".
	Addr() string
}

// Listen listens on addr: "tcp://host:port" (port 0 picks one; see
// Addr), "tls://host:port" (TCP with TLS: [WithTLS] must give the
// server's certificate; the TLS handshake runs as the first part of the
// peer handshake, not in Accept) or "unix:///path/to/socket" (whose
// connections tell the remote process's credentials: [Conn.PeerCred]).
// WebSocket is served by an http.Server instead: see
// [NewWebSocketHandler].
func Listen(ctx context.Context, addr string, opts ...ListenOption) (Listener, error) {
	var cfg listenConfig
	for _, o := range opts {
		if o != nil {
			o.applyListen(&cfg)
		}
	}
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return nil, errorf(service.KindInvalid, "peer address %q has no scheme (tcp://, tls://, unix://)", addr)
	}
	network := scheme
	switch scheme {
	case "tcp", "unix":
	case "tls":
		network = "tcp"
		if cfg.tls == nil || (len(cfg.tls.Certificates) == 0 && cfg.tls.GetCertificate == nil && cfg.tls.GetConfigForClient == nil) {
			return nil, errorf(service.KindInvalid, "cannot listen on %q: tls:// needs WithTLS with the server's certificate", addr)
		}
	default:
		return nil, errorf(service.KindInvalid, "cannot listen on %q: scheme %q (use tcp://, tls:// or unix://, or NewWebSocketHandler)", addr, scheme)
	}
	var lc net.ListenConfig
	nl, err := lc.Listen(ctx, network, rest)
	if err != nil {
		return nil, wrapErr(service.KindUnavailable, fmt.Sprintf("listen %s: %v", addr, err), err)
	}
	return newListener(nl, scheme, &cfg), nil
}

func newListener(nl net.Listener, scheme string, cfg *listenConfig) *listener {
	l := &listener{nl: nl, scheme: scheme, max: cfg.maxFrameSize, limits: newConnLimiter(&cfg.limits)}
	if scheme == "tls" {
		l.tls = cfg.tls.Clone()
	}
	return l
}

// NewListener returns a [Listener] that accepts on nl, a TCP or Unix
// listener made elsewhere: one inherited from a supervisor (systemd's
// LISTEN_FDS), say. Closing it closes nl. With [WithTLS], a TCP
// listener's connections speak TLS, as for "tls://".
func NewListener(nl net.Listener, opts ...ListenOption) Listener {
	var cfg listenConfig
	for _, o := range opts {
		if o != nil {
			o.applyListen(&cfg)
		}
	}
	scheme := "tcp"
	switch {
	case nl.Addr().Network() == "unix":
		scheme = "unix"
	case cfg.tls != nil:
		scheme = "tls"
	}
	return newListener(nl, scheme, &cfg)
}

type listener struct {
	nl     net.Listener
	scheme string
	max    int
	limits *connLimiter
	tls    *tls.Config // for "tls://"
	refuser
}

type deadliner interface{ SetDeadline(time.Time) error }

func (l *listener) Accept(ctx context.Context) (FrameConn, error) {
	dl, _ := l.nl.(deadliner)
	if dl != nil && ctx.Done() != nil {
		dl.SetDeadline(time.Time{})
		stop := context.AfterFunc(ctx, func() { dl.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	for {
		nc, err := l.nl.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctxError("accept", ctx)
			}
			if errors.Is(err, net.ErrClosed) {
				return nil, wrapErr(service.KindUnavailable, "listener closed", err)
			}
			return nil, wrapErr(service.KindUnavailable, "accept: "+err.Error(), err)
		}
		if l.tls != nil {
			nc = tls.Server(nc, l.tls)
		}
		if !l.limits.active() {
			return NewStreamConn(nc, l.max), nil
		}
		host := ""
		if l.scheme != "unix" {
			host = hostOf(nc.RemoteAddr().String())
		}
		if reason := l.limits.take(host); reason != "" {
			l.refuse(nc, reason)
			continue
		}
		sc := NewStreamConn(nc, l.max).(*streamConn)
		sc.onClose = func() { l.limits.release(host) }
		return sc, nil
	}
}

func (l *listener) Close() error { return l.nl.Close() }

func (l *listener) Addr() string {
	a := l.nl.Addr().String()
	return l.scheme + "://" + a
}
