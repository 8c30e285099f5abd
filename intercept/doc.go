// Package intercept is glyph's one middleware API: interceptors that see
// every call, on the serving and the calling side, whatever the transport
// (HTTP, WebSocket, TCP, TLS and Unix-socket peers, stdio, NATS,
// JSON-RPC, XML-RPC, in-process).
//
// A transport describes each call as a [Call]: its procedure, whether it
// is safe, how it streams ([StreamType]), which [Side] sees it, its
// headers, the [Peer] at the other end (transport, address, TLS state,
// Unix credentials) and its arguments. The deadline is the context's.
// An [Interceptor] wraps the step that runs a call: [UnaryFunc] for a
// call whose arguments and result are one message each, [StreamFunc] for
// a call whose arguments, results or both stream. [UnaryInterceptorFunc]
// makes an Interceptor of a function for the unary case; [Chain] makes
// one of many. Interceptors run in the order given: the first is the
// outermost, so it sees a call first and its result last.
//
// # Where interceptors are registered
//
// On the serving side, package service runs the interceptors given to
// service.New with service.WithInterceptors around every call its Serve
// method answers; since every transport calls Serve, one registration
// covers them all. The transports put the [Peer] in the context
// ([WithPeer]) before they call Serve, so a service's function also finds
// the caller's TLS certificate or Unix credentials with [PeerFromContext],
// the same way over HTTP and peers. Hand-written peer handlers take the
// same Interceptor through peer.WithInterceptors.
//
// On the calling side, each client takes interceptors with its own
// WithInterceptors option: client.Client (HTTP and peer URLs), the
// component router, the JSON-RPC, XML-RPC and NATS clients and peer.Peer.
// Headers an interceptor adds to [Call.Header] are sent with the request
// (as HTTP headers, peer call headers, NATS message headers).
//
// # Sizes
//
// A transport that counts a call's bytes puts a [Sizes] in [Call.Sizes]
// and counts as it reads and writes: on the serving side package
// hyperhttp (request and response bodies as sent, after gzip), peers
// (the data of the call's frames), package hypernats (the data of the
// call's messages) and packages jsonrpc and xmlrpc (the request body and
// the answer, for a body of one call: the calls of a JSON-RPC batch have
// none); on the calling side client.Client (over HTTP and peers),
// peer.Peer (peer.WithSizes) and the JSON-RPC, XML-RPC and NATS clients,
// whose numbers are the serving side's swapped. On the serving side the
// reply is written after the interceptors return, so an interceptor that
// wants the final numbers registers a function with [Sizes.OnEnd]; the
// call log of package service and the OpenTelemetry interceptor
// (otelglyph) do. When Call.Sizes is nil, the transport does not count.
//
// # Streams
//
// A [StreamFunc] opens a stream and returns it as a [Stream]: its
// messages go out by [Stream.Send] and come in by [Stream.Receive], and
// whoever drives it calls [Stream.Close] once when the call is over, with
// the error it ended with. An interceptor wraps the Stream it gets from
// next to see each message (to count them and their sizes) and its end
// (to end a span): embed the Stream and override the methods of
// interest. On the calling side Send carries arguments and Receive
// results; on the serving side Receive carries arguments and Send results.
//
// # Interceptors of this module
//
// Package [github.com/glyph-ipc/glyph/intercept/bearer] authenticates
// calls by bearer token. Every service logs each call it serves with
// [github.com/glyph-ipc/glyph/service.LogCalls], outermost, at debug
// level; a client may register it too.
package intercept
