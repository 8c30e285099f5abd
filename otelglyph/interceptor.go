package otelglyph

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/service"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// scope names the tracer and the meter.
const scope = "github.com/glyph-ipc/glyph/otelglyph"

// Interceptor is an [intercept.Interceptor] that traces and measures
// every call it sees, on either side (see the package doc). Make it with
// [New]; it is safe for concurrent use, and one Interceptor may serve
// many services and clients.
type Interceptor struct {
	tracer         trace.Tracer
	propagator     propagation.TextMapPropagator
	client, server instruments
	conns          metric.Int64UpDownCounter
	open           openConns // the peer connections PeerConnState counts
}

// instruments are one side's.
type instruments struct {
	duration     metric.Float64Histogram
	requests     metric.Int64Histogram
	responses    metric.Int64Histogram
	requestSize  metric.Int64Histogram
	responseSize metric.Int64Histogram
	active       metric.Int64UpDownCounter
	streams      metric.Int64UpDownCounter
}

// New returns an Interceptor that uses the providers and propagators of
// opts, or the global ones. Its error is the meter's, when it refuses to
// make an instrument.
func New(opts ...Option) (*Interceptor, error) {
	c := configOf(opts)
	i := &Interceptor{
		tracer:     c.tracers.Tracer(scope, trace.WithSchemaURL(semconv.SchemaURL)),
		propagator: c.propagator,
	}
	meter := c.meters.Meter(scope, metric.WithSchemaURL(semconv.SchemaURL))
	var err error
	if i.client, err = newInstruments(meter, "client"); err != nil {
		return nil, err
	}
	if i.server, err = newInstruments(meter, "server"); err != nil {
		return nil, err
	}
	i.conns, err = meter.Int64UpDownCounter("glyph.peer.connections",
		metric.WithUnit("{connection}"), metric.WithDescription("Peer connections open."))
	if err != nil {
		return nil, err
	}
	_, err = meter.Int64ObservableGauge("glyph.peer.streams", metric.WithUnit("{stream}"),
		metric.WithDescription("Calls open on the peer connections open, both ways."),
		metric.WithInt64Callback(i.open.observeStreams))
	if err != nil {
		return nil, err
	}
	return i, nil
}

// durationBuckets are the conventions' buckets for rpc.*.call.duration.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// messageBuckets are those of the messages per call.
var messageBuckets = []float64{1, 2, 5, 10, 100, 1000, 10000, 100000}

// sizeBuckets are those of the bytes per call, 0 to 64 MiB by powers of 4.
var sizeBuckets = []float64{0, 64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20}

func newInstruments(m metric.Meter, side string) (instruments, error) {
	var in instruments
	var err error
	p := "rpc." + side + "."
	if in.duration, err = m.Float64Histogram(p+"call.duration", metric.WithUnit("s"),
		metric.WithDescription("The duration of a call, to its last message."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return in, err
	}
	if in.requests, err = m.Int64Histogram(p+"requests_per_rpc", metric.WithUnit("{message}"),
		metric.WithDescription("Messages of arguments per call."),
		metric.WithExplicitBucketBoundaries(messageBuckets...)); err != nil {
		return in, err
	}
	if in.responses, err = m.Int64Histogram(p+"responses_per_rpc", metric.WithUnit("{message}"),
		metric.WithDescription("Messages of results per call."),
		metric.WithExplicitBucketBoundaries(messageBuckets...)); err != nil {
		return in, err
	}
	if in.requestSize, err = m.Int64Histogram(p+"request.size", metric.WithUnit("By"),
		metric.WithDescription("Bytes of a call's arguments on the wire, as its transport counts them."),
		metric.WithExplicitBucketBoundaries(sizeBuckets...)); err != nil {
		return in, err
	}
	if in.responseSize, err = m.Int64Histogram(p+"response.size", metric.WithUnit("By"),
		metric.WithDescription("Bytes of a call's results on the wire, as its transport counts them."),
		metric.WithExplicitBucketBoundaries(sizeBuckets...)); err != nil {
		return in, err
	}
	if in.active, err = m.Int64UpDownCounter(p+"active_calls", metric.WithUnit("{call}"),
		metric.WithDescription("Calls in flight.")); err != nil {
		return in, err
	}
	in.streams, err = m.Int64UpDownCounter(p+"active_streams", metric.WithUnit("{stream}"),
		metric.WithDescription("Streaming calls in flight."))
	return in, err
}

// WrapUnary traces and measures each unary call.
func (i *Interceptor) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	return func(ctx context.Context, c *intercept.Call) (any, error) {
		ctx, cs := i.begin(ctx, c)
		v, err := next(ctx, c)
		var responses int64
		if err == nil && !c.Notify {
			responses = 1
		}
		cs.end(err, 1, responses)
		return v, err
	}
}

// WrapStream traces and measures each streaming call, from its opening
// to the [intercept.Stream.Close] of its stream.
func (i *Interceptor) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
		ctx, cs := i.begin(ctx, c)
		cs.in.streams.Add(ctx, 1, cs.active)
		s, err := next(ctx, c)
		if err != nil {
			cs.in.streams.Add(ctx, -1, cs.active)
			cs.end(err, 0, 0)
			return nil, err
		}
		return &stream{Stream: s, cs: cs}, nil
	}
}

// callState is what one call's end needs.
type callState struct {
	ctx    context.Context // the span's
	span   trace.Span
	in     *instruments
	side   intercept.Side
	sizes  *intercept.Sizes // the transport's count of the call's bytes, nil without
	start  time.Time
	method string
	// procedure is the path called, without its query: rpc.method_original.
	procedure string
	// base is the attributes of the call's metrics but its status;
	// active the same as the gauges take them.
	base   []attribute.KeyValue
	active metric.MeasurementOption
}

// begin starts c's span (continuing the trace its headers carry on the
// serving side, carrying it in them on the calling side) and counts c in
// flight.
func (i *Interceptor) begin(ctx context.Context, c *intercept.Call) (context.Context, *callState) {
	procedure, _, _ := strings.Cut(c.Procedure, "?")
	cs := &callState{side: c.Side, sizes: c.Sizes, start: time.Now(), method: methodName(procedure), procedure: procedure}
	system := semconv.RPCSystemNameKey.String(systemName(c.Peer.Transport))
	// Room for every attribute, so that appending allocates no more.
	attrs := make([]attribute.KeyValue, 0, 7)
	attrs = append(attrs, system, semconv.RPCMethod(cs.method))
	spanAttrs := make([]attribute.KeyValue, 0, 10)
	spanAttrs = append(spanAttrs, attrs...)
	if t := c.Peer.Transport; t != "" {
		attrs = append(attrs, transportKey.String(t))
		spanAttrs = append(spanAttrs, transportKey.String(t))
		spanAttrs = append(spanAttrs, networkAttrs(t)...)
	}
	if c.StreamType != intercept.StreamUnary {
		spanAttrs = append(spanAttrs, streamTypeKey.String(c.StreamType.String()))
	}
	host, port, hasPort := hostPort(c.Peer.Addr)
	kind := trace.SpanKindClient
	cs.in = &i.client
	if c.Side == intercept.SideServer {
		kind = trace.SpanKindServer
		cs.in = &i.server
		if c.Header != nil {
			ctx = i.propagator.Extract(ctx, propagation.HeaderCarrier(c.Header))
		}
		if hasPort {
			spanAttrs = append(spanAttrs, semconv.NetworkPeerAddress(host), semconv.NetworkPeerPort(port))
		}
	} else if hasPort {
		attrs = append(attrs, semconv.ServerAddress(host), semconv.ServerPort(port))
		spanAttrs = append(spanAttrs, semconv.ServerAddress(host), semconv.ServerPort(port))
	}
	// The conventions name the span after the method.
	ctx, cs.span = i.tracer.Start(ctx, cs.method,
		trace.WithSpanKind(kind), trace.WithAttributes(spanAttrs...), trace.WithTimestamp(cs.start))
	if c.Side == intercept.SideClient {
		if c.Header == nil {
			c.Header = http.Header{}
		}
		i.propagator.Inject(ctx, propagation.HeaderCarrier(c.Header))
	}
	cs.ctx = ctx
	cs.base = attrs
	cs.active = metric.WithAttributeSet(attribute.NewSet(attrs...))
	cs.in.active.Add(ctx, 1, cs.active)
	return ctx, cs
}

// end ends the call's span and records its metrics: it ended with err
// after requests messages of arguments and responses of results.
func (cs *callState) end(err error, requests, responses int64) {
	elapsed := time.Since(cs.start)
	status := statusCode(err)
	attrs := cs.base
	if err != nil && kindOf(err) == service.KindNotFound && cs.side == intercept.SideServer {
		// A path the server does not have: not a method of its interface.
		cs.span.SetAttributes(semconv.RPCMethodOriginal(cs.procedure), semconv.RPCMethod(methodOther))
		cs.span.SetName(methodOther)
		attrs = append([]attribute.KeyValue(nil), attrs...)
		for k, a := range attrs {
			if a.Key == semconv.RPCMethodKey {
				attrs[k] = semconv.RPCMethod(methodOther)
			}
		}
	}
	attrs = append(attrs[:len(attrs):len(attrs)], semconv.RPCResponseStatusCode(status))
	cs.span.SetAttributes(semconv.RPCResponseStatusCode(status))
	if err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(status))
		cs.span.SetAttributes(semconv.ErrorTypeKey.String(status))
		if cs.side == intercept.SideClient || serverFault(err) {
			cs.span.SetStatus(codes.Error, err.Error())
		}
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	// The call's context may be canceled by now (a caller that gave up);
	// its points count all the same.
	ctx := context.WithoutCancel(cs.ctx)
	cs.in.duration.Record(ctx, elapsed.Seconds(), set)
	cs.in.requests.Record(ctx, requests, set)
	cs.in.responses.Record(ctx, responses, set)
	cs.recordSizes(ctx, set)
	cs.in.active.Add(ctx, -1, cs.active)
	cs.span.End()
}

// recordSizes records the call's bytes, when its transport counts them:
// on the serving side once the reply is written ([intercept.Sizes.OnEnd]).
func (cs *callState) recordSizes(ctx context.Context, set metric.MeasurementOption) {
	s := cs.sizes
	if s == nil {
		return
	}
	in := cs.in
	record := func(got, sent int64) {
		if cs.side == intercept.SideServer {
			in.requestSize.Record(ctx, got, set)
			in.responseSize.Record(ctx, sent, set)
		} else {
			in.requestSize.Record(ctx, sent, set)
			in.responseSize.Record(ctx, got, set)
		}
	}
	if cs.side == intercept.SideServer && s.OnEnd(record) {
		return
	}
	record(s.In(), s.Out())
}

// stream counts a streaming call's messages and ends its span when it
// closes.
type stream struct {
	intercept.Stream
	cs          *callState
	sent, recvd atomic.Int64
	once        sync.Once
}

var (
	messageSent     = trace.WithAttributes(attribute.String("rpc.message.type", "SENT"))
	messageReceived = trace.WithAttributes(attribute.String("rpc.message.type", "RECEIVED"))
)

func (s *stream) Send(m any) error {
	if err := s.Stream.Send(m); err != nil {
		return err
	}
	n := s.sent.Add(1)
	s.cs.span.AddEvent("rpc.message", messageSent, trace.WithAttributes(attribute.Int64("rpc.message.id", n)))
	return nil
}

func (s *stream) Receive() (any, error) {
	m, err := s.Stream.Receive()
	if err != nil {
		return m, err
	}
	n := s.recvd.Add(1)
	s.cs.span.AddEvent("rpc.message", messageReceived, trace.WithAttributes(attribute.Int64("rpc.message.id", n)))
	return m, nil
}

func (s *stream) Close(err error) {
	s.Stream.Close(err)
	s.once.Do(func() {
		requests, responses := s.sent.Load(), s.recvd.Load()
		if s.cs.side == intercept.SideServer {
			requests, responses = responses, requests
		}
		s.cs.in.streams.Add(context.WithoutCancel(s.cs.ctx), -1, s.cs.active)
		s.cs.end(err, requests, responses)
	})
}

var _ intercept.Interceptor = (*Interceptor)(nil)
