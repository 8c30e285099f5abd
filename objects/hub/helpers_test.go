package hub_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

var bg = context.Background()

func TestMain(m *testing.M) {
	hub.CheapArgon()
	if os.Getenv(childEnv) != "" {
		runChild()
		return
	}
	if os.Getenv(dialEnv) != "" {
		dialChild()
		return
	}
	os.Exit(m.Run())
}

// testRemote is a remote on 127.0.0.1 over a store in a temporary
// directory; stop and start keep its address and store.
type testRemote struct {
	t    testing.TB
	dir  string
	addr string
	st   *sqlitestore.Store
	srv  *remote.Server
	hs   *http.Server
}

func startRemote(t testing.TB) *testRemote {
	t.Helper()
	r := &testRemote{t: t, dir: t.TempDir(), addr: "127.0.0.1:0"}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *testRemote) start() {
	r.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	if r.st, err = sqlitestore.Open(bg, r.dir); err != nil {
		r.t.Fatal(err)
	}
	if r.srv, err = remote.New(r.st, r.addr, remote.WithLogger(quiet())); err != nil {
		r.t.Fatal(err)
	}
	r.hs = hyperhttp.NewServer("", r.srv.Handler())
	go r.hs.Serve(ln)
}

func (r *testRemote) stop() {
	if r.srv == nil {
		return
	}
	r.srv.Close()
	r.hs.Close()
	r.st.Close()
	r.srv = nil
}

func (r *testRemote) url() string { return "ws://" + r.addr + "/peer" }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// config returns a configuration with a store in a new temporary
// directory and the remotes rs.
func config(t testing.TB, rs ...*testRemote) *hub.Config {
	t.Helper()
	dir := t.TempDir()
	c := &hub.Config{Store: filepath.Join(dir, "store"), Socket: filepath.Join(dir, "run", "hub.sock"), LogLevel: "info"}
	for _, r := range rs {
		c.Remotes = append(c.Remotes, hub.RemoteConfig{URL: r.url()})
	}
	return c
}

// openHub opens a daemon on cfg, closed at the end of the test.
func openHub(t testing.TB, cfg *hub.Config) *hub.Hub {
	t.Helper()
	h, err := hub.Open(bg, cfg, hub.WithLogger(quiet()), hub.WithBackoff(10*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
