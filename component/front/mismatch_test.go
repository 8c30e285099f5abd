package front_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/service"
)

// TestTypeMismatchCaughtInCaller: the front's forms carry the
// component's input types, so a caller whose types do not fit is stopped
// in its own process: at bind time when its Go types say so, at the call
// when they say nothing (any), and by a navigating client at the call.
// The front never gets a call.
func TestTypeMismatchCaughtInCaller(t *testing.T) {
	d := newDeployment(t)
	ctx := context.Background()
	r, err := component.NewRouter(component.WithRoutes(component.Routes{"Catalog": {Providers: []string{d.url}}}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	var wrong struct {
		Lookup func(ctx context.Context, prefix int, limit int) ([]Item, error)
	}
	err = r.Bind(ctx, "Catalog", &wrong)
	if !errors.Is(err, component.ErrIncompatible) || service.KindOf(err) != service.KindUnimplemented ||
		!strings.Contains(err.Error(), `input "prefix": the caller sends integer, the provider takes unicode`) {
		t.Errorf("binding lookup(int, int) failed with %v, want an incompatible interface naming prefix", err)
	}

	var loose struct {
		Lookup func(ctx context.Context, prefix any, limit int) ([]Item, error)
	}
	if err := r.Bind(ctx, "Catalog", &loose); err != nil {
		t.Fatal(err)
	}
	_, err = loose.Lookup(ctx, 42, 1)
	if service.KindOf(err) != service.KindInvalid || !strings.Contains(err.Error(), `argument "prefix"`) {
		t.Errorf("calling lookup(42, 1) failed with %v, want an invalid argument prefix", err)
	}

	c := client.New()
	defer c.Close()
	idx, err := c.Get(ctx, d.url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = idx.Path(ctx, "Catalog.lookup", 42)
	if service.KindOf(err) != service.KindInvalid || client.StatusCode(err) != 0 {
		t.Errorf("the navigating client's lookup(42) failed with %v, want an invalid argument found before sending", err)
	}

	for _, req := range d.requests.all() {
		if req != "GET /" && req != "GET /Catalog/" {
			t.Errorf("the front got %q: a call reached it", req)
		}
	}
	if !slices.Contains(d.requests.all(), "GET /Catalog/") {
		t.Errorf("the front got %v: the callers never read its description", d.requests.all())
	}
}
