package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/internal/chatroom"
)

// runDemo serves the room on a free port, has two members, ann and bob,
// talk in it over WebSocket peer connections of their own, and prints the
// transcript: each call, what it answered and what the server delivered
// to each member, in a fixed order. It checks what it prints, and shuts
// everything down before it returns.
func runDemo(ctx context.Context, w io.Writer) (err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := startServer("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer func() {
		if e := s.shutdown(); err == nil {
			err = e
		}
	}()
	fmt.Fprintf(w, "The chat room serves HTTP at %s and peers at %s.\nann and bob connect to it as peers, each over a WebSocket of their own.\n\n", s.url, s.peerURL)

	ann, err := demoJoin(ctx, w, s.peerURL, "ann",
		"deliver is a Go func: the server calls it back with every message until the call ends")
	if err != nil {
		return err
	}
	defer ann.close()
	if err := saw(ctx, w, ann); err != nil {
		return err
	}
	bob, err := demoJoin(ctx, w, s.peerURL, "bob", "")
	if err != nil {
		return err
	}
	defer bob.close()
	if err := saw(ctx, w, ann, bob); err != nil {
		return err
	}

	fmt.Fprintf(w, "ann> send(\"ann\", \"hi bob\")\n")
	v, err := ann.index.Path(ctx, "send", "ann", "hi bob")
	if err != nil {
		return err
	}
	var id int
	if err := v.Decode(&id); err != nil {
		return err
	}
	fmt.Fprintf(w, "  = %d\n", id)
	if err := saw(ctx, w, ann, bob); err != nil {
		return err
	}

	fmt.Fprintf(w, "bob> post(messages)\n  # one call whose arguments stream: each message reaches the room while the call goes on\n")
	var inPost error
	texts := func(yield func(string) bool) {
		for _, t := range []string{"hi ann", "two messages, one call"} {
			if !yield(t) {
				return
			}
			// The call is still open, and the message is already there.
			if inPost = saw(ctx, w, ann, bob); inPost != nil {
				return
			}
		}
	}
	n, err := post(ctx, bob.index, "bob", texts)
	if err := errors.Join(inPost, err); err != nil {
		return err
	}
	fmt.Fprintf(w, "  = %d\n", n)

	fmt.Fprintf(w, "bob> leave\n  # bob cancels his join call: the server's join returns and calls his deliver no more\n")
	bob.leave()
	if err := <-bob.left; err != nil {
		return fmt.Errorf("bob's join call: %v", err)
	}
	if err := saw(ctx, w, ann); err != nil {
		return err
	}

	fmt.Fprintf(w, "ann> who()\n")
	v, err = ann.index.Path(ctx, "who")
	if err != nil {
		return err
	}
	var who []string
	if err := v.Decode(&who); err != nil {
		return err
	}
	fmt.Fprintf(w, "  = %q\n", who)

	fmt.Fprintf(w, "ann> history()\n  # a streamed result: each message is a reply of its own, printed as it arrives\n")
	for m, err := range history(ctx, ann.index) {
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s\n", m)
	}

	fmt.Fprintf(w, "ann> leave\n")
	ann.leave()
	if err := <-ann.left; err != nil {
		return fmt.Errorf("ann's join call: %v", err)
	}
	if len(bob.seen) > 0 {
		return fmt.Errorf("bob was delivered %v after he left", <-bob.seen)
	}
	return nil
}

// A demoMember is a member of the demo's room, with a client and a peer
// connection of its own.
type demoMember struct {
	name  string
	c     *client.Client
	index *client.Value
	seen  chan chatroom.Message // what the server delivered
	leave context.CancelFunc
	left  <-chan error // the join call's error, once it ended
}

// demoJoin connects name to the room at url and joins, printing the call.
func demoJoin(ctx context.Context, w io.Writer, url, name, note string) (*demoMember, error) {
	fmt.Fprintf(w, "%s> join(%q, deliver)\n", name, name)
	if note != "" {
		fmt.Fprintf(w, "  # %s\n", note)
	}
	c := client.New()
	index, err := c.Get(ctx, url)
	if err != nil {
		c.Close()
		return nil, err
	}
	jctx, leave := context.WithCancel(ctx)
	m := &demoMember{name: name, c: c, index: index, seen: make(chan chatroom.Message, 16), leave: leave}
	m.left = join(jctx, index, name, func(ctx context.Context, msg chatroom.Message) error {
		select {
		case m.seen <- msg:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return m, nil
}

func (m *demoMember) close() {
	m.leave()
	m.c.Close()
}

// saw waits for the next message delivered to each of ms in turn and
// prints it.
func saw(ctx context.Context, w io.Writer, ms ...*demoMember) error {
	for _, m := range ms {
		select {
		case msg := <-m.seen:
			fmt.Fprintf(w, "  %s ← %s\n", m.name, msg)
		case err := <-m.left:
			return fmt.Errorf("%s's join call ended: %v", m.name, err)
		case <-time.After(5 * time.Second):
			return fmt.Errorf("nothing was delivered to %s in 5s", m.name)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
