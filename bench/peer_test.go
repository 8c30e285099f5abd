package bench

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestPeerSystems checks that every system of the peer benchmarks
// (peer_bench_test.go) does what they time: an echo call answers the same
// 64 bytes, also with 16 goroutines calling at once through one client with
// different messages (so a client that shares connections does not mix up
// the answers), and a stream is acknowledged with the number of messages
// sent, of 64 bytes and of the largest size BenchmarkPeerStream sends. A system without streams is only checked to say so with
// errNoStream.
func TestPeerSystems(t *testing.T) {
	for _, s := range echoSystems() {
		t.Run(s.name(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := s.newClient(t, s.start(t))
			defer c.close()

			got, err := c.call(ctx, peerPayload)
			if err != nil || !bytes.Equal(got, peerPayload) {
				t.Fatalf("call: got %x, %v; want %x", got, err, peerPayload)
			}

			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					msg := peerMessage(byte(g + 1))
					for range 50 {
						got, err := c.call(ctx, msg)
						if err != nil || !bytes.Equal(got, msg) {
							t.Errorf("concurrent call: got %x, %v; want %x", got, err, msg)
							return
						}
					}
				})
			}
			wg.Wait()

			for _, n := range []int{1, 1000, 0, 3} {
				err := c.stream(ctx, n, peerPayload)
				if errors.Is(err, errNoStream) {
					t.Logf("stream: %v", err)
					break
				}
				if err != nil {
					t.Fatalf("stream of %d: %v", n, err)
				}
				if n == 3 {
					// The largest items of BenchmarkPeerStream pass too.
					size := peerStreamSizes[len(peerStreamSizes)-1].size
					if err := c.stream(ctx, n, bytes.Repeat(peerPayload, size/peerMsgSize)); err != nil {
						t.Fatalf("stream of %d items of %d bytes: %v", n, size, err)
					}
				}
			}

			// The connections are still in step after the streams.
			got, err = c.call(ctx, peerPayload)
			if err != nil || !bytes.Equal(got, peerPayload) {
				t.Fatalf("call after streams: got %x, %v; want %x", got, err, peerPayload)
			}
		})
	}
}
