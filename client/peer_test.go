package client_test

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// Member is the class of the navigation tour: its state travels in its
// URLs.
type Member struct {
	Name string
	Age  int
}

// Greet is a form.
func (m Member) Greet(greeting string) string { return greeting + " " + m.Name + "!" }

// Profile is a link.
func (m Member) Profile() map[string]any { return map[string]any{"name": m.Name, "age": m.Age} }

// Older returns another instance.
func (m Member) Older(years int) Member { return Member{Name: m.Name, Age: m.Age + years} }

// Item is what total adds up: a struct streamed as a dict.
type Item struct {
	Name  string
	Price int
}

// tourService is the service the tour visits: functions, a class, a
// streamed result, streamed inputs, a callback, errors.
func tourService() *service.Service {
	svc := service.New(service.WithName("tour"), service.WithLogger(slog.New(slog.DiscardHandler)))
	svc.MustFunc("hello", hello, service.Args("name", "greeting"), service.Default("greeting", "hello"))
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"), service.Safe())
	svc.MustFunc("now", func() string { return "tick" }, service.Safe())
	svc.MustClass("Member", Member{},
		service.Method("greet", service.Args("greeting")),
		service.Method("profile", service.Safe()),
		service.Method("older", service.Args("years")))
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := 1; i <= n; i++ {
				if !yield(i) {
					return
				}
			}
		}
	}, service.Args("n"))
	svc.MustFunc("total", func(items iter.Seq[Item]) int {
		n := 0
		for it := range items {
			n += it.Price
		}
		return n
	}, service.Args("items"))
	svc.MustFunc("sum", func(xs iter.Seq[int]) int {
		n := 0
		for x := range xs {
			n += x
		}
		return n
	}, service.Args("xs"))
	svc.MustFunc("shout", func(s string, cb func(string) (string, error)) (string, error) {
		r, err := cb(strings.ToUpper(s))
		return "callback said " + r, err
	}, service.Args("s", "cb"))
	svc.MustFunc("missing", func() error { return service.Errorf(service.KindNotFound, "no such thing") })
	svc.MustFunc("invalid", func() error { return service.Errorf(service.KindInvalid, "that will not do") })
	return svc
}

// A target serves a service one way and says how to reach it.
type target struct {
	name string
	// serve serves svc and returns the URL of its index and a function
	// that makes the URL of a path below it.
	serve func(t *testing.T, svc *service.Service) (index string, at func(path string) string)
	peer  bool
}

// targets are HTTP and the peer transports.
var targets = []target{
	{"http", func(t *testing.T, svc *service.Service) (string, func(string) string) {
		srv := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithLogger(slog.New(slog.DiscardHandler))))
		t.Cleanup(srv.Close)
		return srv.URL + "/", func(p string) string { return srv.URL + "/" + p }
	}, false},
	{"tcp", func(t *testing.T, svc *service.Service) (string, func(string) string) {
		u := listenPeer(t, "tcp://127.0.0.1:0", svc)
		return u, func(p string) string { return u + "#/" + p }
	}, true},
	{"unix", func(t *testing.T, svc *service.Service) (string, func(string) string) {
		u := listenPeer(t, "unix://"+filepath.Join(shortDir(t), "s.sock"), svc)
		return u, func(p string) string { return u + "#/" + p }
	}, true},
	{"websocket", func(t *testing.T, svc *service.Service) (string, func(string) string) {
		cfg := []peer.Option{peer.WithHandler(hyperpeer.NewHandler(svc))}
		srv := httptest.NewServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) {
			if c, err := peer.Server(context.Background(), fc, cfg...); err == nil {
				<-c.Done()
			}
		}))
		t.Cleanup(srv.Close)
		u := "ws://" + strings.TrimPrefix(srv.URL, "http://") + "/peer"
		return u, func(p string) string { return u + "#/" + p }
	}, true},
}

// listenPeer serves svc to the peers that connect to addr and returns
// the address they dial.
func listenPeer(t *testing.T, addr string, svc *service.Service) string {
	return peertest.ServeService(t, addr, svc)
}

// shortDir is t.TempDir, unless its path is too long for a Unix socket.
func shortDir(t *testing.T) string {
	dir := t.TempDir()
	if len(dir) < 80 {
		return dir
	}
	d, err := os.MkdirTemp("", "client")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// tourState is what the steps of the tour hand each other.
type tourState struct {
	c      *client.Client
	index  *client.Value
	member *client.Value
	at     func(string) string
	peer   bool
	// tallied gets each item the function tally reads.
	tallied <-chan int
}

// TestNavigationTour takes the same steps through the same service over
// HTTP and over peer connections (TCP, a Unix socket, WebSocket), and
// expects the same answers.
func TestNavigationTour(t *testing.T) {
	steps := []struct {
		name string
		run  func(t *testing.T, ctx context.Context, s *tourState)
	}{
		{"index", func(t *testing.T, ctx context.Context, s *tourState) {
			r, ok := s.index.Any().(hyper.Resource)
			if !ok || r.Name != "tour" {
				t.Fatalf("index is %#v", s.index.Any())
			}
			for _, name := range []string{"hello", "add", "Member", "count", "shout"} {
				if _, err := s.index.Get(name); err != nil {
					t.Error(err)
				}
			}
		}},
		{"positional arguments", func(t *testing.T, ctx context.Context, s *tourState) {
			if got := decode[string](t, callIn(t, ctx, s.index, "hello", "bob")); got != "hello, bob" {
				t.Errorf("hello(bob) = %q", got)
			}
		}},
		{"named arguments", func(t *testing.T, ctx context.Context, s *tourState) {
			got := decode[string](t, callIn(t, ctx, s.index, "hello", client.Named{"name": "ann", "greeting": "hi"}))
			if got != "hi, ann" {
				t.Errorf("hello(name=ann, greeting=hi) = %q", got)
			}
		}},
		{"a safe function", func(t *testing.T, ctx context.Context, s *tourState) {
			if got := decode[int](t, callIn(t, ctx, s.index, "add", 2, 3)); got != 5 {
				t.Errorf("add(2, 3) = %d", got)
			}
			if got := decode[string](t, callIn(t, ctx, s.index, "now")); got != "tick" {
				t.Errorf("now() = %q", got)
			}
		}},
		{"class constructor", func(t *testing.T, ctx context.Context, s *tourState) {
			s.member = callIn(t, ctx, s.index, "Member", client.Named{"Name": "bob", "Age": 42})
			r, ok := s.member.Any().(hyper.Resource)
			if !ok || r.Name != "Member" || r.Content["Name"] != "bob" {
				t.Fatalf("Member(bob, 42) is %#v", s.member.Any())
			}
		}},
		{"instance resource at its URL", func(t *testing.T, ctx context.Context, s *tourState) {
			u := s.member.URL()
			if !strings.HasPrefix(u, s.at("Member/?")) {
				t.Errorf("the member's URL is %q, want it under %q", u, s.at("Member/?"))
			}
			again, err := s.c.Get(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again.Any(), s.member.Any()) {
				t.Errorf("GET %s is %#v, want %#v", u, again.Any(), s.member.Any())
			}
		}},
		{"method call", func(t *testing.T, ctx context.Context, s *tourState) {
			if got := decode[string](t, callIn(t, ctx, s.member, "greet", "hi")); got != "hi bob!" {
				t.Errorf("greet(hi) = %q", got)
			}
		}},
		{"link following", func(t *testing.T, ctx context.Context, s *tourState) {
			p, err := s.member.Path(ctx, "profile")
			if err != nil {
				t.Fatal(err)
			}
			if got := decode[map[string]any](t, p); got["age"] != int64(42) {
				t.Errorf("profile() = %v", got)
			}
		}},
		{"a method returning an instance", func(t *testing.T, ctx context.Context, s *tourState) {
			older := callIn(t, ctx, s.member, "older", 1)
			if got := decode[string](t, callIn(t, ctx, older, "greet", "hey")); got != "hey bob!" {
				t.Errorf("older(1).greet(hey) = %q", got)
			}
			if got := decode[Member](t, older); got.Age != 43 {
				t.Errorf("older(1) = %+v", got)
			}
		}},
		{"streamed result with Call", func(t *testing.T, ctx context.Context, s *tourState) {
			for n, want := range map[int][]int{0: {}, 1: {1}, 3: {1, 2, 3}} {
				v := callIn(t, ctx, s.index, "count", n)
				if got := decode[[]int](t, v); !reflect.DeepEqual(got, want) {
					t.Errorf("count(%d) = %v, want %v", n, got, want)
				}
				if _, ok := v.Any().([]any); !ok {
					t.Errorf("count(%d) is %T, want a list", n, v.Any())
				}
			}
		}},
		{"streamed result with Stream", func(t *testing.T, ctx context.Context, s *tourState) {
			count, err := s.index.Get("count")
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for v, err := range count.Stream(ctx, 4) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, decode[int](t, v))
			}
			if !reflect.DeepEqual(got, []int{1, 2, 3, 4}) {
				t.Errorf("count(4) streamed %v", got)
			}
			// Breaking off early.
			for v, err := range count.Stream(ctx, 1000) {
				if err != nil || decode[int](t, v) != 1 {
					t.Errorf("first item %v, %v", v, err)
				}
				break
			}
			// A value that does not stream is yielded on its own.
			hello, _ := s.index.Get("hello")
			for v, err := range hello.Stream(ctx, "x") {
				if err != nil || decode[string](t, v) != "hello, x" {
					t.Errorf("hello(x) streamed %v, %v", v, err)
				}
			}
		}},
		{"a list for a streamed input", func(t *testing.T, ctx context.Context, s *tourState) {
			// A Go slice is the whole argument, on every transport: over a
			// peer it travels in the call's one message, as over HTTP in
			// its body, and the function ranges over its items.
			items := []Item{{"pen", 2}, {"ink", 5}}
			for _, tt := range []struct {
				arg  any
				want int
			}{
				{items, 7},
				{client.Named{"items": items}, 7},
				{[]Item{{"pad", 4}}, 4},
				{[]Item{}, 0},
			} {
				v, err := s.index.Path(ctx, "total", tt.arg)
				if err != nil {
					t.Errorf("total(%v): %v", tt.arg, err)
				} else if got := decode[int](t, v); got != tt.want {
					t.Errorf("total(%v) = %d, want %d", tt.arg, got, tt.want)
				}
			}
			for _, tt := range []struct {
				arg  any
				want int
			}{
				{[]int{1, 2, 3}, 6},
				{client.Named{"xs": []int{1, 2, 3}}, 6},
				{[]any{4}, 4},
				{[]int{}, 0},
			} {
				v, err := s.index.Path(ctx, "sum", tt.arg)
				if err != nil {
					t.Errorf("sum(%v): %v", tt.arg, err)
				} else if got := decode[int](t, v); got != tt.want {
					t.Errorf("sum(%v) = %d, want %d", tt.arg, got, tt.want)
				}
			}
		}},
		{"a Go iterator for a streamed input", func(t *testing.T, ctx context.Context, s *tourState) {
			// Over HTTP the items go as a list, over a peer one message
			// each: the same answers, a stream of one item and of none
			// included.
			for _, tt := range []struct {
				arg  any
				want int
			}{
				{slices.Values([]Item{{"pen", 2}, {"ink", 5}}), 7},
				{slices.Values([]Item{{"pad", 4}}), 4},
				{slices.Values([]Item(nil)), 0},
			} {
				v, err := s.index.Path(ctx, "total", tt.arg)
				if err != nil {
					t.Errorf("total(iterator of %d): %v", tt.want, err)
				} else if got := decode[int](t, v); got != tt.want {
					t.Errorf("total(iterator) = %d, want %d", got, tt.want)
				}
			}
			for n, want := range map[int]int{0: 0, 1: 1, 3: 6} {
				v, err := s.index.Path(ctx, "sum", ints(n))
				if err != nil {
					t.Errorf("sum(1..%d): %v", n, err)
				} else if got := decode[int](t, v); got != want {
					t.Errorf("sum(1..%d) = %d, want %d", n, got, want)
				}
			}
		}},
		{"a Go iterator streams over peers", func(t *testing.T, ctx context.Context, s *tourState) {
			if !s.peer {
				return // HTTP sends the items as one list, once they are all there
			}
			// Each item reaches the function before the iterator is asked
			// for the next one.
			items := func(yield func(int) bool) {
				for i := 1; i <= 3; i++ {
					if !yield(i) {
						return
					}
					select {
					case got := <-s.tallied:
						if got != i {
							t.Errorf("the function read %d, want %d", got, i)
						}
					case <-time.After(5 * time.Second):
						t.Errorf("item %d did not reach the function before the iterator went on", i)
						return
					}
				}
			}
			v, err := s.index.Path(ctx, "tally", iter.Seq[int](items))
			if err != nil {
				t.Fatal(err)
			}
			if got := decode[int](t, v); got != 6 {
				t.Errorf("tally(1, 2, 3) = %d", got)
			}
		}},
		{"callback argument", func(t *testing.T, ctx context.Context, s *tourState) {
			var calls atomic.Int32
			cb := func(s string) string { calls.Add(1); return "<" + s + ">" }
			shout, err := s.index.Get("shout")
			if err != nil {
				t.Fatal(err)
			}
			v, err := shout.Call(ctx, "hey", cb)
			if !s.peer {
				// HTTP has no callbacks: refused before any request.
				if service.KindOf(err) != service.KindInvalid || calls.Load() != 0 {
					t.Errorf("a callback over HTTP: %v, %v", v, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := decode[string](t, v); got != "callback said <HEY>" || calls.Load() != 1 {
				t.Errorf("shout(hey, cb) = %q after %d calls", got, calls.Load())
			}
			// The callback's error comes back as the function's.
			_, err = shout.Call(ctx, "hey", func(ctx context.Context, s string) (string, error) {
				return "", service.Errorf(service.KindPermissionDenied, "not me")
			})
			if service.KindOf(err) != service.KindPermissionDenied {
				t.Errorf("a failing callback: %v", err)
			}
			// A func that cannot be a callback.
			_, err = shout.Call(ctx, "hey", func(...string) {})
			if service.KindOf(err) != service.KindInvalid {
				t.Errorf("a variadic callback: %v", err)
			}
		}},
		{"errors", func(t *testing.T, ctx context.Context, s *tourState) {
			var se *service.Error
			_, err := s.index.Path(ctx, "missing")
			if !errors.As(err, &se) || se.Kind != service.KindNotFound || !strings.Contains(se.Error(), "missing: no such thing") {
				t.Errorf("missing(): %v", err)
			}
			_, err = s.index.Path(ctx, "invalid")
			if service.KindOf(err) != service.KindInvalid {
				t.Errorf("invalid(): %v", err)
			}
			_, err = s.c.Get(ctx, s.at("nope"))
			if service.KindOf(err) != service.KindNotFound {
				t.Errorf("GET nope: %v", err)
			}
			// Rejected by the client, before any request.
			_, err = s.index.Path(ctx, "hello", 12)
			if !errors.As(err, &se) || se.Kind != service.KindInvalid || se.Message != `argument "name": expected unicode, got integer` {
				t.Errorf("hello(12): %#v", err)
			}
		}},
	}
	svc := tourService()
	// tally tells the step that proves a Go iterator streams over a peer
	// each item it reads, as it reads it.
	tallied := make(chan int)
	svc.MustFunc("tally", func(ctx context.Context, xs iter.Seq[int]) int {
		n := 0
		for x := range xs {
			select {
			case tallied <- x:
			case <-ctx.Done():
			}
			n += x
		}
		return n
	}, service.Args("xs"))
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			url, at := tg.serve(t, svc)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := client.New()
			defer c.Close()
			index, err := c.Get(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			s := &tourState{c: c, index: index, at: at, peer: tg.peer, tallied: tallied}
			for _, st := range steps {
				if !t.Run(st.name, func(t *testing.T) { st.run(t, ctx, s) }) && s.member == nil && st.name == "class constructor" {
					t.FailNow() // the steps after it need the member
				}
			}
		})
	}
}

// callIn gets name from v and calls it.
func callIn(t *testing.T, ctx context.Context, v *client.Value, name string, args ...any) *client.Value {
	t.Helper()
	f, err := v.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Call(ctx, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func TestPeerURLs(t *testing.T) {
	svc := tourService()
	u := listenPeer(t, "tcp://127.0.0.1:0", svc)
	ctx := ctxT(t)
	c := client.New()
	defer c.Close()
	for _, tt := range []struct{ url, want string }{
		{u, "tour"},
		{u + "#/", "tour"},
		{u + "/", "tour"},
		{u + "#/hello", "form"},
		{u + "#hello", "form"},
		{u + "/hello", "form"},
	} {
		v, err := c.Get(ctx, tt.url)
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		switch x := v.Any().(type) {
		case hyper.Resource:
			if x.Name != tt.want {
				t.Errorf("%s: resource %q", tt.url, x.Name)
			}
		case hyper.Form:
			// GET on a form's URL shows the form.
			if tt.want != "form" || v.URL() != u+"#/hello" {
				t.Errorf("%s: a form at %q", tt.url, v.URL())
			}
		default:
			t.Errorf("%s: %#v", tt.url, v.Any())
		}
	}
}

// TestPeerReconnect: a connection that went down is dialled again on the
// next call, and Close ends the client's peer connections for good.
func TestPeerReconnect(t *testing.T) {
	svc := tourService()
	var conns []*peer.Conn
	accepted := make(chan *peer.Conn, 4)
	cfg := []peer.Option{peer.WithHandler(hyperpeer.NewHandler(svc))}
	srv := httptest.NewServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		if c, err := peer.Server(context.Background(), fc, cfg...); err == nil {
			accepted <- c
			<-c.Done()
		}
	}))
	defer srv.Close()
	u := "ws://" + strings.TrimPrefix(srv.URL, "http://")
	ctx := ctxT(t)
	c := client.New()
	index, err := c.Get(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	conns = append(conns, <-accepted)
	if got := decode[string](t, callIn(t, ctx, index, "hello", "a")); got != "hello, a" {
		t.Errorf("hello(a) = %q", got)
	}
	conns[0].Close()
	<-conns[0].Done()
	// The client notices when the connection's reader ends; give it the
	// moment that takes, then the next call dials again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := index.Path(ctx, "hello", "b")
		if err == nil {
			if got := decode[string](t, v); got != "hello, b" {
				t.Errorf("hello(b) = %q", got)
			}
			break
		}
		if !peer.Retryable(err) || time.Now().After(deadline) {
			t.Fatalf("after the connection went down: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case conn := <-accepted:
		conns = append(conns, conn)
	case <-time.After(5 * time.Second):
		t.Fatal("no second connection")
	}
	c.Close()
	select {
	case <-conns[1].Done():
	case <-time.After(5 * time.Second):
		t.Error("Close left the connection open")
	}
	if _, err := index.Path(ctx, "hello", "c"); service.KindOf(err) != service.KindUnavailable {
		t.Errorf("a call after Close: %v", err)
	}
}

// TestPeerConcurrentCalls: one connection per endpoint, shared by
// concurrent calls.
func TestPeerConcurrentCalls(t *testing.T) {
	svc := tourService()
	var dials atomic.Int32
	cfg := []peer.Option{peer.WithHandler(hyperpeer.NewHandler(svc))}
	srv := httptest.NewServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		dials.Add(1)
		if c, err := peer.Server(context.Background(), fc, cfg...); err == nil {
			<-c.Done()
		}
	}))
	defer srv.Close()
	u := "ws://" + strings.TrimPrefix(srv.URL, "http://")
	ctx := ctxT(t)
	c := client.New()
	defer c.Close()
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			v, err := c.Get(ctx, u+"#/")
			if err == nil {
				_, err = v.Path(ctx, "add", i, 1)
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestPeerPlainCodec: over the json codec plain functions work; links
// and forms arrive in their plain form and cannot be navigated.
func TestPeerPlainCodec(t *testing.T) {
	u := listenPeer(t, "tcp://127.0.0.1:0", tourService())
	ctx := ctxT(t)
	c := client.New(client.WithPeerOptions(peer.WithCodecs("json")))
	defer c.Close()
	index, err := c.Get(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := index.Any().(map[string]any)
	if !ok || m["extension"] != "resource" {
		t.Fatalf("index over json: %#v", index.Any())
	}
	_, err = index.Path(ctx, "hello")
	if service.KindOf(err) != service.KindNotFound {
		t.Errorf("navigating over json: %v", err)
	}
}

// TestPeerBlobs: blob arguments and results travel over a peer
// connection in memory; readers among the arguments are closed once sent.
func TestPeerBlobs(t *testing.T) {
	u := listenPeer(t, "tcp://127.0.0.1:0", testService(t))
	ctx := ctxT(t)
	c := client.New()
	defer c.Close()
	index, err := c.Get(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	r := &closeCounter{Reader: strings.NewReader("some bytes")}
	v, err := index.Path(ctx, "upload", r, "notes")
	if err != nil {
		t.Fatal(err)
	}
	if got := decode[string](t, v); got != `notes: 10 bytes of application/octet-stream: "some bytes"` {
		t.Errorf("upload: %q", got)
	}
	if r.closed != 1 {
		t.Errorf("the reader was closed %d times", r.closed)
	}
	v, err = index.Path(ctx, "download", "x")
	if err != nil {
		t.Fatal(err)
	}
	b, ok := v.Blob()
	if !ok {
		t.Fatalf("download gave %#v", v.Any())
	}
	if got := decode[string](t, v); got != "content of x" || b.ContentType != "text/plain" {
		t.Errorf("download: %s %q", b.ContentType, got)
	}
}
