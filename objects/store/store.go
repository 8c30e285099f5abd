package store

import (
	"context"
	"encoding/hex"
	"io"
	"time"
)

// MaxAddr is the longest address a store takes, in bytes: an algorithm tag
// and a digest of up to 512 bits, with room to spare.
const MaxAddr = 64

// MaxTargets is the most addresses one record may keep alive.
const MaxTargets = 32

// An Addr is a record's address, or a dynamic object's id: opaque bytes
// (an algorithm tag and a digest) of 1 to [MaxAddr] bytes.
type Addr []byte

// String returns the address in lower-case hex.
func (a Addr) String() string { return hex.EncodeToString(a) }

// Kind says what a record is; see the package doc for what each kind
// means to a store. The numbers are stored and never change.
type Kind uint8

// The kinds of record.
const (
	KindIdentity  Kind = 1 // a public key container; never collected
	KindContainer Kind = 2 // content of a static object or of a frame
	KindFrame     Kind = 3 // one frame of a dynamic object
	KindBinding   Kind = 4 // keeps its target alive
	KindDebinding Kind = 5 // a tombstone: deletes its target
	KindShare     Kind = 6 // an envelope in its recipient's mailbox
)

var kindNames = [...]string{
	KindIdentity:  "identity",
	KindContainer: "container",
	KindFrame:     "frame",
	KindBinding:   "binding",
	KindDebinding: "debinding",
	KindShare:     "share",
}

// String returns the kind's name, such as "frame".
func (k Kind) String() string {
	if k.Valid() {
		return kindNames[k]
	}
	return "kind(" + itoa(uint64(k)) + ")"
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool { return k >= KindIdentity && k <= KindShare }

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// Meta is what a caller extracted from a record after verifying it, and
// what the store indexes it by. [Store.Put] takes the fields down to Size;
// the store fills Seq and Stored.
type Meta struct {
	Addr Addr // the record's address
	Kind Kind
	// Owner is the identity that signed the record, charged for it
	// against its quota (an identity owns itself).
	Owner Addr
	// Object is a frame's dynamic object id, and the target of a binding
	// or a debinding; empty for other kinds.
	Object Addr
	// Counter is a frame's position in its object's chain, from 0.
	Counter uint64
	// Prev is the address of the frame before this one; empty for the
	// first frame the owner made.
	Prev Addr
	// Targets are the addresses this record keeps alive: a frame's
	// container, a binding's target. At most [MaxTargets].
	Targets []Addr
	// Recipient is the identity whose mailbox holds the record: set for a
	// share, and for a debinding of a share so that the recipient's
	// other devices see it.
	Recipient Addr
	// Size is the length of the record's bytes; the body given to Put
	// must have exactly this many.
	Size int64

	Seq    uint64    // the record's place in the change log (set by the store)
	Stored time.Time // when the store accepted it (set by the store)
}

// A Put is what [Store.Put] did with a record.
type Put struct {
	Seq     uint64 // the record's sequence number, new or earlier
	Existed bool   // the store already had the record; nothing changed
}

// A Query selects entries of the change log for [Store.Changes].
type Query struct {
	// Objects selects the records whose Meta.Object or Meta.Addr is one
	// of these: a dynamic object's frames, the bindings and debindings of
	// an object. At most [MaxQueryObjects].
	Objects []Addr
	// Recipient selects the records whose Meta.Recipient it is (a
	// mailbox); none when empty.
	Recipient Addr
	// Since is the cursor: only entries with a sequence number above it.
	Since uint64
	// Limit bounds the entries returned: 1 to [MaxQueryLimit], 0 for
	// [MaxQueryLimit].
	Limit int
}

// Bounds on a [Query].
const (
	MaxQueryObjects = 1024
	MaxQueryLimit   = 1000
)

// A Quota bounds what one identity may store; zero fields are unlimited.
type Quota struct {
	Bytes   int64
	Records int64
}

// Usage is what one identity stores now.
type Usage struct {
	Bytes   int64
	Records int64
}

// GCStats says what one [Store.GC] sweep removed.
type GCStats struct {
	Records int64 // records removed, tombstones included
	Bytes   int64 // their sizes, added up
}

// Store keeps records; see the package doc for the rules. It is safe for
// concurrent use. Every method that takes a context stops waiting when the
// context is done.
type Store interface {
	// Put stores a record: m is its metadata and body yields exactly
	// m.Size bytes, which may be read as a stream. Putting an address the
	// store has is a no-op that reports the earlier sequence number
	// (Existed) without reading body. Errors: [ErrInvalid] for metadata
	// that breaks the rules or a body of another size, [ErrTooLarge],
	// [ErrFork], [ErrStale], [ErrGap], [ErrDebound], [ErrQuota].
	Put(ctx context.Context, m Meta, body io.Reader) (Put, error)
	// Get returns a record's metadata and its bytes, which the caller
	// must close; reading them past a corruption fails with [ErrCorrupt].
	// A missing record is [ErrNotFound].
	Get(ctx context.Context, addr Addr) (Meta, io.ReadCloser, error)
	// Stat returns a record's metadata, or [ErrNotFound].
	Stat(ctx context.Context, addr Addr) (Meta, error)
	// Head returns the newest frame of a dynamic object: [ErrNotFound]
	// if the store has none, [ErrDebound] if the object was deleted.
	Head(ctx context.Context, object Addr) (Meta, error)
	// Bindings returns the bindings of target that are not debound,
	// oldest first.
	Bindings(ctx context.Context, target Addr) ([]Meta, error)
	// Debindings returns the debindings whose target is target, oldest
	// first: target is debound when there is one.
	Debindings(ctx context.Context, target Addr) ([]Meta, error)
	// Changes returns the entries of the change log that q selects, in
	// order; an empty result means nothing newer yet.
	Changes(ctx context.Context, q Query) ([]Meta, error)
	// Cursor returns the sequence number of the newest entry of the log,
	// 0 when the store is empty.
	Cursor(ctx context.Context) (uint64, error)
	// Wait blocks until the log has an entry after cursor and returns
	// the newest entry's sequence number, or returns the context's error.
	// Writes through other instances of the same store wake it too.
	Wait(ctx context.Context, cursor uint64) (uint64, error)
	// GC removes what nothing keeps alive (see the package doc).
	GC(ctx context.Context) (GCStats, error)
	// SetQuota sets owner's quota, replacing the default.
	SetQuota(ctx context.Context, owner Addr, q Quota) error
	// Usage returns what owner stores now.
	Usage(ctx context.Context, owner Addr) (Usage, error)
	// Close releases the store; calls after it fail with [ErrClosed].
	Close() error
}

// An Item is one record of [Batcher.PutAll]: its metadata and its body,
// as [Store.Put] takes them.
type Item struct {
	Meta Meta
	Body io.Reader
}

// A Batcher is a [Store] that can put several records with one durable
// commit: a persistence server puts the records of one request this way,
// so that a writer sending many small updates at once waits for one sync
// instead of one each.
type Batcher interface {
	// PutAll puts items in order, each as Put would after the ones
	// before it (a frame may follow another frame of the same call), and
	// returns once they are durable. The first item refused ends the
	// call: PutAll returns the Puts of the items before it, which are
	// stored, and its error, which is what Put would have returned.
	PutAll(ctx context.Context, items []Item) ([]Put, error)
}
