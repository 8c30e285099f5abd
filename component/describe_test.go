package component_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
)

// TestRouterDescribe: the router gives the description of the first of
// an interface's providers that describes it, passing over those whose
// transport cannot, and says why when none can.
func TestRouterDescribe(t *testing.T) {
	svc := service.New(service.WithLogger(slog.New(slog.DiscardHandler)))
	component.MustRegister[Search](svc, search{}, component.Version("2.0"),
		component.Method("Run", component.Args("query", "max"), component.Default("max", 1), component.Public(), component.ReadOnly()),
		component.Method("Size", component.Idempotent()),
		component.Method("Tag", component.Args("name", "color")))
	web := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithLogger(slog.New(slog.DiscardHandler))))
	defer web.Close()
	rpcSrv := httptest.NewServer(jsonrpc.NewHandler(svc, jsonrpc.WithLogger(slog.New(slog.DiscardHandler))))
	defer rpcSrv.Close()
	rpc := "jsonrpc+" + rpcSrv.URL + "/"
	gone := "unix://" + filepath.Join(t.TempDir(), "nobody.sock")

	ctx := context.Background()
	in, err := newRouter(t, component.Routes{"Search": {Providers: []string{rpc, web.URL + "/"}}}).Describe(ctx, "Search")
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "Search" || in.Version != "2.0" || !reflect.DeepEqual(in.Names(), []string{"run", "size", "tag"}) {
		t.Fatalf("described %s with %v", in, in.Names())
	}
	run := in.Methods["run"]
	wantInputs := []hyper.Input{{Name: "query", Type: "unicode"}, {Name: "max", Type: "integer", Default: int64(1), HasDefault: true}}
	if !run.Public || !run.ReadOnly || run.Result != "unicode list/1" || !reflect.DeepEqual(run.Inputs, wantInputs) {
		t.Errorf("run is described as %+v", run)
	}
	if in.Methods["size"].Public || !in.Methods["size"].Idempotent || in.Methods["tag"].Public {
		t.Errorf("size and tag are described as %+v and %+v", in.Methods["size"], in.Methods["tag"])
	}

	tests := []struct {
		name   string
		routes component.Routes
		iface  string
		kind   service.Kind
		says   string
	}{
		{"no route", component.Routes{"Search": {Providers: []string{rpc}}}, "Other", service.KindNotFound, "no route for interface Other"},
		{"no provider describes", component.Routes{"Search": {Providers: []string{rpc}}}, "Search", service.KindUnsupported, "(jsonrpc)"},
		{"unreachable", component.Routes{"Search": {Providers: []string{rpc, gone}}}, "Search", service.KindUnavailable, gone},
		{"no such interface", component.Routes{"Other": {Providers: []string{web.URL + "/"}}}, "Other", service.KindNotFound, "serves no interface Other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newRouter(t, tt.routes).Describe(ctx, tt.iface)
			if service.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Describe(%s) failed with %v (kind %v), want kind %v saying %q", tt.iface, err, service.KindOf(err), tt.kind, tt.says)
			}
		})
	}
}

// TestBindDescribed: a caller with no Go types binds from a description
// and calls with glyph values; a provider that does not fit the
// description is refused before any call.
func TestBindDescribed(t *testing.T) {
	ws := httptest.NewServer(hyperhttp.NewHandler(searchService(), hyperhttp.WithLogger(slog.New(slog.DiscardHandler))))
	defer ws.Close()
	r := newRouter(t, component.Routes{"Search": {Providers: []string{ws.URL + "/"}}})
	ctx := context.Background()
	in, err := r.Describe(ctx, "Search")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.BindDescribed(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var got any
	if err := b.Call(ctx, "run", []any{"q", int64(2)}, &got); err != nil {
		t.Fatal(err)
	}
	if want := []any{"q", "q"}; !reflect.DeepEqual(got, want) {
		t.Errorf("run(q, 2) = %#v, want %#v", got, want)
	}
	if err := b.Call(ctx, "tag", []any{"a", "red"}, nil); err != nil {
		t.Fatal(err)
	}

	changed := &component.Interface{Name: "Search", Methods: map[string]*component.Signature{
		"run": {Name: "run", Inputs: []hyper.Input{{Name: "query", Type: "integer"}}},
	}}
	_, err = r.BindDescribed(ctx, changed)
	if !errors.Is(err, component.ErrIncompatible) || !strings.Contains(err.Error(), `input "query": the caller sends integer, the provider takes unicode`) {
		t.Errorf("binding a description that does not fit failed with %v, want an incompatible query", err)
	}
	missing := &component.Interface{Name: "Search", Methods: map[string]*component.Signature{"gone": {Name: "gone"}}}
	if _, err := r.BindDescribed(ctx, missing); !errors.Is(err, component.ErrIncompatible) {
		t.Errorf("binding a method the provider lacks failed with %v, want an incompatible interface", err)
	}
}
