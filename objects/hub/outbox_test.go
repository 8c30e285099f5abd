package hub_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
)

// Pushes made while the remote is down reach it, in order, when it is
// back, even once the object is discarded; a second remote configured
// beside it gets them all too.
func TestEditsWhileRemoteDown(t *testing.T) {
	r1, r2 := startRemote(t), startRemote(t)
	ctx := ctxT(t)
	h := openHub(t, config(t, r1, r2))
	if _, err := h.Create(ctx, "dave", "offline password"); err != nil {
		t.Fatal(err)
	}
	id, err := h.New(ctx, "test.counter", []byte("0"), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Drained(ctx); err != nil {
		t.Fatal(err)
	}
	r1.stop()
	const n = 20
	for i := 1; i <= n; i++ {
		if _, err := h.Push(ctx, id, []byte(strconv.Itoa(i)), "app"); err != nil {
			t.Fatal(err)
		}
	}
	// Discarding the object stops tracking it, not the sync of what was
	// written.
	if err := h.Discard(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.State(ctx, id); err == nil {
		t.Fatal("a discarded object is still tracked")
	}
	r1.start()
	if err := h.Drained(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*testRemote{r1, r2} {
		c := remoteClient(t, r, h)
		data, err := c.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		f, err := record.ParseFrame(data)
		if err != nil {
			t.Fatal(err)
		}
		if f.Counter != n {
			t.Errorf("%s: head frame %d, want %d", r.url(), f.Counter, n)
		}
	}
	if st := h.Remotes(ctx); len(st) != 2 || st[0].Pending != 0 || st[0].Err != nil {
		t.Errorf("remote status after draining: %+v", st)
	}
}

// The daemon sweeps its store once the remotes have everything: frames a
// newer one replaced go, the newest state stays.
func TestGCKeepsTheNewest(t *testing.T) {
	r := startRemote(t)
	ctx := ctxT(t)
	h, err := hub.Open(bg, config(t, r), hub.WithLogger(quiet()), hub.WithGC(20*time.Millisecond, store.WithGrace(0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	me, err := h.Create(ctx, "oli", "oli password")
	if err != nil {
		t.Fatal(err)
	}
	id, err := h.New(ctx, "test.counter", []byte("0"), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 30; i++ {
		if _, err := h.Push(ctx, id, []byte(strconv.Itoa(i)), "app"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Drained(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		u, err := h.Store().Usage(ctx, me.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if u.Records <= 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records still stored", u.Records)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, info, err := h.State(ctx, id); err != nil || string(st) != "30" || info.Counter != 30 {
		t.Fatalf("after the sweep: %q at %d, %v", st, info.Counter, err)
	}
	c := remoteClient(t, r, h)
	data, err := c.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := record.ParseFrame(data); err != nil || f.Counter != 30 {
		t.Fatalf("the remote's head: %v", err)
	}
}
