package hypernats_test

import (
	"context"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/service"
)

// Counter is a persistent class: its instances' methods have paths
// without a query, which method names can reach.
type Counter struct{ N int }

func (c *Counter) Incr(by int) int { c.N += by; return c.N }

// The server walks from the index into the resources it holds: here the
// index is a persistent instance, whose methods become subjects. A class
// whose state is in its URLs is served for its constructor only.
func TestDiscoveryWalksResources(t *testing.T) {
	svc := service.New(service.WithIndex("home"))
	svc.MustClass("Counter", Counter{}, service.Persistent(nil), service.Method("incr", service.Args("by")))
	svc.MustClass("Point", Point{})
	home := &Counter{}
	svc.MustFunc("home", func() *Counter { return home }, service.Safe())
	ns := startNATS(t)
	srv := serve(t, connect(t, ns.ClientURL()), svc)
	var incr string
	for _, s := range srv.Subjects() {
		if strings.HasPrefix(s, "glyph.Counter.") && strings.HasSuffix(s, ".incr") {
			incr = strings.TrimPrefix(s, "glyph.")
		}
		if strings.Contains(s, "?") || strings.HasPrefix(s, "glyph.Point.") {
			t.Errorf("served %s", s)
		}
	}
	if incr == "" {
		t.Fatalf("no Counter method among %v", srv.Subjects())
	}
	c := hypernats.NewClient(connect(t, ns.ClientURL()))
	defer c.Close()
	var n int
	for _, want := range []int{2, 5} {
		if err := c.Call(context.Background(), incr, []any{want - n}, nil, &n); err != nil || n != want {
			t.Fatalf("%s: %d, %v; want %d", incr, n, err, want)
		}
	}
}
