package otelglyph_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/otelglyph"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BenchmarkWrapUnary measures what the interceptor adds to a call on
// each side: with OpenTelemetry's no-op providers, and with the SDK's
// (every span sampled, into a processor that drops it; metrics
// aggregated).
func BenchmarkWrapUnary(b *testing.B) {
	sdk := func() []otelglyph.Option {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		return []otelglyph.Option{otelglyph.WithTracerProvider(tp), otelglyph.WithMeterProvider(mp)}
	}
	w3c := otelglyph.WithPropagators(propagation.TraceContext{})
	for _, c := range []struct {
		name string
		opts []otelglyph.Option
	}{
		{"noop", nil},
		{"sdk", sdk()},
	} {
		ic, err := otelglyph.New(append(c.opts, w3c)...)
		if err != nil {
			b.Fatal(err)
		}
		calling := ic.WrapUnary(func(ctx context.Context, call *intercept.Call) (any, error) { return nil, nil })
		serving := ic.WrapUnary(func(ctx context.Context, call *intercept.Call) (any, error) { return nil, nil })
		peer := intercept.Peer{Transport: intercept.TransportTCP, Addr: "tcp://127.0.0.1:7001"}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				out := &intercept.Call{Procedure: "greet", Side: intercept.SideClient, Header: http.Header{}, Peer: peer}
				calling(ctx, out)
				serving(ctx, &intercept.Call{Procedure: "greet", Side: intercept.SideServer, Header: out.Header, Peer: peer})
			}
		})
	}
}
