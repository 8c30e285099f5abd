package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/service"
)

var bg = context.Background()

func testPutGet(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, store.WithClock(clock.Now))
	alice := Identity("alice")
	c := Container("alice", "hello")
	dyn := Addr("dyn")
	f0 := Frame("alice", dyn, 0, nil, c, "f")
	b := Binding("alice", c.Meta.Addr)
	sh := Share("alice", Addr("bob"), "envelope")
	d := Debinding("bob", sh.Meta.Addr)
	d.Meta.Recipient = Addr("bob")
	var last uint64
	for _, r := range []Rec{alice, c, f0, b, sh, d} {
		p := MustPut(t, s, r)
		if p.Existed || p.Seq <= last {
			t.Fatalf("Put %s: %+v after seq %d: want a new, higher seq", r.Meta.Kind, p, last)
		}
		last = p.Seq
		m, body := readAll(t, s, r.Meta.Addr)
		sameMeta(t, m, r.Meta)
		if m.Seq != p.Seq || !m.Stored.Equal(clock.Now()) {
			t.Errorf("Get %s: seq %d stored %v, want %d and %v", r.Meta.Kind, m.Seq, m.Stored, p.Seq, clock.Now())
		}
		if !bytes.Equal(body, r.Body) {
			t.Errorf("Get %s: body %q, want %q", r.Meta.Kind, body, r.Body)
		}
		st, err := s.Stat(bg, r.Meta.Addr)
		if err != nil {
			t.Fatal(err)
		}
		sameMeta(t, st, r.Meta)
	}
	if c, err := s.Cursor(bg); err != nil || c != last {
		t.Errorf("Cursor = %d, %v; want %d", c, err, last)
	}
	empty := Container("alice", "")
	empty.Body, empty.Meta.Size = nil, 0
	MustPut(t, s, empty)
	if _, body := readAll(t, s, empty.Meta.Addr); len(body) != 0 {
		t.Errorf("empty record read back as %q", body)
	}
}

// pattern yields n bytes of a repeating pattern without holding them.
type pattern struct{ n, off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n-p.off {
		b = b[:p.n-p.off]
	}
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func testPutStreamed(t *testing.T, open Opener) {
	s := open(t, store.WithInlineLimit(4096))
	for _, size := range []int64{4096, 4097, 3<<20 + 5} {
		m := store.Meta{Addr: Addr(fmt.Sprint("big", size)), Kind: store.KindContainer, Owner: Addr("alice"), Size: size}
		if _, err := s.Put(bg, m, &pattern{n: size}); err != nil {
			t.Fatalf("Put %d bytes: %v", size, err)
		}
		_, rc, err := s.Get(bg, m.Addr)
		if err != nil {
			t.Fatal(err)
		}
		// Compare in chunks: the body is never whole in memory.
		want := &pattern{n: size}
		got := make([]byte, 64<<10)
		exp := make([]byte, 64<<10)
		var total int64
		for {
			n, err := io.ReadFull(rc, got)
			if n > 0 {
				io.ReadFull(want, exp[:n])
				if !bytes.Equal(got[:n], exp[:n]) {
					t.Fatalf("%d bytes: differ after offset %d", size, total)
				}
				total += int64(n)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				t.Fatalf("%d bytes: read: %v", size, err)
			}
		}
		rc.Close()
		if total != size {
			t.Fatalf("read back %d bytes, want %d", total, size)
		}
	}
}

// failReader fails every read: Put must not read the body of a record it
// already has.
type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("body read") }

func testPutIdempotent(t *testing.T, open Opener) {
	s := open(t, store.WithInlineLimit(8))
	for _, r := range []Rec{Container("alice", "small"), Container("alice", "larger than eight bytes")} {
		first := MustPut(t, s, r)
		again, err := s.Put(bg, r.Meta, failReader{})
		if err != nil || !again.Existed || again.Seq != first.Seq {
			t.Fatalf("second Put = %+v, %v; want Existed with seq %d", again, err, first.Seq)
		}
	}
	if u, err := s.Usage(bg, Addr("alice")); err != nil || u.Records != 2 {
		t.Errorf("Usage = %+v, %v; want 2 records", u, err)
	}
}

func testPutInvalid(t *testing.T, open Opener) {
	s := open(t)
	long := make(store.Addr, store.MaxAddr+1)
	c := Container("alice", "c")
	f := Frame("alice", Addr("dyn"), 1, &c, c, "f")
	tests := []struct {
		name   string
		change func(m *store.Meta)
	}{
		{"no address", func(m *store.Meta) { m.Addr = nil }},
		{"long address", func(m *store.Meta) { m.Addr = long }},
		{"unknown kind", func(m *store.Meta) { m.Kind = 9 }},
		{"kind zero", func(m *store.Meta) { m.Kind = 0 }},
		{"no owner", func(m *store.Meta) { m.Owner = nil }},
		{"negative size", func(m *store.Meta) { m.Size = -1 }},
		{"frame without object", func(m *store.Meta) { m.Kind, m.Targets = store.KindFrame, []store.Addr{Addr("x")} }},
		{"container with object", func(m *store.Meta) { m.Object = Addr("x") }},
		{"container with counter", func(m *store.Meta) { m.Counter = 1 }},
		{"container with recipient", func(m *store.Meta) { m.Recipient = Addr("bob") }},
		{"share without recipient", func(m *store.Meta) { m.Kind = store.KindShare }},
		{"identity with targets", func(m *store.Meta) { m.Kind, m.Targets = store.KindIdentity, []store.Addr{Addr("x")} }},
		{"binding not on its targets", func(m *store.Meta) {
			m.Kind, m.Object, m.Targets = store.KindBinding, Addr("x"), []store.Addr{Addr("y")}
		}},
		{"too many targets", func(m *store.Meta) { m.Targets = make([]store.Addr, store.MaxTargets+1) }},
		{"empty target", func(m *store.Meta) { m.Targets = []store.Addr{{}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := c.Meta
			tt.change(&m)
			_, err := s.Put(bg, m, bytes.NewReader(c.Body))
			wantErr(t, "Put", err, store.ErrInvalid, service.KindInvalid)
		})
	}
	frames := []struct {
		name   string
		change func(m *store.Meta)
	}{
		{"frame 1 without prev", func(m *store.Meta) { m.Prev = nil }},
		{"frame 0 with prev", func(m *store.Meta) { m.Counter = 0 }},
		{"frame without target", func(m *store.Meta) { m.Targets = nil }},
		{"counter over 2^63-1", func(m *store.Meta) { m.Counter = 1 << 63 }},
	}
	for _, tt := range frames {
		t.Run(tt.name, func(t *testing.T) {
			m := f.Meta
			tt.change(&m)
			_, err := s.Put(bg, m, bytes.NewReader(f.Body))
			wantErr(t, "Put", err, store.ErrInvalid, service.KindInvalid)
		})
	}
	if c, _ := s.Cursor(bg); c != 0 {
		t.Errorf("invalid records moved the cursor to %d", c)
	}
}

func testPutBodySize(t *testing.T, open Opener) {
	for _, inline := range []int64{store.DefaultInlineLimit, 2} {
		s := open(t, store.WithInlineLimit(inline))
		r := Container("alice", "body")
		for _, body := range [][]byte{r.Body[:len(r.Body)-1], append(slices.Clone(r.Body), 'x'), nil} {
			_, err := s.Put(bg, r.Meta, bytes.NewReader(body))
			wantErr(t, fmt.Sprintf("Put of %d bytes for size %d (inline limit %d)", len(body), r.Meta.Size, inline), err, store.ErrInvalid, service.KindInvalid)
			_, err = s.Stat(bg, r.Meta.Addr)
			wantErr(t, "Stat", err, store.ErrNotFound, service.KindNotFound)
		}
		MustPut(t, s, r)
	}
}

func testPutTooLarge(t *testing.T, open Opener) {
	s := open(t, store.WithMaxSize(10))
	r := Container("alice", "eleven byte")
	r.Meta.Size = 11
	_, err := s.Put(bg, r.Meta, failReader{})
	wantErr(t, "Put", err, store.ErrTooLarge, service.KindTooLarge)
}

func testNotFound(t *testing.T, open Opener) {
	s := open(t)
	_, _, err := s.Get(bg, Addr("none"))
	wantErr(t, "Get", err, store.ErrNotFound, service.KindNotFound)
	_, err = s.Stat(bg, Addr("none"))
	wantErr(t, "Stat", err, store.ErrNotFound, service.KindNotFound)
	_, err = s.Head(bg, Addr("none"))
	wantErr(t, "Head", err, store.ErrNotFound, service.KindNotFound)
	if b, err := s.Bindings(bg, Addr("none")); err != nil || len(b) != 0 {
		t.Errorf("Bindings = %v, %v; want none", b, err)
	}
}

func testFrames(t *testing.T, open Opener) {
	s := open(t)
	dyn := Addr("dyn")
	c := Container("alice", "state")
	MustPut(t, s, c)
	f0 := Frame("alice", dyn, 0, nil, c, "a")
	f1 := Frame("alice", dyn, 1, &f0, c, "a")
	f1b := Frame("alice", dyn, 1, &f0, c, "b")
	f0b := Frame("alice", dyn, 0, nil, c, "b")
	f2 := Frame("alice", dyn, 2, &f1, c, "a")
	f2b := Frame("alice", dyn, 2, &f1b, c, "b")
	f3 := Frame("alice", dyn, 3, &f2, c, "a")
	head := func(want Rec) {
		t.Helper()
		h, err := s.Head(bg, dyn)
		if err != nil || !bytes.Equal(h.Addr, want.Meta.Addr) {
			t.Fatalf("Head = %v, %v; want frame %d", h.Addr, err, want.Meta.Counter)
		}
		sameMeta(t, h, want.Meta)
	}
	MustPut(t, s, f0)
	head(f0)
	MustPut(t, s, f1)
	head(f1)
	tests := []struct {
		name   string
		frame  Rec
		reason error
	}{
		{"another frame 1", f1b, store.ErrFork},
		{"another frame 0", f0b, store.ErrStale},
		{"frame 3 after 1", f3, store.ErrGap},
		{"frame 2 after another frame 1", f2b, store.ErrFork},
	}
	for _, tt := range tests {
		_, err := s.Put(bg, tt.frame.Meta, bytes.NewReader(tt.frame.Body))
		kind := service.KindConflict
		wantErr(t, tt.name, err, tt.reason, kind)
		head(f1)
	}
	if p, err := s.Put(bg, f0.Meta, failReader{}); err != nil || !p.Existed {
		t.Fatalf("putting frame 0 again = %+v, %v; want Existed", p, err)
	}
	MustPut(t, s, f2)
	head(f2)
	// Earlier frames stay readable by address.
	if _, err := s.Stat(bg, f0.Meta.Addr); err != nil {
		t.Errorf("frame 0 after the head moved: %v", err)
	}
	// A store that has no head takes any frame as the first it sees.
	other := Addr("other")
	f5 := Frame("alice", other, 5, &f0, c, "a")
	MustPut(t, s, f5)
	head2, err := s.Head(bg, other)
	if err != nil || head2.Counter != 5 {
		t.Fatalf("Head of a chain first seen at 5 = %+v, %v", head2, err)
	}
}

func testFramesRace(t *testing.T, open Opener) {
	s := open(t)
	dyn := Addr("dyn")
	c := Container("alice", "state")
	f0 := Frame("alice", dyn, 0, nil, c, "a")
	MustPut(t, s, c)
	MustPut(t, s, f0)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			f := Frame("alice", dyn, 1, &f0, c, fmt.Sprint("racer", i))
			_, errs[i] = s.Put(bg, f.Meta, bytes.NewReader(f.Body))
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrFork):
			t.Errorf("racer %d: %v, want nil or ErrFork", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d racing frames 1 were accepted, want exactly 1", won, n)
	}
	if h, err := s.Head(bg, dyn); err != nil || h.Counter != 1 {
		t.Fatalf("Head = %+v, %v", h, err)
	}
}

func testBindings(t *testing.T, open Opener) {
	s := open(t)
	c := Container("alice", "c")
	b1 := Binding("alice", c.Meta.Addr)
	b2 := Binding("bob", c.Meta.Addr)
	d1 := Debinding("alice", b1.Meta.Addr)
	for _, r := range []Rec{c, b1, b2} {
		MustPut(t, s, r)
	}
	got, err := s.Bindings(bg, c.Meta.Addr)
	if err != nil || !slices.Equal(addrs(got), names(b1, b2)) {
		t.Fatalf("Bindings = %v, %v; want %v", addrs(got), err, names(b1, b2))
	}
	MustPut(t, s, d1)
	got, err = s.Bindings(bg, c.Meta.Addr)
	if err != nil || !slices.Equal(addrs(got), names(b2)) {
		t.Fatalf("Bindings after debinding b1 = %v, %v; want %v", addrs(got), err, names(b2))
	}
	deb, err := s.Debindings(bg, b1.Meta.Addr)
	if err != nil || !slices.Equal(addrs(deb), names(d1)) {
		t.Fatalf("Debindings = %v, %v; want %v", addrs(deb), err, names(d1))
	}
	if deb, _ := s.Debindings(bg, b2.Meta.Addr); len(deb) != 0 {
		t.Errorf("Debindings of a bound binding: %v", addrs(deb))
	}
	// The debound binding is still stored (until GC): putting it again is
	// a no-op; a debound address that is not stored is refused.
	if p, err := s.Put(bg, b1.Meta, failReader{}); err != nil || !p.Existed {
		t.Errorf("Put of a stored debound binding = %+v, %v", p, err)
	}
	b3 := Binding("carol", c.Meta.Addr)
	MustPut(t, s, Debinding("carol", b3.Meta.Addr))
	_, err = s.Put(bg, b3.Meta, bytes.NewReader(b3.Body))
	wantErr(t, "Put of a debound binding", err, store.ErrDebound, service.KindNotFound)
}

func testDeleteDynamic(t *testing.T, open Opener) {
	s := open(t)
	dyn := Addr("dyn")
	c := Container("alice", "state")
	f0 := Frame("alice", dyn, 0, nil, c, "a")
	f1 := Frame("alice", dyn, 1, &f0, c, "a")
	MustPut(t, s, c)
	MustPut(t, s, f0)
	MustPut(t, s, Debinding("alice", dyn))
	_, err := s.Head(bg, dyn)
	wantErr(t, "Head of a deleted object", err, store.ErrDebound, service.KindNotFound)
	_, err = s.Put(bg, f1.Meta, bytes.NewReader(f1.Body))
	wantErr(t, "Put of a frame of a deleted object", err, store.ErrDebound, service.KindNotFound)
}

func testChanges(t *testing.T, open Opener) {
	s := open(t)
	bob := Addr("bob")
	dynA, dynB := Addr("dynA"), Addr("dynB")
	c := Container("alice", "c")
	a0 := Frame("alice", dynA, 0, nil, c, "a")
	b0 := Frame("alice", dynB, 0, nil, c, "b")
	sh := Share("alice", bob, "s1")
	a1 := Frame("alice", dynA, 1, &a0, c, "a")
	toCarol := Share("alice", Addr("carol"), "s2")
	bindA := Binding("bob", dynA)
	delSh := Debinding("bob", sh.Meta.Addr)
	delSh.Meta.Recipient = bob
	seqs := map[string]uint64{}
	for _, r := range []Rec{c, a0, b0, sh, a1, toCarol, bindA, delSh} {
		seqs[r.Meta.Addr.String()[2:12]] = MustPut(t, s, r).Seq
	}
	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"one object", store.Query{Objects: []store.Addr{dynA}}, names(a0, a1, bindA)},
		{"two objects", store.Query{Objects: []store.Addr{dynA, dynB}}, names(a0, b0, a1, bindA)},
		{"mailbox", store.Query{Recipient: bob}, names(sh, delSh)},
		{"object and mailbox", store.Query{Objects: []store.Addr{dynB}, Recipient: bob}, names(b0, sh, delSh)},
		{"since", store.Query{Objects: []store.Addr{dynA}, Recipient: bob, Since: seqs[names(sh)[0]]}, names(a1, bindA, delSh)},
		{"limit", store.Query{Objects: []store.Addr{dynA}, Recipient: bob, Limit: 2}, names(a0, sh)},
		{"by address", store.Query{Objects: []store.Addr{c.Meta.Addr}}, names(c)},
		{"nothing asked", store.Query{}, nil},
		{"nothing new", store.Query{Objects: []store.Addr{dynA}, Since: seqs[names(delSh)[0]]}, nil},
	}
	for _, tt := range tests {
		got, err := s.Changes(bg, tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !slices.Equal(addrs(got), tt.want) {
			t.Errorf("%s: Changes = %v, want %v", tt.name, addrs(got), tt.want)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Seq <= got[i-1].Seq {
				t.Errorf("%s: seqs out of order: %d after %d", tt.name, got[i].Seq, got[i-1].Seq)
			}
		}
	}
	bad := []store.Query{
		{Objects: make([]store.Addr, store.MaxQueryObjects+1)},
		{Objects: []store.Addr{{}}},
		{Recipient: make(store.Addr, store.MaxAddr+1)},
		{Recipient: bob, Limit: -1},
		{Recipient: bob, Limit: store.MaxQueryLimit + 1},
	}
	for i, q := range bad {
		_, err := s.Changes(bg, q)
		wantErr(t, fmt.Sprintf("bad query %d", i), err, store.ErrInvalid, service.KindInvalid)
	}
}

func testWait(t *testing.T, open Opener) {
	s := open(t)
	MustPut(t, s, Container("alice", "first"))
	cur, err := s.Cursor(bg)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Wait(bg, cur-1); err != nil || got != cur {
		t.Fatalf("Wait behind the log = %d, %v; want %d at once", got, err, cur)
	}
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	if _, err := s.Wait(ctx, cur); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with nothing new = %v, want the context's deadline", err)
	}
	done := make(chan uint64, 1)
	go func() {
		got, err := s.Wait(bg, cur)
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	time.Sleep(20 * time.Millisecond)
	p := MustPut(t, s, Container("alice", "second"))
	select {
	case got := <-done:
		if got != p.Seq {
			t.Fatalf("Wait woke with %d, want %d", got, p.Seq)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not wake up on a Put")
	}
}

// gcWorld is a store with one of everything, for the GC tests.
type gcWorld struct {
	s                 store.Store
	clock             *Clock
	alice             Rec
	bound, unbound    Rec // containers
	binding           Rec
	dyn               store.Addr
	c0, c1            Rec // contents of frames 0 and 1
	f0, f1            Rec
	share, otherShare Rec
}

func newGCWorld(t *testing.T, open Opener, opts ...store.Option) *gcWorld {
	w := &gcWorld{clock: NewClock(), dyn: Addr("dyn")}
	w.s = open(t, append([]store.Option{store.WithClock(w.clock.Now), store.WithGrace(time.Hour),
		store.WithTombstoneRetention(24 * time.Hour), store.WithInlineLimit(16)}, opts...)...)
	w.alice = Identity("alice")
	w.bound = Container("alice", "bound content, stored as a file")
	w.unbound = Container("alice", "unbound content, stored as a file")
	w.binding = Binding("alice", w.bound.Meta.Addr)
	w.c0, w.c1 = Container("alice", "state 0"), Container("alice", "state 1 is long enough to be a file")
	w.f0 = Frame("alice", w.dyn, 0, nil, w.c0, "f")
	w.f1 = Frame("alice", w.dyn, 1, &w.f0, w.c1, "f")
	w.share = Share("carol", Addr("alice"), "hello")
	w.otherShare = Share("carol", Addr("alice"), "read and deleted")
	for _, r := range []Rec{w.alice, w.bound, w.unbound, w.binding, w.c0, w.f0, w.c1, w.f1, w.share, w.otherShare} {
		MustPut(t, w.s, r)
	}
	return w
}

// alive fails t unless exactly the records in want (of those in all) are
// stored.
func alive(t *testing.T, s store.Store, all []Rec, want ...Rec) {
	t.Helper()
	for _, r := range all {
		_, err := s.Stat(bg, r.Meta.Addr)
		expect := slices.ContainsFunc(want, func(w Rec) bool { return bytes.Equal(w.Meta.Addr, r.Meta.Addr) })
		switch {
		case expect && err != nil:
			t.Errorf("%s %s: %v, want it kept", r.Meta.Kind, r.Body, err)
		case !expect && err == nil:
			t.Errorf("%s %s is still stored, want it collected", r.Meta.Kind, r.Body)
		case !expect && !errors.Is(err, store.ErrNotFound):
			t.Errorf("%s %s: %v", r.Meta.Kind, r.Body, err)
		}
		if expect {
			m, body := readAll(t, s, r.Meta.Addr)
			if !bytes.Equal(body, r.Body) || !bytes.Equal(m.Addr, r.Meta.Addr) {
				t.Errorf("%s %s read back as %q", r.Meta.Kind, r.Body, body)
			}
		}
	}
}

func gc(t *testing.T, s store.Store) store.GCStats {
	t.Helper()
	st, err := s.GC(bg)
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	return st
}

func testGC(t *testing.T, open Opener) {
	w := newGCWorld(t, open)
	s := w.s
	delShare := Debinding("alice", w.otherShare.Meta.Addr)
	MustPut(t, s, delShare)
	all := []Rec{w.alice, w.bound, w.unbound, w.binding, w.c0, w.f0, w.c1, w.f1, w.share, w.otherShare, delShare}
	before, _ := s.Usage(bg, Addr("alice"))

	// Within the grace period everything stays, bound or not.
	if st := gc(t, s); st.Records != 0 {
		t.Fatalf("GC within the grace period removed %+v", st)
	}
	alive(t, s, all, all...)

	w.clock.Advance(2 * time.Hour)
	st := gc(t, s)
	// Gone: the unbound container, frame 0 and its content (frame 1 is the
	// head), the debound share. The debinding stays for its retention.
	gone := []Rec{w.unbound, w.f0, w.c0, w.otherShare}
	var bytesGone int64
	for _, r := range gone {
		bytesGone += r.Meta.Size
	}
	if st.Records != int64(len(gone)) || st.Bytes != bytesGone {
		t.Errorf("GC = %+v, want %d records of %d bytes", st, len(gone), bytesGone)
	}
	alive(t, s, all, w.alice, w.bound, w.binding, w.c1, w.f1, w.share, delShare)
	after, _ := s.Usage(bg, Addr("alice"))
	freed := w.unbound.Meta.Size + w.f0.Meta.Size + w.c0.Meta.Size
	if after.Bytes != before.Bytes-freed || after.Records != before.Records-3 {
		t.Errorf("alice's usage went from %+v to %+v, want %d bytes and 3 records less", before, after, freed)
	}
	if h, err := s.Head(bg, w.dyn); err != nil || !bytes.Equal(h.Addr, w.f1.Meta.Addr) {
		t.Errorf("Head after GC = %v, %v", h.Addr, err)
	}
	if st := gc(t, s); st.Records != 0 {
		t.Errorf("a second GC removed %+v", st)
	}

	// Debinding the binding and the dynamic object frees the rest but
	// the identity and the live share.
	delBinding := Debinding("alice", w.binding.Meta.Addr)
	delDyn := Debinding("alice", w.dyn)
	MustPut(t, s, delBinding)
	MustPut(t, s, delDyn)
	w.clock.Advance(2 * time.Hour)
	gc(t, s)
	all = append(all, delBinding, delDyn)
	alive(t, s, all, w.alice, w.share, delShare, delBinding, delDyn)
	_, err := s.Head(bg, w.dyn)
	wantErr(t, "Head of a deleted and collected object", err, store.ErrDebound, service.KindNotFound)
}

func testGCHold(t *testing.T, open Opener) {
	w := newGCWorld(t, open)
	s := w.s
	// Bob holds alice's dynamic object; alice deletes it.
	hold := Binding("bob", w.dyn)
	del := Debinding("alice", w.dyn)
	MustPut(t, s, hold)
	MustPut(t, s, del)
	w.clock.Advance(2 * time.Hour)
	gc(t, s)
	all := []Rec{w.f0, w.c0, w.f1, w.c1, hold, del}
	alive(t, s, all, w.f1, w.c1, hold, del)
	// Bob lets go: the object goes.
	unhold := Debinding("bob", hold.Meta.Addr)
	MustPut(t, s, unhold)
	w.clock.Advance(2 * time.Hour)
	gc(t, s)
	alive(t, s, append(all, unhold), del, unhold)

	// A binding of a container held by two identities survives one
	// debinding.
	c := Container("alice", "shared")
	b1, b2 := Binding("alice", c.Meta.Addr), Binding("bob", c.Meta.Addr)
	d1 := Debinding("alice", b1.Meta.Addr)
	for _, r := range []Rec{c, b1, b2, d1} {
		MustPut(t, s, r)
	}
	w.clock.Advance(2 * time.Hour)
	gc(t, s)
	alive(t, s, []Rec{c, b1, b2, d1}, c, b2, d1)
}

func testGCTombstone(t *testing.T, open Opener) {
	w := newGCWorld(t, open)
	s := w.s
	del := Debinding("alice", w.binding.Meta.Addr)
	MustPut(t, s, del)
	w.clock.Advance(2 * time.Hour)
	gc(t, s)
	alive(t, s, []Rec{w.binding, del, w.bound}, del)
	// The tombstone blocks a replay of the binding.
	_, err := s.Put(bg, w.binding.Meta, bytes.NewReader(w.binding.Body))
	wantErr(t, "replayed binding", err, store.ErrDebound, service.KindNotFound)
	// Past its retention the tombstone goes, and the binding may be put
	// again.
	w.clock.Advance(25 * time.Hour)
	gc(t, s)
	alive(t, s, []Rec{del}, []Rec{}...)
	MustPut(t, s, w.binding)
	if deb, err := s.Debindings(bg, w.binding.Meta.Addr); err != nil || len(deb) != 0 {
		t.Errorf("Debindings after the retention = %v, %v", addrs(deb), err)
	}
}

// A debinding of a debinding lifts the first at the next sweep.
func testGCUndelete(t *testing.T, open Opener) {
	w := newGCWorld(t, open)
	s := w.s
	del := Debinding("alice", w.binding.Meta.Addr)
	undel := Debinding("alice", del.Meta.Addr)
	MustPut(t, s, del)
	w.clock.Advance(2 * time.Hour)
	gc(t, s)
	MustPut(t, s, undel)
	// Until the sweep, the binding stays deleted.
	_, err := s.Put(bg, w.binding.Meta, bytes.NewReader(w.binding.Body))
	wantErr(t, "binding before the sweep", err, store.ErrDebound, service.KindNotFound)
	w.clock.Advance(2 * time.Hour)
	gc(t, s)
	alive(t, s, []Rec{del, undel}, undel)
	MustPut(t, s, w.binding)
	if b, err := s.Bindings(bg, w.bound.Meta.Addr); err != nil || len(b) != 1 {
		t.Errorf("Bindings after the undelete = %v, %v", addrs(b), err)
	}
}

func testQuota(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, store.WithClock(clock.Now), store.WithGrace(time.Minute), store.WithDefaultQuota(store.Quota{Bytes: 100}))
	big := func(owner, name string, size int) Rec {
		r := Container(owner, name)
		r.Body = bytes.Repeat([]byte{'x'}, size)
		r.Meta.Size = int64(size)
		return r
	}
	a1, a2 := big("alice", "1", 60), big("alice", "2", 50)
	MustPut(t, s, a1)
	_, err := s.Put(bg, a2.Meta, bytes.NewReader(a2.Body))
	wantErr(t, "Put over the default quota", err, store.ErrQuota, service.KindPermissionDenied)
	// Another identity has its own quota.
	MustPut(t, s, big("bob", "1", 90))
	// A quota of its own replaces the default.
	if err := s.SetQuota(bg, Addr("alice"), store.Quota{Bytes: 1000, Records: 2}); err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, a2)
	a3 := big("alice", "3", 1)
	_, err = s.Put(bg, a3.Meta, bytes.NewReader(a3.Body))
	wantErr(t, "Put over the records quota", err, store.ErrQuota, service.KindPermissionDenied)
	if u, err := s.Usage(bg, Addr("alice")); err != nil || u != (store.Usage{Bytes: 110, Records: 2}) {
		t.Errorf("Usage = %+v, %v", u, err)
	}
	// Collecting alice's unbound containers gives her room again.
	clock.Advance(time.Hour)
	gc(t, s)
	if u, err := s.Usage(bg, Addr("alice")); err != nil || u != (store.Usage{}) {
		t.Errorf("Usage after GC = %+v, %v", u, err)
	}
	MustPut(t, s, a3)
}

func testQuotaRace(t *testing.T, open Opener) {
	s := open(t, store.WithDefaultQuota(store.Quota{Records: 5}))
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := Container("alice", fmt.Sprint("racer ", i))
			_, errs[i] = s.Put(bg, r.Meta, bytes.NewReader(r.Body))
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrQuota):
			t.Errorf("racer %d: %v, want nil or ErrQuota", i, err)
		}
	}
	if u, err := s.Usage(bg, Addr("alice")); ok != 5 || err != nil || u.Records != 5 {
		t.Fatalf("%d of %d racing Puts accepted, usage %+v, %v; want 5 under a quota of 5 records", ok, n, u, err)
	}
}

func testClosed(t *testing.T, open Opener) {
	s := open(t)
	MustPut(t, s, Container("alice", "c"))
	waited := make(chan error, 1)
	go func() {
		_, err := s.Wait(bg, 1<<40)
		waited <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		wantErr(t, "Wait across Close", err, store.ErrClosed, service.KindUnavailable)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a Wait")
	}
	r := Container("alice", "d")
	_, err := s.Put(bg, r.Meta, bytes.NewReader(r.Body))
	wantErr(t, "Put after Close", err, store.ErrClosed, service.KindUnavailable)
	_, err = s.Stat(bg, r.Meta.Addr)
	wantErr(t, "Stat after Close", err, store.ErrClosed, service.KindUnavailable)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// batcher returns s as a [store.Batcher], or skips a store that is none.
func batcher(t *testing.T, s store.Store) store.Batcher {
	b, ok := s.(store.Batcher)
	if !ok {
		t.Skip("the store is no store.Batcher")
	}
	return b
}

func items(rs ...Rec) []store.Item {
	out := make([]store.Item, len(rs))
	for i, r := range rs {
		out[i] = store.Item{Meta: r.Meta, Body: bytes.NewReader(r.Body)}
	}
	return out
}

// PutAll stores a chain of frames and their content with one commit, each
// frame checked against the one before it in the same call; the first
// record refused ends the call, those before it stored.
func testPutAll(t *testing.T, open Opener) {
	s := open(t, store.WithInlineLimit(16))
	b := batcher(t, s)
	dyn := Addr("dyn")
	c0, c1, c2 := Container("alice", "c0"), Container("alice", "c1"), Container("alice", "c2")
	c1.Body = bytes.Repeat([]byte("large "), 100) // over the inline limit
	c1.Meta.Addr, c1.Meta.Size = Addr("c1-large"), int64(len(c1.Body))
	f0 := Frame("alice", dyn, 0, nil, c0, "f0")
	f1 := Frame("alice", dyn, 1, &f0, c1, "f1")
	f2 := Frame("alice", dyn, 2, &f1, c2, "f2")
	puts, err := b.PutAll(bg, items(c0, f0, c1, f1))
	if err != nil || len(puts) != 4 {
		t.Fatalf("PutAll = %v, %v", puts, err)
	}
	for i := 1; i < len(puts); i++ {
		if puts[i].Seq <= puts[i-1].Seq {
			t.Fatalf("sequence numbers out of order: %+v", puts)
		}
	}
	if h, err := s.Head(bg, dyn); err != nil || h.Counter != 1 {
		t.Fatalf("Head = %+v, %v", h, err)
	}
	checkBody(t, s, c1)
	// A fork in the middle: c2 and f2 stay, the fork is refused, the rest
	// is not tried.
	fork := Frame("alice", dyn, 2, &f1, c0, "fork")
	c3 := Container("alice", "c3")
	puts, err = b.PutAll(bg, items(c1, c2, f2, fork, c3))
	if !errors.Is(err, store.ErrFork) || len(puts) != 3 || !puts[0].Existed || puts[1].Existed {
		t.Fatalf("PutAll with a fork = %+v, %v", puts, err)
	}
	if h, err := s.Head(bg, dyn); err != nil || h.Counter != 2 || !bytes.Equal(h.Addr, f2.Meta.Addr) {
		t.Fatalf("Head after the fork = %+v, %v", h, err)
	}
	if _, err := s.Stat(bg, c3.Meta.Addr); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the record after the refused one was stored: %v", err)
	}
	// A body of the wrong size: the items before it are stored, nothing
	// of it.
	c4, c5 := Container("alice", "c4"), Container("alice", "c5")
	short := Container("alice", "short")
	short.Meta.Size++
	puts, err = b.PutAll(bg, items(c4, short, c5))
	if !errors.Is(err, store.ErrInvalid) || len(puts) != 1 {
		t.Fatalf("PutAll with a short body = %+v, %v", puts, err)
	}
	if _, err := s.Stat(bg, short.Meta.Addr); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the short record was stored: %v", err)
	}
	// An item that breaks the rules: the items before it are stored.
	bad := Container("alice", "bad")
	bad.Meta.Owner = nil
	c6 := Container("alice", "c6")
	puts, err = b.PutAll(bg, items(c6, bad))
	if !errors.Is(err, store.ErrInvalid) || len(puts) != 1 {
		t.Fatalf("PutAll with an invalid item = %+v, %v", puts, err)
	}
	for _, r := range []Rec{c4, c6} {
		if _, err := s.Stat(bg, r.Meta.Addr); err != nil {
			t.Fatalf("the item before the refused one: %v", err)
		}
	}
	// Every record stored is in the log, in order.
	ms, err := s.Changes(bg, store.Query{Objects: []store.Addr{dyn}})
	if err != nil || len(ms) != 3 {
		t.Fatalf("Changes = %d entries, %v; want the 3 frames", len(ms), err)
	}
}

// checkBody checks that the store gives r's bytes back.
func checkBody(t *testing.T, s store.Store, r Rec) {
	t.Helper()
	_, body, err := s.Get(bg, r.Meta.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	got, err := io.ReadAll(body)
	if err != nil || !bytes.Equal(got, r.Body) {
		t.Fatalf("Get = %d bytes, %v; want %d", len(got), err, len(r.Body))
	}
}

// The quota counts the records of one PutAll call with each other.
func testPutAllQuota(t *testing.T, open Opener) {
	s := open(t, store.WithDefaultQuota(store.Quota{Records: 3}))
	b := batcher(t, s)
	rs := []Rec{Container("alice", "1"), Container("alice", "2"), Container("alice", "3"), Container("alice", "4")}
	puts, err := b.PutAll(bg, items(rs...))
	if !errors.Is(err, store.ErrQuota) || len(puts) != 3 {
		t.Fatalf("PutAll over the quota = %+v, %v", puts, err)
	}
	if u, err := s.Usage(bg, Addr("alice")); err != nil || u.Records != 3 {
		t.Fatalf("Usage = %+v, %v", u, err)
	}
}

// Concurrent PutAll calls naming the same records in other orders, and
// Puts of them, neither deadlock nor store a record twice.
func testPutAllRace(t *testing.T, open Opener) {
	s := open(t, store.WithDefaultQuota(store.Quota{Bytes: 1 << 30}))
	b := batcher(t, s)
	var rs []Rec
	for i := range 8 {
		rs = append(rs, Container("alice", fmt.Sprint("r", i)), Container("bob", fmt.Sprint("r", i)))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 8 {
		wg.Go(func() {
			order := slices.Clone(rs)
			if w%2 == 1 {
				slices.Reverse(order)
			}
			if w%4 == 3 {
				for _, r := range order {
					if _, err := s.Put(bg, r.Meta, bytes.NewReader(r.Body)); err != nil {
						errs <- err
					}
				}
				return
			}
			if _, err := b.PutAll(bg, items(order...)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, owner := range []string{"alice", "bob"} {
		if u, err := s.Usage(bg, Addr(owner)); err != nil || u.Records != 8 {
			t.Fatalf("Usage of %s = %+v, %v; want 8 records", owner, u, err)
		}
	}
}
