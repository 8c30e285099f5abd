package componenttest

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/intercept/bearer"
	"github.com/glyph-ipc/glyph/internal/intercepttest"
	"github.com/glyph-ipc/glyph/service"
)

// suiteToken is the bearer token the interceptors' part of the suite
// authenticates with.
const suiteToken = "componenttest-token"

// identities records the identity bearer.Server found for each call.
type identities struct {
	mu  sync.Mutex // guards ids
	ids []any
}

func (r *identities) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	return func(ctx context.Context, c *intercept.Call) (any, error) {
		id, _ := bearer.Identity(ctx)
		r.mu.Lock()
		r.ids = append(r.ids, id)
		r.mu.Unlock()
		return next(ctx, c)
	}
}

func (r *identities) WrapStream(next intercept.StreamFunc) intercept.StreamFunc { return next }

func (r *identities) all() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.ids...)
}

// runInterceptors checks that interceptors registered once on the
// service and once on the router see every call over tr, and that bearer
// tokens authenticate over it.
func runInterceptors(t *testing.T, tr Transport) {
	srec := &intercepttest.Recorder{Name: "server"}
	ids := &identities{}
	svc := service.New(service.WithLogger(slog.New(slog.DiscardHandler)), service.WithInterceptors(
		srec, bearer.Server(bearer.Static(map[string]string{suiteToken: "alice"})), ids))
	impl := &Impl{}
	component.MustRegister[Echo](svc, impl, Options()...)
	url, p := tr.Serve(t, svc)
	router := func(t *testing.T, ics ...intercept.Interceptor) *component.Router {
		opts := []component.RouterOption{component.WithRoutes(component.Routes{"Echo": {Providers: []string{url}, Fail: component.FailFast}}),
			component.WithInterceptors(ics...)}
		if p != nil {
			opts = append(opts, component.WithProvider(url, p))
		}
		r, err := component.NewRouter(opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	token := bearer.Client(func(context.Context) (string, error) { return suiteToken, nil })

	t.Run("seen on both sides", func(t *testing.T) {
		crec := &intercepttest.Recorder{Name: "client"}
		r := router(t, token, crec) // crec inside: it sees the token
		var f funcs
		var count struct {
			Count func(ctx context.Context, n int) (iter.Seq2[int, error], error)
		}
		ctx, cancel := context.WithTimeout(client.WithCallHeader(context.Background(), "X-Trace", "t1"), 5*time.Second)
		defer cancel()
		if err := r.Bind(ctx, "Echo", &f); err != nil {
			t.Fatal(err)
		}
		srec.Reset()
		crec.Reset()
		if s, err := f.Echo(ctx, "hi"); err != nil || s != "hi" {
			t.Fatalf("Echo = %q, %v", s, err)
		}
		cc := lastCall(t, crec, "Echo.echo")
		sc := lastCall(t, srec, "echo")
		if cc.Side != intercept.SideClient || cc.Err != nil || cc.Peer.Transport == "" || cc.Header.Get("Authorization") != "Bearer "+suiteToken {
			t.Errorf("the router's interceptor saw %+v", cc)
		}
		if sc.Side != intercept.SideServer || sc.Err != nil || sc.Result != "hi" || sc.Args == nil ||
			sc.Header.Get("Authorization") != "Bearer "+suiteToken {
			t.Errorf("the service's interceptor saw %+v (the router's saw the transport %q)", sc, cc.Peer.Transport)
		}
		// The transports of this module tell the service who is calling
		// (intercept.WithPeer); a provider of another kind may not.
		if knownTransports[cc.Peer.Transport] && sc.Peer.Transport != cc.Peer.Transport {
			t.Errorf("the service's interceptor saw the transport %q, the router's %q", sc.Peer.Transport, cc.Peer.Transport)
		}
		if tr.Headers && sc.Header.Get("X-Trace") != "t1" {
			t.Errorf("the service's interceptor saw the headers %v, without the caller's X-Trace", sc.Header)
		}
		if tr.Deadlines && (sc.Deadline.IsZero() || time.Until(sc.Deadline) > 5*time.Second) {
			t.Errorf("the service's interceptor saw the deadline %v, want within 5 s", sc.Deadline)
		}
		if got := ids.all(); len(got) == 0 || got[len(got)-1] != "alice" {
			t.Errorf("identities seen by the service: %v", got)
		}

		// An error passes both ways with its kind.
		err := f.Fail(ctx, int(service.KindConflict), "on purpose")
		if service.KindOf(err) != service.KindConflict {
			t.Fatalf("Fail = %v", err)
		}
		if c := lastCall(t, srec, "fail"); service.KindOf(c.Err) != service.KindConflict {
			t.Errorf("the service's interceptor saw the error %v", c.Err)
		}
		if c := lastCall(t, crec, "Echo.fail"); service.KindOf(c.Err) != service.KindConflict {
			t.Errorf("the router's interceptor saw the error %v", c.Err)
		}

		if !tr.Streams {
			return
		}
		if err := r.Bind(ctx, "Echo", &count); err != nil {
			t.Fatal(err)
		}
		seq, err := count.Count(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if c := lastCall(t, crec, "Echo.count"); n != 4 || c.StreamType != intercept.StreamServer || c.Recvd != 4 || !c.Ended || c.Err != nil {
			t.Errorf("%d items; the router's interceptor saw %+v", n, c)
		}
		if c := lastCall(t, srec, "count"); c.StreamType != intercept.StreamServer || c.Sent != 4 || !c.Ended || c.Err != nil {
			t.Errorf("the service's interceptor saw %+v", c)
		}
	})
	t.Run("bearer token required", func(t *testing.T) {
		r := router(t)
		var f funcs
		before := impl.Calls.Load()
		err := r.Bind(context.Background(), "Echo", &f)
		if err == nil {
			_, err = f.Echo(context.Background(), "hi")
		}
		var se *service.Error
		if !errors.As(err, &se) || se.Kind != service.KindUnauthenticated || !strings.Contains(se.Message, "bearer") {
			t.Errorf("a call without a token: %v, want an unauthenticated error saying so", err)
		}
		if impl.Calls.Load() != before {
			t.Errorf("the implementation ran for a call without a token")
		}
	})
}

// knownTransports are the transports of this module, as
// intercept.Peer.Transport names them.
var knownTransports = map[string]bool{
	intercept.TransportHTTP: true, intercept.TransportWS: true, intercept.TransportTCP: true,
	intercept.TransportTLS: true, intercept.TransportUnix: true, intercept.TransportNATS: true,
	intercept.TransportJSONRPC: true, intercept.TransportXMLRPC: true, intercept.TransportInproc: true,
}

// lastCall returns the last call rec saw whose procedure ends in suffix,
// once it ended.
func lastCall(t *testing.T, rec *intercepttest.Recorder, suffix string) intercepttest.Seen {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		calls := rec.Calls()
		for i := len(calls) - 1; i >= 0; i-- {
			if strings.HasSuffix(calls[i].Procedure, suffix) && calls[i].Ended {
				return calls[i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s saw no call of *%s among %d", rec.Name, suffix, len(calls))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
