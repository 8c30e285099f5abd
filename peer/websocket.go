package peer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/coder/websocket"
	"github.com/glyph-ipc/glyph/service"
)

// A WebSocketOption configures [NewWebSocketHandler] and
// [Peer.WebSocketHandler]: [WithMaxFrameSize], [WithAllowedOrigins].
type WebSocketOption interface{ applyWebSocket(*webSocketConfig) }

type webSocketConfig struct {
	allowedOrigins []string
	maxFrameSize   int
	limits         connLimiter
	log            *slog.Logger // refusals'; nil: defaultLogger's
}

type webSocketOption func(*webSocketConfig)

func (f webSocketOption) applyWebSocket(w *webSocketConfig) { f(w) }

// WithAllowedOrigins lets the browser pages of these hosts connect
// besides the server's own host: host patterns in path.Match syntax,
// such as "example.com" or "*.example.com", matched against
// scheme://host when they hold "://". Requests without an Origin header
// (peers that are not browsers) are always accepted; requests from other
// origins get 403 Forbidden.
func WithAllowedOrigins(patterns ...string) WebSocketOption {
	patterns = append([]string(nil), patterns...)
	return webSocketOption(func(w *webSocketConfig) { w.allowedOrigins = append(w.allowedOrigins, patterns...) })
}

// NewWebSocketHandler returns an http.Handler that upgrades requests to
// WebSocket connections and hands each to accept, typically to run
// Server on it. Mount it on a path of a ServeMux. accept is called on
// the request's goroutine; the handler returns once the connection is
// closed, so accept may serve the connection itself or start a goroutine.
// opts bound the frames read ([WithMaxFrameSize]) and the connections
// held at once ([WithMaxConns], [WithMaxConnsPerHost]), and name the
// browser origins allowed ([WithAllowedOrigins]).
func NewWebSocketHandler(accept func(FrameConn), opts ...WebSocketOption) http.Handler {
	var cfg webSocketConfig
	for _, o := range opts {
		if o != nil {
			o.applyWebSocket(&cfg)
		}
	}
	patterns, max := cfg.allowedOrigins, cfg.maxFrameSize
	limits := newConnLimiter(&cfg.limits)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if limits.active() {
			host := hostOf(r.RemoteAddr)
			if reason := limits.take(host); reason != "" {
				refuseWebSocket(w, r, reason, cfg.log)
				return
			}
			defer limits.release(host)
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: patterns})
		if err != nil {
			return // Accept wrote the error response (403 for a foreign Origin)
		}
		fc := newWSConn(c, max, r.Host, r.RemoteAddr)
		fc.tls = r.TLS
		accept(fc)
		<-fc.closed
	})
}

// dialWebSocket opens a WebSocket connection to a ws:// or wss:// URL.
func dialWebSocket(ctx context.Context, addr string, cfg *dialConfig) (FrameConn, error) {
	c, resp, err := websocket.Dial(ctx, addr, &websocket.DialOptions{HTTPClient: cfg.httpClient, HTTPHeader: cfg.httpHeader})
	if err != nil {
		se := dialError(addr, err).(*service.Error)
		if resp != nil && resp.StatusCode >= 400 {
			se.Kind = service.KindForStatus(resp.StatusCode)
			se.Message = fmt.Sprintf("dial %s: %s", addr, resp.Status)
			if why, ok := refusalReason(resp); ok {
				// An acceptor over its limits (refuseWebSocket).
				se.Kind = service.KindOverloaded
				se.Message += ": " + why
			}
		}
		return nil, se
	}
	fc := newWSConn(c, cfg.maxFrameSize, "", addr)
	if resp != nil {
		fc.tls = resp.TLS
	}
	return fc, nil
}

// wsConn is a FrameConn over a WebSocket: one message per frame, text or
// binary as the frame says.
type wsConn struct {
	c             *websocket.Conn
	max           int
	local, remote string
	closeOnce     sync.Once
	closed        chan struct{}
	tls           *tls.ConnectionState // the HTTP connection's, for wss://
}

// TLS returns the state of the TLS session the WebSocket runs on, nil
// for ws://.
func (w *wsConn) TLS() *tls.ConnectionState { return w.tls }

func newWSConn(c *websocket.Conn, max int, local, remote string) *wsConn {
	if max <= 0 {
		max = DefaultMaxFrameSize
	}
	c.SetReadLimit(int64(max))
	return &wsConn{c: c, max: max, local: local, remote: remote, closed: make(chan struct{})}
}

func (w *wsConn) ReadFrame(ctx context.Context) (Frame, error) {
	typ, data, err := w.c.Read(ctx)
	if err != nil {
		if errors.Is(err, websocket.ErrMessageTooBig) {
			w.markClosed()
			return Frame{}, wrapErr(service.KindTooLarge, fmt.Sprintf("frame over the limit of %d bytes", w.max), err)
		}
		if ce := (websocket.CloseError{}); errors.As(err, &ce) {
			msg := fmt.Sprintf("connection closed by peer (status %d", ce.Code)
			if ce.Reason != "" {
				msg += ": " + ce.Reason
			}
			w.markClosed()
			return Frame{}, wrapErr(service.KindUnavailable, msg+")", err)
		}
		return Frame{}, err
	}
	return Frame{Data: data, Text: typ == websocket.MessageText}, nil
}

func (w *wsConn) WriteFrames(ctx context.Context, frames []Frame) error {
	for _, f := range frames {
		typ := websocket.MessageBinary
		if f.Text {
			typ = websocket.MessageText
		}
		if err := w.c.Write(ctx, typ, f.Data); err != nil {
			return err
		}
	}
	return nil
}

// Ping sends a WebSocket ping and waits for the pong.
func (w *wsConn) Ping(ctx context.Context) error { return w.c.Ping(ctx) }

// Close closes the connection with status 1000 (normal closure).
func (w *wsConn) Close() error { return w.CloseWithReason(nil) }

// CloseWithReason starts the close handshake with a status and reason
// that tell the peer why (1009 for a frame over the limit, 1002 for a bad
// frame, 1011 otherwise; 1000 without a reason, or for a [service.KindUnavailable]
// one), and returns without waiting for the peer's answer: the library
// finishes or abandons the handshake on its own within seconds.
func (w *wsConn) CloseWithReason(reason error) error {
	w.closeOnce.Do(func() {
		code, text := websocket.StatusNormalClosure, ""
		if reason != nil {
			switch service.KindOf(reason) {
			case service.KindUnavailable:
			case service.KindTooLarge:
				code = websocket.StatusMessageTooBig
			case service.KindBadFrame, service.KindUnsupported:
				code = websocket.StatusProtocolError
			default:
				code = websocket.StatusInternalError
			}
			if code != websocket.StatusNormalClosure {
				text = reason.Error()
				if len(text) > 120 {
					text = strings.ToValidUTF8(text[:120], "")
				}
			}
		}
		close(w.closed)
		go w.c.Close(code, text)
	})
	return nil
}

// markClosed records that the library closed the connection itself.
func (w *wsConn) markClosed() {
	w.closeOnce.Do(func() {
		close(w.closed)
		go w.c.CloseNow()
	})
}

func (w *wsConn) LocalAddr() string  { return w.local }
func (w *wsConn) RemoteAddr() string { return w.remote }
