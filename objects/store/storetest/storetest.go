// Package storetest is the conformance suite of [store.Store]: every
// implementation runs [Run], so that all of them keep the rules of package
// store alike.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/service"
)

// An Opener opens a new, empty store with opts for test t, and closes it
// when t ends.
type Opener func(t *testing.T, opts ...store.Option) store.Store

// Run runs the suite against the stores that open makes, each test in a
// subtest of t with a store of its own.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"PutGet", testPutGet},
		{"PutStreamed", testPutStreamed},
		{"PutIdempotent", testPutIdempotent},
		{"PutInvalid", testPutInvalid},
		{"PutBodySize", testPutBodySize},
		{"PutTooLarge", testPutTooLarge},
		{"NotFound", testNotFound},
		{"Frames", testFrames},
		{"FramesRace", testFramesRace},
		{"Bindings", testBindings},
		{"DeleteDynamic", testDeleteDynamic},
		{"Changes", testChanges},
		{"Wait", testWait},
		{"GC", testGC},
		{"GCHold", testGCHold},
		{"GCTombstone", testGCTombstone},
		{"GCUndelete", testGCUndelete},
		{"Quota", testQuota},
		{"QuotaRace", testQuotaRace},
		{"Closed", testClosed},
		{"PutAll", testPutAll},
		{"PutAllQuota", testPutAllQuota},
		{"PutAllRace", testPutAllRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open) })
	}
}

// A Clock is a settable clock for [store.WithClock].
type Clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

// NewClock returns a clock at a fixed time.
func NewClock() *Clock { return &Clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Addr returns a test address: a tag byte 0x01 and the SHA-256 of name.
func Addr(name string) store.Addr {
	h := sha256.Sum256([]byte(name))
	return append(store.Addr{0x01}, h[:]...)
}

// A Rec is a record for the tests: its metadata and its bytes.
type Rec struct {
	Meta store.Meta
	Body []byte
}

// Record returns a record of kind owned by owner whose bytes are name's,
// with its address derived from them.
func Record(kind store.Kind, owner, name string) Rec {
	body := []byte(kind.String() + ":" + owner + ":" + name)
	return Rec{Meta: store.Meta{Addr: Addr(string(body)), Kind: kind, Owner: Addr(owner), Size: int64(len(body))}, Body: body}
}

// Identity returns an identity record, which owns itself.
func Identity(name string) Rec {
	r := Record(store.KindIdentity, "", name)
	r.Meta.Owner = r.Meta.Addr
	return r
}

// Container returns a container of owner's.
func Container(owner, name string) Rec { return Record(store.KindContainer, owner, name) }

// Frame returns frame counter of owner's dynamic object object, after
// prev (nil for frame 0), pointing at content.
func Frame(owner string, object store.Addr, counter uint64, prev *Rec, content Rec, name string) Rec {
	r := Record(store.KindFrame, owner, fmt.Sprintf("%s/%x/%d", name, []byte(object), counter))
	r.Meta.Object, r.Meta.Counter, r.Meta.Targets = object, counter, []store.Addr{content.Meta.Addr}
	if prev != nil {
		r.Meta.Prev = prev.Meta.Addr
	}
	return r
}

// Binding returns a binding of owner's on target.
func Binding(owner string, target store.Addr) Rec {
	r := Record(store.KindBinding, owner, fmt.Sprintf("%x", []byte(target)))
	r.Meta.Object, r.Meta.Targets = target, []store.Addr{target}
	return r
}

// Debinding returns a debinding of owner's of target.
func Debinding(owner string, target store.Addr) Rec {
	r := Record(store.KindDebinding, owner, fmt.Sprintf("%x", []byte(target)))
	r.Meta.Object = target
	return r
}

// Share returns a share from owner to recipient.
func Share(owner string, recipient store.Addr, name string) Rec {
	r := Record(store.KindShare, owner, name)
	r.Meta.Recipient = recipient
	return r
}

// MustPut puts r and fails t on an error.
func MustPut(t testing.TB, s store.Store, r Rec) store.Put {
	t.Helper()
	p, err := s.Put(context.Background(), r.Meta, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("Put %s: %v", r.Meta.Kind, err)
	}
	return p
}

// wantErr fails t unless err wraps reason and has reason's service kind.
func wantErr(t *testing.T, what string, err, reason error, kind service.Kind) {
	t.Helper()
	if !errors.Is(err, reason) {
		t.Fatalf("%s: error %v, want %v", what, err, reason)
	}
	if got := service.KindOf(err); got != kind {
		t.Fatalf("%s: error kind %v, want %v (%v)", what, got, kind, err)
	}
}

func readAll(t *testing.T, s store.Store, addr store.Addr) (store.Meta, []byte) {
	t.Helper()
	m, rc, err := s.Get(context.Background(), addr)
	if err != nil {
		t.Fatalf("Get %s: %v", addr, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", addr, err)
	}
	return m, b
}

// sameMeta fails t unless got is want as put, with the fields the store
// sets filled in.
func sameMeta(t *testing.T, got, want store.Meta) {
	t.Helper()
	if got.Seq == 0 || got.Stored.IsZero() {
		t.Errorf("meta %s: seq %d, stored %v: want both set", got.Addr, got.Seq, got.Stored)
	}
	got.Seq, got.Stored = 0, time.Time{}
	want.Seq, want.Stored = 0, time.Time{}
	if fmt.Sprintf("%#v", normal(got)) != fmt.Sprintf("%#v", normal(want)) {
		t.Errorf("meta:\n got %#v\nwant %#v", got, want)
	}
}

// normal makes empty slices nil, so that a stored nil and a put empty
// compare equal.
func normal(m store.Meta) store.Meta {
	for _, p := range []*store.Addr{&m.Addr, &m.Owner, &m.Object, &m.Prev, &m.Recipient} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	if len(m.Targets) == 0 {
		m.Targets = nil
	}
	return m
}

func addrs(ms []store.Meta) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Addr.String()[2:12]
	}
	return out
}

func names(rs ...Rec) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Meta.Addr.String()[2:12]
	}
	return out
}
