package intercept

import (
	"context"
	"crypto/tls"
	"net/http"
)

// StreamType says which way a call's messages stream.
type StreamType uint8

const (
	// StreamUnary: one message of arguments, one result.
	StreamUnary StreamType = iota
	// StreamClient: the arguments stream, the result is one message.
	StreamClient
	// StreamServer: the arguments are one message, the results stream.
	StreamServer
	// StreamBidi: both stream.
	StreamBidi
)

var streamTypeNames = [...]string{"unary", "client_stream", "server_stream", "bidi_stream"}

// String returns "unary", "client_stream", "server_stream" or
// "bidi_stream".
func (t StreamType) String() string {
	if int(t) < len(streamTypeNames) {
		return streamTypeNames[t]
	}
	return "unknown"
}

// Side says whether a [Call] is seen by its caller or by its server.
type Side uint8

const (
	// SideClient: the calling side, which sends the arguments.
	SideClient Side = iota
	// SideServer: the serving side, which answers.
	SideServer
)

// String returns "client" or "server".
func (s Side) String() string {
	if s == SideServer {
		return "server"
	}
	return "client"
}

// The names of the transports in [Peer.Transport].
const (
	TransportHTTP    = "http"    // package hyperhttp (with TLS for https)
	TransportWS      = "ws"      // a peer over WebSocket (with TLS for wss)
	TransportTCP     = "tcp"     // a peer over TCP
	TransportTLS     = "tls"     // a peer over TCP with TLS
	TransportUnix    = "unix"    // a peer over a Unix socket
	TransportStdio   = "stdio"   // a peer over a child process's stdin and stdout
	TransportPipe    = "pipe"    // a peer over another framed connection (peer.Pipe, ...)
	TransportNATS    = "nats"    // package hypernats
	TransportJSONRPC = "jsonrpc" // package jsonrpc
	TransportXMLRPC  = "xmlrpc"  // package xmlrpc
	TransportInproc  = "inproc"  // a call within the process (package component)
)

// PeerCred is the identity of the process at the other end of a Unix
// socket, as the kernel tells it (SO_PEERCRED, on Linux): the user and
// group it ran as, and its process id, when it connected (or, for the
// connecting side, when the acceptor listened).
type PeerCred struct {
	UID, GID uint32
	PID      int32
}

// Peer describes the other end of a call: on the serving side the
// caller, on the calling side the server.
type Peer struct {
	// Transport names the transport, one of the Transport constants.
	Transport string
	// Addr is the remote's address as the transport knows it
	// ("127.0.0.1:53124", a socket path, a NATS subject); "" when it has
	// none.
	Addr string
	// TLS is the state of the connection's TLS session, nil without TLS.
	// On the serving side its VerifiedChains hold the client's
	// certificate under mutual TLS.
	TLS *tls.ConnectionState
	// Cred is the remote process's credentials on a Unix socket (Linux),
	// nil elsewhere.
	Cred *PeerCred
}

// Call describes one call as every transport fills it in. The deadline
// is its context's.
type Call struct {
	// Procedure names what is called: a service's path below its root
	// ("greet", "User/rename", "" for the index), a peer method, a
	// JSON-RPC or XML-RPC method name.
	Procedure string
	// Side is the side that sees the call.
	Side Side
	// StreamType says which way its messages stream.
	StreamType StreamType
	// Safe says that the call only reads (GET, the peer extension
	// "safe"), and so may be retried.
	Safe bool
	// Notify says that no answer is awaited (a peer notification); its
	// result is dropped.
	Notify bool
	// Header holds the call's headers, in net/http's shape. On the
	// calling side the transport sends what interceptors put here (it is
	// never nil there); on the serving side it is what arrived, to be read
	// and not changed, nil when nothing did. On the serving side keys are
	// canonical (http.CanonicalHeaderKey) on every transport, so
	// Header.Get works; on the calling side they are as the caller gave
	// them (peer call headers keep their case).
	Header http.Header
	// Peer is the other end.
	Peer Peer
	// Args are the arguments as the transport has them: on the calling
	// side what the caller passed; on the serving side what arrived
	// (package service gives named arguments as a *wire.OrderedDict,
	// positional ones as a []any, a blob as a *wire.Blob, and nil when
	// they are in the URL's query or stream). Nil for a stream whose
	// arguments stream: they are its messages.
	Args any
	// Sizes counts the call's bytes on the wire, as its transport reads
	// and writes them; nil when the transport does not count.
	Sizes *Sizes
}

type peerKey struct{}

// WithPeer returns a copy of ctx that carries p: what a serving transport
// does before it serves a call, so that interceptors and the functions
// they wrap learn who is calling.
func WithPeer(ctx context.Context, p Peer) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

// PeerFromContext returns the [Peer] ctx carries ([WithPeer]): in a
// service's function, the caller; false when no transport put one.
func PeerFromContext(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}
