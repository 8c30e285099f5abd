package peer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxConns is how many connections a listener from [Listen] or a
// handler from [NewWebSocketHandler] holds at once without
// [WithMaxConns]. grpc-go and net/http leave the bound to the file
// descriptor limit, NATS to max_connections (64K); a peer connection
// holds a 32 KiB read buffer and three goroutines at least, and up to
// what Memory in the package doc says while busy.
const DefaultMaxConns = 10000

// Refusals over the limits: how long a refused connection has to send
// its greeting and read the answer, and how many are answered at once
// (past that, a refused connection is closed without an answer).
const (
	refuseTimeout = 2 * time.Second
	maxRefusing   = 64
)

// A ConnLimitOption bounds the connections an acceptor holds at once:
// it is a [ListenOption] (for [Listen], so [Serve] and [Peer.Bind]) and a
// [WebSocketOption] (for [NewWebSocketHandler] and
// [Peer.WebSocketHandler]). See [WithMaxConns] and [WithMaxConnsPerHost].
type ConnLimitOption interface {
	ListenOption
	WebSocketOption
}

type connLimitOption func(*connLimiter)

func (f connLimitOption) applyListen(l *listenConfig) { f(&l.limits) }
func (f connLimitOption) applyWebSocket(w *webSocketConfig) {
	f(&w.limits)
}

// WithMaxConns bounds how many connections the listener or WebSocket
// handler holds at once: [DefaultMaxConns] (10,000) by default, which n
// = 0 keeps; n < 0 means no bound. A listener accepts a connection over
// the bound in order to refuse it, so that the remote fails at once
// instead of waiting in the kernel's backlog: it reads the greeting and
// answers "-ERR overloaded: too many connections (limit n)" (spec.md,
// 3.2), which a glyph connector reports as [service.KindOverloaded],
// then closes it. A WebSocket handler answers 503 Service Unavailable
// with Retry-After before the upgrade. Each refusal is logged at info
// level, to the logger of [Serve] or the [Peer] that accepts (else
// [slog.Default]).
func WithMaxConns(n int) ConnLimitOption {
	return connLimitOption(func(l *connLimiter) { l.max = n })
}

// WithMaxConnsPerHost bounds how many connections from one remote IP
// address the listener or WebSocket handler holds at once, refused as
// for [WithMaxConns]; n ≤ 0 means no bound (the default). Connections
// over a Unix socket have no host and are bounded by WithMaxConns only.
func WithMaxConnsPerHost(n int) ConnLimitOption {
	return connLimitOption(func(l *connLimiter) { l.perHost = n })
}

// connLimiter counts the connections an acceptor holds, in all and per
// remote host.
type connLimiter struct {
	max, perHost int // max: 0 the default, < 0 none; perHost ≤ 0: none

	mu     sync.Mutex     // guards the fields below
	total  int            //
	byHost map[string]int // connections per host, when perHost > 0
}

// newConnLimiter returns a limiter of cfg's limits, with the default.
func newConnLimiter(cfg *connLimiter) *connLimiter {
	l := &connLimiter{max: cfg.max, perHost: cfg.perHost}
	if l.max == 0 {
		l.max = DefaultMaxConns
	}
	return l
}

func (l *connLimiter) active() bool { return l.max > 0 || l.perHost > 0 }

// take counts a connection from host ("" for none), or says which limit
// it is over; the caller releases a connection taken when it ends.
func (l *connLimiter) take(host string) (overLimit string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.total >= l.max {
		return fmt.Sprintf("too many connections (limit %d)", l.max)
	}
	if l.perHost > 0 && host != "" {
		if l.byHost[host] >= l.perHost {
			return fmt.Sprintf("too many connections from %s (limit %d)", host, l.perHost)
		}
		if l.byHost == nil {
			l.byHost = map[string]int{}
		}
		l.byHost[host]++
	}
	l.total++
	return ""
}

func (l *connLimiter) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perHost > 0 && host != "" {
		if l.byHost[host]--; l.byHost[host] <= 0 {
			delete(l.byHost, host)
		}
	}
}

// hostOf returns the IP address of a "host:port" remote address, or ""
// (a Unix socket's).
func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return host
}

// refuser answers the connections a listener refuses.
type refuser struct {
	log      atomic.Pointer[slog.Logger] // nil: defaultLogger's
	refusing atomic.Int32                // refusals under way
}

func (r *refuser) logger() *slog.Logger {
	if l := r.log.Load(); l != nil {
		return l
	}
	return defaultLogger()
}

// refuse answers nc's greeting with the refusal for reason and closes
// it, on a goroutine of its own, or closes it at once when too many
// refusals are under way; either way it logs the refusal.
func (r *refuser) refuse(nc net.Conn, reason string) {
	remote := nc.RemoteAddr().String()
	if r.refusing.Add(1) > maxRefusing {
		r.refusing.Add(-1)
		nc.Close()
		r.logger().Info("peer: connection refused", "remote", remote, "reason", reason, "answered", false)
		return
	}
	go func() {
		defer r.refusing.Add(-1)
		answered := answerRefusal(nc, reason)
		r.logger().Info("peer: connection refused", "remote", remote, "reason", reason, "answered", answered)
	}()
}

// answerRefusal reads nc's greeting, answers it with the refusal for
// reason and closes nc; it reports whether the answer was written.
func answerRefusal(nc net.Conn, reason string) bool {
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(refuseTimeout))
	ctx := context.Background() // the deadline bounds it
	fc := NewStreamConn(nc, 64<<10)
	if _, err := readHandshakeFrame(ctx, fc); err != nil {
		return false
	}
	ans := "-ERR " + overloadedPrefix + " " + reason
	if err := fc.WriteFrames(ctx, []Frame{{Data: []byte(ans), Text: true}}); err != nil {
		return false
	}
	// Close the writing side and read what else comes, so that the
	// remote reads the answer instead of a reset.
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	var buf [4 << 10]byte
	for range 16 {
		if _, err := nc.Read(buf[:]); err != nil {
			break
		}
	}
	return true
}

// refusalReason returns the reason of refuseWebSocket's answer.
func refusalReason(resp *http.Response) (string, bool) {
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Body == nil {
		return "", false
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	why, ok := strings.CutPrefix(strings.TrimSpace(string(b)), overloadedPrefix)
	return clip(strings.ToValidUTF8(strings.TrimSpace(why), "?")), ok
}

// refuseWebSocket answers a WebSocket request over a limit.
func refuseWebSocket(w http.ResponseWriter, r *http.Request, reason string, log *slog.Logger) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, overloadedPrefix+" "+reason, http.StatusServiceUnavailable)
	if log == nil {
		log = defaultLogger()
	}
	log.Info("peer: connection refused", "remote", r.RemoteAddr, "reason", reason, "answered", true)
}
