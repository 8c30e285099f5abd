package sqlitestore_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
	"github.com/glyph-ipc/glyph/objects/store/storetest"
)

func items(rs ...storetest.Rec) []store.Item {
	out := make([]store.Item, len(rs))
	for i, r := range rs {
		out[i] = store.Item{Meta: r.Meta, Body: bytes.NewReader(r.Body)}
	}
	return out
}

// PutAll stores a chain of frames and their content with one commit, each
// frame checked against the one before it in the same call; the first
// record refused ends the call, those before it stored.
func TestPutAll(t *testing.T) {
	s := open(t, store.WithInlineLimit(16)).(*sqlitestore.Store)
	dyn := storetest.Addr("dyn")
	c0, c1, c2 := storetest.Container("alice", "c0"), storetest.Container("alice", "c1"), storetest.Container("alice", "c2")
	f0 := storetest.Frame("alice", dyn, 0, nil, c0, "f0")
	f1 := storetest.Frame("alice", dyn, 1, &f0, c1, "f1")
	f2 := storetest.Frame("alice", dyn, 2, &f1, c2, "f2")
	puts, err := s.PutAll(bg, items(c0, f0, c1, f1))
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
	// A fork in the middle: c2 and f2 stay, the fork is refused, the rest
	// is not tried.
	fork := storetest.Frame("alice", dyn, 2, &f1, c0, "fork")
	c3 := storetest.Container("alice", "c3")
	puts, err = s.PutAll(bg, items(c1, c2, f2, fork, c3))
	if !errors.Is(err, store.ErrFork) || len(puts) != 3 || !puts[0].Existed {
		t.Fatalf("PutAll with a fork = %+v, %v", puts, err)
	}
	if h, err := s.Head(bg, dyn); err != nil || h.Counter != 2 {
		t.Fatalf("Head after the fork = %+v, %v", h, err)
	}
	if _, err := s.Stat(bg, c3.Meta.Addr); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the record after the refused one was stored: %v", err)
	}
	// An item that breaks the rules: the items before it are stored.
	bad := storetest.Container("alice", "bad")
	bad.Meta.Owner = nil
	c4 := storetest.Container("alice", "c4")
	puts, err = s.PutAll(bg, items(c4, bad))
	if !errors.Is(err, store.ErrInvalid) || len(puts) != 1 {
		t.Fatalf("PutAll with an invalid item = %+v, %v", puts, err)
	}
	if _, err := s.Stat(bg, c4.Meta.Addr); err != nil {
		t.Fatalf("the item before the invalid one: %v", err)
	}
}

// Concurrent Puts share commits (group commit) and each is stored once,
// with its own sequence number, and reported only once committed.
func TestGroupCommit(t *testing.T) {
	s := open(t)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	seqs := make(chan uint64, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := storetest.Container("alice", fmt.Sprintf("w%d-%d", w, i))
				p := storetest.MustPut(t, s, r)
				if _, err := s.Stat(bg, r.Meta.Addr); err != nil {
					t.Errorf("a Put returned before its record was readable: %v", err)
				}
				seqs <- p.Seq
			}
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for seq := range seqs {
		if seen[seq] {
			t.Fatalf("sequence number %d given twice", seq)
		}
		seen[seq] = true
	}
	if u, err := s.Usage(bg, storetest.Addr("alice")); err != nil || u.Records != writers*each {
		t.Fatalf("Usage = %+v, %v", u, err)
	}
}
