package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

// syncBuffer is a bytes.Buffer safe for the writer and a reader.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) await(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", text, s.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The two sides as two people run them, each on its own daemon: the
// monitor pairs by the telemeter's fingerprint, prints statuses, and a
// duration typed into it changes the telemeter's interval.
func TestTwoSides(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlitestore.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := remote.New(st, ln.Addr().String(), remote.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := hyperhttp.NewServer("", srv.Handler())
	go hs.Serve(ln)
	defer hs.Close()
	sockets := map[string]string{}
	for _, name := range []string{"server", "desk"} {
		dir := t.TempDir()
		cfg := &hub.Config{Store: filepath.Join(dir, "store"), Socket: filepath.Join(dir, "run", "hub.sock"), LogLevel: "error",
			Remotes: []hub.RemoteConfig{{URL: "ws://" + ln.Addr().String() + "/peer"}}}
		h, err := hub.Open(ctx, cfg, hub.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if _, err := h.Create(ctx, name, name+" password"); err != nil {
			t.Fatal(err)
		}
		h.Drained(ctx)
		ready := make(chan struct{})
		go h.Serve(ctx, func() { close(ready) })
		<-ready
		sockets[name] = cfg.Socket
	}
	var tout, mout syncBuffer
	go run(ctx, []string{"telemeter", "-socket", sockets["server"], "-interval", "100ms"}, nil, &tout)
	tout.await(t, "telemeter: this identity is ")
	fp := strings.Fields(strings.TrimPrefix(tout.String(), "telemeter: this identity is "))[0]
	stdin, typed := io.Pipe()
	go run(ctx, []string{"monitor", "-socket", sockets["desk"], "-telemeter", fp, "-interval", "150ms"}, stdin, &mout)
	mout.await(t, "monitor: paired")
	tout.await(t, "telemeter: interval now 150ms")
	mout.await(t, ": cpu ") // a status; the first ones may have come before the monitor watched
	typed.Write([]byte("50ms\n"))
	tout.await(t, "telemeter: interval now 50ms")
	if err := run(ctx, []string{"monitor"}, nil, io.Discard); err == nil {
		t.Fatal("a monitor without -telemeter ran")
	}
}
