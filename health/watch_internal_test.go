package health

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// watcherCount returns how many watches of name are in progress.
func (s *Server) watcherCount(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers[name])
}

// waitWatchers waits until name has n watches in progress.
func waitWatchers(t *testing.T, s *Server, name string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.watcherCount(name) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d watches of %q in progress, want %d", s.watcherCount(name), name, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWatchEndsWhenCallerLeaves: a watch over a transport ends, and its
// watcher is let go, once its caller goes away.
func TestWatchEndsWhenCallerLeaves(t *testing.T) {
	h := NewServer()
	svc := service.New(service.WithLogger(slog.New(slog.DiscardHandler)))
	if err := h.Register(svc); err != nil {
		t.Fatal(err)
	}

	t.Run("peer", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		l, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan struct{})
		go func() {
			peer.Serve(ctx, l, peer.WithHandler(hyperpeer.NewHandler(svc)))
			close(served)
		}()
		defer func() { cancel(); <-served }()
		c := client.New()
		defer c.Close()
		index, err := c.Get(ctx, l.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer index.Close()
		watch, err := index.Get("watch")
		if err != nil {
			t.Fatal(err)
		}
		callCtx, stop := context.WithCancel(ctx)
		defer stop()
		for _, err := range watch.Stream(callCtx, "p") {
			if err != nil {
				t.Fatal(err)
			}
			waitWatchers(t, h, "p", 1)
			stop() // the caller goes away while the connection stays
			break
		}
		waitWatchers(t, h, "p", 0)
	})

	t.Run("http", func(t *testing.T) {
		srv := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithLogger(slog.New(slog.DiscardHandler))))
		defer srv.Close()
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/watch?"+url.QueryEscape(`{"service":"h"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		first, err := bufio.NewReader(resp.Body).ReadString('"')
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /watch: %d, %q, %v", resp.StatusCode, first, err)
		}
		waitWatchers(t, h, "h", 1)
		stop()
		waitWatchers(t, h, "h", 0)
	})
}
