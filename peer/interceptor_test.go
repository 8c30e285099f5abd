package peer_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

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
func tracing(j *journal, name string) peer.Interceptor {
	via := func(ctx context.Context) context.Context {
		v := peer.Header(ctx)["via"]
		if v != "" {
			v += ","
		}
		return peer.WithHeader(ctx, map[string]string{"via": v + name})
	}
	return peer.InterceptorFuncs{
		Call: func(next peer.CallFunc) peer.CallFunc {
			return func(ctx context.Context, method string, args any, opts ...peer.CallOption) (any, error) {
				j.add("%s call %s", name, method)
				v, err := next(via(ctx), method, args, opts...)
				j.add("%s call %s done: %v", name, method, service.KindOf(err))
				return v, err
			}
		},
		Notify: func(next peer.NotifyFunc) peer.NotifyFunc {
			return func(ctx context.Context, method string, args any, opts ...peer.CallOption) error {
				j.add("%s notify %s", name, method)
				return next(via(ctx), method, args, opts...)
			}
		},
		Stream: func(next peer.StreamFunc) peer.StreamFunc {
			return func(ctx context.Context, method string, opts ...peer.CallOption) (*peer.ClientStream, error) {
				j.add("%s stream %s", name, method)
				return next(via(ctx), method, opts...)
			}
		},
	}
}

// guarding is a server interceptor that journals each call it serves,
// with the header "via", and refuses calls without one.
func guarding(j *journal, name string) peer.Interceptor {
	return peer.InterceptorFuncs{Handler: func(next peer.Handler) peer.Handler {
		return peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
			via := peer.Header(ctx)["via"]
			j.add("%s serve %s via %s", name, s.Method(), via)
			if via == "" {
				return nil, service.Errorf(service.KindPermissionDenied, "no via")
			}
			v, err := next.ServePeer(ctx, s)
			j.add("%s served %s", name, s.Method())
			return v, err
		})
	}}
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
	cache := peer.InterceptorFuncs{Call: func(next peer.CallFunc) peer.CallFunc {
		return func(ctx context.Context, method string, args any, opts ...peer.CallOption) (any, error) {
			if method == "cached" {
				return "from cache", nil
			}
			return next(peer.WithHeader(ctx, map[string]string{"via": "cache"}), method, args, opts...)
		}
	}}
	client := newPeer(t, peer.WithInterceptors(cache, peer.InterceptorFuncs{}))
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
