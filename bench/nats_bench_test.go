package bench

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// The NATS benchmarks time one unary call, hello("bob") → "Hello bob",
// through one nats-server embedded in the test process (127.0.0.1, a
// random port), the server and the client each on a connection of their
// own:
//
//   - glyph: a hypernats.Server serving the service and a
//     hypernats.Client with the glyph codec;
//   - glyph-inline: the same with hypernats.WithInlineCalls;
//   - nats: plain nats.go request/reply carrying the same bytes as
//     glyph's (the request's payload and the reply's), answered in the
//     subscription's callback: the floor any NATS RPC stands on.
//
// See README.md for the command and the results.

// natsSystem is a way of making the call.
type natsSystem struct {
	name string
	call func(ctx context.Context) (string, error)
}

// BenchmarkNATS measures, for each system, calls made one at a time
// (conc=1: p50-ns, p99-ns) and calls from 64 goroutines at once (conc=64:
// calls/s, and the p50-ns and p99-ns of those calls), with the process's
// CPU time per call (cpu-ns/op).
func BenchmarkNATS(b *testing.B) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats-server did not start")
	}
	conn := func() *nats.Conn {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			b.Fatal(err)
		}
		return nc
	}
	ctx := context.Background()

	// glyph
	svc := service.New()
	svc.MustFunc("hello", func(name string) string { return "Hello " + name }, service.Args("name"))
	gsrvConn, gcliConn := conn(), conn()
	defer gsrvConn.Close()
	defer gcliConn.Close()
	gsrv, err := hypernats.NewServer(ctx, gsrvConn, svc, hypernats.WithPrefix("bench.glyph"))
	if err != nil {
		b.Fatal(err)
	}
	defer gsrv.Shutdown(ctx)
	gc := hypernats.NewClient(gcliConn, hypernats.WithClientPrefix("bench.glyph"))
	defer gc.Close()
	glyph := natsSystem{"glyph", func(ctx context.Context) (string, error) {
		var s string
		err := gc.Call(ctx, "hello", []any{"bob"}, nil, &s)
		return s, err
	}}

	// glyph-inline: the same, the server with WithInlineCalls.
	isrvConn, icliConn := conn(), conn()
	defer isrvConn.Close()
	defer icliConn.Close()
	isrv, err := hypernats.NewServer(ctx, isrvConn, svc, hypernats.WithPrefix("bench.inline"), hypernats.WithInlineCalls())
	if err != nil {
		b.Fatal(err)
	}
	defer isrv.Shutdown(ctx)
	ic := hypernats.NewClient(icliConn, hypernats.WithClientPrefix("bench.inline"))
	defer ic.Close()
	inline := natsSystem{"glyph-inline", func(ctx context.Context) (string, error) {
		var s string
		err := ic.Call(ctx, "hello", []any{"bob"}, nil, &s)
		return s, err
	}}

	// nats: the same payloads, answered in the subscription's callback.
	req, _ := wire.Marshal([]any{"bob"})
	reply, _ := wire.Marshal("Hello bob")
	psrvConn, pcliConn := conn(), conn()
	defer psrvConn.Close()
	defer pcliConn.Close()
	if _, err := psrvConn.QueueSubscribe("bench.nats.hello", "q", func(m *nats.Msg) { m.Respond(reply) }); err != nil {
		b.Fatal(err)
	}
	psrvConn.Flush()
	plain := natsSystem{"nats", func(ctx context.Context) (string, error) {
		m, err := pcliConn.RequestWithContext(ctx, "bench.nats.hello", req)
		if err != nil {
			return "", err
		}
		var s string
		err = wire.Unmarshal(m.Data, &s)
		return s, err
	}}

	systems := []natsSystem{glyph, inline, plain}
	for _, s := range systems {
		b.Run("conc=1/sys="+s.name, func(b *testing.B) { natsCalls(b, s, 1) })
	}
	for _, s := range systems {
		b.Run("conc=64/sys="+s.name, func(b *testing.B) { natsCalls(b, s, concurrency) })
	}
	b.Run("conc=64/interleaved", func(b *testing.B) { natsInterleaved(b, glyph, plain, concurrency) })
	b.Run("conc=64/interleaved-inline", func(b *testing.B) { natsInterleaved(b, inline, plain, concurrency) })
}

// natsInterleaved compares two systems in alternating rounds of calls
// from g goroutines, b.N rounds of 4,000 calls each (the first system
// first in even rounds, second in odd ones), so that both see the same
// machine: a shared VM's speed drifts by more than the difference
// measured within the seconds that separate two sub-benchmarks. It
// reports each system's calls/s and p50 over all its rounds, and the
// medians over the rounds of first/second of a round's time
// (calls-ratio) and of its p50 (p50-ratio): above 1, the first is
// slower.
func natsInterleaved(b *testing.B, first, second natsSystem, g int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const calls = 4000
	round := func(s natsSystem) (elapsed time.Duration, lat []time.Duration) {
		var mu sync.Mutex
		var next atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		for range g {
			wg.Go(func() {
				var ds []time.Duration
				for next.Add(1) <= calls {
					t := time.Now()
					got, err := s.call(ctx)
					ds = append(ds, time.Since(t))
					if err != nil || got != "Hello bob" {
						b.Errorf("%s: got %q, %v", s.name, got, err)
						return
					}
				}
				mu.Lock()
				lat = append(lat, ds...)
				mu.Unlock()
			})
		}
		wg.Wait()
		elapsed = time.Since(t0)
		slices.Sort(lat)
		return elapsed, lat
	}
	round(first) // warm both
	round(second)
	var elapsed [2]time.Duration
	var all [2][]time.Duration
	var callsRatio, p50Ratio []float64
	for i := 0; b.Loop(); i++ {
		var e [2]time.Duration
		var p50 [2]time.Duration
		for k := range 2 {
			j := k ^ (i & 1)
			var lat []time.Duration
			e[j], lat = round([]natsSystem{first, second}[j])
			p50[j] = percentile(lat, 50)
			elapsed[j] += e[j]
			all[j] = append(all[j], lat...)
		}
		callsRatio = append(callsRatio, float64(e[0])/float64(e[1]))
		p50Ratio = append(p50Ratio, float64(p50[0])/float64(p50[1]))
	}
	median := func(xs []float64) float64 {
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	for j, s := range []natsSystem{first, second} {
		slices.Sort(all[j])
		b.ReportMetric(float64(b.N*calls)/elapsed[j].Seconds(), s.name+"-calls/s")
		b.ReportMetric(float64(percentile(all[j], 50)), s.name+"-p50-ns")
	}
	b.ReportMetric(median(callsRatio), "calls-ratio")
	b.ReportMetric(median(p50Ratio), "p50-ratio")
}

// natsCalls makes b.N calls from g goroutines and reports the calls per
// second and the percentiles of their durations.
func natsCalls(b *testing.B, s natsSystem, g int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 20 {
		if got, err := s.call(ctx); err != nil || got != "Hello bob" {
			b.Fatalf("%s: got %q, %v", s.name, got, err)
		}
	}
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((g + procs - 1) / procs)
	var mu sync.Mutex
	var all []time.Duration
	b.ReportAllocs()
	cpu := startCPU()
	b.ResetTimer()
	run := func(next func() bool) {
		var ds []time.Duration
		for next() {
			t0 := time.Now()
			got, err := s.call(ctx)
			ds = append(ds, time.Since(t0))
			if err != nil || got != "Hello bob" {
				b.Errorf("got %q, %v; want %q", got, err, "Hello bob")
				return
			}
		}
		mu.Lock()
		all = append(all, ds...)
		mu.Unlock()
	}
	if g == 1 {
		i := 0
		run(func() bool { i++; return i <= b.N })
	} else {
		b.RunParallel(func(pb *testing.PB) { run(pb.Next) })
	}
	b.StopTimer()
	cpu.report(b)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(float64(percentile(all, 50)), "p50-ns")
	b.ReportMetric(float64(percentile(all, 99)), "p99-ns")
}
