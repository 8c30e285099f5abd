package intercept_test

import (
	"context"
	"io"
	"iter"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// callerSizes records the Sizes of each call on the calling side as its
// interceptor sees them at the end: once next returns, or once the
// stream is closed. A call without Sizes records {-1, -1}.
type callerSizes struct {
	mu   sync.Mutex
	seen map[string][2]int64
}

func (s *callerSizes) record(c *intercept.Call) {
	got := [2]int64{-1, -1}
	if c.Sizes != nil {
		got = [2]int64{c.Sizes.In(), c.Sizes.Out()}
	}
	s.mu.Lock()
	s.seen[strings.TrimPrefix(c.Procedure, "/")] = got
	s.mu.Unlock()
}

func (s *callerSizes) take(t *testing.T, proc string) [2]int64 {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	got, ok := s.seen[proc]
	if !ok {
		t.Fatalf("the caller's interceptor saw no end of %s", proc)
	}
	delete(s.seen, proc)
	return got
}

func (s *callerSizes) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	return func(ctx context.Context, c *intercept.Call) (any, error) {
		v, err := next(ctx, c)
		s.record(c)
		return v, err
	}
}

func (s *callerSizes) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
		st, err := next(ctx, c)
		if err != nil {
			s.record(c)
			return nil, err
		}
		return &closeRecorder{Stream: st, done: func() { s.record(c) }}, nil
	}
}

type closeRecorder struct {
	intercept.Stream
	done func()
}

func (r *closeRecorder) Close(err error) {
	r.Stream.Close(err)
	r.done()
}

// serverSizes waits for the serving side's final Sizes of proc, passing
// over those of other calls (a client's Get of the index).
func serverSizes(t *testing.T, seen *sizesSeen, proc string) [2]int64 {
	t.Helper()
	for deadline := time.After(5 * time.Second); ; {
		select {
		case got := <-seen.done:
			if got != proc {
				continue
			}
			seen.mu.Lock()
			defer seen.mu.Unlock()
			return seen.seen[proc]
		case <-deadline:
			t.Fatalf("no sizes for %s on the serving side", proc)
		}
	}
}

// TestSizesPeerCallingSide: over a tcp peer the calling side's
// interceptors, of a peer.Peer and of a client.Client, learn the call's
// bytes as the serving side's do, swapped: what the server read is what
// the caller wrote, and the other way round, for unary calls and
// streamed results alike.
func TestSizesPeerCallingSide(t *testing.T) {
	seen := &sizesSeen{seen: map[string][2]int64{}, done: make(chan string, 100)}
	svc := service.New(service.WithInterceptors(seen))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i * 1000) {
					return
				}
			}
		}
	}, service.Args("n"))
	addr := peertest.ServeService(t, "tcp://127.0.0.1:0", svc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	caller := &callerSizes{seen: map[string][2]int64{}}
	check := func(name, proc string) {
		t.Helper()
		server := serverSizes(t, seen, proc)
		got := caller.take(t, proc)
		if want := [2]int64{server[1], server[0]}; got != want {
			t.Errorf("%s: the caller's sizes in, out = %v, want %v, the server's %v swapped", name, got, want, server)
		}
		if got[0] <= 0 || got[1] <= 0 {
			t.Errorf("%s: the caller's sizes %v, want both counted", name, got)
		}
	}

	p := peer.New(peer.WithInterceptors(caller))
	t.Cleanup(func() { p.Close() })
	if err := p.Connect(addr); err != nil {
		t.Fatal(err)
	}
	if v, err := p.Call(ctx, "greet", map[string]any{"name": "a name of some length"}); err != nil || v != "hello a name of some length" {
		t.Fatalf("greet: %v, %v", v, err)
	}
	check("peer.Peer unary", "greet")

	st, err := p.NewStream(ctx, "count")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(map[string]any{"n": 40}); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	items := 0
	for {
		_, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		items++
	}
	if items == 0 {
		t.Fatal("count: no items")
	}
	check("peer.Peer stream", "count")

	c := client.New(client.WithInterceptors(caller))
	t.Cleanup(func() { c.Close() })
	index, err := c.Get(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	greet, err := index.Get("greet")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := greet.Call(ctx, "ann"); err != nil || v.Any() != "hello ann" {
		t.Fatalf("greet: %v, %v", v, err)
	}
	check("client.Client unary", "greet")

	count, err := index.Get("count")
	if err != nil {
		t.Fatal(err)
	}
	items = 0
	for _, err := range count.Stream(ctx, 50) {
		if err != nil {
			t.Fatal(err)
		}
		items++
	}
	if items != 50 {
		t.Fatalf("count: %d items, want 50", items)
	}
	check("client.Client stream", "count")
}

// TestSizesMethodClientsCallingSide: the interceptors of the JSON-RPC,
// XML-RPC and NATS clients learn the bytes of the bodies (the messages'
// data over NATS) they sent and read, the serving side's swapped.
func TestSizesMethodClientsCallingSide(t *testing.T) {
	seen := &sizesSeen{seen: map[string][2]int64{}, done: make(chan string, 100)}
	svc := service.New(service.WithInterceptors(seen))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i * 1000) {
					return
				}
			}
		}
	}, service.Args("n"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	caller := &callerSizes{seen: map[string][2]int64{}}
	check := func(name, proc string) {
		t.Helper()
		server := serverSizes(t, seen, proc)
		got := caller.take(t, proc)
		if want := [2]int64{server[1], server[0]}; got != want {
			t.Errorf("%s: the caller's sizes in, out = %v, want %v, the server's %v swapped", name, got, want, server)
		}
		if got[0] <= 0 || got[1] <= 0 {
			t.Errorf("%s: the caller's sizes %v, want both counted", name, got)
		}
	}
	type rpcClient interface {
		Call(ctx context.Context, method string, args []any, named map[string]any, result any) error
	}
	jsonSrv := httptest.NewServer(jsonrpc.NewHandler(svc))
	t.Cleanup(jsonSrv.Close)
	xmlSrv := httptest.NewServer(xmlrpc.NewHandler(svc))
	t.Cleanup(xmlSrv.Close)
	for _, tc := range []struct {
		name string
		c    rpcClient
	}{
		{"JSON-RPC", jsonrpc.NewClient(jsonSrv.URL, jsonrpc.WithInterceptors(caller))},
		{"XML-RPC", xmlrpc.NewClient(xmlSrv.URL, xmlrpc.WithInterceptors(caller))},
	} {
		var out string
		if err := tc.c.Call(ctx, "greet", []any{"a name of some length"}, nil, &out); err != nil || out != "hello a name of some length" {
			t.Fatalf("%s: greet: %q, %v", tc.name, out, err)
		}
		check(tc.name, "greet")
	}

	nc, err := nats.Connect(runNATS(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ns, err := hypernats.NewServer(ctx, nc, svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(context.Background()) })
	nclient := hypernats.NewClient(nc, hypernats.WithClientInterceptors(caller))
	var out string
	if err := nclient.Call(ctx, "greet", nil, map[string]any{"name": "ann"}, &out); err != nil || out != "hello ann" {
		t.Fatalf("NATS: greet: %q, %v", out, err)
	}
	check("NATS unary", "greet")
	items := 0
	for _, err := range nclient.Stream(ctx, "count", nil, map[string]any{"n": 30}) {
		if err != nil {
			t.Fatal(err)
		}
		items++
	}
	if items != 30 {
		t.Fatalf("NATS: count: %d items, want 30", items)
	}
	check("NATS stream", "count")
}
