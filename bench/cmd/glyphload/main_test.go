package main

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain serves when the driver under test starts the test binary as
// its server.
func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		serve()
		return
	}
	os.Exit(m.Run())
}

// TestLoad runs every transport for a second, as fast as callers can and
// at a rate: calls are made and answered, without errors, and the
// server's memory is sampled.
func TestLoad(t *testing.T) {
	tests := []struct {
		transport string
		rate      float64
	}{
		{"nethttp", 0},
		{"http", 0},
		{"peer", 0},
		{"http", 200},
		{"peer", 200},
	}
	for _, tt := range tests {
		t.Run(tt.transport, func(t *testing.T) {
			r, err := load(context.Background(), tt.transport, time.Second, 4, 2, tt.rate, 300*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if r.calls == 0 || r.errors != 0 || len(r.latencies) != int(r.calls) {
				t.Fatalf("%d calls, %d errors (%v), %d latencies", r.calls, r.errors, r.firstErr, len(r.latencies))
			}
			if tt.rate > 0 && (r.calls < 100 || r.calls > 201) {
				t.Errorf("%d calls in a second at %v a second", r.calls, tt.rate)
			}
			if len(r.samples) == 0 || r.samples[0].heap <= 0 || r.samples[0].goroutines <= 0 ||
				(runtime.GOOS == "linux" && r.samples[0].rss <= 0) {
				t.Errorf("samples %+v", r.samples)
			}
			var out strings.Builder
			r.print(&out)
			if !strings.Contains(out.String(), tt.transport+": ") || !strings.Contains(out.String(), "p99/p50") {
				t.Errorf("report:\n%s", out.String())
			}
		})
	}
	if _, err := load(context.Background(), "smoke", time.Second, 1, 1, 0, time.Second); err == nil || !strings.Contains(err.Error(), "unknown transport") {
		t.Errorf("an unknown transport: %v", err)
	}
}
