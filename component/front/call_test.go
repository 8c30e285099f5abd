package front_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// protocol calls Catalog.lookup("ap", limit 2 by default) through the
// front one way, decoding the result into out.
type protocol struct {
	name string
	call func(t *testing.T, d *deployment, ctx context.Context, method string, args []any, out any) error
}

// navigate calls a method by following the front's index, as a
// hyperglyph client does, over HTTP or peers.
func navigate(root func(d *deployment) string) func(t *testing.T, d *deployment, ctx context.Context, method string, args []any, out any) error {
	return func(t *testing.T, d *deployment, ctx context.Context, method string, args []any, out any) error {
		c := client.New()
		defer c.Close()
		iface, m, _ := strings.Cut(method, ".")
		idx, err := c.Get(ctx, root(d))
		if err != nil {
			return err
		}
		v, err := idx.Path(ctx, iface+"."+m, args...)
		if err != nil {
			return err
		}
		defer v.Close()
		return v.Decode(out)
	}
}

var protocols = []protocol{
	{"hyperglyph over HTTP", navigate(func(d *deployment) string { return d.url })},
	{"peers over WebSocket", navigate(func(d *deployment) string { return d.ws })},
	{"JSON-RPC", func(t *testing.T, d *deployment, ctx context.Context, method string, args []any, out any) error {
		return jsonrpc.NewClient(d.url+"jsonrpc").Call(ctx, method, args, nil, out)
	}},
	{"XML-RPC", func(t *testing.T, d *deployment, ctx context.Context, method string, args []any, out any) error {
		return xmlrpc.NewClient(d.url+"RPC2").Call(ctx, method, args, nil, out)
	}},
}

// TestCallEveryProtocol: a public method answers the same through the
// front on every protocol, defaults included, and errors keep their kind.
func TestCallEveryProtocol(t *testing.T) {
	d := newDeployment(t)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			var got []Item
			if err := p.call(t, d, ctx, "Catalog.lookup", []any{"a"}, &got); err != nil {
				t.Fatal(err)
			}
			if want := items[:2]; !reflect.DeepEqual(got, want) {
				t.Errorf("lookup(a) = %+v, want %+v", got, want)
			}
			if err := p.call(t, d, ctx, "Catalog.lookup", []any{"a", 3}, &got); err != nil {
				t.Fatal(err)
			}
			if want := items[:3]; !reflect.DeepEqual(got, want) {
				t.Errorf("lookup(a, 3) = %+v, want %+v", got, want)
			}
			err := p.call(t, d, ctx, "Catalog.lookup", []any{"a", -1}, &got)
			if service.KindOf(err) != service.KindInvalid || !strings.Contains(err.Error(), "negative limit") {
				t.Errorf("lookup(a, -1) failed with %v (kind %v), want the component's invalid error", err, service.KindOf(err))
			}
		})
	}
}

// TestTypedCallerThroughFront: a Go caller binds to the front as to any
// provider, and calls the public methods; a streamed result streams.
func TestTypedCallerThroughFront(t *testing.T) {
	d := newDeployment(t)
	ctx := context.Background()
	for _, u := range []string{d.url, d.ws} {
		r, err := component.NewRouter(component.WithRoutes(component.Routes{"Catalog": {Providers: []string{u}}}))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var cat struct {
			Lookup func(ctx context.Context, prefix string, limit int) ([]Item, error)
			Count  func(ctx context.Context, n int) (func(func(int) bool), error)
		}
		if err := r.Bind(ctx, "Catalog", &cat); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		got, err := cat.Lookup(ctx, "b", 5)
		if err != nil || !reflect.DeepEqual(got, items[3:]) {
			t.Errorf("%s: Lookup(b, 5) = %+v, %v", u, got, err)
		}
		seq, err := cat.Count(ctx, 4)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		var n []int
		for i := range seq {
			n = append(n, i)
		}
		if !reflect.DeepEqual(n, []int{0, 1, 2, 3}) {
			t.Errorf("%s: Count(4) yielded %v", u, n)
		}
	}
}

// TestHeadersAndDeadline: the caller's call headers reach the component
// through the front, on every protocol that carries them, and so does
// its deadline; the headers of the hop do not.
func TestHeadersAndDeadline(t *testing.T) {
	d := newDeployment(t)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			ctx := client.WithCallHeader(context.Background(), "Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			ctx = client.WithCallHeader(ctx, "X-Identity", "alice")
			ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			var seen Seen
			if err := p.call(t, d, ctx, "Catalog.echo", nil, &seen); err != nil {
				t.Fatal(err)
			}
			if got := seen.Headers["traceparent"]; got != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" {
				t.Errorf("traceparent arrived as %q (headers %v)", got, seen.Headers)
			}
			if got := seen.Headers["x-identity"]; got != "alice" {
				t.Errorf("x-identity arrived as %q (headers %v)", got, seen.Headers)
			}
			for _, h := range []string{"user-agent", "content-type", "accept-encoding", "connection"} {
				if v, ok := seen.Headers[h]; ok {
					t.Errorf("the hop's header %s reached the component: %q", h, v)
				}
			}
			if seen.DeadlineMS < 15000 || seen.DeadlineMS > 20000 {
				t.Errorf("the component's deadline is %d ms away, want the caller's (20 s)", seen.DeadlineMS)
			}
		})
	}
}
