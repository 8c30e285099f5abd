package remote_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// A dynamic object published, updated and read back over each transport:
// its id resolves to its newest frame, whose content opens.
func TestPublishGet(t *testing.T) {
	r := startRemote(t, nil, nil)
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			alice := newKeys(t)
			c := dial(t, r.url(tr), alice)
			o, recs := newObject(t, alice, "v0")
			p := mustPublish(t, c, recs...)
			if len(p) != 2 || p[0].Existed || p[1].Seq <= p[0].Seq {
				t.Fatalf("Publish = %+v", p)
			}
			for i := 1; i <= 3; i++ {
				mustPublish(t, c, o.update(t, fmt.Sprint("v", i))...)
			}
			head, err := c.Get(bg, o.id())
			if err != nil {
				t.Fatal(err)
			}
			if got := o.open(t, c, head); got != "v3" {
				t.Fatalf("content of the head = %q, want v3", got)
			}
			// Publishing the head again changes nothing.
			again := mustPublish(t, c, o.head().Bytes())
			if !again[0].Existed {
				t.Fatalf("republished head: %+v, want Existed", again[0])
			}
		})
	}
}

// oneByOne is a store without its PutAll: the remote then stores each
// record of a call before it verifies the next.
type oneByOne struct{ store.Store }

// stores are the two ways a remote stores a call's records.
func stores(t *testing.T) map[string]store.Store {
	st, err := sqlitestore.Open(bg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st2, err := sqlitestore.Open(bg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	return map[string]store.Store{"batch": st, "one-by-one": oneByOne{st2}}
}

// Every record the remote refuses is refused with its own reason and kind,
// whether a call's records are stored with one commit or one by one.
func TestRejected(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) { testRejected(t, st) })
	}
}

func testRejected(t *testing.T, st store.Store) {
	r := startRemote(t, st, nil)
	alice, bob := newKeys(t), newKeys(t)
	ca, cb := dial(t, r.httpURL, alice), dial(t, r.peerURL, bob)
	o, recs := newObject(t, alice, "v0")
	mustPublish(t, ca, recs...)
	f0 := o.head()
	mustPublish(t, ca, o.update(t, "v1")...)
	f1 := o.head()

	// Records made to be refused.
	tampered := append([]byte(nil), f1.Bytes()...)
	tampered[len(tampered)-20] ^= 1
	forkC, forkAddr := seal(t, o.key, "fork")
	fork, err := f0.Next(alice.Signer(), forkAddr, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	gapC, gapAddr := seal(t, o.key, "gap")
	f2, _ := f1.Next(alice.Signer(), gapAddr, time.Time{})
	gap, _ := f2.Next(alice.Signer(), gapAddr, time.Time{})
	lone, _ := seal(t, o.key, "lone")
	_, missing := seal(t, o.key, "never published")
	missingFrame, _ := f1.Next(alice.Signer(), missing, time.Time{})
	bobsID := bob.Identity.Bytes()
	expired, _ := f1.Next(alice.Signer(), forkAddr, time.Now().Add(-time.Hour))
	dev, _ := record.NewKeys(time.Now())
	devRec, _ := alice.AuthoriseDevice(dev.Identity.Sign, "old phone", time.Now().Add(-time.Minute))
	_ = devRec

	tests := []struct {
		name   string
		c      *remote.Client
		recs   [][]byte
		reason remote.Reason
		kind   service.Kind
	}{
		{"not a record", ca, [][]byte{[]byte("hello")}, remote.ReasonMalformed, service.KindInvalid},
		{"tampered frame", ca, [][]byte{tampered}, remote.ReasonTampered, service.KindInvalid},
		{"replayed frame", ca, [][]byte{f0.Bytes()}, remote.ReasonReplayed, service.KindConflict},
		{"forked frame", ca, [][]byte{forkC, fork.Bytes()}, remote.ReasonForked, service.KindConflict},
		{"frame after a gap", ca, [][]byte{gapC, gap.Bytes()}, remote.ReasonGap, service.KindConflict},
		{"unbound container", ca, [][]byte{lone}, remote.ReasonUnbound, service.KindInvalid},
		{"frame of missing content", ca, [][]byte{missingFrame.Bytes()}, remote.ReasonMissingTarget, service.KindNotFound},
		{"expired frame", ca, [][]byte{forkC, expired.Bytes()}, remote.ReasonExpired, service.KindPermissionDenied},
		{"another's frame", cb, [][]byte{gapC, f2.Bytes()}, remote.ReasonUnauthorised, service.KindPermissionDenied},
		{"another's identity", ca, [][]byte{bobsID}, remote.ReasonUnauthorised, service.KindPermissionDenied},
		{"a device record", ca, [][]byte{devRec.Bytes()}, remote.ReasonUnsupported, service.KindUnsupported},
		{"no records", ca, nil, remote.ReasonMalformed, service.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.Publish(bg, tt.recs...)
			if got := remote.ReasonOf(err); got != tt.reason || service.KindOf(err) != tt.kind {
				t.Fatalf("Publish = %v: reason %q, kind %v; want %q, %v", err, got, service.KindOf(err), tt.reason, tt.kind)
			}
		})
	}
	// Several updates in one call; a fork in the middle of a call keeps
	// the updates before it.
	var batch [][]byte
	for i := range 3 {
		batch = append(batch, o.update(t, fmt.Sprint("batch ", i))...)
	}
	p, err := ca.Publish(bg, batch...)
	if err != nil || len(p) != 6 {
		t.Fatalf("three updates in one call: %+v, %v", p, err)
	}
	good := o.update(t, "kept")
	forkC2, forkAddr2 := seal(t, o.key, "fork 2")
	fork2, _ := o.frames[len(o.frames)-2].Next(alice.Signer(), forkAddr2, time.Time{})
	_, err = ca.Publish(bg, append(good, forkC2, fork2.Bytes())...)
	if remote.ReasonOf(err) != remote.ReasonForked {
		t.Fatalf("a fork after an update in one call: %v, want forked", err)
	}
	f1 = o.head()

	// None of it moved the head.
	head, err := cb.Get(bg, o.id())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := record.ParseFrame(head); err != nil || got.Hash() != f1.Hash() {
		t.Fatalf("head after the refusals = %v, %v; want the last update", got, err)
	}
}

// A frame signed by a key that is not the owner's, even one that claims
// the owner, is refused: a client without the key cannot publish as
// another identity, nor log in as one.
func TestImpersonation(t *testing.T) {
	r := startRemote(t, nil, nil)
	alice, mallory := newKeys(t), newKeys(t)
	ca := dial(t, r.peerURL, alice)
	o, recs := newObject(t, alice, "v0")
	mustPublish(t, ca, recs...)

	// Mallory logs in with alice's identity but her own key.
	_, err := remote.Dial(bg, r.peerURL, alice.Identity, mallory.Signer())
	if err == nil {
		t.Fatal("Dial with another identity's signer succeeded")
	}
	// A frame of alice's object that names alice as owner, signed by
	// mallory's key as spec.md of package record says: it verifies on its
	// own, but does not speak for alice.
	c, addr := seal(t, o.key, "evil")
	prev := o.head().Hash()
	evil := record.Frame{Kind: record.KindFrame, Suite: record.Suite1, ID: o.id(), Nonce: o.head().Nonce,
		Counter: 1, Prev: &prev, Target: addr}
	evil.Owner = alice.Fingerprint()
	key := ed25519.NewKeyFromSeed(mallory.Seed()[:ed25519.SeedSize])
	evil.Signer = key.Public().(ed25519.PublicKey)
	unsigned, err := wire.Marshal(&evil)
	if err != nil {
		t.Fatal(err)
	}
	evil.Sig = ed25519.Sign(key, append([]byte("glyph-objects:frame\x00"), unsigned...))
	evilBytes, err := wire.Marshal(&evil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := record.ParseFrame(evilBytes); err != nil {
		t.Fatalf("the forged frame does not parse: %v", err)
	}
	cm := dial(t, r.peerURL, mallory)
	for _, cl := range []*remote.Client{cm, ca} {
		_, err = cl.Publish(bg, c, evilBytes)
		if remote.ReasonOf(err) != remote.ReasonUnauthorised {
			t.Fatalf("a frame for alice's object signed by mallory: %v, want it refused", err)
		}
	}
	if head, err := ca.Get(bg, o.id()); err != nil || record.Sum(head) != o.head().Hash() {
		t.Fatalf("head after the forgeries = %v, want frame 0", err)
	}
}

func TestReasonOf(t *testing.T) {
	if remote.ReasonOf(errors.New("forked: x")) != "" {
		t.Fatal("ReasonOf found a reason in an error that is not a service error")
	}
	err := &service.Error{Kind: service.KindConflict, Message: "publish: forked: record 1: x"}
	if remote.ReasonOf(err) != remote.ReasonForked {
		t.Fatal("ReasonOf missed the reason behind an operation")
	}
	err.Kind = service.KindInvalid
	if remote.ReasonOf(err) != "" {
		t.Fatal("ReasonOf took a reason of another kind")
	}
}

// A writer may keep several publish calls in flight: a call whose first
// frame follows one that an earlier call is still storing waits for it
// (remote.GapWait) instead of being refused as a gap, whichever of the
// two calls the server takes up first. A frame whose predecessor no call
// brings is still refused, after the wait.
func TestPublishInFlight(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			r := startRemote(t, st, nil)
			alice := newKeys(t)
			c := dial(t, r.peerURL, alice)
			o, recs := newObject(t, alice, "v0")
			mustPublish(t, c, recs...)
			first := append(o.update(t, "v1"), o.update(t, "v2")...)
			second := append(o.update(t, "v3"), o.update(t, "v4")...)

			// The second call goes first; the first follows it after a
			// while, well within GapWait.
			errs := make(chan error, 1)
			start := time.Now()
			go func() {
				_, err := c.Publish(bg, second...)
				errs <- err
			}()
			time.Sleep(remote.GapWait / 5)
			mustPublish(t, c, first...)
			if err := <-errs; err != nil {
				t.Fatalf("the call sent ahead of its predecessor: %v", err)
			}
			if d := time.Since(start); d >= remote.GapWait+remote.GapWait/2 {
				t.Errorf("the calls took %v", d)
			}
			got, err := c.Get(bg, o.id())
			if err != nil || !bytes.Equal(got, o.head().Bytes()) {
				t.Fatalf("the head after both calls: %v; want frame %d", err, o.head().Counter)
			}

			// A frame two ahead of the head waits, then is refused.
			o.update(t, "lost")
			gap := o.update(t, "after the lost one")
			start = time.Now()
			_, err = c.Publish(bg, gap...)
			if remote.ReasonOf(err) != remote.ReasonGap {
				t.Fatalf("a frame after a gap: %v, want %s", err, remote.ReasonGap)
			}
			if d := time.Since(start); d < remote.GapWait {
				t.Errorf("the gap was refused after %v, before GapWait (%v)", d, remote.GapWait)
			}
		})
	}
}
