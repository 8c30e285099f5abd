package front_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
)

// TestIndex: the front's index lists the interfaces with public methods,
// and each interface's resource the public methods, with the provider's
// profile, inputs, types, defaults and declarations.
func TestIndex(t *testing.T) {
	d := newDeployment(t)
	if got := d.front.Interfaces(); !reflect.DeepEqual(got, []string{"Catalog"}) {
		t.Fatalf("Interfaces() = %v, want [Catalog]", got)
	}
	ctx := context.Background()
	c := client.New()
	defer c.Close()
	idx, err := c.Get(ctx, d.url)
	if err != nil {
		t.Fatal(err)
	}
	if got := idx.Names(); !reflect.DeepEqual(got, []string{"Catalog"}) {
		t.Fatalf("the index lists %v, want [Catalog]", got)
	}
	res, err := c.Get(ctx, d.url+"Catalog/")
	if err != nil {
		t.Fatal(err)
	}
	r, ok := res.Any().(hyper.Resource)
	if !ok {
		t.Fatalf("Catalog/ is %T, want a resource", res.Any())
	}
	if r.Profile != "urn:glyph:component:Catalog:2.1" {
		t.Errorf("profile %q", r.Profile)
	}
	if got := sorted(res.Names()); !reflect.DeepEqual(got, []string{"count", "echo", "lookup"}) {
		t.Fatalf("Catalog/ offers %v, want count, echo, lookup", got)
	}
	lookup, ok := r.Content["lookup"].(hyper.Form)
	if !ok {
		t.Fatalf("lookup is %T, want a form", r.Content["lookup"])
	}
	want := []hyper.Input{{Name: "prefix", Type: "unicode"}, {Name: "limit", Type: "integer", Default: int64(2), HasDefault: true}}
	if !reflect.DeepEqual(lookup.Values, want) {
		t.Errorf("lookup's inputs are %+v, want %+v", lookup.Values, want)
	}
	if lookup.HTTPMethod() != "GET" {
		t.Errorf("lookup is called with %s, want GET (it is read-only)", lookup.HTTPMethod())
	}
	wantAttrs := map[string]any{"public": true, "returns": "object unicode dict/2 list/1"}
	if !reflect.DeepEqual(lookup.Extra, wantAttrs) {
		t.Errorf("lookup's attributes are %v, want %v", lookup.Extra, wantAttrs)
	}
}
