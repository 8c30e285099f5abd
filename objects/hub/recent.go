package hub

import (
	"sync"

	"github.com/glyph-ipc/glyph/objects/store"
)

// recentRecords keeps the last records the daemon's pushes stored, with
// their metadata, so that the outbox publishes a push it just wrote
// without reading its container and frame back from the store (three
// reads per push, each a read transaction that finds the pages the
// commit changed and reads them again). A record it does not hold is read
// from the store as before.
type recentRecords struct {
	mu   sync.Mutex // guards all
	byAd map[string]recentRecord
	ring []string
	next int
}

type recentRecord struct {
	kind store.Kind
	data []byte
}

// Bounds of recentRecords: the records kept, and the largest kept.
const (
	recentRecordsKept  = 512
	recentRecordsBytes = 16 << 10
)

// add keeps the record at addr, of kind, whose bytes are data; larger
// records are not kept.
func (r *recentRecords) add(addr store.Addr, kind store.Kind, data []byte) {
	if len(data) > recentRecordsBytes {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byAd == nil {
		r.byAd, r.ring = map[string]recentRecord{}, make([]string, recentRecordsKept)
	}
	k := string(addr)
	if _, ok := r.byAd[k]; ok {
		return
	}
	delete(r.byAd, r.ring[r.next])
	r.ring[r.next] = k
	r.byAd[k] = recentRecord{kind: kind, data: data}
	r.next = (r.next + 1) % recentRecordsKept
}

// get returns the record at addr, if kept.
func (r *recentRecords) get(addr store.Addr) (recentRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.byAd[string(addr)]
	return rec, ok
}
