package front_test

import (
	"context"
	"iter"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// Catalog is the component the tests put behind the front: some of its
// methods are public, Drop is not.
type Catalog interface {
	Lookup(ctx context.Context, prefix string, limit int) ([]Item, error)
	Echo(ctx context.Context) (Seen, error)
	Count(ctx context.Context, n int) (iter.Seq[int], error)
	Drop(ctx context.Context, key string) error
}

// Item is a record of the catalog.
type Item struct {
	Key   string
	Price float64
	Tags  []string
}

// Seen is what a call brought along.
type Seen struct {
	Headers    map[string]string
	DeadlineMS int64 // -1: none
}

type catalog struct{ items []Item }

func (c *catalog) Lookup(_ context.Context, prefix string, limit int) ([]Item, error) {
	if limit < 0 {
		return nil, service.Errorf(service.KindInvalid, "negative limit")
	}
	out := []Item{}
	for _, it := range c.items {
		if strings.HasPrefix(it.Key, prefix) && len(out) < limit {
			out = append(out, it)
		}
	}
	return out, nil
}

func (c *catalog) Echo(ctx context.Context) (Seen, error) {
	s := Seen{Headers: map[string]string{}, DeadlineMS: -1}
	for k, v := range service.RequestHeader(ctx) {
		s.Headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	if d, ok := ctx.Deadline(); ok {
		s.DeadlineMS = time.Until(d).Milliseconds()
	}
	return s, nil
}

func (c *catalog) Count(_ context.Context, n int) (iter.Seq[int], error) {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}, nil
}

func (c *catalog) Drop(context.Context, string) error { return nil }

// Vault has no public method: the front must not show it.
type Vault interface {
	Open(ctx context.Context) (string, error)
}

type vault struct{}

func (vault) Open(context.Context) (string, error) { return "secret", nil }

var quiet = slog.New(slog.DiscardHandler)

var items = []Item{
	{Key: "apple", Price: 1.5, Tags: []string{"fruit"}},
	{Key: "apricot", Price: 2.25, Tags: []string{"fruit", "dried"}},
	{Key: "avocado", Price: 3, Tags: []string{}},
	{Key: "banana", Price: 0.5, Tags: []string{"fruit"}},
}

func catalogService() *service.Service {
	svc := service.New(service.WithLogger(quiet))
	if err := registerCatalog(svc); err != nil {
		panic(err)
	}
	component.MustRegister[Vault](svc, vault{})
	return svc
}

// registerCatalog registers the catalog on svc, its methods public but
// Drop.
func registerCatalog(svc *service.Service) error {
	return component.Register[Catalog](svc, &catalog{items: items}, component.Version("2.1"),
		component.Method("Lookup", component.Args("prefix", "limit"), component.Default("limit", 2),
			component.ReadOnly(), component.Public()),
		component.Method("Echo", component.Public(), component.Idempotent()),
		component.Method("Count", component.Args("n"), component.Public()),
		component.Method("Drop", component.Args("key")))
}

// deployment is the components behind a front: Catalog and Vault served
// to peers over a Unix socket and over HTTP, and the front before them.
type deployment struct {
	front    *front.Front
	url      string // the front's HTTP root
	ws       string // its peer URL
	router   *component.Router
	requests *requestLog
}

// requestLog records the requests the front's HTTP server got.
type requestLog struct {
	mu   sync.Mutex // guards seen
	seen []string
}

func (l *requestLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, s)
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

// servePeers serves svc to peers on a Unix socket until the test ends.
func servePeers(t testing.TB, svc *service.Service) string {
	dir, err := os.MkdirTemp("", "front")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithCancel(context.Background())
	l, err := peer.Listen(ctx, "unix://"+filepath.Join(dir, "c.sock"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		peer.Serve(ctx, l, peer.WithHandler(hyperpeer.NewHandler(svc)), peer.WithLogger(quiet))
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return l.Addr()
}

// serveHTTP serves h on 127.0.0.1 until the test ends.
func serveHTTP(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

func newDeployment(t testing.TB, opts ...front.Option) *deployment {
	svc := catalogService()
	routes := component.Routes{
		"Catalog": {Providers: []string{servePeers(t, svc)}},
		"Vault":   {Providers: []string{serveHTTP(t, hyperhttp.NewHandler(svc, hyperhttp.WithLogger(quiet)))}},
	}
	r, err := component.NewRouter(component.WithRoutes(routes))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	f, err := front.New(context.Background(), r, append([]front.Option{front.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	d := &deployment{front: f, router: r, requests: &requestLog{}}
	d.url = serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		d.requests.add(req.Method + " " + req.URL.Path)
		f.ServeHTTP(w, req)
	}))
	d.ws = "ws://" + strings.TrimPrefix(d.url, "http://") + "peer"
	return d
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}
