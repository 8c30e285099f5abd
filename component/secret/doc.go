// Package secret is the shared secret of a deployment: every call between
// its components proves that the caller holds it, so that another
// process on the machine (or on the network) cannot call in.
//
// A [Keyring] holds the current secret and those still accepted after a
// rotation. The calling side sends a fresh proof with every request
// ([Keyring.Proof] in the [Header], which component.WithCallHeaderFunc
// adds to every request a router sends); the serving side checks it
// ([Keyring.Check]) in front of each transport: [Handler] for everything
// over HTTP (hyperglyph, JSON-RPC, XML-RPC, peers over WebSocket),
// [PeerHandler] for peers over TCP and Unix sockets, and [CheckHeader] for
// NATS. A refused call is logged, without its proof.
//
// # Why a proof per request
//
// The proof is an HMAC of the time and a random nonce, accepted once within
// a window of 10 seconds. A proof once per connection (in the peer
// handshake) would cost less per call, but HTTP and NATS have no connection
// between caller and component to hang it on, so every transport would need
// a second mechanism anyway; one proof in the call header works the same on
// all of them, through the per-call headers they already carry, and is
// checked in one place. Binding it to the method and a digest of the body
// would mean buffering every body (blobs and streams included) before
// sending it; since each proof is accepted only once, a proof seen on the
// wire cannot be replayed, and what is left (someone who can change
// requests in flight) is what TLS is for. spec.md describes the proof and
// the pipe on which a supervisor hands the secret to its children.
//
// # Rotation
//
// [Keyring.Rotate] makes a new secret current and keeps the previous one
// accepted for a grace period; after it, the old secret is refused.
package secret
