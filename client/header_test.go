package client_test

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// TestHeaderOnPeerCalls: a header given with WithHeader goes with every
// peer call, a key given twice with its values joined; Accept does not.
func TestHeaderOnPeerCalls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []map[string]string
	inner := hyperpeer.NewHandler(tourService())
	cfg := []peer.Option{peer.WithHandler(peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
		mu.Lock()
		seen = append(seen, s.Header())
		mu.Unlock()
		return inner.ServePeer(ctx, s)
	}))}
	go peer.Serve(ctx, l, cfg...)

	c := client.New(client.WithHeader("X-Trace", "a"), client.WithHeader("X-Trace", "b"),
		client.WithHeader("Authorization", "Bearer t"), client.WithHeader("Accept", "*/*"))
	defer c.Close()
	index, err := c.Get(ctx, l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	v, err := index.Path(ctx, "add", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Any(); got != int64(5) {
		t.Fatalf("add(2, 3) = %v", got)
	}
	want := map[string]string{"X-Trace": "a, b", "Authorization": "Bearer t"}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("%d calls, want 2 (the index, add)", len(seen))
	}
	for i, h := range seen {
		if !reflect.DeepEqual(h, want) {
			t.Errorf("call %d had headers %v, want %v", i, h, want)
		}
	}
}

// TestNames: the names Get finds, sorted; none where there are none.
func TestNames(t *testing.T) {
	ctx := context.Background()
	svc := service.New(service.WithName("names"))
	svc.MustFunc("zeta", func() int { return 1 })
	svc.MustFunc("alpha", func(a int) int { return a }, service.Args("a"))
	svc.MustClass("Member", Member{}, service.Method("greet", service.Args("greeting")), service.Method("profile"), service.Method("older", service.Args("years")))
	u, _ := targets[0].serve(t, svc)
	index, err := client.New().Get(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Member", "alpha", "zeta"}
	if got := index.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	alpha, err := index.Get("alpha")
	if err != nil {
		t.Fatal(err)
	}
	if got := alpha.Names(); len(got) != 0 {
		t.Errorf("a form's Names() = %q", got)
	}
}
