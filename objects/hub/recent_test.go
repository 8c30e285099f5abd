package hub

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/glyph-ipc/glyph/objects/store"
)

// recentRecords keeps the last records added, up to its bound, and never
// one over its size limit; adding a record twice keeps it once.
func TestRecentRecords(t *testing.T) {
	var r recentRecords
	addr := func(i int) store.Addr { return store.Addr(fmt.Sprintf("record %d", i)) }
	data := func(i int) []byte { return []byte(fmt.Sprintf("bytes of %d", i)) }
	const n = recentRecordsKept + 10
	for i := range n {
		r.add(addr(i), store.KindFrame, data(i))
		r.add(addr(i), store.KindFrame, data(i)) // twice: kept once
	}
	for i := range n {
		rec, ok := r.get(addr(i))
		evicted := i < n-recentRecordsKept
		switch {
		case evicted && ok:
			t.Errorf("record %d of %d is still kept, past the bound %d", i, n, recentRecordsKept)
		case !evicted && (!ok || !bytes.Equal(rec.data, data(i)) || rec.kind != store.KindFrame):
			t.Errorf("record %d = %q, %v, %v; want it kept", i, rec.data, rec.kind, ok)
		}
	}
	r.add(store.Addr("large"), store.KindContainer, make([]byte, recentRecordsBytes+1))
	if _, ok := r.get(store.Addr("large")); ok {
		t.Error("a record over the size limit is kept")
	}
	if len(r.byAd) != recentRecordsKept {
		t.Errorf("%d records kept; want %d", len(r.byAd), recentRecordsKept)
	}
}
