package client_test

import (
	"context"
	"iter"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/intercepttest"
	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/service"
)

// TestClientInterceptors: a client's interceptors see its calls over
// HTTP and peers alike, and the header one adds reaches the service's
// interceptors and functions.
func TestClientInterceptors(t *testing.T) {
	srec := &intercepttest.Recorder{Name: "server"}
	svc := service.New(service.WithInterceptors(srec))
	svc.MustFunc("greet", func(ctx context.Context, name string) string {
		return "hello " + name + " from " + service.RequestHeader(ctx)["X-Caller"][0]
	}, service.Args("name"))
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}
	}, service.Args("n"))
	srv := httptest.NewServer(hyperhttp.NewHandler(svc))
	t.Cleanup(srv.Close)
	peerAddr := peertest.ServeService(t, "tcp://127.0.0.1:0", svc)

	for _, tc := range []struct {
		name, url, transport string
	}{
		{"http", srv.URL + "/", "http"},
		{"tcp", peerAddr, "tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srec.Reset()
			var j intercepttest.Journal
			outer := &intercepttest.Recorder{Name: "outer", Journal: &j}
			inner := &intercepttest.Recorder{Name: "inner", Journal: &j, SetHeader: http.Header{"X-Caller": {"inner"}}}
			c := client.New(client.WithInterceptors(outer, inner))
			t.Cleanup(func() { c.Close() })
			ctx, cancel := context.WithTimeout(client.WithCallHeader(context.Background(), "X-Trace", "t1"), time.Minute)
			defer cancel()
			deadline, _ := ctx.Deadline()

			index, err := c.Get(ctx, tc.url)
			if err != nil {
				t.Fatal(err)
			}
			greet, err := index.Get("greet")
			if err != nil {
				t.Fatal(err)
			}
			v, err := greet.Call(ctx, "ann")
			if err != nil || v.Any() != "hello ann from inner" {
				t.Fatalf("greet: %v, %v", v, err)
			}
			calls := inner.Calls()
			if len(calls) != 2 {
				t.Fatalf("the client's interceptor saw %d calls", len(calls))
			}
			// Get, then Call: each a call, the first interceptor outermost.
			p0, p1 := calls[0].Procedure, calls[1].Procedure
			want := []string{"outer " + p0, "inner " + p0, "inner " + p0 + " done", "outer " + p0 + " done",
				"outer " + p1, "inner " + p1, "inner " + p1 + " done", "outer " + p1 + " done"}
			if got := j.Take(); !slices.Equal(got, want) {
				t.Errorf("journal: %q, want %q", got, want)
			}
			c1 := calls[1]
			if !strings.HasSuffix(c1.Procedure, "greet") || c1.Side != intercept.SideClient || c1.Safe ||
				c1.Peer.Transport != tc.transport || c1.Peer.Addr == "" || c1.Header.Get("X-Trace") != "t1" ||
				!c1.Deadline.Equal(deadline) || c1.Err != nil {
				t.Errorf("the client saw %+v", c1)
			}
			if args, ok := c1.Args.([]any); !ok || len(args) != 1 || args[0] != "ann" {
				t.Errorf("the client saw the args %#v", c1.Args)
			}
			if r, ok := c1.Result.(*client.Value); !ok || r.Any() != "hello ann from inner" {
				t.Errorf("the client saw the result %#v", c1.Result)
			}
			// The service's interceptor saw the headers the client's added,
			// and the deadline.
			scalls, err := srec.Wait(2)
			if err != nil {
				t.Fatal(err)
			}
			s1 := scalls[1]
			if s1.Procedure != "greet" || s1.Header.Get("X-Caller") != "inner" || s1.Header.Get("X-Trace") != "t1" ||
				s1.Deadline.IsZero() || s1.Deadline.Sub(deadline).Abs() > time.Second || s1.Peer.Transport != tc.transport {
				t.Errorf("the server saw %+v", s1)
			}

			// A streamed result is a stream of items, counted.
			count, err := index.Get("count")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, err := range count.Stream(ctx, 3) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			cs := inner.Calls()[2]
			if n != 3 || cs.StreamType != intercept.StreamServer || cs.Recvd != 3 || !cs.Ended || cs.Err != nil {
				t.Errorf("%d items; the client saw the stream as %+v", n, cs)
			}
		})
	}
}

// TestClientInterceptorRefuses: an interceptor that fails a call keeps it
// from being sent.
func TestClientInterceptorRefuses(t *testing.T) {
	srec := &intercepttest.Recorder{Name: "server"}
	svc := service.New(service.WithInterceptors(srec))
	svc.MustFunc("greet", func() string { return "hi" })
	srv := httptest.NewServer(hyperhttp.NewHandler(svc))
	t.Cleanup(srv.Close)
	refuse := intercept.UnaryInterceptorFunc(func(next intercept.UnaryFunc) intercept.UnaryFunc {
		return func(ctx context.Context, c *intercept.Call) (any, error) {
			return nil, service.Errorf(service.KindPermissionDenied, "not from here")
		}
	})
	c := client.New(client.WithInterceptors(refuse))
	if _, err := c.Get(context.Background(), srv.URL+"/"); service.KindOf(err) != service.KindPermissionDenied {
		t.Errorf("refused call: %v", err)
	}
	if n := len(srec.Calls()); n != 0 {
		t.Errorf("the server saw %d calls", n)
	}
}
