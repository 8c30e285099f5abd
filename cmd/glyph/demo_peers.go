package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/internal/chatroom"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
)

// demoPeers calls the demo's server over peer connections: the
// walkthrough, to show that the same service answers there, then the chat
// room, with a callback the server calls back and a result that streams.
func demoPeers(ctx context.Context, d *demo) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	w := d.w
	fmt.Fprintf(w, `The same server accepts peers, over WebSocket on the same port:

  %s       the walkthrough service: the very registrations HTTP serves
  %s  a chat room (examples/chat)

On a peer connection results and arguments stream, and either side calls
the other, so a function can take a callback.

`, d.peerURL, d.chatURL)
	c := client.New()
	defer c.Close()

	index, err := c.Get(ctx, d.peerURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "» index = GET %s\n  # the walkthrough's index over a peer connection: its forms and links are called on it\n\n", d.peerURL)
	v, err := index.Path(ctx, "hello", "Peer")
	if err != nil {
		return err
	}
	printStep(d, walkthrough.Step{Call: `index.hello("Peer")`, Value: v})
	var s string
	if err := v.Decode(&s); err != nil || s != "Hello Peer" {
		return fmt.Errorf(`index.hello("Peer") over %s gave %q, %v; want "Hello Peer"`, d.peerURL, s, err)
	}

	chat, err := c.Get(ctx, d.chatURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "» chat = GET %s\n\n", d.chatURL)

	// The callback hands what it is given to this goroutine, which
	// prints it, so that the transcript keeps its order.
	delivered := make(chan chatroom.Message, 16)
	deliver := func(ctx context.Context, m chatroom.Message) error {
		select {
		case delivered <- m:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	got := func(want string) error {
		select {
		case m := <-delivered:
			fmt.Fprintf(w, "  deliver ← %s\n", m)
			if m.String() != want {
				return fmt.Errorf("deliver got %q, want %q", m, want)
			}
			return nil
		case <-time.After(5 * time.Second):
			return fmt.Errorf("deliver was not called within 5s (want %q)", want)
		}
	}
	join, err := chat.Get("join")
	if err != nil {
		return err
	}
	jctx, leave := context.WithCancel(ctx)
	defer leave()
	joined := make(chan error, 1)
	go func() {
		_, err := join.Call(jctx, "demo", deliver)
		joined <- err
	}()
	fmt.Fprintf(w, `» chat.join("demo", deliver)
  # deliver is a Go func: the client registers it on the connection and sends
  # its name; the server calls it with every message until the call ends
`)
	if err := got("[1] * demo joined"); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for i, m := range []struct{ from, text string }{{"ann", "hello"}, {"bob", "hi ann"}} {
		v, err := chat.Path(ctx, "send", m.from, m.text)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "» chat.send(%q, %q)\n", m.from, m.text)
		p := newPrinter(false)
		p.block(1, "", v.Any())
		w.Write(p.out.Bytes())
		if err := got(fmt.Sprintf("[%d] %s: %s", i+2, m.from, m.text)); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "» leave()\n  # canceling the join call ends it on the server too: deliver is called no more\n\n")
	leave()
	select {
	case <-joined:
	case <-time.After(5 * time.Second):
		return fmt.Errorf("the join call did not end within 5s of its cancellation")
	}
	// The server's join returns on its own time; wait for it to.
	var who []string
	for deadline := time.Now().Add(5 * time.Second); ; {
		v, err := chat.Path(ctx, "who")
		if err != nil {
			return err
		}
		if err := v.Decode(&who); err != nil {
			return err
		}
		if len(who) == 0 {
			printStep(d, walkthrough.Step{Call: "chat.who()", Value: v})
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chat.who() still lists %q 5s after the join call ended", who)
		}
		time.Sleep(10 * time.Millisecond)
	}

	fmt.Fprintf(w, "» for item in chat.history(): print(item)\n  # history returns an iter.Seq: over a peer connection each item is a\n  # message of its own, printed here as it arrives\n")
	history, err := chat.Get("history")
	if err != nil {
		return err
	}
	var items []string
	for v, err := range history.Stream(ctx) {
		if err != nil {
			return err
		}
		item := newPrinter(false).compact(v.Any())
		fmt.Fprintf(w, "  %s\n", item)
		items = append(items, item)
	}
	want := []string{
		`{"from": "", "id": 1, "text": "demo joined"}`,
		`{"from": "ann", "id": 2, "text": "hello"}`,
		`{"from": "bob", "id": 3, "text": "hi ann"}`,
		`{"from": "", "id": 4, "text": "demo left"}`,
	}
	if !slices.Equal(items, want) {
		return fmt.Errorf("history streamed %q, want %q", items, want)
	}
	if len(delivered) > 0 {
		return fmt.Errorf("deliver was called after its call ended, with %v", <-delivered)
	}
	return nil
}
