package peer_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// sizedPayload returns a string of n bytes whose content depends on seed,
// so that a frame that lost or mixed up bytes does not compare equal.
func sizedPayload(seed, n int) string {
	var b strings.Builder
	b.Grow(n + 32)
	for b.Len() < n {
		fmt.Fprintf(&b, "%d.", seed)
		seed = seed*31 + 7
	}
	return b.String()[:n]
}

// TestMixedFrameSizes sends calls of very different sizes from many
// goroutines at once, so that frames small enough to share the write
// queue's batch buffer, frames with their own buffers, frames written
// directly by their caller and frames batched by the writer goroutine
// all go out together, and the reading end gets frames that fit its read
// buffer, frames that need the buffer kept for larger ones and frames
// larger than that. Every answer must be its own request, byte for byte.
func TestMixedFrameSizes(t *testing.T) {
	// 20 KiB is over the size copied into the batch buffer, 40 KiB over
	// the stream transport's read buffer, 300 KiB over the largest
	// frame whose buffer is kept for the next.
	sizes := []int{1, 700, 3 << 10, 20 << 10, 40 << 10, 300 << 10}
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		c, _ := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(services())})
		ctx := ctxTimeout(t, 60*time.Second)
		const goroutines, calls = 16, 24
		var wg sync.WaitGroup
		var failed atomic.Int32
		for g := range goroutines {
			wg.Go(func() {
				for i := range calls {
					seed := g*1000 + i
					want := sizedPayload(seed, sizes[(g+i)%len(sizes)])
					v, err := c.Call(ctx, "echo", want)
					if s, _ := v.(string); err != nil || s != want {
						if failed.Add(1) == 1 {
							t.Errorf("call %d/%d (%d bytes): got %d bytes, %v", g, i, len(want), len(s), err)
						}
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

// TestStreamKeepsOrderAcrossSizes streams arguments of mixed sizes, which
// the writer goroutine batches, and checks that the handler receives
// them all, in order.
func TestStreamKeepsOrderAcrossSizes(t *testing.T) {
	sizes := []int{5, 20 << 10, 300, 70 << 10, 1}
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		const n = 200
		got := make(chan []string, 1)
		h := peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
			var all []string
			for {
				v, err := s.Recv()
				if err != nil {
					got <- all
					return int64(len(all)), nil
				}
				all = append(all, v.(string))
			}
		})
		c, _ := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(h)})
		ctx := ctxTimeout(t, 60*time.Second)
		s, err := c.NewStream(ctx, "collect")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for i := range n {
			if err := s.Send(sizedPayload(i, sizes[i%len(sizes)])); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		if err := s.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Recv(); err != nil || v != int64(n) {
			t.Fatalf("answer %v, %v; want %d", v, err, n)
		}
		all := <-got
		for i, v := range all {
			if want := sizedPayload(i, sizes[i%len(sizes)]); v != want {
				t.Fatalf("argument %d: %d bytes, not the %d sent", i, len(v), len(want))
			}
		}
	})
}

// TestCallAllocations bounds the allocations of a unary call over TCP,
// counting both ends (they share the process): the write queue, the
// transport's buffers and the envelope decoder reuse their memory, so a
// call allocates only its own structures, its argument and its result.
func TestCallAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a quiet, non-race build")
	}
	c, _ := connect(t, transports[1], nil, []peer.Option{peer.WithHandler(services())})
	ctx := context.Background()
	arg := any("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	call := func() {
		if v, err := c.Call(ctx, "echo", arg); err != nil || v != arg {
			t.Fatalf("echo: %v, %v", v, err)
		}
	}
	for range 100 {
		call() // warm the pools and buffers
	}
	runtime.GC()
	allocs := testing.AllocsPerRun(2000, call)
	// 15 to 16 on amd64 with Go 1.26; the bound leaves room for the
	// runtime's own (a timer, a grown stack) without letting a per-frame
	// buffer or a per-envelope map come back unseen.
	const max = 20
	t.Logf("%.1f allocations per call", allocs)
	if allocs > max {
		t.Errorf("a call makes %.1f allocations, want at most %d", allocs, max)
	}
}

// TestSenderNeverWaitsForSocket stops reading at the remote end, so that
// the socket's buffers fill, and makes call after call with a short
// deadline. A caller must never wait for the socket itself, or a call
// whose request meets a full buffer would wait for the remote instead of
// its deadline. Every call must end with its deadline.
func TestSenderNeverWaitsForSocket(t *testing.T) {
	ctx := ctxTimeout(t, 30*time.Second)
	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stalled := make(chan peer.FrameConn, 1)
	go func() {
		fc, err := l.Accept(ctx)
		if err != nil {
			return
		}
		// The handshake, then never another read.
		if _, err := fc.ReadFrame(ctx); err == nil {
			fc.WriteFrames(ctx, []peer.Frame{{Data: []byte("+OK;codec=glyph;ext=deadline"), Text: true}})
		}
		stalled <- fc
	}()
	fc, err := peer.Dial(ctx, l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c, err := peer.Client(ctx, fc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer func() { (<-stalled).Close() }()

	arg := sizedPayload(1, 60<<10)
	const calls = 400 // 24 MB: more than loopback buffers hold
	for i := range calls {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		done := make(chan error, 1)
		go func() {
			_, err := c.Call(cctx, "sink", arg)
			done <- err
		}()
		select {
		case err := <-done:
			cancel()
			if kindOf(t, err) != service.KindDeadlineExceeded {
				t.Fatalf("call %d: %v, want a deadline error", i, err)
			}
		case <-time.After(5 * time.Second):
			cancel()
			t.Fatalf("call %d did not end 5s after its 5ms deadline: it waits for the socket", i)
		}
	}
	if s := c.Stats(); s.BytesSent >= int64(calls*len(arg)) {
		t.Fatalf("sent %d bytes: the remote's buffers never filled", s.BytesSent)
	}
}
