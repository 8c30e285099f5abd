package remote_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store"
)

// next reads the next change of a subscription, or fails after a while.
func next(t *testing.T, changes <-chan remote.Change) remote.Change {
	t.Helper()
	select {
	case c := <-changes:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no change within 10s")
		return remote.Change{}
	}
}

// subscribe runs c.Subscribe until the test ends, its changes on a channel.
func subscribe(t *testing.T, c *remote.Client, sub remote.Subscription) <-chan remote.Change {
	ctx, cancel := context.WithCancel(bg)
	out := make(chan remote.Change, 1024)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ch, err := range c.Subscribe(ctx, sub) {
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("Subscribe: %v", err)
				}
				return
			}
			out <- ch
		}
	}()
	return out
}

// A subscriber gets every frame of an object as it is published, over
// each transport, and the debinding that deletes it.
func TestSubscribe(t *testing.T) {
	r := startRemote(t, nil, nil)
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			alice, bob := newKeys(t), newKeys(t)
			ca, cb := dial(t, r.peerURL, alice), dial(t, r.url(tr), bob, remote.WithPollInterval(20*time.Millisecond))
			o, recs := newObject(t, alice, "v0")
			mustPublish(t, ca, recs...)
			changes := subscribe(t, cb, remote.Subscription{Objects: []record.Address{o.id()}})
			if c := next(t, changes); c.Kind != "frame" || record.Sum(c.Record) != o.head().Hash() {
				t.Fatalf("first change = %+v, want frame 0", c)
			}
			for i := 1; i <= 3; i++ {
				mustPublish(t, ca, o.update(t, fmt.Sprint("v", i))...)
				c := next(t, changes)
				if c.Kind != "frame" || record.Sum(c.Record) != o.head().Hash() {
					t.Fatalf("change %d = %+v, want frame %d", i, c, i)
				}
				if got := o.open(t, cb, c.Record); got != fmt.Sprint("v", i) {
					t.Fatalf("bob opened %q", got)
				}
			}
			del, err := record.NewBinding(alice.Signer(), record.KindDebinding, o.id(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			mustPublish(t, ca, del.Bytes())
			if c := next(t, changes); c.Kind != "debinding" || record.Sum(c.Record) != del.Address() {
				t.Fatalf("change after the delete = %+v, want the debinding", c)
			}
			if _, err := cb.Get(bg, o.id()); remote.ReasonOf(err) != remote.ReasonDeleted {
				t.Fatalf("Get of a deleted object: %v, want deleted", err)
			}
			_, err = ca.Publish(bg, o.update(t, "after")...)
			if remote.ReasonOf(err) != remote.ReasonDeleted {
				t.Fatalf("a frame of a deleted object: %v, want deleted", err)
			}
		})
	}
}

// A subscriber offline during N updates gets all N, in order, when it
// comes back with its cursor, and nothing twice.
func TestSubscribeResume(t *testing.T) {
	const n = 50
	r := startRemote(t, nil, nil)
	alice, bob := newKeys(t), newKeys(t)
	ca, cb := dial(t, r.peerURL, alice), dial(t, r.peerURL, bob)
	o, recs := newObject(t, alice, "v0")
	mustPublish(t, ca, recs...)
	sub := remote.Subscription{Objects: []record.Address{o.id()}}
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	for ch, err := range cb.Subscribe(ctx, sub) {
		if err != nil {
			t.Fatal(err)
		}
		sub.Since = ch.Seq
		cancel() // bob goes away after frame 0
		break
	}
	for i := 1; i <= n; i++ {
		mustPublish(t, ca, o.update(t, fmt.Sprint("v", i))...)
	}
	changes := subscribe(t, cb, sub)
	for i := 1; i <= n; i++ {
		c := next(t, changes)
		if record.Sum(c.Record) != o.frames[i].Hash() {
			t.Fatalf("change %d after resuming is not frame %d", i, i)
		}
	}
	select {
	case c := <-changes:
		t.Fatalf("an extra change: %+v", c)
	case <-time.After(100 * time.Millisecond):
	}
}

// A subscription survives a restart of the server, which drops its
// connection and forgets its session: the client reconnects, logs in again
// and resumes from its cursor.
func TestSubscribeReconnect(t *testing.T) {
	r := startRemote(t, nil, nil)
	alice, bob := newKeys(t), newKeys(t)
	ca, cb := dial(t, r.httpURL, alice), dial(t, r.peerURL, bob)
	o, recs := newObject(t, alice, "v0")
	mustPublish(t, ca, recs...)
	changes := subscribe(t, cb, remote.Subscription{Objects: []record.Address{o.id()}})
	next(t, changes)
	r.restart(t)
	for i := 1; i <= 5; i++ {
		mustPublish(t, ca, o.update(t, fmt.Sprint("v", i))...)
	}
	for i := 1; i <= 5; i++ {
		if c := next(t, changes); record.Sum(c.Record) != o.frames[i].Hash() {
			t.Fatalf("change %d after reconnecting is not frame %d", i, i)
		}
	}
}

// Shares reach their recipient's mailbox, and no one else's.
func TestMailbox(t *testing.T) {
	r := startRemote(t, nil, nil)
	alice, bob, carol := newKeys(t), newKeys(t), newKeys(t)
	ca, cb, cc := dial(t, r.peerURL, alice), dial(t, r.peerURL, bob), dial(t, r.httpURL, carol)
	o, recs := newObject(t, alice, "v0")
	mustPublish(t, ca, recs...)
	bobs := subscribe(t, cb, remote.Subscription{Mailbox: true})
	carols := subscribe(t, cc, remote.Subscription{Mailbox: true})
	sh, err := record.NewShare(alice.Signer(), bob.Identity, &record.Grant{Target: o.id(), API: "notes", Epoch: 0, Key: o.key.Key}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	mustPublish(t, ca, sh.Bytes())
	c := next(t, bobs)
	got, err := record.ParseShare(c.Record)
	if err != nil || c.Kind != "share" {
		t.Fatalf("bob's mailbox: %+v, %v", c, err)
	}
	g, err := bob.OpenShare(got, alice.Identity, time.Now())
	if err != nil || g.Target != o.id() {
		t.Fatalf("bob opened %v, %v", g, err)
	}
	if _, err := cc.Get(bg, sh.Address()); remote.ReasonOf(err) != remote.ReasonUnauthorised {
		t.Fatalf("carol's Get of bob's share: %v, want unauthorised", err)
	}
	if _, err := cc.GetContainer(bg, sh.Address()); remote.ReasonOf(err) != remote.ReasonUnauthorised {
		t.Fatalf("carol's read of bob's share: %v, want unauthorised", err)
	}
	if rc, err := cb.GetContainer(bg, sh.Address()); err != nil {
		t.Fatalf("bob's read of his share: %v", err)
	} else if data, err := io.ReadAll(rc); err != nil || !bytes.Equal(data, sh.Bytes()) {
		t.Fatalf("bob read %d bytes of his share, %v", len(data), err)
	}
	// Bob deletes the share once read: the debinding reaches his mailbox
	// (his other devices), and alice may not delete it for him twice.
	del, _ := record.NewBinding(bob.Signer(), record.KindDebinding, sh.Address(), time.Now())
	mustPublish(t, cb, del.Bytes())
	if c := next(t, bobs); c.Kind != "debinding" {
		t.Fatalf("bob's mailbox after the delete: %+v", c)
	}
	select {
	case c := <-carols:
		t.Fatalf("carol's mailbox got %+v", c)
	case <-time.After(100 * time.Millisecond):
	}
}

// Deletion and holds: the owner's debinding deletes an object for
// everyone; a hold by another identity keeps its head frame and content
// through GC, an object nobody holds is collected.
func TestDeleteHold(t *testing.T) {
	r := startRemote(t, nil, []store.Option{store.WithGrace(0)})
	alice, bob := newKeys(t), newKeys(t)
	ca, cb := dial(t, r.peerURL, alice), dial(t, r.peerURL, bob)
	held, recs := newObject(t, alice, "held")
	mustPublish(t, ca, recs...)
	lost, recs := newObject(t, alice, "lost")
	mustPublish(t, ca, recs...)

	hold, _ := record.NewBinding(bob.Signer(), record.KindHold, held.id(), time.Now())
	mustPublish(t, cb, hold.Bytes())
	if bs, err := ca.Bindings(bg, held.id()); err != nil || len(bs) != 1 || record.Sum(bs[0]) != hold.Address() {
		t.Fatalf("Bindings = %d records, %v; want bob's hold", len(bs), err)
	}
	// Bob may not delete alice's object.
	bobDel, _ := record.NewBinding(bob.Signer(), record.KindDebinding, held.id(), time.Now())
	if _, err := cb.Publish(bg, bobDel.Bytes()); remote.ReasonOf(err) != remote.ReasonUnauthorised {
		t.Fatalf("bob's debinding of alice's object: %v, want unauthorised", err)
	}
	for _, o := range []*object{held, lost} {
		del, _ := record.NewBinding(alice.Signer(), record.KindDebinding, o.id(), time.Now())
		mustPublish(t, ca, del.Bytes())
		if ds, err := cb.Debindings(bg, o.id()); err != nil || len(ds) != 1 {
			t.Fatalf("Debindings = %d, %v", len(ds), err)
		}
	}
	if _, err := r.st.GC(bg); err != nil {
		t.Fatal(err)
	}
	if f, err := cb.Get(bg, held.head().Hash()); err != nil || held.open(t, cb, f) != "held" {
		t.Fatalf("the held frame after GC: %v", err)
	}
	if _, err := cb.Get(bg, lost.head().Hash()); remote.ReasonOf(err) != remote.ReasonNotFound {
		t.Fatalf("the frame nobody held after GC: %v, want not_found", err)
	}
	if _, err := cb.Get(bg, lost.head().Target); remote.ReasonOf(err) != remote.ReasonNotFound {
		t.Fatalf("the content nobody held after GC: %v, want not_found", err)
	}
}

// An identity's quota ends its publishing with a clear error; others
// publish on.
func TestQuota(t *testing.T) {
	r := startRemote(t, nil, []store.Option{store.WithDefaultQuota(store.Quota{Records: 6})})
	alice, bob := newKeys(t), newKeys(t)
	ca, cb := dial(t, r.peerURL, alice), dial(t, r.peerURL, bob)
	o, recs := newObject(t, alice, "v0") // identity + 2 records
	mustPublish(t, ca, recs...)
	mustPublish(t, ca, o.update(t, "v1")...) // 5
	_, err := ca.Publish(bg, o.update(t, "v2")...)
	if remote.ReasonOf(err) != remote.ReasonQuota {
		t.Fatalf("Publish over the quota: %v, want quota", err)
	}
	_, recs = newObject(t, bob, "b")
	mustPublish(t, cb, recs...)
}

func TestHealth(t *testing.T) {
	r := startRemote(t, nil, nil)
	if s := httpGet(t, r.base+"/healthz"); s != http.StatusOK {
		t.Fatalf("/healthz: %d", s)
	}
	if s := httpGet(t, r.base+"/readyz"); s != http.StatusOK {
		t.Fatalf("/readyz: %d", s)
	}
	r.st.Close()
	if s := httpGet(t, r.base+"/readyz"); s != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the store closed: %d, want 503", s)
	}
	if s := httpGet(t, r.base+"/healthz"); s != http.StatusOK {
		t.Fatalf("/healthz with the store closed: %d", s)
	}
}
