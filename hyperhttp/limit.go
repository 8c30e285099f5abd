package hyperhttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/internal/faillog"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// DefaultMaxConns is how many connections a listener from
// [LimitListener] holds at once when [ConnLimits.Max] is 0. net/http's
// Server, grpc-go and NATS (64K) leave the bound to the file descriptor
// limit; at about 20 KiB per idle HTTP/1 connection in net/http, 10,000
// connections hold about 200 MiB.
const DefaultMaxConns = 10000

// Refusals over the limits: how long a refused connection has to send
// its request and read the answer, and how many are answered at once
// (past that, a refused connection is closed without an answer).
const (
	refuseTimeout = 2 * time.Second
	maxRefusing   = 64
)

// ConnLimits bounds the connections that a listener from [LimitListener]
// holds at once. Its zero value holds up to [DefaultMaxConns] from
// anywhere.
type ConnLimits struct {
	// Max bounds the connections held at once: 0 means
	// [DefaultMaxConns], a negative number no bound.
	Max int
	// MaxPerHost bounds the connections from one remote IP address;
	// 0 or less means no bound. Behind a reverse proxy every
	// connection comes from the proxy's address.
	MaxPerHost int
	// RetryAfter is what a refused client is told to wait before it
	// tries again (the Retry-After header, in whole seconds); 0 means
	// one second.
	RetryAfter time.Duration
	// TLS is the configuration of the server's TLS, when the limiting
	// listener is wrapped in tls.NewListener (as
	// tls.NewListener(LimitListener(ln, limits), cfg)): refusals are
	// then answered over TLS too, as HTTP/1.1. Nil for plain HTTP.
	TLS *tls.Config
	// Logger is where refusals are logged, at info level; nil means
	// [slog.Default] as it is when the line is logged.
	Logger *slog.Logger
}

// LimitListener returns a listener that accepts from ln at most the
// connections lim allows at once, counting a connection until it is
// closed (a WebSocket connection that an http.Server handed over
// included). Serve an [http.Server] (from [NewServer], say) on it.
//
// A connection over a limit is not handed to the server. It is answered
// on a goroutine of its own: its request is read (for up to two
// seconds), then answered 503 Service Unavailable with Retry-After,
// Connection: close and a hyperglyph error body of kind
// [service.KindOverloaded] that says which limit it met, and the
// refusal is logged; the connection is then closed. Refusals in
// progress are bounded (64 at once): past that, a connection over a
// limit is closed at once without an answer, and logged. Either way the
// client fails at once rather than waiting in the kernel's backlog, and
// the connections within the limits are served as before.
//
// Unlike golang.org/x/net/netutil.LimitListener, which stops accepting
// while it is full so that new connections wait in the backlog (and
// time out there, silently), this listener keeps accepting in order to
// refuse, as NATS does past max_connections.
func LimitListener(ln net.Listener, lim ConnLimits) net.Listener {
	l := &limitListener{Listener: ln, lim: lim, byHost: map[string]int{}}
	switch {
	case lim.Max == 0:
		l.lim.Max = DefaultMaxConns
	case lim.Max < 0:
		l.lim.Max = 0
	}
	if l.lim.RetryAfter <= 0 {
		l.lim.RetryAfter = time.Second
	}
	if lim.TLS != nil {
		l.tls = lim.TLS.Clone()
		l.tls.NextProtos = []string{"http/1.1"} // the refusal is HTTP/1.1
	}
	return l
}

type limitListener struct {
	net.Listener
	lim      ConnLimits
	tls      *tls.Config  // for refusals, when lim.TLS is set
	refusing atomic.Int32 // refusals in progress

	mu     sync.Mutex     // guards the fields below
	total  int            // connections held
	byHost map[string]int // connections held per remote IP, when MaxPerHost > 0
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := remoteHost(c)
		if reason := l.take(host); reason != "" {
			l.refuse(c, host, reason)
			continue
		}
		return &limitedConn{Conn: c, release: func() { l.release(host) }}, nil
	}
}

// take counts a connection from host, or says which limit it is over.
func (l *limitListener) take(host string) (overLimit string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lim.Max > 0 && l.total >= l.lim.Max {
		return fmt.Sprintf("too many connections (limit %d)", l.lim.Max)
	}
	if l.lim.MaxPerHost > 0 && host != "" {
		if l.byHost[host] >= l.lim.MaxPerHost {
			return fmt.Sprintf("too many connections from %s (limit %d)", host, l.lim.MaxPerHost)
		}
		l.byHost[host]++
	}
	l.total++
	return ""
}

func (l *limitListener) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.lim.MaxPerHost > 0 && host != "" {
		if l.byHost[host]--; l.byHost[host] <= 0 {
			delete(l.byHost, host)
		}
	}
}

func (l *limitListener) log() *slog.Logger {
	if l.lim.Logger != nil {
		return l.lim.Logger
	}
	return slog.Default()
}

// refuse answers a connection over a limit and closes it, on a goroutine
// of its own, or closes it at once when too many refusals are under way.
func (l *limitListener) refuse(c net.Conn, host, reason string) {
	e := &service.Error{Op: "connect", Kind: service.KindOverloaded, Message: reason, Logref: faillog.NewLogref()}
	if l.refusing.Add(1) > maxRefusing {
		l.refusing.Add(-1)
		c.Close()
		l.log().LogAttrs(context.Background(), slog.LevelInfo, "glyph: connection refused",
			slog.String("remote", c.RemoteAddr().String()), slog.String("reason", reason),
			slog.String("logref", e.Logref), slog.Bool("answered", false))
		return
	}
	go func() {
		defer l.refusing.Add(-1)
		answered := l.answer(c, e)
		l.log().LogAttrs(context.Background(), slog.LevelInfo, "glyph: connection refused",
			slog.String("remote", c.RemoteAddr().String()), slog.String("reason", reason),
			slog.String("logref", e.Logref), slog.Bool("answered", answered))
	}()
}

// answer reads c's request head and answers it with e, then closes c; it
// reports whether the answer was written.
func (l *limitListener) answer(c net.Conn, e *service.Error) bool {
	defer c.Close()
	c.SetDeadline(time.Now().Add(refuseTimeout))
	if l.tls != nil {
		c = tls.Server(c, l.tls)
		defer c.Close()
	}
	if !readRequestHead(c) {
		return false
	}
	if _, err := c.Write(refusal(e, l.lim.RetryAfter)); err != nil {
		return false
	}
	// Close the writing side and read what else comes, so that the
	// client reads the answer instead of a reset.
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	return true
}

// readRequestHead reads from c up to the blank line that ends a request's
// head, at most 16 KiB; it reports whether one came.
func readRequestHead(c net.Conn) bool {
	var buf [16 << 10]byte
	n := 0
	for n < len(buf) {
		k, err := c.Read(buf[n:])
		n += k
		if bytes.Contains(buf[max(0, n-k-3):n], []byte("\r\n\r\n")) {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}

// refusal is the answer to a request on a connection over a limit.
func refusal(e *service.Error, retryAfter time.Duration) []byte {
	body, err := wire.Marshal(e.Hyper())
	if err != nil {
		body = nil // only a message that is not UTF-8, which ours are
	}
	secs := int64((retryAfter + time.Second - 1) / time.Second)
	b := []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: " + MediaType +
		"\r\nCache-Control: no-store\r\nConnection: close\r\nRetry-After: " + strconv.FormatInt(secs, 10) +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	return append(b, body...)
}

// remoteHost returns the IP address c comes from, or "" (a Unix socket's).
func remoteHost(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return ""
}

// limitedConn is a connection that a limitListener counts until it is
// closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite and ReadFrom pass on those of a TCP connection, which
// net/http uses for a graceful close and sendfile.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *limitedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
