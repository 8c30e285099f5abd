package service_test

import (
	"context"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
)

type Shop struct {
	Name string
}

func (s Shop) Open() bool { return true }

// WithIndex serves a chosen resource at the root instead of the listing.
func TestWithIndexServesChosenResource(t *testing.T) {
	s := service.New(service.WithIndex("home"))
	s.MustClass("Shop", Shop{}, service.Method("open", service.Safe()))
	s.MustFunc("home", func() Shop { return Shop{Name: "corner"} }, service.Safe())
	ctx := context.Background()
	res, err := s.Serve(ctx, &service.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := res.Value.(hyper.Resource)
	if !ok || r.Name != "Shop" || r.Content["Name"] != "corner" {
		t.Fatalf("root = %#v", res.Value)
	}
	if _, ok := r.Content["open"].(hyper.Link); !ok {
		t.Fatalf("open = %#v", r.Content["open"])
	}
	if !res.Cacheable {
		t.Error("a safe index is cacheable")
	}
	// The function stays callable at its own URL.
	if _, err := s.Serve(ctx, &service.Request{Method: "GET", Path: "home"}); err != nil {
		t.Fatal(err)
	}
	// A missing index function is NotFound, not a panic.
	bad := service.New(service.WithIndex("nope"))
	if _, err := bad.Serve(ctx, &service.Request{Method: "GET"}); service.KindOf(err) != service.KindNotFound {
		t.Fatalf("missing index: %v", err)
	}
}
