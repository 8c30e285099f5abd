package otelglyph_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/otelglyph"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// telemetry is the SDK's in-memory exporters and the interceptor that
// records into them.
type telemetry struct {
	spans   *tracetest.SpanRecorder
	tracers *sdktrace.TracerProvider
	metrics *sdkmetric.ManualReader
	ic      *otelglyph.Interceptor
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), metrics: sdkmetric.NewManualReader()}
	tel.tracers = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.metrics))
	t.Cleanup(func() {
		tel.tracers.Shutdown(context.Background())
		meters.Shutdown(context.Background())
	})
	ic, err := otelglyph.New(otelglyph.WithTracerProvider(tel.tracers), otelglyph.WithMeterProvider(meters),
		otelglyph.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})))
	if err != nil {
		t.Fatal(err)
	}
	tel.ic = ic
	return tel
}

// service is what the tests call: greet starts a span of its own from
// its context and answers with the baggage's "user"; the others fail,
// stream or wait.
func (tel *telemetry) service(release <-chan struct{}) *service.Service {
	svc := service.New(service.WithInterceptors(tel.ic))
	svc.MustFunc("greet", func(ctx context.Context, name string) string {
		_, span := tel.tracers.Tracer("app").Start(ctx, "inner")
		defer span.End()
		return "hello " + name + " from " + baggage.FromContext(ctx).Member("user").Value()
	}, service.Args("name"))
	svc.MustFunc("broken", func() error {
		return &service.Error{Kind: service.KindInternal, Message: "the disk is on fire"}
	})
	svc.MustFunc("picky", func() error {
		return &service.Error{Kind: service.KindInvalid, Message: "not like that"}
	})
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}
	}, service.Args("n"))
	svc.MustFunc("wait", func(ctx context.Context) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return svc
}

// ended returns the spans ended so far named name.
func (tel *telemetry) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tel.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// one returns the one span named name of kind kind, or fails.
func (tel *telemetry) one(t *testing.T, name string, kind trace.SpanKind) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range tel.ended(name) {
		if s.SpanKind() == kind {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s spans named %q, want 1 (spans: %v)", len(found), kind, name, spanNames(tel.spans.Ended()))
	}
	return found[0]
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.SpanKind().String()+" "+s.Name())
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

// endpoint is a service served over one transport, and how to call it
// there with the calling side's interceptor.
type endpoint struct {
	transport string
	// system is rpc.system.name: "glyph" when "".
	system string
	// serverAddr is the host the calling side's span names, "" when the
	// calling side does not know it (a peer.Peer picks a connection
	// below its interceptors).
	serverAddr string
	// callerAddr is the host the serving side's span names, "" when the
	// transport does not know it (NATS).
	callerAddr string
	// peer is the calling peer, for a peer transport.
	peer *peer.Peer
	// call calls method with args through tel.ic on the calling side.
	call func(ctx context.Context, method string, args ...any) (any, error)
	// stream calls method, whose results stream, and collects them.
	stream func(ctx context.Context, method string, args ...any) ([]any, error)
}

// serveHTTP serves svc over HTTP on 127.0.0.1:0, called by a
// client.Client.
func serveHTTP(t *testing.T, tel *telemetry, svc *service.Service) endpoint {
	srv := httptest.NewServer(hyperhttp.NewHandler(svc))
	t.Cleanup(srv.Close)
	return clientEndpoint(t, tel, "http", srv.URL+"/")
}

// clientEndpoint calls the service at url with a client.Client.
func clientEndpoint(t *testing.T, tel *telemetry, transport, url string) endpoint {
	c := client.New(client.WithInterceptors(tel.ic))
	t.Cleanup(func() { c.Close() })
	call := func(ctx context.Context, method string, args ...any) (any, error) {
		index, err := c.Get(ctx, url)
		if err != nil {
			return nil, err
		}
		v, err := index.Path(ctx, method, args...)
		if err != nil {
			return nil, err
		}
		return v.Any(), nil
	}
	return endpoint{transport: transport, serverAddr: "127.0.0.1", callerAddr: "127.0.0.1", call: call}
}

// servePeer serves svc to peers over TCP on 127.0.0.1:0, counting its
// connections, called by a peer.Peer.
func servePeer(t *testing.T, tel *telemetry, svc *service.Service) endpoint {
	addr, p := listenPeer(t, tel, svc)
	if err := p.Connect(addr); err != nil {
		t.Fatal(err)
	}
	return peerEndpoint(p)
}

// servePeerClient serves svc to peers over TCP on 127.0.0.1:0, called by
// a client.Client.
func servePeerClient(t *testing.T, tel *telemetry, svc *service.Service) endpoint {
	addr, _ := listenPeer(t, tel, svc)
	return clientEndpoint(t, tel, "tcp", addr)
}

// listenPeer serves svc to peers over TCP on 127.0.0.1:0 and returns its
// address and a peer.Peer with the interceptor, not yet connected.
func listenPeer(t *testing.T, tel *telemetry, svc *service.Service) (string, *peer.Peer) {
	ctx, cancel := context.WithCancel(context.Background())
	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- peer.Serve(ctx, l, peer.WithHandler(hyperpeer.NewHandler(svc)), peer.WithConnState(tel.ic.PeerConnState))
	}()
	p := peer.New(peer.WithInterceptors(tel.ic))
	t.Cleanup(func() {
		p.Close()
		cancel()
		<-served
	})
	return l.Addr(), p
}

// peerEndpoint calls with p.
func peerEndpoint(p *peer.Peer) endpoint {
	call := func(ctx context.Context, method string, args ...any) (any, error) {
		return p.Call(ctx, method, args)
	}
	stream := func(ctx context.Context, method string, args ...any) ([]any, error) {
		s, err := p.NewStream(ctx, method)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if err := s.Send(args); err != nil {
			return nil, err
		}
		if err := s.CloseSend(); err != nil {
			return nil, err
		}
		var out []any
		for {
			v, err := s.Recv()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return out, err
			}
			out = append(out, v)
		}
	}
	return endpoint{transport: "tcp", callerAddr: "127.0.0.1", peer: p, call: call, stream: stream}
}

var transports = []struct {
	name  string
	serve func(*testing.T, *telemetry, *service.Service) endpoint
}{
	{"http", serveHTTP},
	{"peer", servePeer},
	{"client-peer", servePeerClient},
	{"nats", serveNATS},
	{"jsonrpc", serveJSONRPC},
	{"xmlrpc", serveXMLRPC},
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestTraceAcrossCall: the calling side's span is the parent of the
// serving side's, across the transport, and a span the function starts
// from its context is the serving span's child; baggage crosses too.
func TestTraceAcrossCall(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			tel := newTelemetry(t)
			ep := tr.serve(t, tel, tel.service(nil))
			system := ep.system
			if system == "" {
				system = "glyph"
			}
			ctx := ctxTimeout(t)
			m, _ := baggage.NewMember("user", "ada")
			b, _ := baggage.New(m)
			ctx = baggage.ContextWithBaggage(ctx, b)
			got, err := ep.call(ctx, "greet", "bob")
			if err != nil || got != "hello bob from ada" {
				t.Fatalf("greet: %v, %v", got, err)
			}
			calling := tel.one(t, "greet", trace.SpanKindClient)
			serving := tel.one(t, "greet", trace.SpanKindServer)
			inner := tel.one(t, "inner", trace.SpanKindInternal)
			if serving.Parent().SpanID() != calling.SpanContext().SpanID() || !serving.Parent().IsRemote() {
				t.Errorf("the serving span's parent is %v, want the calling span %v, remote", serving.Parent().SpanID(), calling.SpanContext().SpanID())
			}
			if inner.Parent().SpanID() != serving.SpanContext().SpanID() {
				t.Errorf("the function's span's parent is %v, want the serving span %v", inner.Parent().SpanID(), serving.SpanContext().SpanID())
			}
			if calling.SpanContext().TraceID() != inner.SpanContext().TraceID() {
				t.Error("the function's span is in another trace")
			}
			for _, c := range []struct {
				span      sdktrace.ReadOnlySpan
				key, want string
			}{
				{serving, "rpc.system.name", system},
				{serving, "rpc.method", "greet"},
				{serving, "rpc.response.status_code", "OK"},
				{serving, "glyph.transport", ep.transport},
				{serving, "network.transport", "tcp"},
				{serving, "network.peer.address", ep.callerAddr},
				{calling, "rpc.system.name", system},
				{calling, "rpc.method", "greet"},
				{calling, "rpc.response.status_code", "OK"},
				{calling, "server.address", ep.serverAddr},
			} {
				if got := attr(c.span, c.key); got != c.want {
					t.Errorf("%s span's %s: %q, want %q", c.span.SpanKind(), c.key, got, c.want)
				}
			}
			if serving.Status().Code != codes.Unset || calling.Status().Code != codes.Unset {
				t.Errorf("statuses of a call that succeeded: %v, %v", serving.Status(), calling.Status())
			}
		})
	}
}

// TestErrorStatus: an error of the server's marks both spans; an error of
// the caller's only the calling span; a path the server does not have is
// "_OTHER".
func TestErrorStatus(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			tel := newTelemetry(t)
			ep := tr.serve(t, tel, tel.service(nil))
			ctx := ctxTimeout(t)
			for _, c := range []struct {
				method, status string
				serverError    bool
			}{
				{"broken", "INTERNAL", true},
				{"picky", "INVALID", false},
			} {
				if _, err := ep.call(ctx, c.method); err == nil {
					t.Fatalf("%s succeeded", c.method)
				}
				serving := tel.one(t, c.method, trace.SpanKindServer)
				calling := tel.one(t, c.method, trace.SpanKindClient)
				for _, s := range []sdktrace.ReadOnlySpan{serving, calling} {
					if got := attr(s, "rpc.response.status_code"); got != c.status {
						t.Errorf("%s %s: status code %q, want %q", s.SpanKind(), c.method, got, c.status)
					}
					if got := attr(s, "error.type"); got != c.status {
						t.Errorf("%s %s: error.type %q, want %q", s.SpanKind(), c.method, got, c.status)
					}
				}
				if calling.Status().Code != codes.Error {
					t.Errorf("calling %s: status %v, want Error", c.method, calling.Status())
				}
				if want := map[bool]codes.Code{true: codes.Error, false: codes.Unset}[c.serverError]; serving.Status().Code != want {
					t.Errorf("serving %s: status %v, want %v", c.method, serving.Status(), want)
				}
			}
		})
	}
}

// TestUnknownMethod: a call of a path the server does not have is
// "_OTHER" in the serving span and the metrics, the path called kept in
// rpc.method_original, so that probing callers cannot grow the metrics.
func TestUnknownMethod(t *testing.T) {
	tel := newTelemetry(t)
	ep := servePeer(t, tel, tel.service(nil))
	ctx := ctxTimeout(t)
	if _, err := ep.call(ctx, "no/such/thing"); service.KindOf(err) != service.KindNotFound {
		t.Fatalf("a missing path: %v, want not found", err)
	}
	serving := tel.one(t, "_OTHER", trace.SpanKindServer)
	if got := attr(serving, "rpc.method"); got != "_OTHER" {
		t.Errorf("rpc.method %q, want _OTHER", got)
	}
	if got := attr(serving, "rpc.method_original"); got != "no/such/thing" {
		t.Errorf("rpc.method_original %q", got)
	}
	if serving.Status().Code != codes.Unset {
		t.Errorf("a caller's mistake marks the serving span: %v", serving.Status())
	}
	ms := tel.collect(t)
	if d := histogram[float64](t, ms, "rpc.server.call.duration", map[string]string{"rpc.method": "_OTHER", "rpc.response.status_code": "NOT_FOUND"}); d.Count != 1 {
		t.Errorf("%d calls of _OTHER, want 1", d.Count)
	}
}
