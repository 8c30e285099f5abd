package wire

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math"
	"reflect"
	"unsafe"
)

// The duplicate check of sets and dict keys.
//
// Two items of a set, or two keys of a dict, are duplicates when they are
// the same glyph value (spec.md 3.5). Values Go can compare compare with
// == (strings in NFC, and NaN equals NaN); blobs are all distinct; any
// other two values are equal when their canonical encodings are. Encoding
// such a value whole to compare it costs its size, and a set nested in a
// set nested in a set... was encoded again at every level: time
// quadratic in the nesting. Instead each value is compared by its digest,
// a 64-bit hash (maphash, seeded per process, so that input cannot be
// made to collide) of its encoding in which every collection (list, set,
// dict, ordered dict) nested in it is written as its own digest, `#` and
// 8 bytes. The encoder writes that encoding, so it follows every rule of
// the canonical one; equal values have equal digests, because the
// encoding with digests in place of collections is a function of the
// canonical encoding: the encoder sorts set items and dict keys by the
// bytes it writes for them, digests included. A decode remembers the
// digests of collections by identity, so that each value is encoded for
// the checks a bounded number of times however deep it lies: the checks
// take time linear in the input (doc.go). Values with equal digests are
// then compared by their canonical encodings, which happens for real
// duplicates (which end the decode) or by a 2^-64 accident: an accident
// costs time, never a wrong answer.

// digestSeed seeds every digest of the process.
var digestSeed = maphash.MakeSeed()

// A digester computes the digests of the values a decode checks for
// duplicates. The zero value is ready to use.
type digester struct {
	// memo holds the digests of the collections that have collections
	// in them, by identity. A digest is asked for by the check of the
	// set the collection is in and again by the digest of the
	// collection holding it; computing it again would compute those
	// nested in it again, and so on down. A collection with none in it
	// costs its own size each time, twice at most, so it is not kept.
	// The keys keep the collections alive, so that no other can take
	// their address during the decode.
	memo map[digestKey]digestMemo
	// states are the encoders of the digests being computed, one per
	// level of nesting: the encoder of a collection waits while those of
	// the collections in it run.
	states []*encodeState
	used   int // states in use
	asked  int // digests of collections asked for, to tell which have others in them
	// work counts what the duplicate checks did: one per value checked,
	// plus every byte encoded to compute digests or compare encodings.
	// Tests hold it to the bound of doc.go (export_test.go).
	work int64
}

// A digestKey identifies a collection: the address of its elements (a
// slice's array, a map) and its type, since the same elements can be
// written as different collections (an ordered dict's entries as a dict).
type digestKey struct {
	p unsafe.Pointer
	t reflect.Type
}

type digestMemo struct {
	n   int // the length it had
	h   uint64
	err error
}

// Types that name the collections the decoder makes.
var (
	anyListType   = reflect.TypeFor[[]any]()
	stringMapType = reflect.TypeFor[map[string]any]()
)

// endMessage forgets the digests of the message decoded: the next one may
// reuse the memory of its collections.
func (g *digester) endMessage() {
	if len(g.memo) > 4096 {
		g.memo = nil // let a large map go
	}
	clear(g.memo)
	for _, s := range g.states {
		if cap(s.buf) > 1<<20 {
			s.buf = nil
		}
		if cap(s.tmp) > 1<<20 {
			s.tmp = nil
		}
	}
}

// forget drops the digest remembered for the collection v (a slice or a
// map) before a typed decoder writes into it: a value decoded twice into
// the same Go memory (a struct field under two spellings) must not be
// compared by the digest of its first content.
func (g *digester) forget(v reflect.Value) {
	if len(g.memo) > 0 {
		delete(g.memo, digestKey{v.UnsafePointer(), v.Type()})
	}
}

// state returns an encoder for one digest.
func (g *digester) state() *encodeState {
	if g.used == len(g.states) {
		s := new(encodeState)
		s.init(nil)
		s.identity = true
		s.dig = g
		g.states = append(g.states, s)
	}
	s := g.states[g.used]
	g.used++
	return s
}

// sum hashes what s wrote, counts it and gives s back.
func (g *digester) sum(s *encodeState) uint64 {
	h := maphash.Bytes(digestSeed, s.buf)
	g.work += int64(len(s.buf))
	s.buf = s.buf[:0]
	s.depth = 0
	clear(s.blobs)
	s.blobs, s.blobAt = s.blobs[:0], s.blobAt[:0]
	g.used--
	return h
}

// value returns the digest of v, a value to check for duplicates.
func (g *digester) value(v any) (uint64, error) {
	s := g.state()
	err := s.encodeAny(v)
	return g.sum(s), err
}

// collection returns the digest of a collection nested in a value being
// digested: what enc, which writes the collection, writes with the
// collections nested in it written as their digests. key identifies the
// collection, n is its length; a nil key.p means it has no identity (a
// struct, an array), and it is not remembered. depth is the nesting of
// the collection in the value, which counts towards maxEncodeDepth as in
// the canonical encoding: a cyclic value fails as it does there.
func (g *digester) collection(key digestKey, n, depth int, enc func(*encodeState) error) (uint64, error) {
	g.asked++
	if n == 0 {
		// Zero-size allocations share an address, and an empty
		// collection costs nothing to digest.
		key.p = nil
	}
	if key.p != nil {
		if m, ok := g.memo[key]; ok && m.n == n {
			return m.h, m.err
		}
	}
	asked := g.asked
	s := g.state()
	s.open, s.depth = true, depth
	err := enc(s)
	s.open = false
	h := g.sum(s)
	// A value too deep here may not be elsewhere: only the other
	// errors are the collection's own.
	if key.p != nil && g.asked > asked && !isTooDeep(err) {
		if g.memo == nil {
			g.memo = make(map[digestKey]digestMemo)
		}
		g.memo[key] = digestMemo{n, h, err}
	}
	return h, err
}

// digested is called, when e works for a digester, by the encoder of
// every collection before it writes it. If the collection is nested in
// what e digests, digested writes the collection's digest in its place
// and reports true; if it is the collection e digests, it reports false
// and the encoder writes it out. p, t and n identify the collection (see
// digestKey); enc writes it.
func (e *encodeState) digested(p unsafe.Pointer, t reflect.Type, n int, enc func(*encodeState) error) (bool, error) {
	if e.open {
		e.open = false // this is the collection being digested
		return false, nil
	}
	h, err := e.dig.collection(digestKey{p, t}, n, e.depth, enc)
	e.buf = append(e.buf, '#')
	e.buf = binary.LittleEndian.AppendUint64(e.buf, h)
	return true, err
}

// isTooDeep reports whether err is the encoder's error for a value nested
// deeper than maxEncodeDepth.
func isTooDeep(err error) bool {
	u, ok := err.(*UnsupportedValueError)
	return ok && u.Msg == msgTooDeep
}

// A dupChecker finds the first value equal to one added before it, among
// the items of a set or the keys of a dict, as they are added.
type dupChecker struct {
	d *decodeState
	// first is the first value, checked when a second comes: one value
	// alone costs nothing.
	first any
	n     int              // values added
	same  map[any]struct{} // values Go compares, strings in NFC
	nan   bool             // a NaN was added
	// digests holds the first value added with each digest, more the
	// others: values with an equal digest and a different encoding, an
	// accident of the hash.
	digests map[uint64]any
	more    map[uint64][]any
}

// add adds v and reports whether it equals a value added before.
func (c *dupChecker) add(v any) bool {
	c.n++
	switch c.n {
	case 1:
		c.first = v
		return false
	case 2:
		c.check(c.first)
		c.first = nil
	}
	return c.check(v)
}

// check adds v to the values checked and reports whether it equals one
// of them.
func (c *dupChecker) check(v any) bool {
	g := &c.d.dig
	g.work++
	if f, ok := v.(float64); ok && math.IsNaN(f) {
		if c.nan {
			return true
		}
		c.nan = true
		return false
	}
	if s, ok := v.(string); ok {
		v = nfc(s)
	}
	if hashable(v) {
		if c.same == nil {
			c.same = make(map[any]struct{})
		}
		if _, ok := c.same[v]; ok {
			return true
		}
		c.same[v] = struct{}{}
		return false
	}
	if _, ok := v.(*Blob); ok {
		return false // every blob is distinct
	}
	h, err := g.value(v)
	if err != nil {
		return false // v cannot be encoded: it equals nothing
	}
	prior, ok := c.digests[h]
	if !ok {
		if c.digests == nil {
			c.digests = make(map[uint64]any)
		}
		c.digests[h] = v
		return false
	}
	// An equal digest: compare the encodings. (Values that cannot be
	// encoded equal nothing.)
	enc, ok := c.encode(v)
	if !ok {
		return false
	}
	if e, ok := c.encode(prior); ok && bytes.Equal(e, enc) {
		return true
	}
	for _, o := range c.more[h] {
		if e, ok := c.encode(o); ok && bytes.Equal(e, enc) {
			return true
		}
	}
	if c.more == nil {
		c.more = make(map[uint64][]any)
	}
	c.more[h] = append(c.more[h], v)
	return false
}

// encode returns v's canonical encoding, and false when v has none.
func (c *dupChecker) encode(v any) ([]byte, bool) {
	b, err := canonicalKey(v)
	c.d.dig.work += int64(len(b))
	return b, err == nil
}

// firstDup returns the index of the first of vals equal to an earlier
// one, or -1.
func (d *decodeState) firstDup(vals []any) int {
	c := dupChecker{d: d}
	for i, v := range vals {
		if c.add(v) {
			return i
		}
	}
	return -1
}
