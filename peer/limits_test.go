package peer_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// gate is a handler that counts the calls it runs at once and holds each
// until open is closed.
type gate struct {
	now, most atomic.Int32
	started   chan struct{}
	open      chan struct{}
}

func newGate() *gate {
	return &gate{started: make(chan struct{}, 1<<10), open: make(chan struct{})}
}

func (g *gate) ServePeer(ctx context.Context, s *peer.ServerStream) (any, error) {
	v, err := s.Recv()
	if err != nil {
		return nil, err
	}
	n := g.now.Add(1)
	defer g.now.Add(-1)
	for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
	}
	g.started <- struct{}{}
	<-g.open // ignores ctx on purpose: a handler that outlives its call
	if str, ok := v.(string); ok {
		return int64(len(str)), nil
	}
	return v, nil
}

func (g *gate) waitStarted(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-g.started:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d handlers started", i, n)
		}
	}
}

// A glyph caller told that the server serves 4 calls at once makes 200
// calls at once: all succeed, waiting for places rather than failing,
// and the server never runs more than 4.
func TestMaxStreamsCallersWait(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.Name, func(t *testing.T) {
			g := newGate()
			close(g.open)
			c, _ := connect(t, tr, nil, []peer.Option{peer.WithHandler(g), peer.WithMaxStreams(4)})
			ctx := ctxTimeout(t, 20*time.Second)
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for i := range 200 {
				wg.Go(func() {
					if v, err := c.Call(ctx, "echo", int64(i)); err != nil || v != int64(i) {
						errs <- errors.Join(err, errors.New("wrong answer"))
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if m := g.most.Load(); m > 4 {
				t.Fatalf("the server ran %d calls at once, over its limit of 4", m)
			}
		})
	}
}

// A baseline caller is told nothing: its calls beyond the limit are
// answered overloaded, and once a place is free calls succeed again.
func TestMaxStreamsBaselineOverloaded(t *testing.T) {
	g := newGate()
	c, _ := connect(t, transports[0], modeOptions(true), []peer.Option{peer.WithHandler(g), peer.WithMaxStreams(2)})
	ctx := ctxTimeout(t, 10*time.Second)
	done := make(chan error, 2)
	for range 2 {
		go func() { _, err := c.Call(ctx, "echo", int64(1)); done <- err }()
	}
	g.waitStarted(t, 2)
	_, err := c.Call(ctx, "echo", int64(3))
	if kindOf(t, err) != service.KindOverloaded || !strings.Contains(err.Error(), "too many calls at once (2)") {
		t.Fatalf("third call: %v, want overloaded", err)
	}
	close(g.open)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if v, err := c.Call(ctx, "echo", int64(4)); err != nil || v != int64(4) {
		t.Fatalf("after the others: %v, %v", v, err)
	}
}

// A canceled call frees its place at once on both sides, even while its
// handler still runs: with two places, two more calls run beside it.
func TestMaxStreamsCancelFreesPlace(t *testing.T) {
	g := newGate()
	defer close(g.open)
	c, _ := connect(t, transports[0], nil, []peer.Option{peer.WithHandler(g), peer.WithMaxStreams(2)})
	cctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := c.Call(cctx, "echo", int64(1)); first <- err }()
	g.waitStarted(t, 1)
	cancel()
	if err := <-first; kindOf(t, err) != service.KindCanceled {
		t.Fatalf("canceled call: %v", err)
	}
	ctx := ctxTimeout(t, 10*time.Second)
	for i := range 2 {
		go c.Call(ctx, "echo", int64(i))
	}
	g.waitStarted(t, 2) // the server took both while the first handler runs
	if n := g.now.Load(); n != 3 {
		t.Fatalf("%d handlers running, want the canceled one and two new ones", n)
	}
}

// Handlers that go on after their calls were canceled are bounded too:
// with as many of them as the calls allowed at once, a new call is
// refused, and accepted again once they returned.
func TestMaxStreamsLingeringHandlers(t *testing.T) {
	g := newGate()
	c, _ := connect(t, transports[0], nil, []peer.Option{peer.WithHandler(g), peer.WithMaxStreams(2)})
	for range 2 {
		cctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := c.Call(cctx, "echo", int64(1)); done <- err }()
		g.waitStarted(t, 1)
		cancel()
		<-done
	}
	ctx := ctxTimeout(t, 10*time.Second)
	_, err := c.Call(ctx, "echo", int64(3))
	if kindOf(t, err) != service.KindOverloaded || !strings.Contains(err.Error(), "still running after their calls were canceled") {
		t.Fatalf("call beside two lingering handlers: %v, want overloaded", err)
	}
	close(g.open)
	waitUntil(t, "a call accepted again", func() bool {
		v, err := c.Call(ctx, "echo", int64(4))
		return err == nil && v == int64(4)
	})
}

// Requests held for handlers count towards WithMaxInboundBytes until their
// calls end: past it a new call is refused overloaded, and the bytes come
// back when the calls end.
func TestMaxInboundBytesCalls(t *testing.T) {
	for _, baseline := range []bool{false, true} {
		t.Run(map[bool]string{false: "ext", true: "baseline"}[baseline], func(t *testing.T) {
			g := newGate()
			const frame = 64 << 10
			sopts := []peer.Option{peer.WithHandler(g), peer.WithMaxFrameSize(frame), peer.WithMaxInboundBytes(2 * frame)}
			c, _ := connect(t, transports[0], modeOptions(baseline, peer.WithMaxFrameSize(frame)), sopts)
			ctx := ctxTimeout(t, 10*time.Second)
			big := strings.Repeat("x", 50<<10)
			done := make(chan error, 2)
			for range 2 {
				go func() { _, err := c.Call(ctx, "echo", big); done <- err }()
			}
			g.waitStarted(t, 2)
			_, err := c.Call(ctx, "echo", big)
			if kindOf(t, err) != service.KindOverloaded || !strings.Contains(err.Error(), "over the limit of 131072 bytes") {
				t.Fatalf("third call: %v, want overloaded", err)
			}
			close(g.open)
			for range 2 {
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			// The two calls gave their bytes back: two more fit, again and
			// again.
			for range 3 {
				var wg sync.WaitGroup
				for range 2 {
					wg.Go(func() {
						if v, err := c.Call(ctx, "echo", big); err != nil || v != int64(len(big)) {
							t.Errorf("after the others: %v, %v", v, err)
						}
					})
				}
				wg.Wait()
			}
		})
	}
}

// Streamed arguments the handler does not take count too: the stream
// whose next argument would go past the bound fails overloaded, and the
// connection goes on.
func TestMaxInboundBytesStreamedArgs(t *testing.T) {
	const frame = 64 << 10
	block := make(chan struct{})
	h := mux{
		"hold": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			select { // takes nothing: its arguments pile up
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-block:
				return nil, nil
			}
		},
		"echo": func(ctx context.Context, s *peer.ServerStream) (any, error) { return s.Recv() },
	}
	defer close(block)
	c, _ := connect(t, transports[0], []peer.Option{peer.WithMaxFrameSize(frame)},
		[]peer.Option{peer.WithHandler(h), peer.WithMaxFrameSize(frame), peer.WithMaxInboundBytes(2 * frame)})
	ctx := ctxTimeout(t, 10*time.Second)
	s, err := c.NewStream(ctx, "hold")
	if err != nil {
		t.Fatal(err)
	}
	item := strings.Repeat("y", 30<<10)
	for i := 0; i < 20; i++ {
		if err := s.Send(item); err != nil {
			break // the call ended: Recv says why
		}
	}
	_, err = s.Recv()
	if kindOf(t, err) != service.KindOverloaded || !strings.Contains(err.Error(), "arguments waiting for the handler over the limit") {
		t.Fatalf("stream: %v, want overloaded", err)
	}
	if v, err := c.Call(ctx, "echo", "still here"); err != nil || v != "still here" {
		t.Fatalf("after the stream failed: %v, %v", v, err)
	}
}

// Connections given one Budget share it: what one holds for its handlers
// leaves less for the others, and all of it comes back.
func TestInboundBudgetShared(t *testing.T) {
	const frame = 64 << 10
	g := newGate()
	b := peer.NewBudget(2 * frame)
	sopts := []peer.Option{peer.WithHandler(g), peer.WithMaxFrameSize(frame), peer.WithInboundBudget(b)}
	copts := []peer.Option{peer.WithMaxFrameSize(frame)}
	c1, _ := connect(t, transports[0], copts, sopts)
	c2, _ := connect(t, transports[0], copts, sopts)
	ctx := ctxTimeout(t, 10*time.Second)
	big := strings.Repeat("x", 50<<10)
	done := make(chan error, 2)
	for range 2 {
		go func() { _, err := c1.Call(ctx, "echo", big); done <- err }()
	}
	g.waitStarted(t, 2)
	if _, err := c2.Call(ctx, "echo", big); kindOf(t, err) != service.KindOverloaded {
		t.Fatalf("a call on the other connection: %v, want overloaded", err)
	}
	close(g.open)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if v, err := c2.Call(ctx, "echo", big); err != nil || v != int64(len(big)) {
		t.Fatalf("once the first connection's calls ended: %v, %v", v, err)
	}
	// The handler gives its bytes back once it returned, just after
	// its reply went out.
	waitUntil(t, "every byte given back", func() bool { return b.Used() == 0 })
}
