package peer_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
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
		go peer.Serve(ctx, l, peer.WithHandler(services()))
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
	if _, err := peer.Dial(ctx, u); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("a second WebSocket past a limit of one: %v", err)
	}
}
