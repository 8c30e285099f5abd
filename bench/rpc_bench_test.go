package bench

import (
	"context"
	"testing"
)

// BenchmarkRPC measures, for each system in rpcSystems (rpc_test.go),
// the latency of calls made one at a time (conc=1: p50-ns, p99-ns and the
// mean as sec/op) and the throughput of 64 goroutines calling at once
// (conc=64: calls/s), as BenchmarkHTTP does. allocs/op counts the
// client's and the server's allocations together.
func BenchmarkRPC(b *testing.B) {
	ctx := context.Background()
	live := make([]*liveSystem, 0, len(rpcSystems))
	for _, s := range rpcSystems {
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
		ls.tr.CloseIdleConnections()
	}
}

// BenchmarkRPCServer measures each system's server alone, as
// BenchmarkServerAllocs does: ServeHTTP into a recorder, on the request
// the system's client sends. Less disturbed by a busy machine than the
// calls over loopback.
func BenchmarkRPCServer(b *testing.B) {
	ctx := context.Background()
	for _, s := range rpcSystems {
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
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.serve(h)
			}
		})
	}
}

// TestRPCSystems checks that every system answers the benchmark's call.
func TestRPCSystems(t *testing.T) {
	ctx := context.Background()
	for _, s := range rpcSystems {
		ls, err := start(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, err := ls.call(ctx, "bob")
		ls.close()
		if err != nil || got != "Hello bob" {
			t.Errorf("%s: got %q, %v; want %q", s.name, got, err, "Hello bob")
		}
	}
}
