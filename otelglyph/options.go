package otelglyph

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// An Option configures [New].
type Option func(*config)

type config struct {
	tracers    trace.TracerProvider
	meters     metric.MeterProvider
	propagator propagation.TextMapPropagator
}

// WithTracerProvider makes the spans with p's tracer; default the global
// provider (otel.GetTracerProvider) as it is when [New] runs.
func WithTracerProvider(p trace.TracerProvider) Option {
	return func(c *config) { c.tracers = p }
}

// WithMeterProvider records the metrics with p's meter; default the
// global provider (otel.GetMeterProvider) as it is when [New] runs.
func WithMeterProvider(p metric.MeterProvider) Option {
	return func(c *config) { c.meters = p }
}

// WithPropagators injects the trace context into the headers of the calls
// made and extracts it from those of the calls served with p; default the
// global propagators (otel.GetTextMapPropagator) as they are when [New]
// runs. propagation.NewCompositeTextMapPropagator(propagation.TraceContext{},
// propagation.Baggage{}) carries the W3C headers traceparent, tracestate
// and baggage.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.propagator = p }
}

func configOf(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.tracers == nil {
		c.tracers = otel.GetTracerProvider()
	}
	if c.meters == nil {
		c.meters = otel.GetMeterProvider()
	}
	if c.propagator == nil {
		c.propagator = otel.GetTextMapPropagator()
	}
	return c
}
