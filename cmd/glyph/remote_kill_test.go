package main

import (
	"context"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
)

// A remote killed with SIGKILL in the middle of a stream of publishes
// loses none it acknowledged: restarted on the same store, it has every
// acknowledged frame, and the object's head is at least the last one.
func TestRemoteSIGKILL(t *testing.T) {
	dir := t.TempDir()
	p := startRemoteProc(t, nil, "--store", "sqlite:"+dir, "--log-level", "error")
	k, _ := record.NewKeys(time.Now())
	c, err := remote.Dial(context.Background(), p.peerURL, k.Identity, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := newRemoteObject(t, k)

	var acked []*record.Frame
	done := make(chan error, 1)
	enough := make(chan struct{})
	go func() {
		for {
			recs := o.update(t)
			if _, err := c.Publish(context.Background(), recs...); err != nil {
				done <- err
				return
			}
			acked = append(acked, o.head)
			if len(acked) == 100 {
				close(enough)
			}
		}
	}()
	select {
	case <-enough:
	case err := <-done:
		t.Fatalf("publishing failed before the kill: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("100 publishes took more than 30s")
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	<-done // the publish in flight fails; acked is final
	t.Logf("%d publishes acknowledged before SIGKILL", len(acked))

	p2 := startRemoteProc(t, nil, "--store", "sqlite:"+dir, "--log-level", "error")
	c2, err := remote.Dial(context.Background(), p2.peerURL, k.Identity, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	last := acked[len(acked)-1]
	head, err := c2.Get(context.Background(), last.ID)
	if err != nil {
		t.Fatal(err)
	}
	f, err := record.ParseFrame(head)
	if err != nil {
		t.Fatal(err)
	}
	if f.Counter < last.Counter {
		t.Fatalf("head after the restart is frame %d; frame %d was acknowledged", f.Counter, last.Counter)
	}
	for _, a := range acked {
		if _, err := c2.Get(context.Background(), a.Hash()); err != nil {
			t.Fatalf("acknowledged frame %d lost: %v", a.Counter, err)
		}
		if _, err := c2.Get(context.Background(), a.Target); err != nil {
			t.Fatalf("the content of acknowledged frame %d lost: %v", a.Counter, err)
		}
	}
}
