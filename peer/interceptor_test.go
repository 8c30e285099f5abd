package peer_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/intercepttest"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// journal records what interceptors see, in order.
type journal struct {
	mu      sync.Mutex // guards entries
	entries []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	j.entries = append(j.entries, fmt.Sprintf(format, args...))
	j.mu.Unlock()
}

func (j *journal) len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

// take returns the entries so far and forgets them.
func (j *journal) take() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	e := j.entries
	j.entries = nil
	return e
}

// tracing is a client interceptor that journals around each kind of
// call and adds its name to the header "via".
func tracing(j *journal, name string) intercept.Interceptor {
	// On the calling side a peer call's headers keep their keys as
	// given: "via", as the handlers read it.
	via := func(c *intercept.Call) {
		h := map[string][]string(c.Header)
		v := ""
		if vs := h["via"]; len(vs) > 0 {
			v = vs[0] + ","
		}
		h["via"] = []string{v + name}
	}
	return interceptorFuncs{
		unary: func(next intercept.UnaryFunc) intercept.UnaryFunc {
			return func(ctx context.Context, c *intercept.Call) (any, error) {
				if c.Notify {
					j.add("%s notify %s", name, c.Procedure)
					via(c)
					return next(ctx, c)
				}
				j.add("%s call %s", name, c.Procedure)
				via(c)
				v, err := next(ctx, c)
				j.add("%s call %s done: %v", name, c.Procedure, service.KindOf(err))
				return v, err
			}
		},
		stream: func(next intercept.StreamFunc) intercept.StreamFunc {
			return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
				j.add("%s stream %s", name, c.Procedure)
				via(c)
				return next(ctx, c)
			}
		},
	}
}

// interceptorFuncs is an intercept.Interceptor made of two functions.
type interceptorFuncs struct {
	unary  func(intercept.UnaryFunc) intercept.UnaryFunc
	stream func(intercept.StreamFunc) intercept.StreamFunc
}

func (f interceptorFuncs) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	if f.unary == nil {
		return next
	}
	return f.unary(next)
}

func (f interceptorFuncs) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	if f.stream == nil {
		return next
	}
	return f.stream(next)
}

// guarding is a server interceptor that journals each call it serves,
// with the header "via", and refuses calls without one.
func guarding(j *journal, name string) intercept.Interceptor {
	return interceptorFuncs{
		unary: func(next intercept.UnaryFunc) intercept.UnaryFunc {
			return func(ctx context.Context, c *intercept.Call) (any, error) {
				via := c.Header.Get("Via")
				j.add("%s serve %s via %s", name, c.Procedure, via)
				if via == "" {
					return nil, service.Errorf(service.KindPermissionDenied, "no via")
				}
				v, err := next(ctx, c)
				j.add("%s served %s", name, c.Procedure)
				return v, err
			}
		},
		stream: func(next intercept.StreamFunc) intercept.StreamFunc {
			return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
				via := c.Header.Get("Via")
				j.add("%s serve %s via %s", name, c.Procedure, via)
				if via == "" {
					return nil, service.Errorf(service.KindPermissionDenied, "no via")
				}
				s, err := next(ctx, c)
				if err != nil {
					return nil, err
				}
				return &journaledStream{Stream: s, end: func() { j.add("%s served %s", name, c.Procedure) }}, nil
			}
		},
	}
}

// journaledStream journals its end.
type journaledStream struct {
	intercept.Stream
	end func()
}

func (s *journaledStream) Close(err error) {
	s.Stream.Close(err)
	s.end()
}

func TestPeerInterceptors(t *testing.T) {
	var cj, sj journal
	notified := make(chan string, 1)
	h := named("s").(mux)
	h["fail"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return nil, service.Errorf(service.KindConflict, "it changed")
	}
	h["log"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		notified <- peer.Header(ctx)["via"]
		return nil, nil
	}
	_, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(h),
		peer.WithInterceptors(guarding(&sj, "g1"), guarding(&sj, "g2")))
	client := newPeer(t, peer.WithInterceptors(tracing(&cj, "a"), tracing(&cj, "b")))
	client.Connect(addr)
	ctx := ctxTimeout(t, 10*time.Second)

	// Order: the first is the outermost on both sides; the headers that
	// the client's interceptors add reach the server's.
	v, err := client.Call(ctx, "who", nil)
	if err != nil || v != "s" {
		t.Fatalf("call: %v, %v", v, err)
	}
	if got, want := cj.take(), []string{"a call who", "b call who", "b call who done: other", "a call who done: other"}; !slices.Equal(got, want) {
		t.Errorf("client interceptors: %q, want %q", got, want)
	}
	if got, want := sj.take(), []string{"g1 serve who via a,b", "g2 serve who via a,b", "g2 served who", "g1 served who"}; !slices.Equal(got, want) {
		t.Errorf("server interceptors: %q, want %q", got, want)
	}

	// Errors pass through with their kind, both ways.
	_, err = client.Call(ctx, "fail", nil)
	if kindOf(t, err) != service.KindConflict {
		t.Errorf("error through the interceptors: %v", err)
	}
	if got := cj.take(); len(got) != 4 || got[3] != "a call fail done: conflict" {
		t.Errorf("client interceptors on an error: %q", got)
	}
	sj.take()

	// Streams and notifications are wrapped too; the server's wrapper
	// serves a streaming call like any other.
	s, err := client.NewStream(ctx, "items")
	if err != nil {
		t.Fatal(err)
	}
	s.Send(1)
	s.Send(2)
	s.CloseSend()
	if items, err := recvAll(s); err != nil || !eq(items, []any{"s:1", "s:2"}) {
		t.Errorf("stream: %v, %v", items, err)
	}
	if got, want := cj.take(), []string{"a stream items", "b stream items"}; !slices.Equal(got, want) {
		t.Errorf("client stream interceptors: %q, want %q", got, want)
	}
	if got, want := sj.take(), []string{"g1 serve items via a,b", "g2 serve items via a,b", "g2 served items", "g1 served items"}; !slices.Equal(got, want) {
		t.Errorf("server interceptors on a stream: %q, want %q", got, want)
	}
	if err := client.Notify(ctx, "log", nil); err != nil {
		t.Fatal(err)
	}
	if via := <-notified; via != "a,b" {
		t.Errorf("notification's via: %q", via)
	}
	if got, want := cj.take(), []string{"a notify log", "b notify log"}; !slices.Equal(got, want) {
		t.Errorf("client notify interceptors: %q, want %q", got, want)
	}
	waitUntil(t, "the notification is served", func() bool { return sj.len() == 4 })
	if got, want := sj.take(), []string{"g1 serve log via a,b", "g2 serve log via a,b", "g2 served log", "g1 served log"}; !slices.Equal(got, want) {
		t.Errorf("server interceptors on a notification: %q, want %q", got, want)
	}

	// A server interceptor refuses a call that lacks what it wants; the
	// handler never runs. A plain Conn's call has no via.
	plain := newPeer(t)
	plain.Connect(addr)
	if _, err := plain.Call(ctx, "who", nil); kindOf(t, err) != service.KindPermissionDenied {
		t.Errorf("refused call: %v", err)
	}
	if got := sj.take(); !slices.Equal(got, []string{"g1 serve who via "}) {
		t.Errorf("server interceptors on a refused call: %q", got)
	}
}

// TestPeerInterceptorShortCircuit: a client interceptor that answers by
// itself sends nothing, and a peer with interceptors but no handler
// answers "method not found".
func TestPeerInterceptorShortCircuit(t *testing.T) {
	var sj journal
	_, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithInterceptors(guarding(&sj, "g")))
	cache := intercept.UnaryInterceptorFunc(func(next intercept.UnaryFunc) intercept.UnaryFunc {
		return func(ctx context.Context, c *intercept.Call) (any, error) {
			if c.Procedure == "cached" {
				return "from cache", nil
			}
			c.Header.Set("Via", "cache")
			return next(ctx, c)
		}
	})
	client := newPeer(t, peer.WithInterceptors(cache, intercept.Chain()))
	client.Connect(addr)
	ctx := ctxTimeout(t, 10*time.Second)
	if v, err := client.Call(ctx, "cached", nil); err != nil || v != "from cache" {
		t.Errorf("short circuit: %v, %v", v, err)
	}
	if _, err := client.Call(ctx, "anything", nil); kindOf(t, err) != service.KindNotFound {
		t.Errorf("peer without handler: %v", err)
	}
	if got := sj.take(); !slices.Equal(got, []string{"g serve anything via cache", "g served anything"}) {
		t.Errorf("the server saw %q", got)
	}
}

// TestPeerInterceptorsSee: what interceptors see of a peer's calls on
// both sides: the method, the arguments and result, the peer at the other
// end, and a stream's messages and its end.
func TestPeerInterceptorsSee(t *testing.T) {
	srec := &intercepttest.Recorder{Name: "server"}
	crec := &intercepttest.Recorder{Name: "client", SetHeader: http.Header{"Authorization": {"Bearer t"}}}
	_, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(named("s")), peer.WithInterceptors(srec))
	client := newPeer(t, peer.WithInterceptors(crec))
	client.Connect(addr)
	ctx := ctxTimeout(t, 10*time.Second)
	deadline, _ := ctx.Deadline()

	if v, err := client.Call(ctx, "who", "args", peer.Safe()); err != nil || v != "s" {
		t.Fatalf("call: %v, %v", v, err)
	}
	calls, err := srec.Wait(1)
	if err != nil {
		t.Fatal(err)
	}
	c := calls[0]
	if c.Procedure != "who" || c.Side != intercept.SideServer || c.StreamType != intercept.StreamUnary || !c.Safe ||
		c.Args != "args" || c.Result != "s" || c.Header.Get("Authorization") != "Bearer t" ||
		c.Peer.Transport != "tcp" || !strings.HasPrefix(c.Peer.Addr, "tcp://127.0.0.1:") ||
		c.Deadline.IsZero() || c.Deadline.Sub(deadline).Abs() > time.Second {
		t.Errorf("the server saw %+v", c)
	}
	if c := crec.Calls()[0]; c.Procedure != "who" || c.Side != intercept.SideClient || c.Args != "args" || c.Result != "s" || !c.Deadline.Equal(deadline) {
		t.Errorf("the client saw %+v", c)
	}

	srec.Reset()
	crec.Reset()
	s, err := client.NewStream(ctx, "items")
	if err != nil {
		t.Fatal(err)
	}
	s.Send(1)
	s.Send(2)
	s.Send(3)
	s.CloseSend()
	if items, err := recvAll(s); err != nil || len(items) != 3 {
		t.Fatalf("stream: %v, %v", items, err)
	}
	s.Close()
	if c := crec.Calls()[0]; c.StreamType != intercept.StreamBidi || c.Sent != 3 || c.Recvd != 3 || !c.Ended || c.Err != nil {
		t.Errorf("the client saw the stream as %+v", c)
	}
	calls, err = srec.Wait(1)
	if err != nil {
		t.Fatal(err)
	}
	if c := calls[0]; c.StreamType != intercept.StreamBidi || c.Recvd != 3 || c.Sent != 3 || c.Err != nil {
		t.Errorf("the server saw the stream as %+v", c)
	}

	// A stream the caller abandons ends with an error.
	crec.Reset()
	s, err = client.NewStream(ctx, "items")
	if err != nil {
		t.Fatal(err)
	}
	s.Send(1)
	s.Close()
	if c := crec.Calls()[0]; !c.Ended || service.KindOf(c.Err) != service.KindCanceled {
		t.Errorf("an abandoned stream seen as %+v", c)
	}
}

// peerSeen records the Call.Peer the calling side's interceptors see
// once next has returned (or opened the stream).
type peerSeen struct {
	mu    sync.Mutex
	peers []intercept.Peer
}

func (s *peerSeen) add(p intercept.Peer) {
	s.mu.Lock()
	s.peers = append(s.peers, p)
	s.mu.Unlock()
}

func (s *peerSeen) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	return func(ctx context.Context, c *intercept.Call) (any, error) {
		v, err := next(ctx, c)
		s.add(c.Peer)
		return v, err
	}
}

func (s *peerSeen) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
		st, err := next(ctx, c)
		s.add(c.Peer)
		return st, err
	}
}

// TestPeerInterceptorsSeeConnection: on a Peer's calling side the
// connection is picked below the interceptors, and Call.Peer is that
// connection's once next returns, for calls, notifications and streams.
func TestPeerInterceptorsSeeConnection(t *testing.T) {
	_, addr := startPeer(t, "tcp://127.0.0.1:0", peer.WithHandler(named("s")))
	seen := &peerSeen{}
	client := newPeer(t, peer.WithInterceptors(seen))
	client.Connect(addr)
	ctx := ctxTimeout(t, 10*time.Second)
	if _, err := client.Call(ctx, "who", nil); err != nil {
		t.Fatal(err)
	}
	if err := client.Notify(ctx, "who", nil); err != nil {
		t.Fatal(err)
	}
	s, err := client.NewStream(ctx, "items")
	if err != nil {
		t.Fatal(err)
	}
	s.CloseSend()
	recvAll(s)
	// The connecting side's address is the one it dialed.
	want := addr
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.peers) != 3 {
		t.Fatalf("%d calls seen, want 3", len(seen.peers))
	}
	for i, p := range seen.peers {
		if p.Transport != intercept.TransportTCP || p.Addr != want {
			t.Errorf("call %d: Peer %+v, want transport tcp at %s", i, p, want)
		}
	}
}
