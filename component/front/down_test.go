package front_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// TestComponentDown: while the component behind the front is down, a
// call through the front fails fast as unavailable (503 over HTTP), a
// retryable answer; once it is back, calls go through again.
func TestComponentDown(t *testing.T) {
	dir, err := os.MkdirTemp("", "front")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	addr := "unix://" + filepath.Join(dir, "c.sock")
	svc := catalogService()
	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		l, err := peer.Listen(ctx, addr)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			peer.Serve(ctx, l, peer.WithHandler(hyperpeer.NewHandler(svc)), peer.WithLogger(quiet))
			close(done)
		}()
		return func() { cancel(); <-done }
	}
	stop := start()
	r, err := component.NewRouter(component.WithRoutes(component.Routes{"Catalog": {Providers: []string{addr}}}),
		component.WithProbeInterval(5*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	f, err := front.New(ctx, r, front.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	url := serveHTTP(t, f)
	c := client.New()
	defer c.Close()
	lookup := func() error {
		idx, err := c.Get(ctx, url)
		if err != nil {
			return err
		}
		_, err = idx.Path(ctx, "Catalog.lookup", "a")
		return err
	}
	if err := lookup(); err != nil {
		t.Fatal(err)
	}
	stop()
	err = lookup()
	if service.KindOf(err) != service.KindUnavailable || client.StatusCode(err) != http.StatusServiceUnavailable {
		t.Fatalf("with the component down, a call through the front failed with %v (status %d), want 503 unavailable", err, client.StatusCode(err))
	}
	defer start()()
	deadline := time.Now().Add(5 * time.Second)
	for lookup() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the component is back, but calls through the front still fail: %v", lookup())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
