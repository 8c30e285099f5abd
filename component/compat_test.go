package component_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/componenttest"
	"github.com/glyph-ipc/glyph/service"
)

// Search is the provider's interface in its second version: Run gained
// an input with a default, Tag a required one.
type Search interface {
	Run(ctx context.Context, query string, max int) ([]string, error)
	Size(ctx context.Context) (int, error)
	Tag(ctx context.Context, name, color string) error
}

type search struct{}

func (search) Run(_ context.Context, q string, max int) ([]string, error) {
	out := []string{}
	for range max {
		out = append(out, q)
	}
	return out, nil
}
func (search) Size(context.Context) (int, error)         { return 3, nil }
func (search) Tag(context.Context, string, string) error { return nil }

func searchService() *service.Service {
	svc := service.New()
	component.MustRegister[Search](svc, search{}, component.Version("2.0"),
		component.Method("Run", component.Args("query", "max"), component.Default("max", 1)),
		component.Method("Tag", component.Args("name", "color")))
	return svc
}

func newRouter(t *testing.T, rs component.Routes, opts ...component.RouterOption) *component.Router {
	t.Helper()
	r, err := component.NewRouter(append([]component.RouterOption{component.WithRoutes(rs)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestCompatibility(t *testing.T) {
	url := componenttest.ServeHTTP(t, searchService())
	r := newRouter(t, component.Routes{"Search": {Providers: []string{url}}})
	ctx := context.Background()

	t.Run("an input added with a default", func(t *testing.T) {
		var old struct {
			Run func(ctx context.Context, query string) ([]string, error)
		}
		if err := r.Bind(ctx, "Search", &old); err != nil {
			t.Fatal(err)
		}
		got, err := old.Run(ctx, "q")
		if err != nil || len(got) != 1 || got[0] != "q" {
			t.Fatalf("Run = %v, %v", got, err)
		}
	})
	t.Run("a method the caller does not know", func(t *testing.T) {
		var few struct {
			Size func(ctx context.Context) (int, error)
		}
		if err := r.Bind(ctx, "Search", &few); err != nil {
			t.Fatal(err)
		}
	})
	refused := []struct {
		name string
		stub any
		want []string
	}{
		{"a removed method", &struct {
			Gone func(ctx context.Context) error
		}{}, []string{"Search.gone", "the caller expects gone()", "Search 2.0", "has no such method", "it offers run, size, tag"}},
		{"a changed input type", &struct {
			Run func(ctx context.Context, query int) ([]string, error)
		}{}, []string{"Search.run", `input "query": the caller sends integer, the provider takes unicode`, "run(query unicode, max integer = 1)"}},
		{"a new required input", &struct {
			Tag func(ctx context.Context, name string) error
		}{}, []string{"Search.tag", `the provider requires input "color" (unicode), which the caller does not send`}},
		{"a changed result type", &struct {
			Size func(ctx context.Context) (string, error)
		}{}, []string{"Search.size", "the result: the provider returns integer, the caller expects unicode"}},
		{"a removed input", &struct {
			Run func(ctx context.Context, query string, max int, extra bool) ([]string, error)
		}{}, []string{"Search.run", "the caller sends 3 argument(s), the provider takes 2"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Bind(ctx, "Search", tt.stub)
			if !errors.Is(err, component.ErrIncompatible) || service.KindOf(err) != service.KindUnimplemented {
				t.Fatalf("Bind = %v, want an incompatible-interface error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error %q does not say %q", err, w)
				}
			}
		})
	}
	t.Run("another interface at the provider", func(t *testing.T) {
		r := newRouter(t, component.Routes{"Other": {Providers: []string{url}}})
		var s struct {
			Size func(context.Context) (int, error)
		}
		err := r.Bind(ctx, "Other", &s)
		if service.KindOf(err) != service.KindNotFound || !strings.Contains(err.Error(), "serves no interface Other") {
			t.Fatalf("Bind = %v", err)
		}
	})
}

func TestBindErrors(t *testing.T) {
	url := componenttest.ServeHTTP(t, searchService())
	ctx := context.Background()
	var s struct {
		Size func(context.Context) (int, error)
	}
	tests := []struct {
		name   string
		routes component.Routes
		iface  string
		kind   service.Kind
		want   string
	}{
		{"no route", component.Routes{"Search": {Providers: []string{url}}}, "Nope", service.KindNotFound, "no route for interface Nope"},
		{"unknown scheme", component.Routes{"Search": {Providers: []string{"gopher://x/"}}}, "Search", service.KindUnsupported, `no transport for scheme "gopher"`},
		{"nothing reachable", component.Routes{"Search": {Providers: []string{"http://127.0.0.1:1/"}}}, "Search", service.KindUnavailable, "no provider could be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRouter(t, tt.routes)
			err := r.Bind(ctx, tt.iface, &s)
			if service.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Bind = %v, want kind %v saying %q", err, tt.kind, tt.want)
			}
		})
	}
}

// Watcher's method takes a callback, which HTTP cannot carry.
type Watcher interface {
	Watch(ctx context.Context, onChange func(string)) error
}

type watcher struct{}

func (watcher) Watch(_ context.Context, onChange func(string)) error {
	onChange("changed")
	return nil
}

func TestCapabilityAtBind(t *testing.T) {
	svc := service.New()
	component.MustRegister[Watcher](svc, watcher{}, component.Method("Watch", component.Args("on_change")))
	ctx := context.Background()
	var w struct {
		Watch func(ctx context.Context, onChange func(string)) error
	}
	r := newRouter(t, component.Routes{"Watcher": {Providers: []string{componenttest.ServeHTTP(t, svc)}}})
	err := r.Bind(ctx, "Watcher", &w)
	if service.KindOf(err) != service.KindUnsupported || !strings.Contains(err.Error(), "Watcher.watch") || !strings.Contains(err.Error(), "transport http") {
		t.Fatalf("Bind over HTTP = %v, want an unsupported error naming the method and the transport", err)
	}
	t.Cleanup(component.ServeInProcess("watcher", svc))
	for _, provider := range []string{componenttest.ServePeer(t, "tcp", svc), "inproc:watcher", "inproc:watcher?copy=0"} {
		r = newRouter(t, component.Routes{"Watcher": {Providers: []string{provider}}})
		if err := r.Bind(ctx, "Watcher", &w); err != nil {
			t.Fatalf("Bind to %s: %v", provider, err)
		}
		var got []string
		if err := w.Watch(ctx, func(s string) { got = append(got, s) }); err != nil || len(got) != 1 || got[0] != "changed" {
			t.Fatalf("Watch at %s = %v, called back with %v", provider, err, got)
		}
		// A callback of another func type: called with its arguments converted.
		var w2 struct {
			Watch func(ctx context.Context, onChange func(ctx context.Context, s string) error) error
		}
		if err := r.Bind(ctx, "Watcher", &w2); err != nil {
			t.Fatal(err)
		}
		got = nil
		err := w2.Watch(ctx, func(_ context.Context, s string) error { got = append(got, s); return nil })
		if err != nil || len(got) != 1 || got[0] != "changed" {
			t.Fatalf("Watch at %s with a callback of another type = %v, called back with %v", provider, err, got)
		}
	}
}

// TestClientBindWithoutRouter: a component's resource is an ordinary
// hyperglyph resource, which client.Bind binds a struct of funcs to with
// no router and no generated code.
func TestClientBindWithoutRouter(t *testing.T) {
	ctx := context.Background()
	c := client.New()
	idx, err := c.Get(ctx, componenttest.ServeHTTP(t, searchService()))
	if err != nil {
		t.Fatal(err)
	}
	res, err := idx.Path(ctx, "Search")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Run  func(ctx context.Context, query string, max int) ([]string, error)
		Size func(ctx context.Context) (int, error)
	}
	if err := res.Bind(&s); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Run(ctx, "x", 2); err != nil || len(got) != 2 {
		t.Fatalf("Run = %v, %v", got, err)
	}
	if n, err := s.Size(ctx); err != nil || n != 3 {
		t.Fatalf("Size = %d, %v", n, err)
	}
}

// TestDialWithoutStubs: with no generated stubs, Dial says to run glyph
// gen, except for a colocated caller that asked for no copies, which
// gets the implementation itself.
func TestDialWithoutStubs(t *testing.T) {
	ctx := context.Background()
	r := newRouter(t, component.Routes{"Search": {Providers: []string{componenttest.ServeHTTP(t, searchService())}}})
	_, err := component.Dial[Search](ctx, r)
	if service.KindOf(err) != service.KindUnsupported || !strings.Contains(err.Error(), "glyph gen") || !strings.Contains(err.Error(), "Router.Bind") {
		t.Fatalf("Dial without stubs = %v", err)
	}
	t.Cleanup(component.ServeInProcess("search-nostub", searchService()))
	r = newRouter(t, component.Routes{"Search": {Providers: []string{"inproc:search-nostub?copy=0"}}})
	s, err := component.Dial[Search](ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(search); !ok {
		t.Fatalf("a colocated caller without copies got %T, want the implementation", s)
	}
	r = newRouter(t, component.Routes{"Search": {Providers: []string{"inproc:search-nostub"}}})
	if _, err := component.Dial[Search](ctx, r); service.KindOf(err) != service.KindUnsupported {
		t.Fatalf("a colocated caller with copies and no stubs: %v", err)
	}
}
