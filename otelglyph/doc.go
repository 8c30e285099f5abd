// Package otelglyph traces and measures glyph calls with OpenTelemetry: an
// [intercept.Interceptor] that, on the serving and the calling side of
// every transport, starts a span per call, carries the W3C trace context
// (traceparent, tracestate and baggage) in the call's headers, and
// records the call metrics of the RPC semantic conventions.
//
//	ic, err := otelglyph.New() // the global providers and propagators
//	svc := service.New(service.WithInterceptors(ic))
//
// and on the calling side each client's WithInterceptors option takes the
// same Interceptor.
//
// This package is a module of its own, as connect-go keeps otelconnect
// apart: the OpenTelemetry API and SDK, and the exporters a program picks
// (OTLP brings gRPC and protobuf, Prometheus its client library), are a
// tree of modules that most users of the core need none of; here they
// stay out of their go.mod and their builds.
//
// # Spans
//
// A call's span is of kind client on the calling side and server on the
// serving side. A serving span's parent is the trace context that came in
// the call's headers, so the calling side's span is its parent across
// HTTP headers, peer call headers and NATS headers, and across the
// proxies and the component front, which pass headers on; a span the
// called function starts from its context is the serving span's child.
// The propagators are those of [WithPropagators], by default the global
// ones (otel.SetTextMapPropagator): set them to
// propagation.TraceContext and propagation.Baggage for W3C headers.
//
// The span is named after the method ("greet", "User/rename") and has the
// RPC semantic conventions' attributes (semconv 1.43):
//
//	rpc.system.name           "glyph"; "jsonrpc" and "xmlrpc" on those transports
//	rpc.method                the method (see below)
//	rpc.method_original       the path called (without its query), when rpc.method is "_OTHER"
//	rpc.response.status_code  "OK", or the error's kind: "NOT_FOUND", "INTERNAL", ...
//	error.type                the same as rpc.response.status_code, on errors
//	server.address, server.port         the server's, on the calling side
//	network.peer.address, network.peer.port  the caller's, on the serving side
//	network.transport         "tcp", "unix" or "pipe"
//	network.protocol.name     "http", "websocket" or "nats", where there is one
//	glyph.transport           intercept.Peer's Transport: "http", "ws", "tcp", ...
//	glyph.stream_type         for a streaming call: "client_stream", "server_stream", "bidi_stream"
//
// rpc.system.name is "glyph" on every transport that speaks glyph's own
// protocols (HTTP, peers, NATS, in-process): they carry the same calls,
// and glyph.transport tells them apart. The JSON-RPC and XML-RPC
// transports speak those protocols, so they are named so (jsonrpc is in
// the conventions' list).
//
// rpc.method is the path called below the service's root with the state
// an instance keeps in its URL left out, so that it names one method of
// the interface whatever the instance: "greet", "User/rename" for
// "User/<id>/rename", "/" for the index. A call that named nothing the
// server has (an error of kind service.KindNotFound) has "_OTHER", as the
// conventions ask, so that a client probing paths cannot grow the
// metrics without bound.
//
// A calling span's status is Error when the call failed; a serving span's
// only when the error is the server's (a kind whose HTTP status is 5xx:
// internal, unavailable, overloaded, deadline exceeded, ...), as the
// conventions ask, not when the caller erred (invalid, not found,
// canceled). Each message of a streaming call adds an "rpc.message" event
// (rpc.message.type SENT or RECEIVED, rpc.message.id counting from 1),
// and its span ends when the stream closes.
//
// # Metrics
//
// Per side ("client" or "server"), with the attributes rpc.system.name,
// rpc.method, glyph.transport and, on the calling side, server.address
// and server.port:
//
//	rpc.{side}.call.duration      histogram, s: every call, with rpc.response.status_code and error.type
//	rpc.{side}.requests_per_rpc   histogram, {message}: arguments per call (1 for a unary call)
//	rpc.{side}.responses_per_rpc  histogram, {message}: results per call (0 for a failed unary call)
//	rpc.{side}.request.size       histogram, By: bytes of the arguments on the wire, when the transport counts them
//	rpc.{side}.response.size      histogram, By: bytes of the results on the wire, when the transport counts them
//	rpc.{side}.active_calls       up-down counter, {call}: calls in flight
//	rpc.{side}.active_streams     up-down counter, {stream}: streaming calls in flight
//
// and, from [Interceptor.PeerConnState] given to peer.WithConnState:
//
//	glyph.peer.connections        up-down counter, {connection}: peer connections open, by glyph.transport
//	glyph.peer.streams            gauge, {stream}: calls open on them, both ways, by glyph.transport
//
// call.duration is the conventions' (semconv 1.43, with its buckets);
// the others keep the names of earlier conventions, which otelgrpc and
// otelconnect use too: requests_per_rpc and responses_per_rpc those of
// semconv 1.37, request.size and response.size those of 1.39. The sizes
// are recorded for calls whose transport counts their bytes
// (intercept.Call.Sizes: HTTP, peers, NATS, JSON-RPC and XML-RPC on the
// serving side; on the calling side client.Client over HTTP and peers,
// peer.Peer and the JSON-RPC, XML-RPC and NATS clients), on the serving
// side once the reply is written. The
// conventions have no names for calls in flight or open connections, so
// those follow the HTTP conventions' "active" and are glyph's own. Every call on a peer
// connection is a stream on the wire, so glyph.peer.streams counts the
// unary calls too, and those of handlers no interceptor sees. A
// calling and a serving side in one process record under separate
// names, as the conventions ask.
//
// Exporters plug in through the providers: a Prometheus endpoint with
// go.opentelemetry.io/otel/exporters/prometheus (the example program in
// the folder example shows one), OTLP with the otlp exporters.
package otelglyph
