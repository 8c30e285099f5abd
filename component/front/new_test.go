package front_test

import (
	"context"
	"net"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
)

func router(t *testing.T, routes component.Routes) *component.Router {
	t.Helper()
	r, err := component.NewRouter(component.WithRoutes(routes), component.WithProbeInterval(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestNewRefuses: interfaces named explicitly must be routed, have
// public methods, be described and be reachable.
func TestNewRefuses(t *testing.T) {
	svc := catalogService()
	rpc := "jsonrpc+" + serveHTTP(t, jsonrpc.NewHandler(svc, jsonrpc.WithLogger(quiet)))
	peers := servePeers(t, svc)
	gone := "unix://" + filepath.Join(t.TempDir(), "nobody.sock")
	tests := []struct {
		name   string
		routes component.Routes
		iface  string
		kind   service.Kind
	}{
		{"not routed", component.Routes{"Catalog": {Providers: []string{peers}}}, "Nope", service.KindNotFound},
		{"no public method", component.Routes{"Vault": {Providers: []string{peers}}}, "Vault", service.KindInvalid},
		{"not described", component.Routes{"Catalog": {Providers: []string{rpc}}}, "Catalog", service.KindUnsupported},
		{"not reachable", component.Routes{"Catalog": {Providers: []string{gone}}}, "Catalog", service.KindUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := front.New(context.Background(), router(t, tt.routes), front.WithInterfaces(tt.iface))
			if service.KindOf(err) != tt.kind {
				t.Errorf("New failed with %v (kind %v), want kind %v", err, service.KindOf(err), tt.kind)
			}
		})
	}
}

// TestDiscoveryLeavesOut: discovering its interfaces from the routing
// table, the front leaves out those it cannot describe and those with no
// public method.
func TestDiscoveryLeavesOut(t *testing.T) {
	svc := catalogService()
	rpc := "jsonrpc+" + serveHTTP(t, jsonrpc.NewHandler(svc, jsonrpc.WithLogger(quiet)))
	r := router(t, component.Routes{"Catalog": {Providers: []string{rpc}}, "Vault": {Providers: []string{servePeers(t, svc)}}})
	f, err := front.New(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Interfaces(); len(got) != 0 {
		t.Errorf("the front serves %v, want nothing", got)
	}
}

// TestWithDescription: a component reached over JSON-RPC, which does not
// describe it, is served by the front from a description read in this
// process, and its calls forwarded over JSON-RPC.
func TestWithDescription(t *testing.T) {
	svc := catalogService()
	defer component.ServeInProcess("front-test-catalog", svc)()
	ctx := context.Background()
	in, err := router(t, component.Routes{"Catalog": {Providers: []string{"inproc:front-test-catalog"}}}).Describe(ctx, "Catalog")
	if err != nil {
		t.Fatal(err)
	}
	rpc := "jsonrpc+" + serveHTTP(t, jsonrpc.NewHandler(svc, jsonrpc.WithLogger(quiet)))
	f, err := front.New(ctx, router(t, component.Routes{"Catalog": {Providers: []string{rpc}}}),
		front.WithInterfaces("Catalog"), front.WithDescription(in), front.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	c := client.New()
	defer c.Close()
	idx, err := c.Get(ctx, serveHTTP(t, f))
	if err != nil {
		t.Fatal(err)
	}
	v, err := idx.Path(ctx, "Catalog.lookup", "apr")
	if err != nil {
		t.Fatal(err)
	}
	var got []Item
	if err := v.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, items[1:2]) {
		t.Errorf("lookup(apr) over JSON-RPC behind the front = %+v, want %+v", got, items[1:2])
	}
}

// TestServe: Serve answers on the listener it is given until its
// context ends, then ends the peer connections and returns nil.
func TestServe(t *testing.T) {
	d := newDeployment(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.front.Serve(ctx, l) }()
	c := client.New()
	defer c.Close()
	root := "http://" + l.Addr().String() + "/"
	if _, err := c.Get(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	pc := client.New()
	defer pc.Close()
	if _, err := pc.Get(context.Background(), "ws://"+l.Addr().String()+"/peer"); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return when its context ended")
	}
	if _, err := client.New().Get(context.Background(), root); service.KindOf(err) != service.KindUnavailable {
		t.Errorf("after Serve returned, a request failed with %v, want unavailable", err)
	}
	if _, err := pc.Get(context.Background(), "ws://"+l.Addr().String()+"/peer"); err == nil {
		t.Errorf("the peer connection outlived Serve")
	}
}
