package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/searchapp/search"
	"github.com/glyph-ipc/glyph/internal/searchapp/storage"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

const transcript = `The front's index lists: Search
  Search (urn:glyph:component:Search:1.0)
    GET run_query(query unicode, max_results integer = 10) -> object unicode dict/2
RunQuery("red fruit", 3) through the front:
  hyperglyph over HTTP             {results: [t1 apple, t2 cherry, t4 tomato]}
  peers at /peer                   the same
  JSON-RPC at /jsonrpc             the same
  XML-RPC at /RPC2                 the same
  a Go caller bound to the front   the same
Storage through the front:
  HTTP GET Storage/                404 Not Found, no function or class "Storage": as a name that does not exist
  HTTP GET Storage/get             404 Not Found, no function or class "Storage": as a name that does not exist
  JSON-RPC Storage.get             200 OK, -32601, no method "Storage.get": as a name that does not exist
  XML-RPC Storage.find             200 OK, -32601, no method "Storage.find": as a name that does not exist
`

// TestRun: go run ./examples/search prints the checked transcript.
func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out, ""); err != nil {
		t.Fatal(err)
	}
	if out.String() != transcript {
		t.Errorf("the transcript is\n%s\nwant\n%s", out.String(), transcript)
	}
}

// TestRunListen: with -listen the front keeps serving after the
// transcript, at the address given, until the program is interrupted.
func TestRunListen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, w, "127.0.0.1:0")
		w.Close()
	}()
	sc := bufio.NewScanner(r)
	var url string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "The front serves at "); ok {
			url = strings.TrimSuffix(u, " until Ctrl-C.")
			break
		}
	}
	if url == "" {
		t.Fatalf("run ended without saying where the front serves: %v", sc.Err())
	}
	go io.Copy(io.Discard, r)
	res, err := callers[len(callers)-1].call(ctx, url)
	if err != nil || show(res) != "{results: [t1 apple, t2 cherry, t4 tomato]}" {
		t.Errorf("RunQuery at %s after the transcript: %s, %v", url, show(res), err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after the interrupt: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run still serves 10s after the interrupt")
	}
	if _, err := callers[len(callers)-1].call(context.Background(), url); err == nil {
		t.Errorf("the front still answers at %s after run returned", url)
	}
}

// TestStorageElsewhere: the same application code answers the same when
// Storage runs behind a Unix socket: only the routing table changed.
func TestStorageElsewhere(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	dir, err := os.MkdirTemp("", "search")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stsvc := service.New(service.WithLogger(quiet))
	if err := storage.Register(stsvc, storage.NewShelf(storage.Seed())); err != nil {
		t.Fatal(err)
	}
	l, err := peer.Listen(ctx, "unix://"+filepath.Join(dir, "storage.sock"))
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	served := make(chan struct{})
	go func() {
		peer.Serve(ctx, l, peer.WithLogger(quiet), peer.WithHandler(peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
			calls.Add(1)
			return hyperpeer.NewHandler(stsvc).ServePeer(ctx, s)
		})))
		close(served)
	}()
	defer func() { cancel(); <-served }()

	r, err := component.NewRouter(component.WithRoutes(component.Routes{
		"Storage": {Providers: []string{l.Addr()}},
		"Search":  {Providers: []string{"inproc:search-elsewhere"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sesvc := service.New(service.WithLogger(quiet))
	if err := search.Serve(ctx, sesvc, r); err != nil {
		t.Fatal(err)
	}
	defer component.ServeInProcess("search-elsewhere", sesvc)()
	f, err := front.New(ctx, r, front.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f)
	defer srv.Close()

	var out strings.Builder
	if err := tour(ctx, srv.URL+"/", &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != transcript {
		t.Errorf("with Storage behind a Unix socket the transcript is\n%s\nwant\n%s", out.String(), transcript)
	}
	if n := calls.Load(); n < int64(len(callers)) {
		t.Errorf("Storage got %d calls over its socket, want one per RunQuery (%d) at least", n, len(callers))
	}
}
