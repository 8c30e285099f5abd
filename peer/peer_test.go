package peer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// fastBackoff makes the tests' peers redial within milliseconds.
var fastBackoff = peer.WithBackoff(5*time.Millisecond, 50*time.Millisecond)

// startPeer returns a peer made with opts that listens on addr, and the
// address to dial; Close ends it with the test.
func startPeer(t *testing.T, addr string, opts ...peer.PeerOption) (*peer.Peer, string) {
	t.Helper()
	p := peer.New(opts...)
	t.Cleanup(func() { p.Close() })
	bound, err := p.Bind(ctxTimeout(t, 5*time.Second), addr)
	if err != nil {
		t.Fatal(err)
	}
	return p, bound
}

// newPeer returns a peer made with opts that the test's end closes.
func newPeer(t *testing.T, opts ...peer.PeerOption) *peer.Peer {
	p := peer.New(opts...)
	t.Cleanup(func() { p.Close() })
	return p
}

// waitUntil polls cond until it holds, failing the test after 10s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// holds checks that cond stays true for d, polling it as waitUntil does,
// and fails at the first time it is false: for what must not happen, such
// as a redial, which no event announces.
func holds(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
	}
}

// freeTCPAddr returns a "tcp://127.0.0.1:port" address that nothing
// listens on (right now).
func freeTCPAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "tcp://" + l.Addr().String()
}

// addrKinds are the stream transports a Peer binds to; each gives an
// address to bind to, known before anything listens there.
var addrKinds = []struct {
	name string
	addr func(t *testing.T) string
}{
	{"tcp", freeTCPAddr},
	{"unix", func(t *testing.T) string { return "unix://" + filepath.Join(shortTempDir(t), "p.sock") }},
}

// named serves "who" with name, "echo" with its argument and headers,
// and "items" by streaming back each argument tagged with name.
func named(name string) peer.Handler {
	return mux{
		"who": func(ctx context.Context, s *peer.ServerStream) (any, error) { return name, nil },
		"echo": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			v, err := s.Recv()
			if err != nil {
				return nil, err
			}
			return map[string]any{"arg": v, "trace": peer.Header(ctx)["trace"]}, nil
		},
		"items": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			for {
				v, err := s.Recv()
				if errors.Is(err, io.EOF) {
					return nil, nil
				}
				if err != nil {
					return nil, err
				}
				if err := s.Send(fmt.Sprintf("%s:%v", name, v)); err != nil {
					return nil, err
				}
			}
		},
	}
}

func TestPeerCallOverEachTransport(t *testing.T) {
	type setup func(t *testing.T, server *peer.Peer) string
	binds := []struct {
		name string
		bind setup
	}{
		{"tcp", func(t *testing.T, server *peer.Peer) string {
			addr, err := server.Bind(ctxTimeout(t, 5*time.Second), "tcp://127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			return addr
		}},
		{"unix", func(t *testing.T, server *peer.Peer) string {
			addr, err := server.Bind(ctxTimeout(t, 5*time.Second), "unix://"+filepath.Join(shortTempDir(t), "s.sock"))
			if err != nil {
				t.Fatal(err)
			}
			return addr
		}},
		{"websocket", func(t *testing.T, server *peer.Peer) string {
			srv := httptest.NewServer(server.WebSocketHandler())
			t.Cleanup(srv.Close)
			return "ws://" + strings.TrimPrefix(srv.URL, "http://")
		}},
	}
	for _, b := range binds {
		t.Run(b.name, func(t *testing.T) {
			got := make(chan string, 1)
			h := mux{"log": func(ctx context.Context, s *peer.ServerStream) (any, error) {
				v, _ := s.Recv()
				got <- fmt.Sprint(v)
				return nil, nil
			}}
			for k, v := range named("s").(mux) {
				h[k] = v
			}
			server := newPeer(t, peer.WithHandler(h))
			addr := b.bind(t, server)
			client := newPeer(t, fastBackoff, peer.WithHandler(named("c1")))
			if err := client.Connect(addr); err != nil {
				t.Fatal(err)
			}
			ctx := peer.WithHeader(ctxTimeout(t, 10*time.Second), map[string]string{"trace": "t-1"})
			v, err := client.Call(ctx, "echo", "hi")
			if err != nil {
				t.Fatal(err)
			}
			if m, _ := v.(map[string]any); m["arg"] != "hi" || m["trace"] != "t-1" {
				t.Errorf("echo: %v", v)
			}
			s, err := client.NewStream(ctx, "items")
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range []string{"a", "b", "c"} {
				if err := s.Send(x); err != nil {
					t.Fatal(err)
				}
			}
			s.CloseSend()
			items, err := recvAll(s)
			if err != nil || !eq(items, []any{"s:a", "s:b", "s:c"}) {
				t.Errorf("items: %v, %v", items, err)
			}
			if err := client.Notify(ctx, "log", "note"); err != nil {
				t.Fatal(err)
			}
			select {
			case v := <-got:
				if v != "note" {
					t.Errorf("notification carried %q", v)
				}
			case <-ctx.Done():
				t.Fatal("notification not served")
			}
			// The server is a peer too: it calls the client back on the
			// connection it accepted.
			client2 := newPeer(t, fastBackoff, peer.WithHandler(named("c2")))
			client2.Connect(addr)
			waitUntil(t, "the server has two connections", func() bool { return len(server.Conns()) == 2 })
			names := map[any]bool{}
			for range 4 {
				v, err := server.Call(ctx, "who", nil)
				if err != nil {
					t.Fatal(err)
				}
				names[v] = true
			}
			if len(names) != 2 || !names["c1"] || !names["c2"] {
				t.Errorf("the server's calls reached %v", names)
			}
		})
	}
}

// TestPeerAcceptConn joins two peers over a connection they already have.
func TestPeerAcceptConn(t *testing.T) {
	a, b := peer.Pipe()
	server := newPeer(t, peer.WithHandler(named("server")))
	client := newPeer(t, peer.WithHandler(named("client")))
	ctx := ctxTimeout(t, 5*time.Second)
	errc := make(chan error, 1)
	go func() {
		_, err := server.AcceptConn(ctx, b)
		errc <- err
	}()
	if _, err := client.ConnectConn(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if v, err := client.Call(ctx, "who", nil); err != nil || v != "server" {
		t.Errorf("client → server: %v, %v", v, err)
	}
	if v, err := server.Call(ctx, "who", nil); err != nil || v != "client" {
		t.Errorf("server → client: %v, %v", v, err)
	}
}

func TestPeerQueueBeforeConnect(t *testing.T) {
	for _, k := range addrKinds {
		t.Run(k.name, func(t *testing.T) {
			addr := k.addr(t)
			client := newPeer(t, fastBackoff)
			if err := client.Connect(addr); err != nil {
				t.Fatal(err)
			}
			// The calls queue in a known order: each is made once the
			// one before it waits.
			const n = 20
			ctx := ctxTimeout(t, 10*time.Second)
			type result struct {
				i   int
				v   any
				err error
			}
			results := make(chan result, n)
			for i := range n {
				go func() {
					v, err := client.Call(ctx, "order", i)
					results <- result{i, v, err}
				}()
				waitUntil(t, fmt.Sprintf("call %d waits", i), func() bool { return client.Waiting() == i+1 })
			}
			// The server comes up; the calls go out in order on the first
			// connection. A call's id on a connection is its place in
			// the order it was sent.
			var mu sync.Mutex
			byID := map[uint64]any{}
			startPeer(t, addr, peer.WithHandler(peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
				v, err := s.Recv()
				mu.Lock()
				byID[s.ID()] = v
				mu.Unlock()
				return v, err
			})))
			for range n {
				r := <-results
				if r.err != nil || !eq(r.v, r.i) {
					t.Errorf("call %d: %v, %v", r.i, r.v, r.err)
				}
			}
			if client.Waiting() != 0 {
				t.Errorf("%d calls still wait", client.Waiting())
			}
			mu.Lock()
			defer mu.Unlock()
			ids := slices.Sorted(func(yield func(uint64) bool) {
				for id := range byID {
					if !yield(id) {
						return
					}
				}
			})
			for i, id := range ids {
				if !eq(byID[id], i) {
					t.Fatalf("the calls went out in the order %v", byID)
				}
			}
		})
	}
}

func TestPeerQueueLimits(t *testing.T) {
	client := newPeer(t, peer.WithQueue(2))
	client.Connect(freeTCPAddr(t)) // nothing listens: no connection

	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	errs := make(chan error, 2)
	go func() { _, err := client.Call(ctx1, "x", nil); errs <- err }()
	waitUntil(t, "one call waits", func() bool { return client.Waiting() == 1 })
	go func() { errs <- client.Notify(ctx2, "x", nil) }()
	waitUntil(t, "two calls wait", func() bool { return client.Waiting() == 2 })

	// The queue is full: an error at once, never a silent loss.
	_, err := client.Call(context.Background(), "x", nil)
	if kindOf(t, err) != service.KindOverloaded {
		t.Errorf("call on a full queue: %v", err)
	}
	if _, err := client.NewStream(context.Background(), "x"); kindOf(t, err) != service.KindOverloaded {
		t.Errorf("stream on a full queue: %v", err)
	}
	// The waiting calls end with their contexts.
	if err := <-errs; kindOf(t, err) != service.KindDeadlineExceeded {
		t.Errorf("waiting notification past its deadline: %v", err)
	}
	cancel1()
	if err := <-errs; kindOf(t, err) != service.KindCanceled {
		t.Errorf("canceled waiting call: %v", err)
	}
	if client.Waiting() != 0 {
		t.Errorf("%d calls still wait", client.Waiting())
	}

	// Without a queue, a call without a connection fails at once,
	// retryably.
	noQueue := newPeer(t, peer.WithQueue(0))
	if _, err := noQueue.Call(context.Background(), "x", nil); !peer.Retryable(err) {
		t.Errorf("call without queue nor connection: %v", err)
	}
}

func TestPeerReconnectsAfterRestart(t *testing.T) {
	for _, k := range addrKinds {
		t.Run(k.name, func(t *testing.T) {
			addr := k.addr(t)
			first, _ := startPeer(t, addr, peer.WithHandler(named("first")))
			client := newPeer(t, fastBackoff)
			client.Connect(addr)
			ctx := ctxTimeout(t, 10*time.Second)
			if v, err := client.Call(ctx, "who", nil); err != nil || v != "first" {
				t.Fatalf("before the restart: %v, %v", v, err)
			}
			// The remote goes away: its listener and connections close.
			first.Close()
			waitUntil(t, "the client sees the connection drop", func() bool { return len(client.Conns()) == 0 })
			got := make(chan any, 1)
			go func() {
				v, err := client.Call(ctx, "who", nil)
				if err != nil {
					v = err
				}
				got <- v
			}()
			waitUntil(t, "the call waits", func() bool { return client.Waiting() == 1 })
			// A new remote comes up at the same address.
			startPeer(t, addr, peer.WithHandler(named("second")))
			if v := <-got; v != "second" {
				t.Errorf("call made while the remote was down: %v", v)
			}
			if v, err := client.Call(ctx, "who", nil); err != nil || v != "second" {
				t.Errorf("after the restart: %v, %v", v, err)
			}
		})
	}
}

// TestPeerInFlightNotReplayed kills a connection under a call and a
// stream: both fail retryably, and the remote ran each exactly once.
func TestPeerInFlightNotReplayed(t *testing.T) {
	var runs atomic.Int32
	started := make(chan struct{}, 2)
	h := mux{
		"slow": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			runs.Add(1)
			started <- struct{}{}
			<-ctx.Done()
			return nil, ctx.Err()
		},
		"ping": func(ctx context.Context, s *peer.ServerStream) (any, error) { return "pong", nil },
	}
	server, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(h))
	client := newPeer(t, fastBackoff)
	client.Connect(addr)
	ctx := ctxTimeout(t, 10*time.Second)

	errc := make(chan error, 1)
	go func() {
		_, err := client.Call(ctx, "slow", nil)
		errc <- err
	}()
	s, err := client.NewStream(ctx, "slow")
	if err != nil {
		t.Fatal(err)
	}
	s.Send(1)
	s.CloseSend()
	<-started
	<-started
	waitUntil(t, "the server lists its connection", func() bool { return len(server.Conns()) == 1 })
	for _, c := range server.Conns() {
		c.Close() // the connection dies under both calls
	}
	if err := <-errc; !peer.Retryable(err) {
		t.Errorf("call on a killed connection: %v (retryable: false)", err)
	}
	if _, err := s.Recv(); !peer.Retryable(err) {
		t.Errorf("stream on a killed connection: %v (retryable: false)", err)
	}
	// The client reconnects and goes on; the calls are not sent again.
	if v, err := client.Call(ctx, "ping", nil); err != nil || v != "pong" {
		t.Fatalf("after the reconnect: %v, %v", v, err)
	}
	holds(t, "the remote ran the killed calls once each", 100*time.Millisecond, func() bool { return runs.Load() == 2 })
}

func TestPeerRoundRobin(t *testing.T) {
	client := newPeer(t, fastBackoff)
	names := []string{"a", "b", "c"}
	for _, name := range names {
		_, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(named(name)))
		client.Connect(addr)
	}
	waitUntil(t, "three connections", func() bool { return len(client.Conns()) == 3 })
	ctx := ctxTimeout(t, 10*time.Second)
	count := map[any]int{}
	for range 30 {
		v, err := client.Call(ctx, "who", nil)
		if err != nil {
			t.Fatal(err)
		}
		count[v]++
	}
	for _, name := range names {
		if count[name] != 10 {
			t.Errorf("calls per remote: %v, want 10 each", count)
			break
		}
	}
	// A stream stays on the connection it started on; streams spread.
	streams := map[string]int{}
	for range 6 {
		s, err := client.NewStream(ctx, "items")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			s.Send(i)
		}
		s.CloseSend()
		items, err := recvAll(s)
		if err != nil || len(items) != 5 {
			t.Fatalf("stream: %v, %v", items, err)
		}
		first, _, _ := strings.Cut(items[0].(string), ":")
		for i, it := range items {
			if it != fmt.Sprintf("%s:%d", first, i) {
				t.Errorf("stream items %v came from more than one remote", items)
			}
		}
		streams[first]++
	}
	if len(streams) != 3 {
		t.Errorf("streams per remote: %v", streams)
	}
}

func TestPeerDisconnect(t *testing.T) {
	server, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(named("s")))
	client := newPeer(t, fastBackoff)
	client.Connect(addr)
	client.Connect(addr) // once is enough
	ctx := ctxTimeout(t, 10*time.Second)
	if _, err := client.Call(ctx, "who", nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the server lists the connection", func() bool { return len(server.Conns()) > 0 })
	holds(t, "connecting twice made one connection", 20*time.Millisecond, func() bool { return len(server.Conns()) == 1 })
	if err := client.Disconnect(ctx, addr); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the server sees the connection go", func() bool { return len(server.Conns()) == 0 })
	holds(t, "no connection after Disconnect (no redial)", 50*time.Millisecond, func() bool { return len(client.Conns())+len(server.Conns()) == 0 })
}

func TestPeerBadAddress(t *testing.T) {
	p := newPeer(t)
	for _, addr := range []string{"", "localhost:80", "http://example.com/", "tcp://"} {
		if err := p.Connect(addr); kindOf(t, err) != service.KindInvalid {
			t.Errorf("Connect(%q): %v", addr, err)
		}
	}
	if _, err := p.Bind(ctxTimeout(t, time.Second), "ws://127.0.0.1:0/"); kindOf(t, err) != service.KindInvalid {
		t.Errorf("Bind ws: %v", err)
	}
	bad := newPeer(t, peer.WithCodecs("xml"))
	if err := bad.Connect("tcp://127.0.0.1:1"); kindOf(t, err) != service.KindInvalid {
		t.Errorf("Connect with a bad config: %v", err)
	}
}

func TestPeerShutdown(t *testing.T) {
	b := newBlocker()
	server, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(b))
	client := newPeer(t, fastBackoff)
	client.Connect(addr)
	ctx := ctxTimeout(t, 10*time.Second)
	got := make(chan any, 1)
	go func() {
		v, err := client.Call(ctx, "wait", nil)
		if err != nil {
			v = err
		}
		got <- v
	}()
	<-b.started
	// (The remote may call on a connection before the peer that
	// accepted it lists it.)
	waitUntil(t, "the server lists its connection", func() bool { return len(server.Conns()) == 1 })
	srvConn := server.Conns()[0]
	done := make(chan error, 1)
	go func() { done <- server.Shutdown(ctx) }()
	waitUntil(t, "the server's connection shuts down", func() bool {
		_, err := srvConn.Call(ctx, "x", nil)
		return peer.Retryable(err)
	})
	// New calls do not reach the peer shutting down: the client's
	// either waits for another connection or is refused.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := client.Call(short, "wait", nil); err == nil {
		t.Error("a new call reached a peer shutting down")
	}
	select {
	case <-b.started:
		t.Error("a new call reached a peer shutting down")
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	default:
	}
	// The call in flight finishes; Shutdown waits for it.
	close(b.release)
	if v := <-got; v != "released" {
		t.Errorf("call in flight during Shutdown: %v", v)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := server.Call(ctx, "x", nil); !peer.Retryable(err) {
		t.Errorf("call on a peer shut down: %v", err)
	}
	if _, err := server.Bind(ctx, "tcp://127.0.0.1:0"); !peer.Retryable(err) {
		t.Errorf("Bind on a peer shut down: %v", err)
	}

	// Close fails the calls that wait.
	lone := peer.New()
	errc := make(chan error, 1)
	go func() { _, err := lone.Call(ctx, "x", nil); errc <- err }()
	waitUntil(t, "the call waits", func() bool { return lone.Waiting() == 1 })
	lone.Close()
	if err := <-errc; !peer.Retryable(err) {
		t.Errorf("waiting call on Close: %v", err)
	}
}

func ExamplePeer() {
	ctx := context.Background()
	hello := peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
		name, err := s.Recv()
		if err != nil {
			return nil, err
		}
		return fmt.Sprintf("hello, %v", name), nil
	})
	server := peer.New(peer.WithHandler(hello))
	defer server.Close()
	addr, err := server.Bind(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}

	client := peer.New()
	defer client.Close()
	// Connect dials in the background; the call waits for the connection.
	if err := client.Connect(addr); err != nil {
		fmt.Println(err)
		return
	}
	v, err := client.Call(ctx, "hello", "world")
	fmt.Println(v, err)
	// Output: hello, world <nil>
}
