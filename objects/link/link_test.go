package link_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/link"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

var bg = context.Background()

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startRemote serves a remote on 127.0.0.1 and returns its peer URL.
func startRemote(t testing.TB) string {
	t.Helper()
	st, err := sqlitestore.Open(bg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := remote.New(st, ln.Addr().String(), remote.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	hs := hyperhttp.NewServer("", srv.Handler())
	go hs.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
		st.Close()
	})
	return "ws://" + ln.Addr().String() + "/peer"
}

// daemon is a running daemon with an account, serving its socket.
type daemon struct {
	h      *hub.Hub
	socket string
	fp     record.Address
}

func startDaemon(t testing.TB, name string, remotes ...string) *daemon {
	t.Helper()
	dir := t.TempDir()
	cfg := &hub.Config{Store: filepath.Join(dir, "store"), Socket: filepath.Join(dir, "run", "hub.sock"), LogLevel: "error"}
	for _, r := range remotes {
		cfg.Remotes = append(cfg.Remotes, hub.RemoteConfig{URL: r})
	}
	h, err := hub.Open(bg, cfg, hub.WithLogger(quiet()), hub.WithBackoff(10*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := h.Create(bg, name, name+" password")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Drained(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- h.Serve(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
		h.Close()
	})
	return &daemon{h: h, socket: cfg.Socket, fp: fp}
}

func (d *daemon) link(t testing.TB, opts ...link.Option) *link.Link {
	t.Helper()
	l, err := link.Dial(ctxT(t), append([]link.Option{link.WithSocket(d.socket), link.WithName(t.Name())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("nothing came")
	}
	var zero T
	return zero
}

// Status is a typed state, as the Telemeter's.
type Status struct {
	CPU  float64   `json:"cpu"`
	Load float64   `json:"load"`
	At   time.Time `json:"at"`
}

// Two applications on two daemons of two accounts through one remote:
// share with a handler, update callbacks with typed state, unshare and
// delete callbacks.
func TestLinkEndToEnd(t *testing.T) {
	r := startRemote(t)
	alice, bob := startDaemon(t, "alice", r), startDaemon(t, "bob", r)
	ctx := ctxT(t)
	la, lb := alice.link(t), bob.link(t)
	if fp, err := lb.Whoami(ctx); err != nil || fp != bob.fp {
		t.Fatalf("whoami %s, %v", fp, err)
	}

	shares := make(chan link.Share, 8)
	if err := lb.HandleShares(ctx, "test.status", func(s link.Share) { shares <- s }); err != nil {
		t.Fatal(err)
	}
	st, err := link.New(ctx, la, link.JSON[Status](), "test.status", Status{CPU: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan error, 4)
	if err := st.Watch(ctx, link.Callbacks[Status]{Shared: func(_ *link.Object[Status], to record.Address, err error) {
		if to != bob.fp {
			err = fmt.Errorf("shared with %s, not bob", to)
		}
		results <- err
	}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Share(ctx, bob.fp); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, results); err != nil {
		t.Fatalf("the share's outcome: %v", err)
	}
	sh := recv(t, shares)
	if sh.ID != st.ID() || sh.From != alice.fp {
		t.Fatalf("share %+v", sh)
	}
	got, err := link.Get(ctx, lb, link.JSON[Status](), sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State().CPU != 0.25 {
		t.Fatalf("bob reads %+v", got.State())
	}
	updates, deletes, unshares := make(chan Status, 8), make(chan bool, 1), make(chan bool, 1)
	if err := got.Watch(ctx, link.Callbacks[Status]{
		Update:  func(o *link.Object[Status]) { updates <- o.State() },
		Delete:  func(*link.Object[Status]) { deletes <- true },
		Unshare: func(*link.Object[Status]) { unshares <- true },
	}); err != nil {
		t.Fatal(err)
	}
	if err := got.Push(ctx, Status{}); err == nil {
		t.Fatal("a reader pushed")
	}
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	if err := st.Push(ctx, Status{CPU: 0.5, Load: 1.5, At: at}); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, updates); s.CPU != 0.5 || s.Load != 1.5 || !s.At.Equal(at) {
		t.Fatalf("update %+v", s)
	}
	if err := st.Unshare(ctx, bob.fp); err != nil {
		t.Fatal(err)
	}
	recv(t, unshares)

	gone, err := link.New(ctx, la, link.Raw(), "test.status", []byte("bye"))
	if err != nil {
		t.Fatal(err)
	}
	if err := gone.Share(ctx, bob.fp); err != nil {
		t.Fatal(err)
	}
	recv(t, shares)
	g, err := link.Get(ctx, lb, link.Raw(), gone.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Watch(ctx, link.Callbacks[[]byte]{Delete: func(*link.Object[[]byte]) { deletes <- true }}); err != nil {
		t.Fatal(err)
	}
	if err := gone.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	recv(t, deletes)
}

func TestCodecs(t *testing.T) {
	d := startDaemon(t, "codecs")
	ctx := ctxT(t)
	l := d.link(t)
	raw, err := link.New(ctx, l, link.Raw(), "test.raw", []byte{0, 1, 2}, link.Static())
	if err != nil || string(raw.State()) != "\x00\x01\x02" || raw.Info().Dynamic {
		t.Fatalf("raw: %v %+v", err, raw.Info())
	}
	if err := raw.Push(ctx, []byte("x")); err == nil {
		t.Fatal("a static object was pushed")
	}
	gv, err := link.New(ctx, l, link.Glyph[map[string]any](), "test.glyph", map[string]any{"n": 1, "s": "x"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := link.Get(ctx, l, link.Glyph[map[string]any](), gv.ID())
	if err != nil {
		t.Fatal(err)
	}
	if s := again.State(); s["s"] != "x" {
		t.Fatalf("glyph state %#v", s)
	}
	type typed struct {
		Name string `glyph:"name"`
		N    int    `glyph:"n"`
	}
	ty, err := link.New(ctx, l, link.Glyph[typed](), "test.typed", typed{"a", 2}, link.Private())
	if err != nil || ty.State() != (typed{"a", 2}) || !ty.Info().Private {
		t.Fatalf("typed: %v %+v", err, ty.State())
	}
	if _, err := link.Get(ctx, d.link(t), link.Glyph[typed](), ty.ID()); err == nil {
		t.Fatal("another application read a private object")
	}
	if _, err := link.Get(ctx, l, link.JSON[typed](), gv.ID()); err == nil {
		t.Fatal("a glyph state decoded as JSON")
	}
	frozen, err := gv.Freeze(ctx)
	if err != nil || frozen.Info().Dynamic || frozen.State()["s"] != "x" {
		t.Fatalf("freeze: %v %+v", err, frozen.Info())
	}
}

// An application keeps its token, and its startup object, across starts.
func TestTokenAndStartup(t *testing.T) {
	d := startDaemon(t, "startup")
	ctx := ctxT(t)
	first := d.link(t)
	if _, ok := first.Startup(); ok {
		t.Fatal("a new application has a startup object")
	}
	o, err := link.New(ctx, first, link.JSON[map[string]int](), "test.settings", map[string]int{"interval": 5}, link.Private())
	if err != nil {
		t.Fatal(err)
	}
	if err := first.SetStartup(ctx, o.ID()); err != nil {
		t.Fatal(err)
	}
	first.Close()
	second := d.link(t, link.WithToken(first.Token()))
	id, ok := second.Startup()
	if !ok || id != o.ID() || second.App() != first.App() {
		t.Fatalf("startup %s %v, app %s", id, ok, second.App())
	}
	settings, err := link.Get(ctx, second, link.JSON[map[string]int](), id)
	if err != nil || settings.State()["interval"] != 5 {
		t.Fatalf("settings %v %v", settings, err)
	}
	if _, err := link.Dial(ctx, link.WithSocket(d.socket), link.WithToken("gt1.forged")); err == nil {
		t.Fatal("a forged token was accepted")
	}
}
