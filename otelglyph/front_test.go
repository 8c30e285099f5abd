package otelglyph_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"go.opentelemetry.io/otel/trace"
)

// Greeter is a component the front serves.
type Greeter interface {
	Greet(ctx context.Context, name string) (string, error)
}

type greeter struct{ tel *telemetry }

func (g greeter) Greet(ctx context.Context, name string) (string, error) {
	_, span := g.tel.tracers.Tracer("app").Start(ctx, "inner")
	defer span.End()
	return "Hello, " + name + "!", nil
}

// TestTraceThroughFront: the unified front passes the call's headers on
// to the component behind it, so the component's serving span is the
// child of the calling span in front of it.
func TestTraceThroughFront(t *testing.T) {
	tel := newTelemetry(t)
	svc := service.New(service.WithInterceptors(tel.ic))
	component.MustRegister[Greeter](svc, greeter{tel},
		component.Method("Greet", component.Args("name"), component.Public()))
	backend := httptest.NewServer(hyperhttp.NewHandler(svc))
	t.Cleanup(backend.Close)

	ctx := ctxTimeout(t)
	r, err := component.NewRouter(component.WithRoutes(component.Routes{
		"Greeter": {Providers: []string{backend.URL + "/"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	f, err := front.New(ctx, r, front.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)

	c := client.New(client.WithInterceptors(tel.ic))
	index, err := c.Get(ctx, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	tel.spans.Reset()
	v, err := index.Path(ctx, "Greeter.greet", "bob")
	if err != nil || v.Any() != "Hello, bob!" {
		t.Fatalf("Greeter.greet through the front: %v, %v", v, err)
	}
	calling := tel.one(t, "Greeter/greet", trace.SpanKindClient)
	serving := tel.one(t, "Greeter/greet", trace.SpanKindServer)
	inner := tel.one(t, "inner", trace.SpanKindInternal)
	if serving.Parent().SpanID() != calling.SpanContext().SpanID() || serving.Parent().TraceID() != calling.SpanContext().TraceID() {
		t.Errorf("behind the front, the serving span's parent is %v, want the calling span %v (spans: %v)",
			serving.Parent().SpanID(), calling.SpanContext().SpanID(), spanNames(tel.spans.Ended()))
	}
	if inner.Parent().SpanID() != serving.SpanContext().SpanID() {
		t.Error("the component's own span is not the serving span's child")
	}
}
