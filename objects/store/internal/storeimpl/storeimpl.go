// Package storeimpl holds what the implementations of store.Store share:
// the encoding of a record's targets in a database column, the rules for
// advancing a dynamic object's head, the exact-size and checksum readers of
// record bodies, and the wake-up of waiters.
package storeimpl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/glyph-ipc/glyph/internal/notify"
	"github.com/glyph-ipc/glyph/objects/store"
)

// EncodeTargets encodes a list of addresses for a database column: a count
// byte, then each address as a length byte and its bytes. The list must
// satisfy store.Meta.Check (at most store.MaxTargets addresses of 1 to
// store.MaxAddr bytes).
func EncodeTargets(list []store.Addr) []byte {
	n := 1
	for _, a := range list {
		n += 1 + len(a)
	}
	b := make([]byte, 0, n)
	b = append(b, byte(len(list)))
	for _, a := range list {
		b = append(b, byte(len(a)))
		b = append(b, a...)
	}
	return b
}

// DecodeTargets decodes what EncodeTargets encoded, refusing anything
// else (a count over store.MaxTargets, an address of 0 or more than
// store.MaxAddr bytes, short or trailing bytes) with an error. A nil or
// empty column is no targets.
func DecodeTargets(b []byte) ([]store.Addr, error) {
	if len(b) == 0 {
		return nil, nil
	}
	n := int(b[0])
	if n > store.MaxTargets {
		return nil, fmt.Errorf("targets: count %d over %d", n, store.MaxTargets)
	}
	b = b[1:]
	var list []store.Addr
	if n > 0 {
		list = make([]store.Addr, 0, n)
	}
	for i := range n {
		if len(b) == 0 {
			return nil, fmt.Errorf("targets: %d of %d missing", n-i, n)
		}
		l := int(b[0])
		if l == 0 || l > store.MaxAddr {
			return nil, fmt.Errorf("targets: address %d of %d bytes", i, l)
		}
		if len(b) < 1+l {
			return nil, fmt.Errorf("targets: address %d cut short", i)
		}
		list = append(list, store.Addr(bytes.Clone(b[1:1+l])))
		b = b[1+l:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("targets: %d trailing bytes", len(b))
	}
	return list, nil
}

// A Head is a dynamic object's head as a store keeps it.
type Head struct {
	Frame   store.Addr
	Counter uint64
}

// CheckFrame decides whether frame f may become the head of its object,
// whose head is head (nil when the store has none): nil if so, else the
// error Put returns ([store.ErrFork], [store.ErrStale] or
// [store.ErrGap]).
func CheckFrame(head *Head, f store.Meta) error {
	if head == nil {
		return nil
	}
	const op = "store.Put"
	switch {
	case f.Counter == head.Counter+1 && bytes.Equal(f.Prev, head.Frame):
		return nil
	case f.Counter == head.Counter+1:
		return store.Errorf(op, store.ErrFork, "frame %d of %s does not follow head %s", f.Counter, f.Object, head.Frame)
	case f.Counter == head.Counter:
		return store.Errorf(op, store.ErrFork, "frame %d of %s: the store has another frame %d", f.Counter, f.Object, head.Counter)
	case f.Counter < head.Counter:
		return store.Errorf(op, store.ErrStale, "frame %d of %s: the head is frame %d", f.Counter, f.Object, head.Counter)
	default:
		return store.Errorf(op, store.ErrGap, "frame %d of %s: the head is frame %d", f.Counter, f.Object, head.Counter)
	}
}

// CheckRow checks metadata read back from a database, as the store wrote
// it: anything that store.Meta.Check refuses is [store.ErrCorrupt].
func CheckRow(op string, m store.Meta) error {
	if err := m.Check(); err != nil {
		return store.Errorf(op, store.ErrCorrupt, "record %s: %v", m.Addr, errors.Unwrap(err))
	}
	return nil
}

// A Body reads a record's body as Put receives it: exactly size bytes,
// hashed with SHA-256 as they go. Read fails with [store.ErrInvalid] when
// the body ends early or goes on past size.
type Body struct {
	r    io.Reader
	addr store.Addr
	left int64
	size int64
	h    hash.Hash
}

// NewBody returns a Body reading the size bytes of the record at addr
// from r.
func NewBody(r io.Reader, addr store.Addr, size int64) *Body {
	return &Body{r: r, addr: addr, left: size, size: size, h: sha256.New()}
}

// Read reads from the body; io.EOF comes only after exactly size bytes
// and a check that nothing follows.
func (b *Body) Read(p []byte) (int, error) {
	if b.left == 0 {
		var one [1]byte
		n, err := io.ReadFull(b.r, one[:])
		if n > 0 {
			return 0, store.Errorf("store.Put", store.ErrInvalid, "record %s: body longer than its size %d", b.addr, b.size)
		}
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	b.left -= int64(n)
	if err == io.EOF {
		if b.left > 0 {
			return n, store.Errorf("store.Put", store.ErrInvalid, "record %s: body of %d bytes, its size is %d", b.addr, b.size-b.left, b.size)
		}
		err = nil
	}
	return n, err
}

// Sum returns the SHA-256 of what was read.
func (b *Body) Sum() []byte { return b.h.Sum(nil) }

// Verified wraps a stored body being read back: at its end, its SHA-256
// must be sum and its length size, or Read fails with [store.ErrCorrupt].
func Verified(rc io.ReadCloser, addr store.Addr, size int64, sum []byte) io.ReadCloser {
	return &verified{rc: rc, addr: addr, size: size, sum: sum, h: sha256.New()}
}

type verified struct {
	rc   io.ReadCloser
	addr store.Addr
	size int64
	n    int64
	sum  []byte
	h    hash.Hash
	err  error
}

func (v *verified) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.size {
		v.err = store.Errorf("store.Get", store.ErrCorrupt, "record %s: more than its %d bytes stored", v.addr, v.size)
		return 0, v.err
	}
	if err == io.EOF {
		if v.n != v.size || !bytes.Equal(v.h.Sum(nil), v.sum) {
			v.err = store.Errorf("store.Get", store.ErrCorrupt, "record %s: stored bytes do not match their checksum", v.addr)
			return n, v.err
		}
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

func (v *verified) Close() error { return v.rc.Close() }

// Wait is store.Store.Wait for an implementation whose newest sequence
// number last reads and whose writes n announces; it also looks again
// every poll (when poll > 0), for wake-ups that could be lost. closed
// reports a closed store, which ends the wait with [store.ErrClosed].
func Wait(ctx context.Context, n *notify.Notifier, cursor uint64, poll time.Duration, closed func() bool, last func(context.Context) (uint64, error)) (uint64, error) {
	var tick <-chan time.Time
	if poll > 0 {
		t := time.NewTicker(poll)
		defer t.Stop()
		tick = t.C
	}
	for {
		ch := n.C()
		if closed() {
			return 0, store.Errorf("store.Wait", store.ErrClosed, "store closed")
		}
		l, err := last(ctx)
		if err != nil {
			return 0, err
		}
		if l > cursor {
			return l, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-ch:
		case <-tick:
		}
	}
}

// CheckQuota returns [store.ErrQuota] if storing m would take its owner,
// whose quota is q and usage u, over q.
func CheckQuota(q store.Quota, u store.Usage, m store.Meta) error {
	if q.Bytes > 0 && u.Bytes+m.Size > q.Bytes {
		return store.Errorf("store.Put", store.ErrQuota, "owner %s: %d bytes stored, %d more is over the quota of %d", m.Owner, u.Bytes, m.Size, q.Bytes)
	}
	if q.Records > 0 && u.Records+1 > q.Records {
		return store.Errorf("store.Put", store.ErrQuota, "owner %s: %d records stored, the quota is %d", m.Owner, u.Records, q.Records)
	}
	return nil
}

// CheckQuery checks q for store.Store.Changes and returns the limit to
// apply.
func CheckQuery(op string, q store.Query) (int, error) {
	if len(q.Objects) > store.MaxQueryObjects {
		return 0, store.Errorf(op, store.ErrInvalid, "%d objects, over %d", len(q.Objects), store.MaxQueryObjects)
	}
	for _, o := range q.Objects {
		if err := store.CheckAddr(op, "object", o); err != nil {
			return 0, err
		}
	}
	if len(q.Recipient) > 0 {
		if err := store.CheckAddr(op, "recipient", q.Recipient); err != nil {
			return 0, err
		}
	}
	switch {
	case q.Limit == 0:
		return store.MaxQueryLimit, nil
	case q.Limit < 0 || q.Limit > store.MaxQueryLimit:
		return 0, store.Errorf(op, store.ErrInvalid, "limit %d out of 1 to %d", q.Limit, store.MaxQueryLimit)
	}
	return q.Limit, nil
}
