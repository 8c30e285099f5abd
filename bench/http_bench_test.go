package bench

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// The HTTP benchmarks time one unary call, hello("bob") → "Hello bob",
// through each system in httpSystems (http_test.go): a real server on a
// loopback listener (httptest.NewServer: 127.0.0.1:0, HTTP/1.1, keep-alive)
// and its client, over one http.Transport per system. Clients resolve
// whatever they need first (glyph gets the index page and its hello form
// once); only the calls are timed. See README.md for the command and the
// results.

// concurrency is the number of goroutines calling at once in the
// throughput benchmark.
const concurrency = 64

// BenchmarkHTTP measures, for each system, the latency of calls made one
// at a time (conc=1: p50-ns and p99-ns over every call of the run, and the
// mean as sec/op) and the throughput of 64 goroutines calling at once
// (conc=64: calls/s). Both report the CPU time the process used per call
// (cpu-ns/op), which a busy machine disturbs less. allocs/op counts the
// client's and the server's allocations together, as both run in this
// process.
func BenchmarkHTTP(b *testing.B) {
	ctx := context.Background()
	live := make([]*liveSystem, 0, len(httpSystems))
	for _, s := range httpSystems {
		ls, err := start(ctx, s)
		if err != nil {
			b.Fatalf("%s: %v", s.name, err)
		}
		defer ls.close()
		live = append(live, ls)
	}
	for _, ls := range live {
		b.Run("conc=1/sys="+ls.name, func(b *testing.B) { benchLatency(b, ls) })
	}
	for _, ls := range live {
		b.Run("conc=64/sys="+ls.name, func(b *testing.B) { benchThroughput(b, ls) })
		// Close the 64 connections, so that their goroutines and
		// buffers do not burden the runtime (the GC scans their stacks)
		// while the next systems are measured.
		ls.tr.CloseIdleConnections()
	}
}

// benchLatency makes b.N calls one after the other and reports the median
// and 99th percentile of their durations.
func benchLatency(b *testing.B, ls *liveSystem) {
	ctx := context.Background()
	warm(b, ls, 1, 20)
	durations := make([]time.Duration, b.N)
	b.ReportAllocs()
	cpu := startCPU()
	b.ResetTimer()
	for i := range durations {
		t0 := time.Now()
		got, err := ls.call(ctx, "bob")
		durations[i] = time.Since(t0)
		if err != nil || got != "Hello bob" {
			b.Fatalf("got %q, %v; want %q", got, err, "Hello bob")
		}
	}
	b.StopTimer()
	cpu.report(b)
	slices.Sort(durations)
	b.ReportMetric(float64(percentile(durations, 50)), "p50-ns")
	b.ReportMetric(float64(percentile(durations, 99)), "p99-ns")
}

// percentile returns the p-th percentile of sorted by the nearest-rank
// method: the smallest duration that at least p% of them do not exceed.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n), 1-based
	return sorted[max(rank, 1)-1]
}

// benchThroughput makes b.N calls from 64 goroutines (GOMAXPROCS times
// the parallelism b.SetParallelism sets: 32 on 2 cores) and reports the
// calls completed per second.
func benchThroughput(b *testing.B, ls *liveSystem) {
	ctx := context.Background()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((concurrency + procs - 1) / procs)
	warm(b, ls, concurrency, 4)
	b.ReportAllocs()
	cpu := startCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			got, err := ls.call(ctx, "bob")
			if err != nil || got != "Hello bob" {
				b.Errorf("got %q, %v; want %q", got, err, "Hello bob")
				return
			}
		}
	})
	b.StopTimer()
	cpu.report(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// cpuMeter measures the CPU time the whole process (client, server, the
// runtime) uses during a benchmark: unlike the wall-clock figures it does
// not depend on what else the machine is running, and on a machine whose
// cores the calls keep busy it is what bounds the calls per second.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	t, ok := processCPUTime()
	return cpuMeter{t, ok}
}

// report reports the CPU time used since startCPU per call, as cpu-ns/op.
func (m cpuMeter) report(b *testing.B) {
	t, ok := processCPUTime()
	if !m.ok || !ok || b.N == 0 {
		return
	}
	b.ReportMetric(float64(t-m.start)/float64(b.N), "cpu-ns/op")
}

// warm makes n calls from each of g goroutines, so that the transport
// holds the connections the benchmark will use before the timer starts.
func warm(b *testing.B, ls *liveSystem, g, n int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, g)
	for range g {
		wg.Go(func() {
			for range n {
				if _, err := ls.call(ctx, "bob"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("warming up %s: %v", ls.name, err)
	}
}

// BenchmarkServerAllocs measures each system's server alone: its handler's
// ServeHTTP, called directly with an httptest.ResponseRecorder on the very
// request the system's client sends (recorded once from a live call, and
// replayed with its body rewound). allocs/op and B/op are the server's
// cost per call; empty-handler is the harness alone (the recorder), which
// every other row includes.
func BenchmarkServerAllocs(b *testing.B) {
	ctx := context.Background()
	type prepared struct {
		name string
		h    http.Handler
		p    *preparedRequest
	}
	var all []prepared
	for _, s := range httpSystems {
		rec, _, err := captureCall(ctx, s, "bob")
		if err != nil {
			b.Fatalf("%s: %v", s.name, err)
		}
		p, h := prepare(rec), s.handler()
		body, err := responseBody(p.serve(h))
		if err != nil {
			b.Fatalf("%s: %v", s.name, err)
		}
		if got, err := s.decode(body); err != nil || got != "Hello bob" {
			b.Fatalf("%s: got %q, %v; want %q", s.name, got, err, "Hello bob")
		}
		all = append(all, prepared{s.name, h, p})
	}
	all = append(all, prepared{"empty-handler", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		prepare(recordedRequest{method: http.MethodPost, path: "/hello", header: http.Header{}, body: []byte(`{"name":"bob"}`)})})
	for _, x := range all {
		b.Run(x.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x.p.serve(x.h)
			}
		})
	}
}
