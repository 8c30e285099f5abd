package remote_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

// A remote on an embedded store, and two clients: alice publishes a
// dynamic object and updates it, bob follows it over a peer connection.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "remote-example")
	defer os.RemoveAll(dir)
	st, err := sqlitestore.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv, err := remote.New(st, ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	go hyperhttp.NewServer("", srv.Handler()).Serve(ln)

	alice, _ := record.NewKeys(time.Now())
	bob, _ := record.NewKeys(time.Now())
	ca, err := remote.Dial(ctx, "http://"+ln.Addr().String()+"/", alice.Identity, alice.Signer())
	if err != nil {
		log.Fatal(err)
	}
	defer ca.Close()
	cb, err := remote.Dial(ctx, "ws://"+ln.Addr().String()+"/peer", bob.Identity, bob.Signer())
	if err != nil {
		log.Fatal(err)
	}
	defer cb.Close()

	// publish seals content and publishes it with the frame that points to it.
	key := record.NewEpochKey(0)
	var head *record.Frame
	publish := func(content string) {
		var c bytes.Buffer
		addr, _ := record.Seal(&c, bytes.NewReader([]byte(content)), key)
		if head == nil {
			head, _ = record.NewDynamic(alice.Signer(), addr, time.Time{})
		} else {
			head, _ = head.Next(alice.Signer(), addr, time.Time{})
		}
		if _, err := ca.Publish(ctx, c.Bytes(), head.Bytes()); err != nil {
			log.Fatal(err)
		}
	}
	publish("hello")
	sub := remote.Subscription{Objects: []record.Address{head.ID}}
	go publish("hello again")

	for ch, err := range cb.Subscribe(ctx, sub) {
		if err != nil {
			log.Fatal(err)
		}
		f, _ := record.ParseFrame(ch.Record)
		c, _ := cb.Get(ctx, f.Target)
		var content bytes.Buffer
		record.Open(&content, bytes.NewReader(c), f.Target, key)
		fmt.Printf("frame %d: %s\n", f.Counter, content.String())
		if f.Counter == 1 {
			break
		}
	}
	// Output:
	// frame 0: hello
	// frame 1: hello again
}

// A container of any size goes through the remote in chunks: the writer
// seals it into a file and publishes it from there with the frame that
// points to it; a reader opens it as it streams from the remote. Neither
// holds it whole.
func ExampleClient_PublishContainer() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "remote-example")
	defer os.RemoveAll(dir)
	st, err := sqlitestore.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv, err := remote.New(st, ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	go hyperhttp.NewServer("", srv.Handler()).Serve(ln)

	alice, _ := record.NewKeys(time.Now())
	c, err := remote.Dial(ctx, "ws://"+ln.Addr().String()+"/peer", alice.Identity, alice.Signer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// 5 MiB of content, more than one publish call carries.
	key := record.NewEpochKey(0)
	f, _ := os.CreateTemp(dir, "container")
	defer f.Close()
	addr, err := record.Seal(f, bytes.NewReader(bytes.Repeat([]byte("glyph "), 5<<20/6)), key)
	if err != nil {
		log.Fatal(err)
	}
	size, _ := f.Seek(0, io.SeekCurrent)
	f.Seek(0, io.SeekStart)
	frame, _ := record.NewDynamic(alice.Signer(), addr, time.Time{})
	if _, err := c.PublishContainer(ctx, addr, size, f, frame.Bytes()); err != nil {
		log.Fatal(err)
	}

	body, err := c.GetContainer(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer body.Close()
	n, err := record.Open(io.Discard, body, addr, key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("opened %d bytes\n", n)
	// Output:
	// opened 5242878 bytes
}
