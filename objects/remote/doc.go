// Package remote is glyph's persistence server for shared objects, and its
// Go client. A remote keeps the records of package
// [github.com/glyph-ipc/glyph/objects/record] in a [store.Store] (SQLite
// for one process, PostgreSQL for several) and serves them as an ordinary
// glyph service, over HTTP and to peers on one port ([Server.Handler]). It
// stores ciphertext and signed metadata only: it never holds a key that
// opens a container or a share.
//
// # Functions
//
// spec.md beside this file states the protocol. In short: a client asks
// for a challenge, proves it with its identity's key or a device's
// ([record.CheckProof], bound to the server's name) and gets a session
// token that every other call takes first. Then:
//
//   - publish verifies records and stores them, in order: every signature,
//     the owner (only the session's identity may publish for it), a frame's
//     place after the object's head, what a binding, hold or debinding
//     names; a container only with the frame or binding that keeps it;
//   - upload and append take a container of any size in chunks of at most
//     [MaxChunk], into a file the server syncs and checks as a stream
//     (its address, its structure) once whole; publish then names the
//     upload instead of carrying the container. Uploads belong to the
//     identity that began them, are bounded per identity and expire;
//   - get returns a record, or a dynamic object's newest frame by its id;
//     read returns a record of any size chunk by chunk;
//   - bindings and debindings list what keeps or deleted an object;
//   - subscribe streams "the changes of these objects and of my mailbox
//     after cursor N", then follows the log as it grows; a subscriber that
//     was away resumes from the last cursor it saw and misses nothing.
//     Deletions (debindings) reach subscribers like any change.
//
// A refusal is a *[service.Error] whose message starts with a [Reason]
// ([ReasonForked], [ReasonReplayed], [ReasonTampered], ...), which
// [ReasonOf] reads on the client side of any transport.
//
// # Client
//
// [Dial] returns a [Client] that logs in, keeps its session, and resumes
// subscriptions after a lost connection from their cursor.
// [Client.PublishContainer] and [Client.GetContainer] move containers of
// any size in chunks, so that neither side holds one whole.
package remote
