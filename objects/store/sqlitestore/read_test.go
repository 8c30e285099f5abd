package sqlitestore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/storetest"
)

// Changes asked about ever more objects at once keeps answering right,
// past the number of query texts the store keeps prepared.
func TestChangesManyShapes(t *testing.T) {
	s := open(t)
	dyn := storetest.Addr("dyn")
	c := storetest.Container("alice", "c")
	f0 := storetest.Frame("alice", dyn, 0, nil, c, "f0")
	f1 := storetest.Frame("alice", dyn, 1, &f0, c, "f1")
	for _, r := range []storetest.Rec{c, f0, f1} {
		storetest.MustPut(t, s, r)
	}
	objects := []store.Addr{dyn}
	for n := 1; n <= 100; n++ {
		got, err := s.Changes(context.Background(), store.Query{Objects: objects})
		if err != nil {
			t.Fatalf("%d objects: %v", n, err)
		}
		if len(got) != 2 || got[0].Addr.String() != f0.Meta.Addr.String() || got[1].Addr.String() != f1.Meta.Addr.String() {
			t.Fatalf("%d objects: Changes gave %d records, want the two frames", n, len(got))
		}
		objects = append(objects, storetest.Addr(fmt.Sprintf("other%d", n)))
	}
}
