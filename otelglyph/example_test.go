package otelglyph_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/otelglyph"
	"github.com/glyph-ipc/glyph/service"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// One Interceptor traces both sides of a call over HTTP: the serving span
// continues the calling span's trace, which travels in the traceparent
// header. A program would give WithTracerProvider the provider of its
// exporter (OTLP, say), or set the global one.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tracers := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	ic, err := otelglyph.New(otelglyph.WithTracerProvider(tracers),
		otelglyph.WithPropagators(propagation.TraceContext{}))
	if err != nil {
		panic(err)
	}

	svc := service.New(service.WithInterceptors(ic))
	svc.MustFunc("hello", func(name string) string { return "Hello, " + name + "!" }, service.Args("name"))
	srv := httptest.NewServer(hyperhttp.NewHandler(svc))
	defer srv.Close()

	ctx := context.Background()
	c := client.New(client.WithInterceptors(ic))
	index, err := c.Get(ctx, srv.URL+"/")
	if err != nil {
		panic(err)
	}
	greeting, err := index.Path(ctx, "hello", "Bob")
	if err != nil {
		panic(err)
	}
	fmt.Println(greeting.Any())

	var calling, serving sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		fmt.Println(s.SpanKind(), s.Name())
		if s.Name() == "hello" {
			if s.SpanKind() == trace.SpanKindClient {
				calling = s
			} else {
				serving = s
			}
		}
	}
	fmt.Println("one trace:", serving.Parent().SpanID() == calling.SpanContext().SpanID())
	// Output:
	// Hello, Bob!
	// server /
	// client /
	// server hello
	// client hello
	// one trace: true
}
