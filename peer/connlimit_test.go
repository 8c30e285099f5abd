package peer_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// TestConnLimits: a listener over its limits closes the connections past
// them at once, and takes new ones when the earlier ones end; so does a
// WebSocket handler, answering 503.
func TestConnLimits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, opt := range []peer.ConnLimitOption{peer.WithMaxConns(2), peer.WithMaxConnsPerHost(2)} {
		l, err := peer.Listen(ctx, "tcp://127.0.0.1:0", opt)
		if err != nil {
			t.Fatal(err)
		}
		log, logger := logtest.New()
		go peer.Serve(ctx, l, peer.WithHandler(services()), peer.WithLogger(logger))
		connect := func() (*peer.Conn, error) {
			fc, err := peer.Dial(ctx, l.Addr())
			if err != nil {
				return nil, err
			}
			return peer.Client(ctx, fc, peer.WithHandshakeTimeout(5*time.Second))
		}
		a, err := connect()
		if err != nil {
			t.Fatal(err)
		}
		b, err := connect()
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if c, err := connect(); err == nil {
			c.Close()
			t.Fatal("a third connection was served past a limit of two")
		} else if time.Since(start) > 4*time.Second {
			t.Errorf("the third connection waited %v to be refused: %v", time.Since(start), err)
		} else if service.KindOf(err) != service.KindOverloaded || !strings.Contains(err.Error(), "too many connections") || !strings.Contains(err.Error(), "(limit 2)") {
			t.Errorf("the third connection failed with %v, want overloaded: too many connections (limit 2)", err)
		}
		if !eventually(func() bool { return len(log.Entries("peer: connection refused", "answered", "true")) == 1 }) {
			t.Errorf("the refusal was not logged once to Serve's logger:\n%s", log)
		}
		a.Close()
		// The listener counts a as gone once the server's side has ended.
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := connect()
			if err == nil {
				if v, err := c.Call(ctxTimeout(t, 5*time.Second), "echo", "again"); err != nil || v != "again" {
					t.Errorf("after one closed: %v, %v", v, err)
				}
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no connection taken after one of two closed: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.Close()
		l.Close()
	}

	srv := httptest.NewServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		if c, err := peer.Server(ctx, fc, peer.WithHandler(services())); err == nil {
			<-c.Done()
		}
	}, peer.WithMaxConns(1)))
	defer srv.Close()
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
	fc, err := peer.Dial(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	first, err := peer.Client(ctx, fc)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, err := peer.Dial(ctx, u); err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "too many connections (limit 1)") || service.KindOf(err) != service.KindOverloaded {
		t.Errorf("a second WebSocket past a limit of one: %v", err)
	}
}

// eventually reports whether cond holds within five seconds.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// TestConnLimitBaseline: a baseline (duplex) connector over the limit
// reads the refusal's reason as the public peers do, after "-ERR".
func TestConnLimitBaseline(t *testing.T) {
	ctx := ctxTimeout(t, 10*time.Second)
	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0", peer.WithMaxConns(1))
	if err != nil {
		t.Fatal(err)
	}
	go peer.Serve(ctx, l, peer.WithHandler(services()), peer.WithLogger(slog.New(slog.DiscardHandler)))
	greet := func() string {
		fc, err := peer.Dial(ctx, l.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fc.Close() })
		fc.WriteFrames(ctx, []peer.Frame{{Data: []byte("SIMPLEX/1.0;json"), Text: true}})
		f, err := fc.ReadFrame(ctx)
		if err != nil {
			return "error: " + err.Error()
		}
		return string(f.Data)
	}
	if got := greet(); got != "+OK" {
		t.Fatalf("the first connection was answered %q", got)
	}
	if got, want := greet(), "-ERR overloaded: too many connections (limit 1)"; got != want {
		t.Errorf("the second connection was answered %q, want %q", got, want)
	}
}

// TestRateLimit: calls over a connection's rate are answered overloaded
// and logged once; the bucket refills at the rate, and a connection's
// rate is its own. (The five calls must take less than a second.)
func TestRateLimit(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.Name, func(t *testing.T) {
			log, logger := logtest.New()
			opts := []peer.Option{peer.WithHandler(services()), peer.WithRateLimit(1, 3), peer.WithLogger(logger)}
			c, _ := connect(t, tr, nil, opts)
			other, _ := connect(t, tr, nil, opts)
			ctx := ctxTimeout(t, 10*time.Second)
			for i := range 3 {
				if _, err := c.Call(ctx, "echo", int64(i)); err != nil {
					t.Fatalf("call %d within the burst: %v", i, err)
				}
			}
			for range 2 {
				_, err := c.Call(ctx, "echo", "over")
				if service.KindOf(err) != service.KindOverloaded || !strings.Contains(err.Error(), "calls over the rate limit of 1 a second") {
					t.Fatalf("a call over the rate: %v", err)
				}
			}
			if n := len(log.Entries("peer: calls over the rate limit refused")); n != 1 {
				t.Errorf("%d info lines for two refusals in a row, want 1:\n%s", n, log)
			}
			if v, err := other.Call(ctx, "echo", "mine"); err != nil || v != "mine" {
				t.Errorf("another connection's call: %v, %v", v, err)
			}
			time.Sleep(1100 * time.Millisecond) // a token at 1 a second
			if v, err := c.Call(ctx, "echo", "later"); err != nil || v != "later" {
				t.Errorf("a call after the refill: %v, %v", v, err)
			}
		})
	}
}

// TestPeerWebSocketRefusalLogged: a Peer's WebSocket handler logs its
// refusals where the peer logs.
func TestPeerWebSocketRefusalLogged(t *testing.T) {
	ctx := ctxTimeout(t, 10*time.Second)
	log, logger := logtest.New()
	p := peer.New(peer.WithHandler(services()), peer.WithLogger(logger))
	defer p.Close()
	srv := httptest.NewServer(p.WebSocketHandler(peer.WithMaxConns(1)))
	defer srv.Close()
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
	fc, err := peer.Dial(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	if _, err := peer.Dial(ctx, u); service.KindOf(err) != service.KindOverloaded {
		t.Fatalf("a second WebSocket past a limit of one: %v", err)
	}
	if n := len(log.Entries("peer: connection refused", "reason", "too many connections (limit 1)")); n != 1 {
		t.Errorf("%d refusals logged to the peer's logger, want 1:\n%s", n, log)
	}
}
