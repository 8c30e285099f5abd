package peer_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
)

// connStates records what WithConnState reports.
type connStates struct {
	mu     sync.Mutex // guards events
	events []string
	seen   map[*peer.Conn]int
}

func (r *connStates) record(c *peer.Conn, s peer.ConnState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[*peer.Conn]int{}
	}
	if _, ok := r.seen[c]; !ok {
		r.seen[c] = len(r.seen)
	}
	r.events = append(r.events, string(rune('a'+r.seen[c]))+" "+s.String())
}

func (r *connStates) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		ev := append([]string(nil), r.events...)
		r.mu.Unlock()
		if len(ev) >= n || time.Now().After(deadline) {
			return ev
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWithConnState: Serve reports each connection it accepts as it
// opens and as it ends, on either side's close; a failed handshake is
// never reported; the connecting side hears of its own connections too.
func TestWithConnState(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var served, dialed connStates
	l, done := serveOn(t, ctx, peer.WithConnState(served.record), peer.WithLogger(slog.New(slog.DiscardHandler)), peer.WithHandler(mux{
		"echo": func(ctx context.Context, s *peer.ServerStream) (any, error) { return s.Recv() },
	}))

	fc, err := peer.Dial(ctx, l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	a, err := peer.Client(ctx, fc, peer.WithConnState(dialed.record))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := a.Call(ctx, "echo", 1); err != nil || v != int64(1) {
		t.Fatalf("echo: %v, %v", v, err)
	}
	if got := served.waitFor(t, 1); len(got) != 1 || got[0] != "a open" {
		t.Fatalf("after one connection: %q", got)
	}
	// A connection that sends no greeting fails its handshake: not seen.
	raw, err := peer.Dial(ctx, l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()
	b := dialServe(t, l.Addr())
	if _, err := b.Call(ctx, "echo", 2); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if got := served.waitFor(t, 3); len(got) != 3 || got[0] != "a open" || got[1] != "b open" || got[2] != "a closed" {
		t.Errorf("served: %q, want a open, b open, a closed", got)
	}
	cancel()
	waitServe(t, done)
	<-b.Done()
	if got := served.waitFor(t, 4); len(got) != 4 || got[3] != "b closed" {
		t.Errorf("served after Serve returned: %q", got)
	}
	if got := dialed.waitFor(t, 2); len(got) != 2 || got[0] != "a open" || got[1] != "a closed" {
		t.Errorf("dialed: %q", got)
	}
}

// TestStatsStreams: Stats.Streams counts the calls open on a connection,
// on both sides, while they run.
func TestStatsStreams(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan *peer.Conn, 2)
	release := make(chan struct{})
	l, _ := serveOn(t, ctx, peer.WithHandler(mux{
		"wait": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			started <- s.Conn()
			<-release
			return nil, nil
		},
	}))
	a := dialServe(t, l.Addr())
	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := a.Call(ctx, "wait", nil)
			done <- err
		}()
	}
	served := <-started
	<-started
	if n := served.Stats().Streams; n != 2 {
		t.Errorf("the serving side: %d streams open, want 2", n)
	}
	if n := a.Stats().Streams; n != 2 {
		t.Errorf("the calling side: %d streams open, want 2", n)
	}
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := a.Stats().Streams; n != 0 {
		t.Errorf("the calling side after the calls: %d streams open", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for served.Stats().Streams != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := served.Stats().Streams; n != 0 {
		t.Errorf("the serving side after the calls: %d streams open", n)
	}
}
