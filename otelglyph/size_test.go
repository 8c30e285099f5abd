package otelglyph_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
)

// TestSizeMetrics: the serving side records the bytes of each call's
// request and response bodies, as sent over HTTP, once the response is
// written.
func TestSizeMetrics(t *testing.T) {
	tel := newTelemetry(t)
	srv := httptest.NewServer(hyperhttp.NewHandler(tel.service(nil)))
	t.Cleanup(srv.Close)
	body := `{"name": "somebody with a long name"}`
	req, err := http.NewRequest("POST", srv.URL+"/greet", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, %v: %s", res.StatusCode, err, reply)
	}
	greet := map[string]string{"rpc.method": "greet", "glyph.transport": "http", "rpc.response.status_code": "OK"}
	for _, tt := range []struct {
		name string
		want int64
	}{
		{"rpc.server.request.size", int64(len(body))},
		{"rpc.server.response.size", int64(len(reply))},
	} {
		var p metricdata.HistogramDataPoint[int64]
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			ms := tel.collect(t)
			if _, ok := ms[tt.name]; ok {
				p = histogram[int64](t, ms, tt.name, greet)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s recorded", tt.name)
			}
		}
		if p.Count != 1 || p.Sum != tt.want {
			t.Errorf("%s: %d points summing to %d, want 1 of %d", tt.name, p.Count, p.Sum, tt.want)
		}
	}
}

// TestSizeMetricsBothSides: a client.Client over HTTP and over peers,
// and a peer.Peer, record the bytes they sent and read for each call,
// the same the server records.
func TestSizeMetricsBothSides(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(*testing.T, *telemetry, *service.Service) endpoint
	}{
		{"client over http", serveHTTP},
		{"client over tcp", servePeerClient},
		{"peer", servePeer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := newTelemetry(t)
			ep := tc.serve(t, tel, tel.service(nil))
			ctx := ctxTimeout(t)
			for _, name := range []string{"bob", "somebody with a much longer name"} {
				if _, err := ep.call(ctx, "greet", name); err != nil {
					t.Fatal(err)
				}
			}
			greet := map[string]string{"rpc.method": "greet", "rpc.response.status_code": "OK"}
			for _, name := range []string{"request.size", "response.size"} {
				var server metricdata.HistogramDataPoint[int64]
				for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
					ms := tel.collect(t)
					if _, ok := ms["rpc.server."+name]; ok {
						if server = histogram[int64](t, ms, "rpc.server."+name, greet); server.Count == 2 {
							break
						}
					}
					if time.Now().After(deadline) {
						t.Fatalf("rpc.server.%s: never 2 points", name)
					}
				}
				client := histogram[int64](t, tel.collect(t), "rpc.client."+name, greet)
				if client.Count != 2 || client.Sum != server.Sum || client.Sum == 0 {
					t.Errorf("%s: the client recorded %d points summing to %d, the server %d summing to %d; want the same, not 0",
						name, client.Count, client.Sum, server.Count, server.Sum)
				}
			}
		})
	}
}
