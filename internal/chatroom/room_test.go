package chatroom_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/chatroom"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// joined is a Join running on its own goroutine.
type joined struct {
	seen  chan chatroom.Message // what deliver was called with
	calls atomic.Int32          // how often deliver was called
	stop  context.CancelFunc
	done  chan error // Join's result
}

func join(t *testing.T, r *chatroom.Room, name string) *joined {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	j := &joined{seen: make(chan chatroom.Message, 1000), stop: cancel, done: make(chan error, 1)}
	go func() {
		j.done <- r.Join(ctx, name, func(_ context.Context, m chatroom.Message) error {
			j.calls.Add(1)
			j.seen <- m
			return nil
		})
	}()
	t.Cleanup(cancel)
	return j
}

// next returns the next message delivered, waiting at most 5 seconds.
func (j *joined) next(t *testing.T) chatroom.Message {
	t.Helper()
	select {
	case m := <-j.seen:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message delivered within 5s")
		return chatroom.Message{}
	}
}

// wait returns Join's result, waiting at most 5 seconds.
func (j *joined) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-j.done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Join did not return within 5s")
		return nil
	}
}

func lines(seq func(func(chatroom.Message) bool)) []string {
	var out []string
	for m := range seq {
		out = append(out, m.String())
	}
	return out
}

func TestJoinSendLeave(t *testing.T) {
	r := chatroom.New()
	ann := join(t, r, "ann")
	if m := ann.next(t); m != (chatroom.Message{ID: 1, Text: "ann joined"}) {
		t.Fatalf("ann first saw %+v", m)
	}
	bob := join(t, r, "bob")
	for _, j := range []*joined{ann, bob} {
		if got := j.next(t).String(); got != "[2] * bob joined" {
			t.Errorf("saw %q", got)
		}
	}
	if got := r.Who(); !reflect.DeepEqual(got, []string{"ann", "bob"}) {
		t.Errorf("who: %q", got)
	}
	id, err := r.Send("ann", "hi bob")
	if err != nil || id != 3 {
		t.Fatalf("send: %d, %v", id, err)
	}
	for _, j := range []*joined{ann, bob} {
		if got := j.next(t).String(); got != "[3] ann: hi bob" {
			t.Errorf("saw %q", got)
		}
	}

	bob.stop()
	if err := bob.wait(t); err != nil {
		t.Errorf("bob's Join returned %v", err)
	}
	if got := ann.next(t).String(); got != "[4] * bob left" {
		t.Errorf("ann saw %q", got)
	}
	if _, err := r.Send("ann", "still there?"); err != nil {
		t.Fatal(err)
	}
	ann.next(t)
	if n := bob.calls.Load(); n != 2 {
		t.Errorf("deliver was called %d times for bob, want 2: never after Join returned", n)
	}
	if got := r.Who(); !reflect.DeepEqual(got, []string{"ann"}) {
		t.Errorf("who: %q", got)
	}
	want := []string{"[1] * ann joined", "[2] * bob joined", "[3] ann: hi bob", "[4] * bob left", "[5] ann: still there?"}
	if got := lines(r.History()); !reflect.DeepEqual(got, want) {
		t.Errorf("history %q, want %q", got, want)
	}
}

func TestCloseEndsJoins(t *testing.T) {
	r := chatroom.New()
	ann := join(t, r, "ann")
	ann.next(t)
	r.Close()
	if err := ann.wait(t); err != nil {
		t.Errorf("Join returned %v after Close", err)
	}
	if _, err := r.Send("ann", "hello?"); service.KindOf(err) != service.KindUnavailable {
		t.Errorf("Send after Close: %v", err)
	}
	if err := r.Join(context.Background(), "bob", func(context.Context, chatroom.Message) error { return nil }); service.KindOf(err) != service.KindUnavailable {
		t.Errorf("Join after Close: %v", err)
	}
	if got := lines(r.History()); !reflect.DeepEqual(got, []string{"[1] * ann joined"}) {
		t.Errorf("history %q", got)
	}
	r.Close() // twice is fine
}

// TestSlowMemberDropped: a member whose deliver does not keep up is
// dropped with Overloaded; the others go on.
func TestSlowMemberDropped(t *testing.T) {
	r := chatroom.New()
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := make(chan error, 1)
	go func() {
		slow <- r.Join(ctx, "slow", func(context.Context, chatroom.Message) error {
			<-release
			return nil
		})
	}()
	fast := join(t, r, "fast")
	for deadline := time.Now().Add(5 * time.Second); len(r.Who()) < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("members %q", r.Who())
		}
		time.Sleep(time.Millisecond)
	}
	for range 300 {
		if _, err := r.Send("x", "spam"); err != nil {
			t.Fatal(err)
		}
		for fast.next(t).Text != "spam" { // the fast one keeps up
		}
	}
	close(release)
	select {
	case err := <-slow:
		if service.KindOf(err) != service.KindOverloaded || !strings.Contains(err.Error(), "slow fell 256 messages behind") {
			t.Errorf("the slow member's Join returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the slow member was not dropped")
	}
	var last chatroom.Message
	for last.Text != "slow left" {
		last = fast.next(t)
	}
	if got := r.Who(); !reflect.DeepEqual(got, []string{"fast"}) {
		t.Errorf("who: %q", got)
	}
}

func TestDeliverFails(t *testing.T) {
	r := chatroom.New()
	err := r.Join(context.Background(), "ann", func(context.Context, chatroom.Message) error {
		return service.Errorf(service.KindUnavailable, "gone")
	})
	if service.KindOf(err) != service.KindUnavailable || !strings.Contains(err.Error(), "gone") {
		t.Errorf("Join returned %v, want deliver's error", err)
	}
	if len(r.Who()) != 0 {
		t.Errorf("who: %q", r.Who())
	}
}

func TestPost(t *testing.T) {
	r := chatroom.New()
	n, err := r.Post(slices.Values([]chatroom.Message{{From: "ann", Text: "one"}, {ID: 99, From: "bob", Text: "two"}}))
	if err != nil || n != 2 {
		t.Fatalf("post: %d, %v", n, err)
	}
	n, err = r.Post(slices.Values([]chatroom.Message{{From: "ann", Text: "three"}, {From: "", Text: "nobody"}, {From: "ann", Text: "never"}}))
	if n != 1 || service.KindOf(err) != service.KindInvalid || !strings.Contains(err.Error(), "message 2: a name is 1 to 32 bytes") {
		t.Errorf("post with a bad second message: %d, %v", n, err)
	}
	want := []string{"[1] ann: one", "[2] bob: two", "[3] ann: three"}
	if got := lines(r.History()); !reflect.DeepEqual(got, want) {
		t.Errorf("history %q, want %q", got, want)
	}
}

func TestHistoryKeepsTheLatest(t *testing.T) {
	r := chatroom.New()
	for i := range chatroom.MaxHistory + 5 {
		r.Send("ann", fmt.Sprint(i+1))
	}
	h := slices.Collect(r.History())
	if len(h) != chatroom.MaxHistory || h[0].ID != 6 || h[len(h)-1].ID != chatroom.MaxHistory+5 {
		t.Errorf("history of %d messages, %v to %v", len(h), h[0], h[len(h)-1])
	}
}

func TestBadInput(t *testing.T) {
	r := chatroom.New()
	for _, tt := range []struct{ name, text string }{
		{"", "hi"},
		{strings.Repeat("a", chatroom.MaxName+1), "hi"},
		{"a\nb", "hi"},
		{"\xff", "hi"},
		{"ann", strings.Repeat("x", chatroom.MaxText+1)},
		{"ann", "\xff"},
	} {
		if _, err := r.Send(tt.name, tt.text); service.KindOf(err) != service.KindInvalid {
			t.Errorf("Send(%q, %.10q): %v, want Invalid", tt.name, tt.text, err)
		}
	}
	if err := r.Join(context.Background(), "", nil); service.KindOf(err) != service.KindInvalid {
		t.Errorf("Join without a name: %v", err)
	}
	if len(slices.Collect(r.History())) != 0 {
		t.Error("a refused message is in the history")
	}
}

// TestOverPeers serves the room to peers over WebSocket and uses it as
// a program would, with package client: join passes a Go func that the
// server calls back, history streams. Canceling the join call ends it on
// the server, the callback is released, and no goroutine is left over.
func TestOverPeers(t *testing.T) {
	before := runtime.NumGoroutine()
	r := chatroom.New()
	p := peer.New(peer.WithHandler(hyperpeer.NewHandler(r.Service())))
	srv := httptest.NewServer(p.WebSocketHandler())
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/peer"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c := client.New()
	index, err := c.Get(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	joinForm, err := index.Get("join")
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 100)
	var calls atomic.Int32
	jctx, leave := context.WithCancel(ctx)
	joinDone := make(chan error, 1)
	go func() {
		_, err := joinForm.Call(jctx, "ann", func(m chatroom.Message) {
			calls.Add(1)
			seen <- m.String()
		})
		joinDone <- err
	}()
	next := func() string {
		t.Helper()
		select {
		case s := <-seen:
			return s
		case <-time.After(5 * time.Second):
			t.Fatal("nothing delivered within 5s")
			return ""
		}
	}
	if got := next(); got != "[1] * ann joined" {
		t.Errorf("got %q", got)
	}
	v, err := index.Path(ctx, "send", "bob", "hi ann")
	var id int
	if err != nil || v.Decode(&id) != nil || id != 2 {
		t.Fatalf("send: %v, %v", v, err)
	}
	if got := next(); got != "[2] bob: hi ann" {
		t.Errorf("got %q", got)
	}
	history, err := index.Get("history")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for v, err := range history.Stream(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		var m chatroom.Message
		if err := v.Decode(&m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m.String())
	}
	if want := []string{"[1] * ann joined", "[2] bob: hi ann"}; !reflect.DeepEqual(got, want) {
		t.Errorf("history streamed %q, want %q", got, want)
	}

	leave()
	select {
	case err := <-joinDone:
		if service.KindOf(err) != service.KindCanceled {
			t.Errorf("the join call ended with %v, want Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the join call did not end")
	}
	// The server's Join returned: ann is gone and the room says so.
	deadline := time.Now().Add(5 * time.Second)
	for len(r.Who()) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if w := r.Who(); len(w) != 0 {
		t.Errorf("who after leaving: %q", w)
	}
	if _, err := index.Path(ctx, "send", "bob", "anyone?"); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("the callback ran %d times, want 2: never after its call ended", n)
	}

	c.Close()
	srv.Close()
	p.Close()
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left over (%d before):\n%s", n-before, before, buf[:runtime.Stack(buf, true)])
	}
}
