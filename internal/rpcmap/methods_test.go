package rpcmap_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
)

type Counter struct{ N int }

func (c *Counter) Incr(by int) int { c.N += by; return c.N }

// TestDiscoverFollowsResources checks that the methods of resources the
// index links to (URLs ending in "/") are found, named by their path,
// and that those of instances whose state is in their URL are not. The
// index names no resource (it is no component), but keeps its profile.
func TestDiscoverFollowsResources(t *testing.T) {
	svc := service.New(service.WithIndex("home"))
	svc.MustClass("Counter", Counter{}, service.Persistent(nil), service.Method("incr", service.Args("by")))
	svc.MustFunc("make", func() *Counter { return &Counter{} })
	var id string
	svc.MustFunc("home", func(ctx context.Context) hyper.Resource {
		return hyper.Resource{Name: "Home", Profile: "urn:test:home", Content: map[string]any{
			"counter": hyper.Link{URL: "/Counter/" + id + "/"},
			"self":    hyper.Link{URL: "/"},
			"away":    hyper.Link{URL: "http://elsewhere/x/"},
			"state":   hyper.Form{URL: "/Counter/?Di1;", Method: "POST"},
			"ping":    hyper.Form{URL: "ping", Values: []hyper.Input{{Name: "x", Type: "integer list/1"}}},
		}}
	}, service.Safe())
	svc.MustFunc("ping", func(x []int) int { return len(x) }, service.Args("x"))
	res, err := svc.Serve(context.Background(), &service.Request{Method: "POST", Path: "make"})
	if err != nil {
		t.Fatal(err)
	}
	id = strings.Split(strings.TrimPrefix(res.Value.(hyper.Resource).URL, "/Counter/"), "/")[0]

	table, err := rpcmap.Discover(context.Background(), svc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Counter." + id + ".incr", "ping"}
	if got := table.Names(); !slices.Equal(got, want) {
		t.Fatalf("methods %q, want %q", got, want)
	}
	m := table.Lookup("ping")
	if m.Path != "ping" || m.HTTPMethod != "POST" || m.Types[0].String() != "integer list/1" || m.Resource != "" || m.Profile != "urn:test:home" {
		t.Errorf("ping: %+v", m)
	}
	srv := rpcmap.NewServer(svc, "test", 1<<20)
	for want := int64(1); want <= 2; want++ {
		got, err := srv.Serve(context.Background(), &rpcmap.Call{Method: "Counter." + id + ".incr", Positional: []any{int64(1)}})
		if err != nil || got != want {
			t.Errorf("incr: %v, %v; want %d", got, err, want)
		}
	}
}
