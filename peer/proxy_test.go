package peer_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// backend is what a proxied peer serves: named(name) plus a failing
// method, a stream of results only, a stream of one item, a blocking
// method and notifications.
func backend(name string, b *blocker, notes chan<- string) peer.Handler {
	h := named(name).(mux)
	h["fail"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return nil, service.Errorf(service.KindPermissionDenied, "%s says no", name)
	}
	// refuse answers an error of a known kind with data of its own, as
	// a duplex peer may: a proxy passes both on.
	h["refuse"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return nil, &service.Error{Kind: service.KindNotFound, Message: name + " has no such thing",
			Err: &peer.RemoteError{Code: peer.ErrorCode(service.KindNotFound), Data: map[string]any{"why": "moved", "by": name}}}
	}
	h["count"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		n, err := s.Recv()
		if err != nil {
			return nil, err
		}
		for i := range n.(int64) {
			if err := s.Send(i); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	h["one"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return nil, s.Send(name)
	}
	h["wait"] = b.ServePeer
	h["log"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		v, _ := s.Recv()
		notes <- name + ":" + v.(string) + ":" + peer.Header(ctx)["trace"]
		return nil, nil
	}
	return h
}

// within returns the next value from ch, failing the test when none
// comes within 10s.
func within[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing came within 10s")
	}
	var zero T
	return zero
}

// TestProxyChain runs client → proxy → two backends, one chosen by
// method prefix and one by header, with every peer speaking the
// extensions and then as baseline duplex peers.
func TestProxyChain(t *testing.T) {
	for _, m := range modes {
		t.Run(m.Name, func(t *testing.T) { testProxyChain(t, m.Baseline) })
	}
}

func testProxyChain(t *testing.T, baseline bool) {
	// inMode adds the mode's options to opts: every peer of the chain
	// talks as a baseline duplex peer, or none does.
	inMode := func(opts ...peer.PeerOption) []peer.PeerOption {
		if baseline {
			return append([]peer.PeerOption{peer.WithBaseline()}, opts...)
		}
		return opts
	}
	ba, bb := newBlocker(), newBlocker()
	notes := make(chan string, 4)
	_, addrA := startPeer(t, "tcp://127.0.0.1:0", inMode(peer.WithHandler(backend("A", ba, notes)))...)
	_, addrB := startPeer(t, "unix://"+shortTempDir(t)+"/b.sock", inMode(peer.WithHandler(backend("B", bb, notes)))...)
	toA, toB := newPeer(t, inMode(fastBackoff)...), newPeer(t, inMode(fastBackoff)...)
	toA.Connect(addrA)
	toB.Connect(addrB)
	down := newPeer(t, peer.WithQueue(0)) // connected to nothing
	_, proxyAddr := startPeer(t, "tcp://127.0.0.1:0", inMode(peer.WithHandler(peer.NewProxy(
		peer.Route{Prefix: "a.", Strip: true, To: toA},
		peer.Route{Header: "tenant", Value: "b", To: toB},
		peer.Route{Prefix: "down.", To: down},
	)))...)
	client := newPeer(t, inMode(fastBackoff)...)
	client.Connect(proxyAddr)
	ctx := ctxTimeout(t, 10*time.Second)
	tenantB := peer.WithHeader(ctx, map[string]string{"tenant": "b", "trace": "t-9"})

	t.Run("routes", func(t *testing.T) {
		for _, c := range []struct {
			ctx    context.Context
			method string
			want   any
		}{
			{ctx, "a.who", "A"},
			{tenantB, "who", "B"},
			{tenantB, "a.who", "A"}, // the first route that matches
		} {
			if v, err := client.Call(c.ctx, c.method, nil); err != nil || v != c.want {
				t.Errorf("%s: %v, %v; want %v", c.method, v, err, c.want)
			}
		}
		for _, ctx := range []context.Context{ctx, peer.WithHeader(ctx, map[string]string{"tenant": "c"})} {
			_, err := client.Call(ctx, "who", nil)
			var se *service.Error
			if !errors.As(err, &se) || se.Kind != service.KindNotFound || se.Message != "method not found: who" {
				t.Errorf("no route: %v", err)
			}
		}
	})

	t.Run("headers", func(t *testing.T) {
		v, err := client.Call(tenantB, "echo", "x")
		if m, _ := v.(map[string]any); err != nil || m["arg"] != "x" || m["trace"] != "t-9" {
			t.Errorf("echo through the proxy: %v, %v", v, err)
		}
		if err := client.Notify(tenantB, "log", "n"); err != nil {
			t.Fatal(err)
		}
		if n := within(t, notes); n != "B:n:t-9" {
			t.Errorf("notification through the proxy: %q", n)
		}
	})

	t.Run("streams", func(t *testing.T) {
		for _, c := range []struct {
			ctx    context.Context
			method string
			want   []any
		}{
			{ctx, "a.items", []any{"A:1", "A:2", "A:3"}},
			{tenantB, "items", []any{"B:1", "B:2", "B:3"}},
		} {
			s, err := client.NewStream(c.ctx, c.method)
			if err != nil {
				t.Fatal(err)
			}
			if baseline {
				// A baseline stream holds its last argument back until
				// the next or the end: send them all first.
				for i := 1; i <= 3; i++ {
					s.Send(i)
				}
				s.CloseSend()
				if items, err := recvAll(s); err != nil || !eq(items, c.want) {
					t.Errorf("%s: %v, %v", c.method, items, err)
				}
				continue
			}
			// Both ways at once: each result comes back before the next
			// argument goes.
			for i := 1; i <= 3; i++ {
				if err := s.Send(i); err != nil {
					t.Fatal(err)
				}
				if i == 3 {
					s.CloseSend()
				}
				v, err := s.Recv()
				if err != nil || v != c.want[i-1] {
					t.Fatalf("%s item %d: %v, %v", c.method, i, v, err)
				}
			}
			if v, err := s.Recv(); err != io.EOF {
				t.Errorf("%s after the last: %v, %v", c.method, v, err)
			}
		}
		s, err := client.NewStream(ctx, "a.count")
		if err != nil {
			t.Fatal(err)
		}
		s.Send(4)
		s.CloseSend()
		if items, err := recvAll(s); err != nil || !eq(items, []any{0, 1, 2, 3}) {
			t.Errorf("results stream: %v, %v", items, err)
		}
		// A stream of one item stays a stream; a unary result stays one.
		// (Baseline peers cannot tell them apart.)
		if _, err := client.Call(ctx, "a.one", nil); !baseline && kindOf(t, err) != service.KindUnsupported {
			t.Errorf("Call of a streaming method through the proxy: %v", err)
		}
		s, _ = client.NewStream(ctx, "a.one")
		s.CloseSend()
		if items, err := recvAll(s); err != nil || !eq(items, []any{"A"}) {
			t.Errorf("stream of one item: %v, %v", items, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := client.Call(ctx, "a.fail", nil)
		var se *service.Error
		if !errors.As(err, &se) || se.Kind != service.KindPermissionDenied || se.Message != "A says no" || se.Op != "fail" {
			t.Errorf("error through the proxy: %#v", err)
		}
		// The data of an error of a known kind gets through as it was.
		_, err = client.Call(ctx, "a.refuse", nil)
		var re *peer.RemoteError
		if !errors.As(err, &se) || se.Kind != service.KindNotFound || se.Message != "A has no such thing" ||
			!errors.As(err, &re) || !eq(re.Data, map[string]any{"why": "moved", "by": "A"}) {
			t.Errorf("error with data through the proxy: %#v", err)
		}
		// A backend that cannot be reached: retryable.
		if _, err := client.Call(ctx, "down.x", nil); !peer.Retryable(err) {
			t.Errorf("unreachable backend: %v", err)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		if baseline {
			t.Skip("baseline peers cannot cancel a call or send its deadline")
		}
		cctx, cancel := context.WithTimeout(tenantB, 5*time.Second)
		errc := make(chan error, 1)
		go func() {
			_, err := client.Call(cctx, "wait", nil)
			errc <- err
		}()
		within(t, bb.started)
		if dl := within(t, bb.dl); dl.IsZero() || time.Until(dl) > 5*time.Second {
			t.Errorf("the backend's deadline: %v", dl)
		}
		cancel()
		if err := <-errc; kindOf(t, err) != service.KindCanceled {
			t.Errorf("canceled call: %v", err)
		}
		select {
		case <-bb.ended:
		case <-time.After(5 * time.Second):
			t.Fatal("canceling the call did not cancel the backend's handler")
		}
	})

	t.Run("backend lost", func(t *testing.T) {
		errc := make(chan error, 1)
		go func() {
			_, err := client.Call(ctx, "a.wait", nil)
			errc <- err
		}()
		within(t, ba.started)
		within(t, ba.dl)
		for _, c := range toA.Conns() {
			c.Close()
		}
		if err := <-errc; !peer.Retryable(err) {
			t.Errorf("call whose backend connection broke: %v", err)
		}
	})
}

// TestProxyToConn forwards to a single connection, over a pipe.
func TestProxyToConn(t *testing.T) {
	a, b := peer.Pipe()
	back := newPeer(t, peer.WithHandler(named("conn")))
	ctx := ctxTimeout(t, 10*time.Second)
	go back.AcceptConn(ctx, b)
	fwd, err := peer.Client(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fwd.Close() })
	_, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(peer.NewProxy(peer.Route{To: fwd})))
	client := newPeer(t)
	client.Connect(addr)
	if v, err := client.Call(ctx, "who", nil); err != nil || v != "conn" {
		t.Errorf("through a Conn: %v, %v", v, err)
	}
}
