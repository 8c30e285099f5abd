package hub_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/record"
)

// events collects a daemon's events.
type events chan hub.Event

func watch(t testing.TB, h *hub.Hub) events {
	ch := make(events, 256)
	t.Cleanup(h.Watch(func(ev hub.Event) {
		select {
		case ch <- ev:
		default:
			t.Errorf("event dropped: %+v", ev)
		}
	}))
	return ch
}

// next waits for the next event of kind about id.
func (ch events) next(t testing.TB, kind hub.EventKind, id record.Address) hub.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == kind && ev.Object == id {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %v event for %s", kind, id)
		}
	}
}

// Two daemons of two accounts and one remote: share, update, callback,
// unshare, delete.
func TestTwoDaemonsEndToEnd(t *testing.T) {
	r := startRemote(t)
	ctx := ctxT(t)
	a, b := openHub(t, config(t, r)), openHub(t, config(t, r))
	if _, err := a.Create(ctx, "alice", "alice password"); err != nil {
		t.Fatal(err)
	}
	bob, err := b.Create(ctx, "bob", "bob password")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Drained(ctx); err != nil { // bob's identity is on the remote
		t.Fatal(err)
	}
	aev, bev := watch(t, a), watch(t, b)

	id, err := a.New(ctx, "test.status", []byte("v0"), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Share(ctx, id, bob); err != nil {
		t.Fatal(err)
	}
	ev := bev.next(t, hub.EventShare, id)
	if ev.API != "test.status" {
		t.Fatalf("share event %+v", ev)
	}
	if st, _, err := b.State(ctx, id); err != nil || string(st) != "v0" {
		t.Fatalf("bob reads %q, %v", st, err)
	}
	if _, err := b.Push(ctx, id, []byte("nope"), "app"); err == nil {
		t.Fatal("a reader pushed")
	}

	if _, err := a.Push(ctx, id, []byte("v1"), "app"); err != nil {
		t.Fatal(err)
	}
	if ev := bev.next(t, hub.EventUpdate, id); ev.Counter != 1 || ev.Origin != "" {
		t.Fatalf("update event %+v", ev)
	}
	if st, _, _ := b.State(ctx, id); string(st) != "v1" {
		t.Fatalf("bob reads %q after the push", st)
	}
	// Alice's own push came back from the remote: not an upstream update.
	if ev := aev.next(t, hub.EventUpdate, id); ev.Origin != "app" {
		t.Fatalf("alice's own push reported as %+v", ev)
	}

	if err := a.Unshare(ctx, id, bob); err != nil {
		t.Fatal(err)
	}
	bev.next(t, hub.EventUnshare, id)
	if _, err := a.Push(ctx, id, []byte("secret"), "app"); err != nil {
		t.Fatal(err)
	}
	// A share made after the secret push reaches bob after it: once bob
	// has it, he has seen all before it.
	marker, err := a.New(ctx, "test.marker", nil, false, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Share(ctx, marker, bob); err != nil {
		t.Fatal(err)
	}
	bev.next(t, hub.EventShare, marker)
	if st, info, _ := b.State(ctx, id); string(st) != "v1" || info.Counter != 1 {
		t.Fatalf("after the unshare bob reads %q at %d", st, info.Counter)
	}
	if _, info, _ := a.State(ctx, id); info.Epoch != 1 {
		t.Fatalf("the unshare did not start a new epoch: %+v", info)
	}

	gone, err := a.New(ctx, "test.gone", []byte("x"), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Share(ctx, gone, bob); err != nil {
		t.Fatal(err)
	}
	bev.next(t, hub.EventShare, gone)
	kept, err := a.New(ctx, "test.kept", []byte("still here"), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Share(ctx, kept, bob); err != nil {
		t.Fatal(err)
	}
	bev.next(t, hub.EventShare, kept)
	if err := b.Hold(ctx, kept); err != nil {
		t.Fatal(err)
	}
	if err := b.Drained(ctx); err != nil { // the hold is on the remote
		t.Fatal(err)
	}
	for _, id := range []record.Address{gone, kept} {
		if err := a.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		bev.next(t, hub.EventDelete, id)
	}
	if _, info, err := b.State(ctx, gone); err == nil || !info.Deleted {
		t.Fatalf("bob reads a deleted object: %+v, %v", info, err)
	}
	// What bob holds stays readable for him, and his hold is on the
	// remote, which keeps the object's last frame and content for it.
	if st, info, err := b.State(ctx, kept); err != nil || string(st) != "still here" || !info.Held || !info.Deleted {
		t.Fatalf("bob's held object: %q %+v %v", st, info, err)
	}
	c := remoteClient(t, r, b)
	if holds, err := c.Bindings(ctx, kept); err != nil || len(holds) != 1 {
		t.Fatalf("the remote's holds of the object: %d, %v", len(holds), err)
	}
}

// A reader's daemon that was stopped while the owner pushed gets the
// newest state when it starts again: its subscription resumes from the
// cursor it kept.
func TestReaderCatchesUpAfterRestart(t *testing.T) {
	r := startRemote(t)
	ctx := ctxT(t)
	a := openHub(t, config(t, r))
	bcfg := config(t, r)
	b, err := hub.Open(bg, bcfg, hub.WithLogger(quiet()), hub.WithBackoff(10*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Create(ctx, "jan", "jan password"); err != nil {
		t.Fatal(err)
	}
	kim, err := b.Create(ctx, "kim", "kim password")
	if err != nil {
		t.Fatal(err)
	}
	b.Drained(ctx)
	bev := watch(t, b)
	id, err := a.New(ctx, "test.log", []byte("0"), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Share(ctx, id, kim); err != nil {
		t.Fatal(err)
	}
	bev.next(t, hub.EventShare, id)
	b.Close()
	for _, s := range []string{"1", "2", "3"} {
		if _, err := a.Push(ctx, id, []byte(s), "app"); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Drained(ctx); err != nil {
		t.Fatal(err)
	}
	b2 := openHub(t, bcfg)
	ev := watch(t, b2)
	for {
		e := ev.next(t, hub.EventUpdate, id)
		if e.Counter == 3 {
			break
		}
	}
	if st, _, err := b2.State(ctx, id); err != nil || string(st) != "3" {
		t.Fatalf("after the restart kim reads %q, %v", st, err)
	}
}

// Changes read again (a daemon that lost its cursors reads the remote's
// log from the start) change nothing and report nothing: an old share
// does not share an object again.
func TestReplayedChangesChangeNothing(t *testing.T) {
	r := startRemote(t)
	ctx := ctxT(t)
	a := openHub(t, config(t, r))
	bcfg := config(t, r)
	b, err := hub.Open(bg, bcfg, hub.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Create(ctx, "lea", "lea password"); err != nil {
		t.Fatal(err)
	}
	mx, err := b.Create(ctx, "max", "max password")
	if err != nil {
		t.Fatal(err)
	}
	b.Drained(ctx)
	bev := watch(t, b)
	id, err := a.New(ctx, "test.replay", []byte("v0"), true, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Share(ctx, id, mx); err != nil {
		t.Fatal(err)
	}
	bev.next(t, hub.EventShare, id)
	if err := a.Unshare(ctx, id, mx); err != nil {
		t.Fatal(err)
	}
	bev.next(t, hub.EventUnshare, id)
	if _, err := a.Push(ctx, id, []byte("v1"), "app"); err != nil {
		t.Fatal(err)
	}
	a.Drained(ctx)
	b.Close()
	if err := os.Remove(filepath.Join(bcfg.Store, "cursors")); err != nil {
		t.Fatal(err)
	}
	b2 := openHub(t, bcfg)
	events := watch(t, b2)
	// A share made now reaches max after everything before it: once it
	// is reported, the log has been read again to there.
	marker, err := a.New(ctx, "test.marker", nil, false, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Share(ctx, marker, mx); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Kind != hub.EventShare || ev.Object != marker {
			t.Fatalf("a change read again was reported: %+v", ev)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the marker's share did not come")
	}
	if st, info, err := b2.State(ctx, id); err != nil || string(st) != "v0" || info.Counter != 0 {
		t.Fatalf("after reading the log again max reads %q at %d, %v", st, info.Counter, err)
	}
}
