package otelglyph_test

import (
	"context"
	"testing"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestTraceThroughProxy: a peer proxy passes the call's headers on, so the
// serving span behind it is the calling span's child, although the proxy
// itself traces nothing.
func TestTraceThroughProxy(t *testing.T) {
	tel := newTelemetry(t)
	backend, _ := listenPeer(t, tel, tel.service(nil))
	ctx := ctxTimeout(t)

	toBackend := peer.New()
	t.Cleanup(func() { toBackend.Close() })
	if err := toBackend.Connect(backend); err != nil {
		t.Fatal(err)
	}
	proxy := peer.New(peer.WithHandler(peer.NewProxy(peer.Route{To: toBackend})))
	t.Cleanup(func() { proxy.Shutdown(context.Background()) })
	addr, err := proxy.Bind(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	caller := peer.New(peer.WithInterceptors(tel.ic))
	t.Cleanup(func() { caller.Close() })
	if err := caller.Connect(addr); err != nil {
		t.Fatal(err)
	}
	if got, err := caller.Call(ctx, "greet", []any{"bob"}); err != nil || got != "hello bob from " {
		t.Fatalf("greet through the proxy: %v, %v", got, err)
	}
	calling := tel.one(t, "greet", trace.SpanKindClient)
	serving := tel.one(t, "greet", trace.SpanKindServer)
	if serving.Parent().SpanID() != calling.SpanContext().SpanID() || serving.Parent().TraceID() != calling.SpanContext().TraceID() {
		t.Errorf("behind the proxy, the serving span's parent is %v, want the calling span %v", serving.Parent().SpanID(), calling.SpanContext().SpanID())
	}
}

// TestTraceThroughRelay: a function that calls another service while it
// serves a call, over peers, makes the trace a chain: the second serving
// span is the child of the second calling span, which is the first
// serving span's child, although the incoming call's headers travel on
// in the function's context.
func TestTraceThroughRelay(t *testing.T) {
	tel := newTelemetry(t)
	backend, toBackend := listenPeer(t, tel, tel.service(nil))
	if err := toBackend.Connect(backend); err != nil {
		t.Fatal(err)
	}
	relay := service.New(service.WithInterceptors(tel.ic))
	relay.MustFunc("relay", func(ctx context.Context, name string) (any, error) {
		return toBackend.Call(ctx, "greet", []any{name})
	}, service.Args("name"))
	front, caller := listenPeer(t, tel, relay)
	if err := caller.Connect(front); err != nil {
		t.Fatal(err)
	}
	ctx := ctxTimeout(t)
	if got, err := caller.Call(ctx, "relay", []any{"bob"}); err != nil || got != "hello bob from " {
		t.Fatalf("relay: %v, %v", got, err)
	}
	chain := []sdktrace.ReadOnlySpan{
		tel.one(t, "relay", trace.SpanKindClient),
		tel.one(t, "relay", trace.SpanKindServer),
		tel.one(t, "greet", trace.SpanKindClient),
		tel.one(t, "greet", trace.SpanKindServer),
		tel.one(t, "inner", trace.SpanKindInternal),
	}
	for i, s := range chain[1:] {
		parent := chain[i]
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s %s's parent: %v, want %s %s's %v", s.SpanKind(), s.Name(), s.Parent().SpanID(), parent.SpanKind(), parent.Name(), parent.SpanContext().SpanID())
		}
	}
}
