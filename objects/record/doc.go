// Package record defines the records of glyph's shared objects and their
// crypto: building, sealing, opening, parsing and verifying them, as pure
// functions without I/O of their own. spec.md beside this file states
// every record byte for byte.
//
// # Records
//
// Every record is a glyph value (package [github.com/glyph-ipc/glyph/wire])
// in its canonical encoding, with a kind and a suite number; what is
// signed and hashed is that encoding. An [Address] names a record by the
// SHA-256 of its bytes.
//
//   - [Identity]: an Ed25519 signing key and an HPKE X-Wing public key,
//     self-signed; its [Identity.Fingerprint] names the identity. [Keys]
//     hold its secret half.
//   - [Device]: an identity authorises a device's key to sign for it.
//   - [Successor]: an identity names the one that replaces it.
//   - containers: an object's content, sealed by [Seal] and opened by
//     [Open] as streams of any size; a static object is one container.
//   - [Frame]: one state of a dynamic object, which has a stable id and a
//     chain of signed frames, each pointing to a container.
//   - [Binding]: keeps a container alive ([KindBinding]), keeps someone
//     else's object alive ([KindHold]), or deletes one ([KindDebinding]).
//   - [Share]: an object's key for one epoch, encrypted to one recipient
//     and signed by the sender.
//
// # Keys and epochs
//
// An object's content is sealed with a random key per epoch ([EpochKey]).
// [NewShare] hands a key to a reader; removing a reader starts a new epoch
// whose key the removed reader is never sent, so it cannot open what is
// sealed after.
//
// # Verifying
//
// [Parse] checks everything a record shows on its own (form, suite, sizes,
// signatures with their domain prefixes, a frame's id) and returns its
// [Info], which is what a persistence server needs to store and index it.
// [Info.CheckOwner] then checks the signer against the owner's [Identity]
// (the identity's own key or a device it authorised), and [CheckNext]
// checks a frame against the one before. Their errors wrap distinct values
// ([ErrTampered], [ErrReplayed], [ErrForked], [ErrGap], [ErrUnauthorised],
// [ErrExpired], ...) for [errors.Is]. Parsing is bounded and never panics,
// whatever the input.
package record
