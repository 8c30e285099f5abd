// Package peer is glyph's duplex protocol: long-lived, symmetric
// connections on which either side calls the other, and arguments and
// results stream.
//
// It speaks the duplex `SIMPLEX/1.0` protocol of the public JavaScript
// and Python peers (the baseline) over WebSocket, and adds what the
// baseline lacks (codec negotiation, cancellation, deadlines, flow
// control, keepalive, graceful shutdown) as extensions that only travel
// between peers that negotiated them. spec.md beside this file states
// the wire format with examples; the tests check every example byte for
// byte. The envelope and its three codecs (glyph, msgpack, json) live in
// this package, not one of their own as grpc-go's encoding/: they are the
// protocol's, negotiated by name rather than plugged in, and the engine
// encodes into its pooled buffers and interns method names as it
// decodes, which a package of their own would have to export.
//
// # Transports
//
// A [FrameConn] is one framed connection. [Dial] opens one ("ws://",
// "wss://", "tcp://host:port", "tls://host:port", "unix:///path"),
// [Listen] accepts them on TCP (with TLS for "tls://") and Unix sockets,
// [NewWebSocketHandler] serves WebSocket from an
// http.ServeMux, [Stdio] frames a child process's standard input and
// output, [Pipe] connects two in memory, and [NewStreamConn] frames any
// byte stream with a 4-byte length prefix. A connection that closes
// because of an error tells a WebSocket remote why, with a close status
// and reason; a FrameConn that wraps another keeps that by implementing
// [ReasonCloser].
//
// # Who is calling
//
// A handler learns who is at the other end from the connection, which
// [ServerStream.Conn] returns and [ConnFromContext] finds in the call's
// context (so that a service's functions, served by package hyperpeer,
// find it too): [Conn.RemoteAddr]; [Conn.TLS], the TLS session of
// "tls://" and "wss://", whose VerifiedChains hold the client's
// certificate when the server asks for one ([WithTLS] with
// tls.RequireAndVerifyClientCert: mutual TLS); and [Conn.PeerCred], the
// user, group and process id of the process at the other end of a Unix
// socket (SO_PEERCRED; Linux only, nil elsewhere). The TLS handshake of
// "tls://" runs as the first part of the peer handshake, bounded by
// [WithHandshakeTimeout]; a certificate refused either way fails it with
// [service.KindUnauthenticated]. Behind an http.Server serving TLS,
// [NewWebSocketHandler] passes the request's TLS state (r.TLS) on to
// Conn.TLS.
//
// # Connections
//
// [Client] runs the connecting side's handshake on a FrameConn and
// [Server] the accepting side's; both return a [*Conn], and from then on
// the two ends are equal. [Serve] is the accept loop: it serves every
// connection a [Listener] accepts until its context ends. The connector offers its
// codecs (glyph, msgpack, json) and the extensions; the acceptor picks. A
// baseline duplex peer gets exactly the baseline: the connector's
// greeting names a codec it has, and glyph's additions are parameters it
// never reads.
//
// Options are functional, With...: an [Option] configures a connection
// (Client, Server, Serve) and, since it is also a [PeerOption], every
// connection of a [Peer]; a PeerOption alone ([WithQueue], [WithBackoff],
// [WithInterceptors], [WithDialOptions]) configures only a Peer ([New]).
// [DialOption], [ListenOption] and [WebSocketOption] configure Dial,
// Listen and NewWebSocketHandler; [WithMaxFrameSize] is all of these. No
// option takes a boolean: one without arguments turns a behaviour on or
// off ([WithBaseline], [WithoutKeepAlive]), and a zero or negative number
// or duration keeps the default.
//
// A [Conn] runs one reader goroutine, which demultiplexes incoming
// envelopes to calls by type and id and never blocks on a slow call, and
// one writer goroutine, which writes whatever is queued in one batch.
// Each side numbers its own calls; incoming and outgoing ids are
// separate tables.
//
// # Calls
//
//   - [Conn.Call] makes a unary call and returns the result.
//   - [Conn.Notify] makes a call that is not answered.
//   - [Conn.NewStream] makes a call whose arguments, results or both
//     stream: [ClientStream.Send], [ClientStream.CloseSend] (half-close),
//     [ClientStream.Recv] (io.EOF after the last), [ClientStream.Close].
//   - [Conn.CallStream] makes a call whose arguments are one message, as
//     Call sends them, and whose results may stream.
//
// The payload of a call is its arguments by convention: a list for
// positional arguments, a map for named ones, any other value for a
// single argument and nil for none. The engine carries payloads as they
// are: glyph values (nil, bool, int64 or *big.Int, float64, string,
// []byte, []any, map[string]any, and with the glyph codec every other
// glyph value).
//
// Calls that arrive are served by a [Handler]: [WithHandler]'s, or one
// registered on the connection with [Conn.Register], which is how callbacks
// work: register a handler under [NewCallbackName], send the name in a
// call's arguments, and the remote calls it back on the same connection.
// A handler reads its arguments with [ServerStream.Recv] and streams
// results with [ServerStream.Send]; what it returns is the reply (see
// Handler).
//
// Every message of a call may carry metadata (ext). Headers travel on:
// a call's ext is [Header](ctx) merged with [WithCallHeader], and a
// handler's context carries the incoming call's headers, so calls made
// while handling a call pass trace and identity headers on. The provider
// copies the request's ext onto its replies.
//
// # Streams and the baseline
//
// A baseline stream marks its last message by leaving out `more`, so a
// sender that does not know which item is the last holds one back until
// the next Send or the end: with a baseline remote, items go out one
// step late. With the "end" extension items go out at once and an
// explicit envelope ends the stream. Under the "window" extension flow
// control counts bytes, as HTTP/2 does: each direction of each call has a
// window ([WithStreamWindow], 256 KiB by default) and the connection one
// over all calls ([WithConnWindow], 16 MiB), and a sender waits for credit
// that the receiver grants as its application takes the messages, so a
// slow consumer stalls only its own stream's sender. A message larger
// than a window passes when the window is open at all (spec.md, 5.1).
// Without flow control (a baseline remote) a stream whose unread messages
// exceed [WithMaxBuffered]'s bound fails with [service.KindOverloaded]
// instead of stalling the connection.
//
// # Errors
//
// Calls return [*service.Error], the project's one error type. Error
// replies carry a code ([ErrorCode] and [ErrorKind] map codes and kinds,
// one table, gRPC's numbers where gRPC has the concept); a code this
// package does not know, such as duplex's 1000, becomes kind
// [service.KindOther] with the code and data in a [*RemoteError]. A call
// in flight when its connection is lost fails with
// [service.KindUnavailable]: [Retryable] reports it, but nothing is ever
// replayed, since the call may have run.
//
// # Ending
//
// [Conn.Close] ends a connection at once; [Conn.Shutdown] ends it
// gracefully (goaway, refuse new calls, wait for those in flight in both
// directions). A connection also ends when its transport does, when the
// remote stops answering pings, or when the remote breaks the protocol in
// a way that cannot be answered ([Conn.Err] says which). Input never makes a Conn panic:
// unknown methods get "method not found", bad envelopes an error reply
// when their id can be read, and a handler's panic an internal error.
// Connections and peers log to [WithLogger]'s logger, and without one to
// [slog.Default] as it is when a line is logged, so that
// [slog.SetDefault] in main sets it for every connection.
//
// # Memory
//
// What one connection holds, besides what its handlers allocate, with F
// the frame size ([WithMaxFrameSize], 4 MiB by default):
//
//   - the frame being read: F;
//   - the remote's messages held for handlers: at most B
//     ([WithMaxInboundBytes], 32 MiB by default). A call's request counts
//     until its handler returns, a streamed argument until the handler
//     takes it; a message that would go past B is refused with
//     [service.KindOverloaded] rather than read into memory;
//   - what waits to be written: frames are encoded only once the write
//     queue is under its limit L, the larger of 1 MiB and F, by at most S
//     senders at once (S is GOMAXPROCS within 2 to 8), plus the batch
//     being written: about 2L + 2S·F. A remote that reads nothing is not
//     read from either once L is queued, and is closed after
//     [WithStallTimeout];
//   - the results of this side's own calls that the application has not
//     read: with a glyph remote (extension "window"), at most W + F
//     over all calls, W the connection window ([WithConnWindow], 16 MiB
//     by default), which bounds the remote's messages held for handlers
//     too; with a baseline remote, up to [WithMaxBuffered] messages per
//     call, each up to F, and the application decides how many calls it
//     makes.
//
// So F + B + 2L + 2S·F + W + F in encoded bytes with a glyph remote, 80
// MiB with the defaults on two cores; decoded values take a small
// multiple of their encoded size
// (bench/README.md measures it). The remote's calls served at once are
// bounded by [WithMaxStreams] (256 by default), which a glyph remote is
// told and keeps within, waiting rather than failing. A remote that sends
// nothing and has no call in flight is closed after [WithIdleTimeout].
//
// A server holds this per connection, for as many connections as
// [WithMaxConns] and [WithMaxConnsPerHost] let its listeners and
// WebSocket handlers hold ([DefaultMaxConns] each by default), except
// that what its connections hold for handlers is bounded in all as
// well: [Serve] and
// [New] share a [Budget] of [DefaultServerInboundBytes] (256 MiB) between
// their connections ([WithInboundBudget]). What remotes can make a
// default server hold is then about 256 MiB plus, per connection, the
// frame being read; the rest depends on what its handlers answer.
//
// # Limits
//
// What a remote may make a server hold or do, each configurable, with
// its default and what other servers default to:
//
//   - connections per listener or WebSocket handler: [WithMaxConns],
//     [DefaultMaxConns] (10,000); NATS allows 64K, grpc-go and net/http
//     have no bound but the file descriptor limit. Per remote address:
//     [WithMaxConnsPerHost], no bound, as in all three;
//   - the remote's calls served at once per connection:
//     [WithMaxStreams], 256, announced in the handshake; grpc-go v1.85
//     has no bound, net/http's HTTP/2 server 250;
//   - its calls per second per connection: [WithRateLimit], no bound,
//     as in grpc-go and NATS;
//   - a frame: [WithMaxFrameSize], 4 MiB, grpc-go's largest message
//     (NATS: a 1 MB payload); and the memory of Memory above.
//
// A remote over a limit is told so and the refusal is logged at info
// level: a connection over a listener's limits reads "-ERR overloaded:"
// and the limit (a WebSocket gets 503 with Retry-After), which a glyph
// connector reports as [service.KindOverloaded]; a call over a
// connection's limits gets an overloaded error reply; a frame over the
// limit ends the connection with a goaway that says why.
//
// # Serving a service
//
// Package hyperpeer serves a [service.Service], the same registrations an
// HTTP server serves (package hyperhttp), as a connection's Handler:
// [github.com/glyph-ipc/glyph/hyperpeer.NewHandler]. It is written on
// this package's public API; [ServerStream.ArgForm] and
// [ServerStream.StreamResults] are the hooks it needs besides Recv and
// Send, there for every handler that binds arguments or streams results.
//
// # Peers
//
// A [Peer] is client and server at once, over many connections. It binds
// to addresses ([Peer.Bind], [Peer.WebSocketHandler]), connects to others
// ([Peer.Connect]), or "auto" to those a [Resolver] names
// ([Peer.ConnectResolver]; [SRVResolver]
// reads DNS SRV records, [FileResolver] a watched file), redials what it
// connected to with exponential backoff and jitter, and serves the calls
// arriving on every connection with one Handler. Each call, notification
// or stream goes round robin over the live connections, dialed or
// accepted, and stays on its connection; calls made while there is none
// wait, in order, in a bounded queue. Interceptors wrap the calls a peer
// makes and the handler that serves those it gets, and [NewProxy] is a
// Handler that forwards calls to other peers by method prefix or
// header: the building block of a gateway.
package peer
