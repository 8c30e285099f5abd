package front_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/component/secret"
	"github.com/glyph-ipc/glyph/service"
)

// TestPart: the front as a part of a process that serves every part
// (component.Start without a supervisor) serves the components that have
// public methods, leaves out one that has none (Vault) rather than
// failing, and does not pass on a caller's proof of the secret.
func TestPart(t *testing.T) {
	ctx := context.Background()
	parts := []component.Part{
		{Name: "Catalog", Install: func(_ context.Context, svc *service.Service, _ *component.Router) error {
			return registerCatalog(svc)
		}},
		{Name: "Vault", Install: func(_ context.Context, svc *service.Service, _ *component.Router) error {
			return component.Register[Vault](svc, vault{})
		}},
		front.Part(front.WithLogger(quiet)),
	}
	p, err := component.Start(ctx, parts, component.WithLogger(quiet), component.WithListen(front.Name, "127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	d := &deployment{url: p.Addr(front.Name)}
	if !strings.HasPrefix(d.url, "http://127.0.0.1:") {
		t.Fatalf("the front is at %q", d.url)
	}

	c := client.New()
	defer c.Close()
	idx, err := c.Get(ctx, d.url)
	if err != nil {
		t.Fatal(err)
	}
	if got := idx.Names(); !reflect.DeepEqual(got, []string{"Catalog"}) {
		t.Errorf("the front's index lists %v, want [Catalog]", got)
	}
	var got []Item
	if err := protocols[0].call(t, d, ctx, "Catalog.lookup", []any{"a"}, &got); err != nil {
		t.Fatal(err)
	}
	if want := items[:2]; !reflect.DeepEqual(got, want) {
		t.Errorf("lookup(a) = %+v, want %+v", got, want)
	}

	hctx := client.WithCallHeader(ctx, secret.Header, "forged")
	hctx = client.WithCallHeader(hctx, "X-Identity", "alice")
	var seen Seen
	if err := protocols[0].call(t, d, hctx, "Catalog.echo", nil, &seen); err != nil {
		t.Fatal(err)
	}
	if seen.Headers["x-identity"] != "alice" {
		t.Errorf("x-identity arrived as %q (headers %v)", seen.Headers["x-identity"], seen.Headers)
	}
	if v, ok := seen.Headers[strings.ToLower(secret.Header)]; ok {
		t.Errorf("the caller's %s reached the component: %q", secret.Header, v)
	}
}
