package otelglyph_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
)

// collect reads every metric recorded so far.
func (tel *telemetry) collect(t *testing.T) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// matches reports whether set has every key: value of want.
func matches(set attribute.Set, want map[string]string) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.String() != v {
			return false
		}
	}
	return true
}

// histogram returns the point of the histogram name whose attributes
// have want, or fails.
func histogram[N int64 | float64](t *testing.T, ms map[string]metricdata.Aggregation, name string, want map[string]string) metricdata.HistogramDataPoint[N] {
	t.Helper()
	h, ok := ms[name].(metricdata.Histogram[N])
	if !ok {
		t.Fatalf("%s: %T, want a histogram", name, ms[name])
	}
	for _, p := range h.DataPoints {
		if matches(p.Attributes, want) {
			return p
		}
	}
	t.Fatalf("%s: no point with %v among %d", name, want, len(h.DataPoints))
	return metricdata.HistogramDataPoint[N]{}
}

// sum returns the value of the sum name's point whose attributes have
// want, or fails.
func sum(t *testing.T, ms map[string]metricdata.Aggregation, name string, want map[string]string) int64 {
	t.Helper()
	s, ok := ms[name].(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s: %T, want a sum", name, ms[name])
	}
	for _, p := range s.DataPoints {
		if matches(p.Attributes, want) {
			return p.Value
		}
	}
	t.Fatalf("%s: no point with %v among %v", name, want, s.DataPoints)
	return 0
}

// gauge returns the value of the gauge name's point whose attributes
// have want, or fails.
func gauge(t *testing.T, ms map[string]metricdata.Aggregation, name string, want map[string]string) int64 {
	t.Helper()
	g, ok := ms[name].(metricdata.Gauge[int64])
	if !ok {
		t.Fatalf("%s: %T, want a gauge", name, ms[name])
	}
	for _, p := range g.DataPoints {
		if matches(p.Attributes, want) {
			return p.Value
		}
	}
	t.Fatalf("%s: no point with %v among %v", name, want, g.DataPoints)
	return 0
}

func bucketTotal(counts []uint64) uint64 {
	var n uint64
	for _, c := range counts {
		n += c
	}
	return n
}

// TestCallMetrics: each side counts its calls per method and status in
// the duration histogram, their messages, and the calls in flight.
func TestCallMetrics(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			tel := newTelemetry(t)
			release := make(chan struct{})
			ep := tr.serve(t, tel, tel.service(release))
			ctx := ctxTimeout(t)
			for range 3 {
				if _, err := ep.call(ctx, "greet", "bob"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ep.call(ctx, "broken"); err == nil {
				t.Fatal("broken succeeded")
			}

			// A call in flight.
			waited := make(chan error, 1)
			go func() {
				_, err := ep.call(ctx, "wait")
				waited <- err
			}()
			tel.waitMetric(t, "rpc.server.active_calls", map[string]string{"rpc.method": "wait"}, 1)
			tel.waitMetric(t, "rpc.client.active_calls", map[string]string{"rpc.method": "wait"}, 1)
			close(release)
			if err := <-waited; err != nil {
				t.Fatal(err)
			}
			ms := tel.collect(t)

			for _, side := range []string{"server", "client"} {
				system := ep.system
				if system == "" {
					system = "glyph"
				}
				greet := map[string]string{"rpc.system.name": system, "rpc.method": "greet", "rpc.response.status_code": "OK"}
				if side == "server" {
					greet["glyph.transport"] = ep.transport
				}
				d := histogram[float64](t, ms, "rpc."+side+".call.duration", greet)
				if d.Count != 3 || bucketTotal(d.BucketCounts) != 3 || d.Sum <= 0 {
					t.Errorf("%s greet durations: count %d, buckets %v, sum %v; want 3 calls", side, d.Count, d.BucketCounts, d.Sum)
				}
				if len(d.Bounds) != 14 || d.Bounds[0] != 0.005 || d.Bounds[13] != 10 {
					t.Errorf("%s duration buckets: %v, want the conventions'", side, d.Bounds)
				}
				broken := histogram[float64](t, ms, "rpc."+side+".call.duration",
					map[string]string{"rpc.method": "broken", "rpc.response.status_code": "INTERNAL", "error.type": "INTERNAL"})
				if broken.Count != 1 {
					t.Errorf("%s broken: %d calls, want 1", side, broken.Count)
				}
				req := histogram[int64](t, ms, "rpc."+side+".requests_per_rpc", greet)
				res := histogram[int64](t, ms, "rpc."+side+".responses_per_rpc", greet)
				if req.Count != 3 || req.Sum != 3 || res.Count != 3 || res.Sum != 3 {
					t.Errorf("%s greet messages: %d requests in %d calls, %d responses in %d calls; want 1 each in 3", side, req.Sum, req.Count, res.Sum, res.Count)
				}
				for _, m := range []string{"greet", "broken", "wait"} {
					if n := sum(t, ms, "rpc."+side+".active_calls", map[string]string{"rpc.method": m}); n != 0 {
						t.Errorf("%s %s: %d calls in flight after they ended", side, m, n)
					}
				}
			}
		})
	}
}

// waitMetric collects until the sum name's point with want is n, or
// fails after 10 s.
func (tel *telemetry) waitMetric(t *testing.T, name string, want map[string]string, n int64) map[string]metricdata.Aggregation {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ms := tel.collect(t)
		if s, ok := ms[name].(metricdata.Sum[int64]); ok {
			for _, p := range s.DataPoints {
				if matches(p.Attributes, want) && p.Value == n {
					return ms
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s with %v never reached %d: %v", name, want, n, ms[name])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStreamMetrics: a streaming call's span ends when its stream
// closes, with an event per message, and its messages are counted;
// streams in flight and peer connections are gauges.
func TestStreamMetrics(t *testing.T) {
	tel := newTelemetry(t)
	release := make(chan struct{})
	ep := servePeer(t, tel, tel.service(release))
	ctx := ctxTimeout(t)
	tel.waitMetric(t, "glyph.peer.connections", map[string]string{"glyph.transport": "tcp"}, 1)

	// A call in flight is a stream open on the served connection.
	waited := make(chan error, 1)
	go func() {
		_, err := ep.call(ctx, "wait")
		waited <- err
	}()
	tel.waitMetric(t, "rpc.server.active_calls", map[string]string{"rpc.method": "wait"}, 1)
	if n := gauge(t, tel.collect(t), "glyph.peer.streams", map[string]string{"glyph.transport": "tcp"}); n != 1 {
		t.Errorf("streams open on the served connection: %d, want 1", n)
	}
	close(release)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		n := gauge(t, tel.collect(t), "glyph.peer.streams", map[string]string{"glyph.transport": "tcp"})
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("streams open on the served connection after the call: %d, want 0", n)
		}
	}

	// A stream open, its first result read.
	s, err := ep.peer.NewStream(ctx, "count")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send([]any{2}); err != nil {
		t.Fatal(err)
	}
	s.CloseSend()
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	ms := tel.waitMetric(t, "rpc.client.active_streams", map[string]string{"rpc.method": "count"}, 1)
	if n := sum(t, ms, "rpc.client.active_calls", map[string]string{"rpc.method": "count"}); n != 1 {
		t.Errorf("calling side: %d calls in flight, want 1", n)
	}
	s.Close()
	tel.waitMetric(t, "rpc.client.active_streams", map[string]string{"rpc.method": "count"}, 0)
	tel.waitMetric(t, "rpc.server.active_streams", map[string]string{"rpc.method": "count"}, 0)
	tel.spans.Reset()

	got, err := ep.stream(ctx, "count", 4)
	if err != nil || len(got) != 4 {
		t.Fatalf("count: %v, %v", got, err)
	}
	serving := tel.one(t, "count", trace.SpanKindServer)
	calling := tel.one(t, "count", trace.SpanKindClient)
	if serving.Parent().SpanID() != calling.SpanContext().SpanID() {
		t.Error("the serving stream's span is not the calling one's child")
	}
	if got := attr(serving, "glyph.stream_type"); got != "server_stream" {
		t.Errorf("serving stream type: %q", got)
	}
	countEvents := func(events []string, kind string) int {
		n := 0
		for _, e := range events {
			if e == kind {
				n++
			}
		}
		return n
	}
	var servingEvents, callingEvents []string
	for _, e := range serving.Events() {
		set := attribute.NewSet(e.Attributes...)
		v, _ := set.Value("rpc.message.type")
		servingEvents = append(servingEvents, e.Name+" "+v.String())
	}
	for _, e := range calling.Events() {
		set := attribute.NewSet(e.Attributes...)
		v, _ := set.Value("rpc.message.type")
		callingEvents = append(callingEvents, e.Name+" "+v.String())
	}
	if n := countEvents(servingEvents, "rpc.message SENT"); n != 4 {
		t.Errorf("serving span: %d messages sent, want 4 (%q)", n, servingEvents)
	}
	if n := countEvents(callingEvents, "rpc.message RECEIVED"); n != 4 {
		t.Errorf("calling span: %d messages received, want 4 (%q)", n, callingEvents)
	}
	if n := countEvents(callingEvents, "rpc.message SENT"); n != 1 {
		t.Errorf("calling span: %d messages sent, want 1 (%q)", n, callingEvents)
	}

	ms = tel.collect(t)
	count := map[string]string{"rpc.method": "count", "rpc.response.status_code": "OK"}
	// Two streams: the one closed after its first result, and one of 4.
	if res := histogram[int64](t, ms, "rpc.client.responses_per_rpc", count); res.Count != 1 || res.Sum != 4 {
		t.Errorf("calling side: %d results in %d calls, want 4 in 1", res.Sum, res.Count)
	}
	if res := histogram[int64](t, ms, "rpc.client.responses_per_rpc", map[string]string{"rpc.method": "count", "rpc.response.status_code": "CANCELED"}); res.Count != 1 || res.Sum != 1 {
		t.Errorf("calling side, the stream closed early: %d results in %d calls, want 1 in 1", res.Sum, res.Count)
	}
	if res := histogram[int64](t, ms, "rpc.server.responses_per_rpc", map[string]string{"rpc.method": "count"}); res.Count < 1 {
		t.Errorf("serving side: no stream counted")
	}
	if res := histogram[int64](t, ms, "rpc.server.responses_per_rpc", count); res.Sum < 4 {
		t.Errorf("serving side: %d results sent, want the 4 of the stream read to its end at least", res.Sum)
	}
	for _, side := range []string{"server", "client"} {
		if n := sum(t, ms, "rpc."+side+".active_streams", map[string]string{"rpc.method": "count"}); n != 0 {
			t.Errorf("%s: %d streams open after the stream ended", side, n)
		}
	}
	ep.peer.Close()
	tel.waitMetric(t, "glyph.peer.connections", map[string]string{"glyph.transport": "tcp"}, 0)
}
