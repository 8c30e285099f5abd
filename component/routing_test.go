package component_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/componenttest"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// Where answers with the name of the provider that served the call.
type Where interface {
	Get(ctx context.Context, key string) (string, error)
	Put(ctx context.Context, key string) (string, error)
	Hold(ctx context.Context) (string, error)
	Flaky(ctx context.Context) (string, error)
	FlakyPut(ctx context.Context) (string, error)
}

type where struct {
	name    string
	held    chan struct{} // Hold signals here once it started
	release chan struct{} // and returns when it is closed
	flaky   atomic.Int64  // Flaky fails as unavailable while this is positive
	calls   atomic.Int64
}

func (w *where) Get(context.Context, string) (string, error) { w.calls.Add(1); return w.name, nil }
func (w *where) Put(context.Context, string) (string, error) { w.calls.Add(1); return w.name, nil }
func (w *where) Hold(ctx context.Context) (string, error) {
	w.calls.Add(1)
	w.held <- struct{}{}
	select {
	case <-w.release:
	case <-ctx.Done():
	}
	return w.name, nil
}
func (w *where) Flaky(context.Context) (string, error) {
	w.calls.Add(1)
	if w.flaky.Add(-1) >= 0 {
		return "", service.Errorf(service.KindUnavailable, "not now")
	}
	return w.name, nil
}
func (w *where) FlakyPut(ctx context.Context) (string, error) { return w.Flaky(ctx) }

func newWhere(name string) *where {
	return &where{name: name, held: make(chan struct{}, 1), release: make(chan struct{})}
}

func whereService(w *where) *service.Service {
	svc := service.New(service.WithLogger(slog.New(slog.DiscardHandler)))
	component.MustRegister[Where](svc, w,
		component.Method("Get", component.Args("key"), component.Idempotent()),
		component.Method("Put", component.Args("key")),
		component.Method("Flaky", component.Idempotent()))
	return svc
}

// whereServer is a Where served over HTTP, counting the requests it gets.
type whereServer struct {
	*where
	srv      *httptest.Server
	requests atomic.Int64
	url      string
}

func serveWhere(t *testing.T, name, addr string) *whereServer {
	t.Helper()
	ws := &whereServer{where: newWhere(name)}
	h := hyperhttp.NewHandler(whereService(ws.where), hyperhttp.WithLogger(slog.New(slog.DiscardHandler)))
	ws.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	if addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		ws.srv.Listener.Close()
		ws.srv.Listener = l
	}
	ws.srv.Start()
	t.Cleanup(ws.srv.Close)
	ws.url = ws.srv.URL + "/"
	return ws
}

type whereFuncs struct {
	Get      func(ctx context.Context, key string) (string, error)
	Put      func(ctx context.Context, key string) (string, error)
	Hold     func(ctx context.Context) (string, error)
	Flaky    func(ctx context.Context) (string, error)
	FlakyPut func(ctx context.Context) (string, error)
}

func bindWhere(t *testing.T, r *component.Router) *whereFuncs {
	t.Helper()
	var w whereFuncs
	if err := r.Bind(context.Background(), "Where", &w); err != nil {
		t.Fatal(err)
	}
	return &w
}

func TestTypeCheckedBeforeAnyRequest(t *testing.T) {
	ws := serveWhere(t, "a", "")
	r := newRouter(t, component.Routes{"Where": {Providers: []string{ws.url}}})
	var loose struct {
		Get func(ctx context.Context, key any) (string, error)
	}
	if err := r.Bind(context.Background(), "Where", &loose); err != nil {
		t.Fatal(err)
	}
	before := ws.requests.Load()
	for _, bad := range []any{42, []string{"a"}, nil, 1.5} {
		_, err := loose.Get(context.Background(), bad)
		if service.KindOf(err) != service.KindInvalid || !strings.Contains(err.Error(), `argument "key"`) {
			t.Errorf("Get(%#v) = %v, want an invalid argument error naming key", bad, err)
		}
	}
	if n := ws.requests.Load() - before; n != 0 {
		t.Fatalf("the provider received %d request(s) for arguments of the wrong type", n)
	}
	if got, err := loose.Get(context.Background(), "k"); err != nil || got != "a" {
		t.Fatalf("Get(\"k\") = %q, %v", got, err)
	}
}

func TestFailOverWhenAProviderIsKilled(t *testing.T) {
	a, b, c := serveWhere(t, "a", ""), serveWhere(t, "b", ""), serveWhere(t, "c", "")
	r := newRouter(t, component.Routes{"Where": {Providers: []string{a.url, b.url, c.url}}},
		component.WithProbeInterval(time.Hour, time.Hour))
	w := bindWhere(t, r)
	ctx := context.Background()

	var wg sync.WaitGroup
	var failures atomic.Int64
	var done atomic.Bool
	started := make(chan struct{})
	for i := range 4 {
		wg.Go(func() {
			for n := 0; !done.Load() || n < 50; n++ {
				if n == 10 && i == 0 {
					close(started)
				}
				if _, err := w.Get(ctx, "k"); err != nil {
					failures.Add(1)
					t.Errorf("Get while a provider was killed: %v", err)
					return
				}
			}
		})
	}
	<-started
	b.srv.CloseClientConnections()
	b.srv.Close() // mid-run: later connections are refused
	time.Sleep(20 * time.Millisecond)
	done.Store(true)
	wg.Wait()
	if failures.Load() > 0 {
		return
	}
	// b is down now: calls that are not retry-safe go to a and c only.
	bCalls := b.calls.Load()
	for range 20 {
		got, err := w.Put(ctx, "k")
		if err != nil || got == "b" {
			t.Fatalf("Put = %q, %v", got, err)
		}
	}
	if b.calls.Load() != bCalls {
		t.Fatal("a provider that was killed got calls")
	}
}

func TestFailOverWhenNotSent(t *testing.T) {
	// A provider that was never there: its calls are provably not sent,
	// so even a method that is not retry-safe goes elsewhere.
	a := serveWhere(t, "a", "")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/"
	l.Close()
	r := newRouter(t, component.Routes{"Where": {Providers: []string{dead, a.url}}})
	w := bindWhere(t, r)
	for range 10 {
		if got, err := w.Put(context.Background(), "k"); err != nil || got != "a" {
			t.Fatalf("Put = %q, %v", got, err)
		}
	}
	// With fail fast, the first failure is the answer.
	r2 := newRouter(t, component.Routes{"Where": {Providers: []string{a.url, dead}, Fail: component.FailFast}},
		component.WithProbeInterval(time.Hour, time.Hour))
	w2 := bindWhere(t, r2)
	var unavailable int
	for range 4 {
		if _, err := w2.Put(context.Background(), "k"); service.KindOf(err) == service.KindUnavailable {
			unavailable++
		}
	}
	if unavailable != 0 {
		t.Fatalf("fail fast: %d unavailable errors from a provider marked down at bind", unavailable)
	}
}

func TestProviderHealth(t *testing.T) {
	a, b := serveWhere(t, "a", ""), serveWhere(t, "b", "")
	addr := a.srv.Listener.Addr().String()
	r := newRouter(t, component.Routes{"Where": {Providers: []string{a.url, b.url}}},
		component.WithProbeInterval(5*time.Millisecond, 20*time.Millisecond))
	w := bindWhere(t, r)
	ctx := context.Background()

	a.srv.Close()
	for range 10 {
		if got, err := w.Get(ctx, "k"); err != nil || got != "b" {
			t.Fatalf("with a down: Get = %q, %v", got, err)
		}
	}
	// a comes back at the same address: it is probed, and gets calls again.
	a2 := serveWhere(t, "a2", addr)
	deadline := time.Now().Add(5 * time.Second)
	for a2.calls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a provider that came back got no calls within 5s")
		}
		if _, err := w.Get(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	// Every provider down: a retryable unavailable error, at once.
	a2.srv.Close()
	b.srv.Close()
	var err error
	for range 3 {
		_, err = w.Get(ctx, "k")
	}
	if service.KindOf(err) != service.KindUnavailable || !strings.Contains(err.Error(), "every provider of Where is down") {
		t.Fatalf("with every provider down: %v", err)
	}
}

func TestBalance(t *testing.T) {
	ctx := context.Background()
	t.Run("round robin", func(t *testing.T) {
		a, b, c := serveWhere(t, "a", ""), serveWhere(t, "b", ""), serveWhere(t, "c", "")
		w := bindWhere(t, newRouter(t, component.Routes{"Where": {Providers: []string{a.url, b.url, c.url}}}))
		seen := map[string]int{}
		for range 30 {
			got, err := w.Get(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			seen[got]++
		}
		if seen["a"] != 10 || seen["b"] != 10 || seen["c"] != 10 {
			t.Fatalf("30 calls went %v, want 10 each", seen)
		}
	})
	t.Run("least pending", func(t *testing.T) {
		a, b := serveWhere(t, "a", ""), serveWhere(t, "b", "")
		w := bindWhere(t, newRouter(t, component.Routes{"Where": {Providers: []string{a.url, b.url}, Balance: component.BalanceLeastPending}}))
		held := make(chan string, 1)
		go func() {
			got, _ := w.Hold(ctx)
			held <- got
		}()
		var busy *whereServer
		select {
		case <-a.held:
			busy = a
		case <-b.held:
			busy = b
		case <-time.After(5 * time.Second):
			t.Fatal("Hold did not start")
		}
		for range 10 {
			got, err := w.Get(ctx, "k")
			if err != nil || got == busy.name {
				t.Fatalf("Get = %q, %v while %s had a call pending", got, err, busy.name)
			}
		}
		close(busy.release)
		if got := <-held; got != busy.name {
			t.Fatalf("Hold = %q", got)
		}
	})
}

func TestRetry(t *testing.T) {
	ctx := context.Background()
	a := serveWhere(t, "a", "")
	r := newRouter(t, component.Routes{"Where": {Providers: []string{a.url}, Fail: component.FailRetry, Retries: 3, Backoff: component.Duration(time.Millisecond)}})
	w := bindWhere(t, r)

	a.flaky.Store(2)
	if got, err := w.Flaky(ctx); err != nil || got != "a" {
		t.Fatalf("a retry-safe method, unavailable twice: %q, %v", got, err)
	}
	a.flaky.Store(2)
	before := a.calls.Load()
	if _, err := w.FlakyPut(ctx); service.KindOf(err) != service.KindUnavailable {
		t.Fatalf("a method that is not retry-safe: %v, want its unavailable error", err)
	}
	if n := a.calls.Load() - before; n != 1 {
		t.Fatalf("a method that is not retry-safe was called %d times", n)
	}

	// The budget: calls that keep failing make fewer and fewer retries.
	a.flaky.Store(1 << 30)
	before = a.calls.Load()
	const calls = 30
	for range calls {
		w.Flaky(ctx)
	}
	attempts := a.calls.Load() - before
	if attempts <= calls || attempts > calls+10 {
		t.Fatalf("%d failing calls made %d attempts: want some retries, at most 10 (the budget)", calls, attempts)
	}
}

func TestRoutingByKey(t *testing.T) {
	ctx := context.Background()
	urls := make([]string, 6)
	for i := range urls {
		name := fmt.Sprintf("p%d", i)
		t.Cleanup(component.ServeInProcess("key-"+name, whereService(newWhere(name))))
		urls[i] = "inproc:key-" + name
	}
	route := func(providers ...string) component.Routes {
		return component.Routes{"Where": {Providers: providers, Balance: component.BalanceKey, Key: "key"}}
	}
	r := newRouter(t, route(urls[:5]...))
	w := bindWhere(t, r)
	const keys = 2000
	owners := func() []string {
		out := make([]string, keys)
		for i := range out {
			got, err := w.Get(ctx, fmt.Sprintf("key-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			out[i] = got
		}
		return out
	}
	before := owners()
	counts := map[string]int{}
	for _, o := range before {
		counts[o]++
	}
	for name, n := range counts {
		if n < keys/5/2 || n > keys/5*2 {
			t.Errorf("%s owns %d of %d keys over 5 providers", name, n, keys)
		}
	}
	if again := owners(); fmt.Sprint(again) != fmt.Sprint(before) {
		t.Fatal("the same keys went to other providers with the same table")
	}

	// A provider comes: about 1/6 of the keys move, all to it.
	if err := r.SetRoutes(route(urls...)); err != nil {
		t.Fatal(err)
	}
	after := owners()
	moved := 0
	for i := range after {
		if after[i] != before[i] {
			moved++
			if after[i] != "p5" {
				t.Fatalf("key %d moved from %s to %s, not to the new provider", i, before[i], after[i])
			}
		}
	}
	if f := float64(moved) / keys; f < 0.10 || f > 0.25 {
		t.Fatalf("adding a 6th provider moved %.3f of the keys, want about 1/6", f)
	}

	// A provider goes: only its keys move.
	if err := r.SetRoutes(route(urls[0], urls[1], urls[3], urls[4], urls[5])); err != nil {
		t.Fatal(err)
	}
	gone := owners()
	for i := range gone {
		if after[i] != "p2" && gone[i] != after[i] {
			t.Fatalf("key %d moved from %s to %s though %s stayed", i, after[i], gone[i], after[i])
		}
		if gone[i] == "p2" {
			t.Fatalf("key %d still went to the provider that left", i)
		}
	}
}

func TestRouteChangesWhileRunning(t *testing.T) {
	a, b := serveWhere(t, "a", ""), serveWhere(t, "b", "")
	r := newRouter(t, component.Routes{"Where": {Providers: []string{a.url}}})
	w := bindWhere(t, r)
	ctx := context.Background()
	if got, _ := w.Get(ctx, "k"); got != "a" {
		t.Fatalf("Get = %q", got)
	}
	if err := r.SetRoutes(component.Routes{"Where": {Providers: []string{b.url}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := w.Get(ctx, "k"); err != nil || got != "b" {
		t.Fatalf("after SetRoutes: Get = %q, %v", got, err)
	}
	if err := r.SetRoutes(component.Routes{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Get(ctx, "k"); service.KindOf(err) != service.KindNotFound {
		t.Fatalf("with no route: %v, want not found", err)
	}
}

// TestFailOverNotSentAfterBind: a peer provider that goes away after the
// bind refuses the connection its next call needs: that call provably
// was not sent, so even a method that is not retry-safe goes to another
// provider.
func TestFailOverNotSentAfterBind(t *testing.T) {
	live := newWhere("live")
	liveURL := componenttest.ServePeer(t, "tcp", whereService(live))
	dead := newWhere("dead")
	ctx, cancel := context.WithCancel(context.Background())
	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		peer.Serve(ctx, l, peer.WithHandler(hyperpeer.NewHandler(whereService(dead))), peer.WithLogger(slog.New(slog.DiscardHandler)))
		close(served)
	}()
	r := newRouter(t, component.Routes{"Where": {Providers: []string{l.Addr(), liveURL}}},
		component.WithProbeInterval(time.Hour, time.Hour))
	w := bindWhere(t, r)
	cancel()
	<-served
	time.Sleep(50 * time.Millisecond) // the client sees its connection close
	for range 10 {
		if got, err := w.Put(context.Background(), "k"); err != nil || got != "live" {
			t.Fatalf("Put = %q, %v", got, err)
		}
	}
	if dead.calls.Load() != 0 {
		t.Fatal("the provider that went away got calls")
	}
}

// TestDroppedProviderDrains: a call in flight on a provider that a new
// table drops finishes there; later calls go to the new provider.
func TestDroppedProviderDrains(t *testing.T) {
	// Over a peer connection, which closing the provider would break.
	a, b := newWhere("a"), newWhere("b")
	aURL, bURL := componenttest.ServePeer(t, "tcp", whereService(a)), componenttest.ServePeer(t, "tcp", whereService(b))
	r := newRouter(t, component.Routes{"Where": {Providers: []string{aURL}}})
	w := bindWhere(t, r)
	ctx := context.Background()
	held := make(chan string, 1)
	go func() {
		got, err := w.Hold(ctx)
		if err != nil {
			got = err.Error()
		}
		held <- got
	}()
	<-a.held
	if err := r.SetRoutes(component.Routes{"Where": {Providers: []string{bURL}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := w.Get(ctx, "k"); err != nil || got != "b" {
		t.Fatalf("after the new table: Get = %q, %v", got, err)
	}
	close(a.release)
	if got := <-held; got != "a" {
		t.Fatalf("the call in flight on the dropped provider ended with %q", got)
	}
}
