package bench

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// The peer benchmarks (issue 4) compare RPC systems that talk over a plain
// TCP connection, not HTTP/1.1: a 64-byte echo and a one-way stream of
// 64-byte messages, over loopback TCP (127.0.0.1:0), client and server in
// this process. Each system is an echoSystem; the systems register
// themselves in init functions, one file each:
//
//	peer_rawtcp_test.go   rawtcp: a bare TCP echo, the floor
//	peer_grpc_test.go     grpc: google.golang.org/grpc, no generated code
//	peer_netrpc_test.go   netrpc: net/rpc with its gob codec
//
// Adding a system takes one file that defines a type implementing
// echoSystem and registers it with registerEchoSystem from an init
// function; the benchmarks and TestPeerSystems (peer_test.go) pick it up.
// See README.md for the command.

// peerMsgSize is the size of the echo request and answer, and of the
// messages of the small-message stream.
const peerMsgSize = 64

// peerStreamSizes are the sizes of the messages of BenchmarkPeerStream:
// small messages, where the cost per message counts, and large items,
// where copies and flow control do.
var peerStreamSizes = []struct {
	name string
	size int
}{
	{"64B", peerMsgSize},
	{"64KiB", 64 << 10},
	{"256KiB", 256 << 10},
	{"1MiB", 1 << 20},
	{"4MiB", 4 << 20},
}

// peerMaxMsgSize is the largest message the systems' servers take: above
// the largest of peerStreamSizes with room for the systems' envelopes.
const peerMaxMsgSize = 8 << 20

// peerPayload is the message every system sends.
var peerPayload = peerMessage(0)

// peerMessage returns a 64-byte message whose content depends on seed.
func peerMessage(seed byte) []byte {
	m := make([]byte, peerMsgSize)
	for i := range m {
		m[i] = seed*31 + byte(i)*7 + 1
	}
	return m
}

// echoSystem is one RPC system under test: a server and its client.
type echoSystem interface {
	// name names the system in benchmark names, e.g. the grpc in
	// BenchmarkPeerEcho/grpc/conc1.
	name() string
	// start starts a server on a new loopback TCP listener
	// (127.0.0.1:0) and returns its address. The server answers echo
	// calls (the same bytes back) and streams (it counts the messages and
	// acknowledges them when the stream ends). It stops, and its
	// connections are closed, when tb's test or benchmark ends
	// (tb.Cleanup).
	start(tb testing.TB) (addr string)
	// newClient returns a client of the server at addr. Any number of
	// goroutines may use it at once; it shares connections among them
	// the way the system is normally used (one multiplexed connection,
	// or one connection per caller), and says so in its documentation.
	newClient(tb testing.TB, addr string) echoClient
}

// echoClient is a client made by echoSystem.newClient.
type echoClient interface {
	// call sends msg and returns the answer, which the caller owns.
	call(ctx context.Context, msg []byte) ([]byte, error)
	// stream sends msg n times, one way, as one stream, and returns once
	// the server has acknowledged that it received all n; it returns an
	// error if the server counted another number. A system that has no
	// streams returns an error wrapping errNoStream.
	stream(ctx context.Context, n int, msg []byte) error
	// close closes the client's connections.
	close()
}

// errNoStream is wrapped by the error echoClient.stream returns when the
// system cannot stream; BenchmarkPeerStream then skips the system.
var errNoStream = errors.New("no one-way streams")

// Ranks order the systems in benchmark output and tests: the floor, then
// glyph, then the systems glyph is compared with (by name within a rank).
const (
	rankFloor = iota
	rankGlyph
	rankOther
)

type registeredEchoSystem struct {
	rank int
	sys  echoSystem
}

var registeredEchoSystems []registeredEchoSystem

// registerEchoSystem adds s to the systems the peer benchmarks and tests
// run; call it from an init function.
func registerEchoSystem(rank int, s echoSystem) {
	registeredEchoSystems = append(registeredEchoSystems, registeredEchoSystem{rank, s})
}

// echoSystems returns the registered systems, ordered by rank then name.
func echoSystems() []echoSystem {
	r := slices.Clone(registeredEchoSystems)
	slices.SortStableFunc(r, func(a, b registeredEchoSystem) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.sys.name(), b.sys.name()))
	})
	out := make([]echoSystem, len(r))
	for i, x := range r {
		out[i] = x.sys
	}
	return out
}

// startEchoSystems starts a server of every system, for the whole
// benchmark b, and returns their addresses, in the order of systems.
func startEchoSystems(b *testing.B, systems []echoSystem) []string {
	addrs := make([]string, len(systems))
	for i, s := range systems {
		addrs[i] = s.start(b)
	}
	return addrs
}

// BenchmarkPeerEcho measures a 64-byte echo call through each system:
// conc1 makes the calls one after another and reports p50-µs and p99-µs
// (nearest-rank percentiles of the duration of every call of the run) and
// the mean as sec/op; conc64 makes them from 64 goroutines at once through
// one client and reports calls/s. Both report the CPU time the process
// (client and server) used per call, cpu-ns/op, and the allocations of
// client and server together.
func BenchmarkPeerEcho(b *testing.B) {
	systems := echoSystems()
	addrs := startEchoSystems(b, systems)
	for i, s := range systems {
		b.Run(s.name(), func(b *testing.B) {
			b.Run("conc1", func(b *testing.B) { benchPeerLatency(b, s, addrs[i]) })
			b.Run("conc64", func(b *testing.B) { benchPeerThroughput(b, s, addrs[i]) })
		})
	}
}

// benchPeerLatency makes b.N calls one after the other through a new
// client and reports the median and 99th percentile of their durations.
func benchPeerLatency(b *testing.B, s echoSystem, addr string) {
	ctx := context.Background()
	c := s.newClient(b, addr)
	defer c.close()
	warmEcho(b, c, 1, 20)
	durations := make([]time.Duration, b.N)
	b.ReportAllocs()
	cpu := startCPU()
	b.ResetTimer()
	for i := range durations {
		t0 := time.Now()
		got, err := c.call(ctx, peerPayload)
		durations[i] = time.Since(t0)
		if err != nil || !bytes.Equal(got, peerPayload) {
			b.Fatalf("got %x, %v; want %x", got, err, peerPayload)
		}
	}
	b.StopTimer()
	cpu.report(b)
	slices.Sort(durations)
	b.ReportMetric(micros(percentile(durations, 50)), "p50-µs")
	b.ReportMetric(micros(percentile(durations, 99)), "p99-µs")
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// benchPeerThroughput makes b.N calls from 64 goroutines (GOMAXPROCS
// times the parallelism b.SetParallelism sets: 32 on 2 cores) sharing one
// new client, and reports the calls completed per second.
func benchPeerThroughput(b *testing.B, s echoSystem, addr string) {
	ctx := context.Background()
	c := s.newClient(b, addr)
	defer c.close()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((concurrency + procs - 1) / procs)
	warmEcho(b, c, concurrency, 4)
	b.ReportAllocs()
	cpu := startCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			got, err := c.call(ctx, peerPayload)
			if err != nil || !bytes.Equal(got, peerPayload) {
				b.Errorf("got %x, %v; want %x", got, err, peerPayload)
				return
			}
		}
	})
	b.StopTimer()
	cpu.report(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// warmEcho makes n calls from each of g goroutines, so that the client
// holds the connections the benchmark will use before the timer starts.
func warmEcho(b *testing.B, c echoClient, g, n int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, g)
	for range g {
		wg.Go(func() {
			for range n {
				if _, err := c.call(ctx, peerPayload); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("warming up: %v", err)
	}
}

// BenchmarkPeerStream measures a one-way stream through each system, of
// messages of each of peerStreamSizes (BenchmarkPeerStream/SIZE/SYSTEM,
// so that the systems run one after the other at each size): one
// operation is one message, and each run of the benchmark is one stream
// of b.N messages from a new client, timed from before the stream is
// opened until the server's acknowledgement of all b.N has arrived. It
// reports msgs/s and MB/s of the payloads, the CPU time per message,
// cpu-ns/op, and the allocations of client and server together. A system
// without streams is skipped.
func BenchmarkPeerStream(b *testing.B) {
	ctx := context.Background()
	systems := echoSystems()
	addrs := startEchoSystems(b, systems)
	for _, size := range peerStreamSizes {
		msg := peerPayload
		if size.size != peerMsgSize {
			msg = bytes.Repeat(peerPayload, size.size/peerMsgSize)
		}
		// Warm up with 100 messages, or 64 MiB of them.
		warm := min(100, max(1, (64<<20)/size.size))
		b.Run(size.name, func(b *testing.B) {
			for i, s := range systems {
				b.Run(s.name(), func(b *testing.B) {
					c := s.newClient(b, addrs[i])
					defer c.close()
					if err := c.stream(ctx, warm, msg); err != nil {
						if errors.Is(err, errNoStream) {
							b.Skip(err)
						}
						b.Fatalf("warming up: %v", err)
					}
					b.SetBytes(int64(len(msg)))
					b.ReportAllocs()
					cpu := startCPU()
					b.ResetTimer()
					if err := c.stream(ctx, b.N, msg); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					cpu.report(b)
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
				})
			}
		})
	}
}

// serveLoopback listens on 127.0.0.1:0 and calls handle in a new goroutine
// for every connection accepted, until tb's test ends: then it closes the
// listener and every connection and waits for the handlers to return. It
// returns the listener's address.
func serveLoopback(tb testing.TB, handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		mu     sync.Mutex
		conns  = map[net.Conn]struct{}{}
		closed bool
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				c.Close()
				return
			}
			conns[c] = struct{}{}
			wg.Add(1)
			mu.Unlock()
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				handle(c)
			}()
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}
