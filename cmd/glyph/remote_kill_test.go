package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
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

// A remote killed with SIGKILL in the middle of an upload keeps every
// chunk it acknowledged: restarted on the same store and session key, it
// answers the upload at least where the acknowledged chunks end, and the
// container goes through whole.
func TestRemoteSIGKILLUpload(t *testing.T) {
	dir := t.TempDir()
	env := []string{"GLYPH_REMOTE_SESSION_KEY=" + strings.Repeat("k", 32)}
	p := startRemoteProc(t, env, "--store", "sqlite:"+dir, "--log-level", "error")
	k, _ := record.NewKeys(time.Now())
	content := make([]byte, 8<<20)
	rand.Read(content)
	key := record.NewEpochKey(0)
	var buf bytes.Buffer
	addr, err := record.Seal(&buf, bytes.NewReader(content), key)
	if err != nil {
		t.Fatal(err)
	}
	container, size := buf.Bytes(), int64(buf.Len())

	c, err := remote.Dial(context.Background(), p.peerURL, k.Identity, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	api := bindUploads(t, p.peerURL)
	tok := c.Session().Token
	up, err := api.Upload(context.Background(), tok, addr.Bytes(), size)
	if err != nil {
		t.Fatal(err)
	}
	var acked atomic.Int64
	done := make(chan error, 1)
	go func() {
		for off := int64(0); off < size; off += remote.MaxChunk {
			chunk := container[off:min(off+remote.MaxChunk, size)]
			if _, err := api.Append(context.Background(), tok, up.ID, off, chunk); err != nil {
				done <- err
				return
			}
			acked.Store(off + int64(len(chunk)))
		}
		done <- nil
	}()
	for acked.Load() < 3*remote.MaxChunk {
		select {
		case err := <-done:
			t.Fatalf("the upload ended before the kill: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	<-done
	t.Logf("%d of %d bytes acknowledged before SIGKILL", acked.Load(), size)

	p2 := startRemoteProc(t, env, "--store", "sqlite:"+dir, "--log-level", "error")
	c2, err := remote.Dial(context.Background(), p2.httpURL, k.Identity, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	again, err := bindUploads(t, p2.httpURL).Upload(context.Background(), c2.Session().Token, addr.Bytes(), size)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != up.ID || again.Offset < acked.Load() {
		t.Fatalf("after the restart the upload is %+v; %d bytes of %s were acknowledged", again, acked.Load(), up.ID)
	}
	frame, _ := record.NewDynamic(k.Signer(), addr, time.Time{})
	if _, err := c2.PublishContainer(context.Background(), addr, size, bytes.NewReader(container), frame.Bytes()); err != nil {
		t.Fatal(err)
	}
	rc, err := c2.GetContainer(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var opened bytes.Buffer
	if _, err := record.Open(&opened, rc, addr, key); err != nil || !bytes.Equal(opened.Bytes(), content) {
		t.Fatalf("the content read back differs (%v)", err)
	}
}

// uploadAPI is the remote's upload functions, called one by one.
type uploadAPI struct {
	Upload func(context.Context, string, []byte, int64) (remote.Upload, error)
	Append func(context.Context, string, string, int64, []byte) (remote.Upload, error)
}

func bindUploads(t *testing.T, url string) uploadAPI {
	t.Helper()
	gc := client.New()
	t.Cleanup(func() { gc.Close() })
	index, err := gc.Get(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	var api uploadAPI
	if err := index.Bind(&api); err != nil {
		t.Fatal(err)
	}
	return api
}
