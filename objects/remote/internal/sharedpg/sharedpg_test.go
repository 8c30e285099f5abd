package sharedpg_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/internal/pgtest"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store/pgstore"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var bg = context.Background()

// startRemote serves a remote over its own pgstore.Store on the database
// conn, with a session key shared by the remotes of a test.
func startRemote(t *testing.T, conn string, key []byte) string {
	t.Helper()
	st, err := pgstore.Open(bg, conn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := remote.New(st, ln.Addr().String(), remote.WithSessionKey(key))
	if err != nil {
		t.Fatal(err)
	}
	hs := hyperhttp.NewServer("", srv.Handler())
	go hs.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
		st.Close()
	})
	return "ws://" + ln.Addr().String() + "/peer"
}

// writer writes one dynamic object.
type writer struct {
	k    *record.Keys
	key  record.EpochKey
	head *record.Frame
}

// next returns the records of the next frame, with content s, and the
// frame, which the caller makes the head once published.
func (w *writer) next(t *testing.T, s string) ([][]byte, *record.Frame) {
	t.Helper()
	var c bytes.Buffer
	addr, err := record.Seal(&c, bytes.NewReader([]byte(s)), w.key, record.WithSegmentSize(record.MinSegmentSize))
	if err != nil {
		t.Fatal(err)
	}
	var f *record.Frame
	if w.head == nil {
		f, err = record.NewDynamic(w.k.Signer(), addr, time.Time{})
	} else {
		f, err = w.head.Next(w.k.Signer(), addr, time.Time{})
	}
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{c.Bytes(), f.Bytes()}, f
}

// Two remotes on one database: each serves what the other stored, pushes
// the other's updates to its subscribers, and of two frames with one
// counter published through both exactly one is taken.
func TestTwoRemotes(t *testing.T) {
	conn := pgtest.Need(t)
	key := bytes.Repeat([]byte{0x5a}, 32)
	a, b := startRemote(t, conn, key), startRemote(t, conn, key)
	alice, _ := record.NewKeys(time.Now())
	bob, _ := record.NewKeys(time.Now())
	dial := func(url string, k *record.Keys) *remote.Client {
		c, err := remote.Dial(bg, url, k.Identity, k.Signer())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	aliceA, aliceB, bobB, bobA := dial(a, alice), dial(b, alice), dial(b, bob), dial(a, bob)

	w := &writer{k: alice, key: record.NewEpochKey(0)}
	recs, f := w.next(t, "v0")
	if _, err := aliceA.Publish(bg, recs...); err != nil {
		t.Fatal(err)
	}
	w.head = f
	if got, err := bobB.Get(bg, f.ID); err != nil || record.Sum(got) != f.Hash() {
		t.Fatalf("frame 0 through the other remote: %v", err)
	}

	// Bob follows the object on each remote; alice writes through both.
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	follow := func(c *remote.Client) <-chan record.Address {
		out := make(chan record.Address, 64)
		go func() {
			for ch, err := range c.Subscribe(ctx, remote.Subscription{Objects: []record.Address{f.ID}, Since: 0}) {
				if err != nil {
					return
				}
				out <- record.Sum(ch.Record)
			}
		}()
		return out
	}
	onA, onB := follow(bobA), follow(bobB)
	for i, via := range []*remote.Client{aliceA, aliceB, aliceA, aliceB} {
		recs, f := w.next(t, fmt.Sprint("v", i+1))
		if _, err := via.Publish(bg, recs...); err != nil {
			t.Fatal(err)
		}
		w.head = f
	}
	for name, ch := range map[string]<-chan record.Address{"a": onA, "b": onB} {
		for i := 0; i <= 4; i++ {
			select {
			case got := <-ch:
				if i == 4 && got != w.head.Hash() {
					t.Fatalf("the last change on remote %s is not the head", name)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("remote %s pushed %d changes of 5", name, i)
			}
		}
	}

	// A race: one frame 5 through each remote.
	r1, _ := w.next(t, "fork one")
	r2, _ := w.next(t, "fork two")
	errs := make(chan error, 2)
	go func() { _, err := aliceA.Publish(bg, r1...); errs <- err }()
	go func() { _, err := aliceB.Publish(bg, r2...); errs <- err }()
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("two frames 5 through two remotes: %v and %v; want exactly one taken", e1, e2)
	}
	for _, err := range []error{e1, e2} {
		if err != nil && remote.ReasonOf(err) != remote.ReasonForked {
			t.Fatalf("the frame that lost: %v, want forked", err)
		}
	}
}
