package hypernats_test

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/service"
)

func TestStream(t *testing.T) {
	_, g, j := setup(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		c      *hypernats.Client
		method string
		args   []any
		want   string
	}{
		{"glyph items", g, "count", []any{5}, "[0 1 2 3 4]"},
		{"json items", j, "count", []any{3}, "[0 1 2]"},
		{"no items", g, "count", []any{0}, "[]"},
		{"more than a window", g, "count", []any{100}, fmt.Sprint(seqTo(100))},
		{"a value is one item", g, "hello", []any{"Ed"}, "[Hello, Ed]"},
	}
	for _, tt := range tests {
		var got []any
		for v, err := range tt.c.Stream(ctx, tt.method, tt.args, nil) {
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			got = append(got, v)
		}
		if s := fmt.Sprint(got); s != tt.want && !(tt.want == "[]" && got == nil) {
			t.Errorf("%s: got %s, want %s", tt.name, s, tt.want)
		}
	}
	// An error before the first item is the stream's one item.
	for _, err := range g.Stream(ctx, "add", []any{1}, nil) {
		if service.KindOf(err) != service.KindInvalid {
			t.Errorf("add: got %v, want invalid", err)
		}
	}
}

func seqTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// streamService streams numbers and counts what its producer made, so
// that the tests see how far ahead of the consumer it ran.
func streamService(produced *atomic.Int64, failAt int) *service.Service {
	svc := service.New()
	svc.MustFunc("numbers", func(n int) iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			for i := range n {
				if i == failAt {
					yield(0, service.Errorf(service.KindConflict, "item %d failed", i))
					return
				}
				produced.Add(1)
				if !yield(i, nil) {
					return
				}
			}
		}
	}, service.Args("n"))
	return svc
}

// A slow consumer makes the server wait: it never runs more than a
// window ahead, whatever the stream's length.
func TestStreamSlowConsumer(t *testing.T) {
	ns := startNATS(t)
	var produced atomic.Int64
	serve(t, connect(t, ns.ClientURL()), streamService(&produced, -1))
	const window = 8
	c := hypernats.NewClient(connect(t, ns.ClientURL()), hypernats.WithClientWindow(window))
	defer c.Close()
	consumed := int64(0)
	maxAhead := int64(0)
	for v, err := range c.Stream(context.Background(), "numbers", []any{60}, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if v != consumed {
			t.Fatalf("item %d is %v", consumed, v)
		}
		consumed++
		time.Sleep(2 * time.Millisecond)
		maxAhead = max(maxAhead, produced.Load()-consumed)
	}
	if consumed != 60 {
		t.Fatalf("consumed %d items, want 60", consumed)
	}
	// The window, plus the item the producer holds while it waits.
	if maxAhead > window+1 {
		t.Errorf("the producer ran %d items ahead of the consumer, want at most %d", maxAhead, window+1)
	}
}

// Breaking off the loop stops the producer; so does a consumer that
// stops taking items without a word, after the idle timeout.
func TestStreamStops(t *testing.T) {
	ns := startNATS(t)
	var produced atomic.Int64
	serve(t, connect(t, ns.ClientURL()), streamService(&produced, -1), hypernats.WithStreamIdleTimeout(200*time.Millisecond))
	c := hypernats.NewClient(connect(t, ns.ClientURL()), hypernats.WithClientWindow(4))
	defer c.Close()
	for _, err := range c.Stream(context.Background(), "numbers", []any{1000000}, nil) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	time.Sleep(100 * time.Millisecond)
	if n := produced.Load(); n > 6 {
		t.Errorf("after a break the producer made %d items", n)
	}

	produced.Store(0)
	next, stop := iter.Pull2(c.Stream(context.Background(), "numbers", []any{1000000}, nil))
	defer stop()
	if _, err, _ := next(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // past the idle timeout, taking nothing
	if n := produced.Load(); n > 6 {
		t.Errorf("a stalled consumer let the producer make %d items", n)
	}
	var last error
	for range 10 {
		if _, err, ok := next(); !ok || err != nil {
			last = err
			break
		}
	}
	if service.KindOf(last) != service.KindDeadlineExceeded || !strings.Contains(last.Error(), "no credit") {
		t.Errorf("after the idle timeout: %v", last)
	}
}

// An error after items ends the stream with that error.
func TestStreamError(t *testing.T) {
	ns := startNATS(t)
	var produced atomic.Int64
	serve(t, connect(t, ns.ClientURL()), streamService(&produced, 3))
	c := hypernats.NewClient(connect(t, ns.ClientURL()))
	defer c.Close()
	var items []any
	var last error
	for v, err := range c.Stream(context.Background(), "numbers", []any{10}, nil) {
		if err != nil {
			last = err
			break
		}
		items = append(items, v)
	}
	if fmt.Sprint(items) != "[0 1 2]" || service.KindOf(last) != service.KindConflict || !strings.Contains(last.Error(), "item 3 failed") {
		t.Errorf("got %v then %v", items, last)
	}
}

// A caller granting more credit than WithMaxWindow gets no more than it
// ahead: the server holds at most that much credit.
func TestStreamCreditCap(t *testing.T) {
	ns := startNATS(t)
	var produced atomic.Int64
	serve(t, connect(t, ns.ClientURL()), streamService(&produced, -1), hypernats.WithMaxWindow(4))
	nc := connect(t, ns.ClientURL())
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg("glyph.numbers")
	msg.Reply = inbox
	msg.Header.Set("Glyph-Stream-Window", "2")
	msg.Data = []byte("[1000000]")
	if err := nc.PublishMsg(msg); err != nil {
		t.Fatal(err)
	}
	first, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	credit := nats.NewMsg(first.Header.Get("Glyph-Flow"))
	credit.Header.Set("Glyph-Credit", "100000")
	if err := nc.PublishMsg(credit); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	// 2 items of the first window, then at most 4, and the one waiting.
	if n := produced.Load(); n > 7 {
		t.Errorf("the producer made %d items", n)
	}
	cancel := nats.NewMsg(first.Header.Get("Glyph-Flow"))
	cancel.Header.Set("Glyph-Stream", "cancel")
	nc.PublishMsg(cancel)
}
