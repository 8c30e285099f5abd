// Package store keeps the records of shared objects: the interface that a
// persistence server ("remote") and the local daemon store records through,
// its types and errors, and the rules every implementation follows.
// Implementations: [github.com/glyph-ipc/glyph/objects/store/sqlitestore]
// (embedded, one process) and [github.com/glyph-ipc/glyph/objects/store/pgstore]
// (PostgreSQL, shared by several server processes). Package
// [github.com/glyph-ipc/glyph/objects/store/storetest] is the conformance
// suite that both run.
//
// # Records are opaque
//
// A store never parses, hashes against an address or verifies a record: its
// caller does, and hands the store the record's canonical bytes together with
// the [Meta] it extracted from them. The store trusts that metadata; what it
// enforces is what keeps its own indexes consistent (the rules below). The
// bytes come back exactly as they were put, checked against a SHA-256 the
// store keeps, so that a corrupted disk reads as [ErrCorrupt] instead of as
// different bytes.
//
// # The data model
//
// Every record has an address ([Addr]: opaque bytes, an algorithm tag and a
// digest, at most [MaxAddr] bytes) and a [Kind]:
//
//   - [KindIdentity]: a public key container. Never collected.
//   - [KindContainer]: the content of a static object, or one version of a
//     dynamic object's content.
//   - [KindFrame]: a frame of a dynamic object. Meta.Object is the dynamic
//     object's id, Meta.Counter its position, Meta.Prev the address of the
//     frame before it, Meta.Targets its content.
//   - [KindBinding]: "this is in use". Meta.Object and Meta.Targets name the
//     target (a record's address or a dynamic object's id).
//   - [KindDebinding]: a tombstone. Meta.Object is the record (or dynamic
//     object) it deletes.
//   - [KindShare]: an envelope for Meta.Recipient's mailbox.
//
// Meta.Owner is the identity the record is charged to (its signer).
//
// # Dynamic objects
//
// A store keeps one head per dynamic object, advanced by compare-and-swap on
// the counter: with no head, any frame starts the object; with head N, only a
// frame with counter N+1 whose Prev is the head's address is accepted. Another
// frame with counter N, or a frame N+1 that does not descend from the head, is
// [ErrFork]; an older counter is [ErrStale]; a later one is [ErrGap]. A frame
// of a deleted (debound) object is [ErrDebound]. Earlier frames stay readable
// by address until they are collected.
//
// # Deletion and collection
//
// A debinding makes its target debound at once: a debound binding no longer
// binds, a debound dynamic object has no head ([Store.Head] is
// [ErrDebound]) and takes no new frames, and putting a record whose address is debound is
// [ErrDebound] (the tombstone blocks replays). [Store.GC] then removes every
// record that nothing keeps alive. What is alive starts from the roots:
//
//   - identities;
//   - bindings and shares that are not debound;
//   - the ids of dynamic objects that are not debound;
//   - debindings younger than the tombstone retention ([WithTombstoneRetention])
//     that are not debound themselves;
//   - any record younger than the grace period ([WithGrace]), so that a
//     container uploaded just before its frame or binding is not lost.
//
// and follows edges: a record keeps its Meta.Targets alive, and a dynamic
// object's id keeps its head frame alive. A binding of a dynamic object by
// another identity is therefore a hold: the owner's debinding deletes the
// object for everyone else, but the held head frame and its content stay.
// Frames older than the head are collected; so is a tombstone past its
// retention, after which its target may be put again. A debinding of a
// debinding lets the first be collected at the next sweep, which lifts
// the first's deletion: its target may be put again.
//
// # The change log
//
// Every record a store accepts gets a sequence number, increasing by store
// and never reused: the cursor. [Store.Changes] answers "the records of
// these objects, and of this recipient's mailbox, stored after cursor N",
// so a subscriber that was away resumes where it stopped and misses
// nothing. [Store.Wait] blocks until the log moves past a cursor; it is
// only a wake-up, the cursor is the truth. Records removed by GC leave
// gaps in the numbering.
//
// # Quotas
//
// Each identity may have a [Quota] of bytes and records (a default from
// [WithDefaultQuota], or one set with [Store.SetQuota]); a Put that would
// exceed it is [ErrQuota]. Collected records are given back.
//
// # Errors
//
// Every error a store returns for a reason its caller can act on is a
// *[service.Error] whose Kind says what kind of failure it is and which
// wraps one of this package's Err values, so errors.Is(err, store.ErrFork)
// works as well as service.KindOf(err).
package store
