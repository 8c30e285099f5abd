package client_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// streamService has functions that take streamed arguments.
func streamService(calls *atomic.Int64) *service.Service {
	svc := service.New(service.WithName("streams"), service.WithLogger(slog.New(slog.DiscardHandler)))
	svc.MustFunc("total", func(xs iter.Seq[int]) int {
		calls.Add(1)
		n := 0
		for x := range xs {
			n += x
		}
		return n
	}, service.Args("xs"))
	svc.MustFunc("upper", func(words iter.Seq[string]) iter.Seq[string] {
		calls.Add(1)
		return func(yield func(string) bool) {
			for w := range words {
				if !yield(strings.ToUpper(w)) {
					return
				}
			}
		}
	}, service.Args("words"))
	svc.MustFunc("scale", func(xs iter.Seq[int], by int) []int {
		calls.Add(1)
		out := []int{}
		for x := range xs {
			out = append(out, x*by)
		}
		return out
	}, service.Args("xs", "by"), service.Default("by", 1))
	return svc
}

// ints yields 1..n.
func ints(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 1; i <= n; i++ {
			if !yield(i) {
				return
			}
		}
	}
}

// TestStreamedArguments calls functions with iter.Seq parameters with Go
// iterators, over HTTP (a list) and over peers (one message per item),
// and expects the same answers.
func TestStreamedArguments(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			var calls atomic.Int64
			index, at := tg.serve(t, streamService(&calls))
			ctx := ctxT(t)
			c := client.New()
			defer c.Close()
			idx, err := c.Get(ctx, index)
			if err != nil {
				t.Fatal(err)
			}

			if got := decode[int](t, must[*client.Value](t)(idx.Path(ctx, "total", ints(4)))); got != 10 {
				t.Errorf("total(1..4) = %d", got)
			}
			// A plain func of the iterator's shape, named.
			got := decode[int](t, must[*client.Value](t)(idx.Path(ctx, "total", client.Named{"xs": func(yield func(int) bool) {
				_ = yield(5) && yield(6)
			}})))
			if got != 11 {
				t.Errorf("total(5, 6) = %d", got)
			}
			// Items convert as arguments do: a *Value among them.
			three := must[*client.Value](t)(idx.Path(ctx, "total", ints(2)))
			if got := decode[int](t, must[*client.Value](t)(idx.Path(ctx, "total", slices.Values([]any{three, 4})))); got != 7 {
				t.Errorf("total(3, 4) = %d", got)
			}

			words := slices.Values([]string{"a", "bc", "def"})
			if got := decode[[]string](t, must[*client.Value](t)(idx.Path(ctx, "upper", words))); !slices.Equal(got, []string{"A", "BC", "DEF"}) {
				t.Errorf("upper = %q", got)
			}
			form := must[*client.Value](t)(c.Get(ctx, index))
			form, err = form.Get("upper")
			if err != nil {
				t.Fatal(err)
			}
			var streamed []string
			for v, err := range form.Stream(ctx, words) {
				if err != nil {
					t.Fatal(err)
				}
				streamed = append(streamed, decode[string](t, v))
			}
			if !slices.Equal(streamed, []string{"A", "BC", "DEF"}) {
				t.Errorf("Stream(upper) = %q", streamed)
			}
			// The form at its own URL works too.
			f := must[*client.Value](t)(c.Get(ctx, at("")))
			if got := decode[int](t, must[*client.Value](t)(f.Path(ctx, "total", ints(100)))); got != 5050 {
				t.Errorf("total(1..100) = %d", got)
			}

			// An iter.Seq2 whose error ends the call with it.
			boom := errors.New("boom")
			before := calls.Load()
			_, err = idx.Path(ctx, "total", iter.Seq2[int, error](func(yield func(int, error) bool) {
				_ = yield(1, nil) && yield(2, nil) && yield(0, boom)
			}))
			if !errors.Is(err, boom) {
				t.Errorf("total(1, 2, boom): %v", err)
			}
			if !tg.peer && calls.Load() != before {
				t.Errorf("over HTTP the failed sequence made a request")
			}
			// An iter.Seq2 without error sends its items.
			if got := decode[int](t, must[*client.Value](t)(idx.Path(ctx, "total", iter.Seq2[int, error](func(yield func(int, error) bool) {
				_ = yield(1, nil) && yield(2, nil)
			})))); got != 3 {
				t.Errorf("total(Seq2 1, 2) = %d", got)
			}

			// A bad item is rejected before it is sent, and the sequence
			// is not asked for more.
			pulled := 0
			before = calls.Load()
			_, err = idx.Path(ctx, "total", iter.Seq[any](func(yield func(any) bool) {
				for _, x := range []any{1, 2, "three", 4} {
					pulled++
					if !yield(x) {
						return
					}
				}
			}))
			if service.KindOf(err) != service.KindInvalid || !strings.Contains(err.Error(), `"xs": item 2`) {
				t.Errorf("total(1, 2, three): %v", err)
			}
			if pulled != 3 {
				t.Errorf("the sequence was pulled %d times after its bad item", pulled-3)
			}
			if !tg.peer && calls.Load() != before {
				t.Errorf("over HTTP the bad item made a request")
			}

			// Many items, with flow control over peers.
			const n = 10000
			if got := decode[int](t, must[*client.Value](t)(idx.Path(ctx, "total", ints(n)))); got != n*(n+1)/2 {
				t.Errorf("total(1..%d) = %d", n, got)
			}
			many := func(yield func(string) bool) {
				for i := range n {
					if !yield(fmt.Sprint("w", i)) {
						return
					}
				}
			}
			i := 0
			for v, err := range form.Stream(ctx, iter.Seq[string](many)) {
				if err != nil {
					t.Fatal(err)
				}
				if got := decode[string](t, v); got != fmt.Sprint("W", i) {
					t.Fatalf("item %d of upper is %q", i, got)
				}
				i++
			}
			if i != n {
				t.Errorf("upper streamed %d items, want %d", i, n)
			}

			// Other arguments travel with the list over HTTP; a peer call
			// sends only the items, so they are refused before any call.
			before = calls.Load()
			res, err := idx.Path(ctx, "scale", ints(3), 10)
			if tg.peer {
				if service.KindOf(err) != service.KindInvalid || !strings.Contains(err.Error(), `argument "by" cannot be given`) {
					t.Errorf("scale(1..3, 10) over a peer: %v", err)
				}
				if calls.Load() != before {
					t.Errorf("the refused call was made")
				}
			} else if got := decode[[]int](t, res); err != nil || !slices.Equal(got, []int{10, 20, 30}) {
				t.Errorf("scale(1..3, 10) = %v, %v", got, err)
			}
			if got := decode[[]int](t, must[*client.Value](t)(idx.Path(ctx, "scale", ints(3)))); !slices.Equal(got, []int{1, 2, 3}) {
				t.Errorf("scale(1..3) = %v", got)
			}

			// A sequence without items: an empty list over HTTP, a
			// stream of none over a peer (extension "end").
			res, err = idx.Path(ctx, "total", ints(0))
			if err != nil || decode[int](t, res) != 0 {
				t.Errorf("total() = %v, %v", res, err)
			}
		})
	}
}

// TestStreamedArgumentLimits: over HTTP a sequence is collected within
// the client's MaxItems; more items fail before any request.
func TestStreamedArgumentLimits(t *testing.T) {
	var calls atomic.Int64
	index, _ := targets[0].serve(t, streamService(&calls))
	ctx := ctxT(t)
	c := client.New(client.WithLimits(wire.Limits{MaxItems: 5}))
	idx := must[*client.Value](t)(c.Get(ctx, index))
	if got := decode[int](t, must[*client.Value](t)(idx.Path(ctx, "total", ints(5)))); got != 15 {
		t.Errorf("total(1..5) = %d", got)
	}
	before := calls.Load()
	_, err := idx.Path(ctx, "total", ints(6))
	if service.KindOf(err) != service.KindTooLarge {
		t.Errorf("total(1..6) with MaxItems 5: %v", err)
	}
	if calls.Load() != before {
		t.Errorf("the call was made")
	}
}

// TestStreamedArgumentBind: a typed stub takes a Go iterator.
func TestStreamedArgumentBind(t *testing.T) {
	var calls atomic.Int64
	for _, tg := range targets[:2] {
		t.Run(tg.name, func(t *testing.T) {
			index, _ := tg.serve(t, streamService(&calls))
			ctx := ctxT(t)
			c := client.New()
			defer c.Close()
			var api struct {
				Total func(ctx context.Context, xs iter.Seq[int]) (int, error)
			}
			if err := client.Bind(ctx, c, index, &api); err != nil {
				t.Fatal(err)
			}
			if got, err := api.Total(ctx, ints(10)); err != nil || got != 55 {
				t.Errorf("Total(1..10) = %d, %v", got, err)
			}
		})
	}
}
