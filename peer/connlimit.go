package peer

import (
	"net"
	"sync"
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
// handler holds at once; n ≤ 0 means no bound (the default). A listener
// accepts a connection over the bound and closes it at once, so that the
// remote fails fast instead of waiting in the kernel's backlog; a
// WebSocket handler answers 503 Service Unavailable before the upgrade.
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
// remote host. Its zero value limits nothing.
type connLimiter struct {
	max, perHost int // ≤ 0: no limit

	mu     sync.Mutex     // guards the fields below
	total  int            //
	byHost map[string]int // connections per host, when perHost > 0
}

func (l *connLimiter) active() bool { return l.max > 0 || l.perHost > 0 }

// take counts a connection from host ("" for none) and reports whether
// it is within the limits; the caller releases it when it ends.
func (l *connLimiter) take(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.total >= l.max {
		return false
	}
	if l.perHost > 0 && host != "" {
		if l.byHost[host] >= l.perHost {
			return false
		}
		if l.byHost == nil {
			l.byHost = map[string]int{}
		}
		l.byHost[host]++
	}
	l.total++
	return true
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
