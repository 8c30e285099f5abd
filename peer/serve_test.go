package peer_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// serveOn starts Serve on a new TCP listener and returns its address and
// the channel Serve's error comes on.
func serveOn(t *testing.T, ctx context.Context, opts ...peer.Option) (peer.Listener, <-chan error) {
	t.Helper()
	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- peer.Serve(ctx, l, opts...) }()
	return l, served
}

// dialServe connects a client to addr.
func dialServe(t *testing.T, addr string) *peer.Conn {
	t.Helper()
	ctx := ctxTimeout(t, 5*time.Second)
	fc, err := peer.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := peer.Client(ctx, fc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func waitServe(t *testing.T, served <-chan error) error {
	t.Helper()
	select {
	case err := <-served:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

// TestServe: Serve serves every connection it accepts with the
// config's handler; when its ctx ends it returns ctx's error, having
// closed its listener and its connections, and a call in flight fails
// as a lost connection's does.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{}, 1)
	l, served := serveOn(t, ctx, peer.WithHandler(mux{
		"echo": func(ctx context.Context, s *peer.ServerStream) (any, error) { return s.Recv() },
		"wait": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			started <- struct{}{}
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}))
	a, b := dialServe(t, l.Addr()), dialServe(t, l.Addr())
	callCtx := ctxTimeout(t, 5*time.Second)
	for _, c := range []*peer.Conn{a, b} {
		if v, err := c.Call(callCtx, "echo", "hi"); err != nil || v != "hi" {
			t.Fatalf("echo: %v, %v", v, err)
		}
	}
	waited := make(chan error, 1)
	go func() {
		_, err := a.Call(callCtx, "wait", nil)
		waited <- err
	}()
	<-started
	cancel()
	if err := waitServe(t, served); !errors.Is(err, context.Canceled) {
		t.Errorf("Serve returned %v, want context.Canceled", err)
	}
	if err := <-waited; kindOf(t, err) != service.KindUnavailable || !peer.Retryable(err) {
		t.Errorf("the call in flight: %v, want a retryable unavailable error", err)
	}
	for _, c := range []*peer.Conn{a, b} {
		select {
		case <-c.Done():
		case <-callCtx.Done():
			t.Fatal("a connection Serve accepted is still open")
		}
	}
	if _, err := peer.Dial(callCtx, l.Addr()); err == nil {
		t.Error("the listener still accepts")
	}
}

// TestServeListenerClosed: Serve returns the listener's error when it is
// closed, after closing its connections.
func TestServeListenerClosed(t *testing.T) {
	l, served := serveOn(t, ctxTimeout(t, 10*time.Second), nil)
	c := dialServe(t, l.Addr())
	if _, err := c.Call(ctxTimeout(t, 5*time.Second), "nope", nil); kindOf(t, err) != service.KindNotFound {
		t.Fatalf("nope: %v, want not found from a server without a handler", err)
	}
	l.Close()
	if err := waitServe(t, served); !errors.Is(err, net.ErrClosed) || kindOf(t, err) != service.KindUnavailable {
		t.Errorf("Serve returned %v, want the listener closed", err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the connection is still open")
	}
}

// TestServeBadConfig: a config that cannot work is Serve's error, at
// once, and the listener is closed.
func TestServeBadConfig(t *testing.T) {
	l, served := serveOn(t, ctxTimeout(t, 10*time.Second), peer.WithCodecs("xml"))
	if err := waitServe(t, served); kindOf(t, err) != service.KindInvalid {
		t.Errorf("Serve returned %v, want invalid", err)
	}
	if _, err := peer.Dial(ctxTimeout(t, 5*time.Second), l.Addr()); err == nil {
		t.Error("the listener still accepts")
	}
}
