package service_test

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/intercepttest"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// interceptedService is a service whose calls two recorders see.
func interceptedService(t *testing.T, ics ...intercept.Interceptor) *service.Service {
	t.Helper()
	svc := service.New(service.WithInterceptors(ics...))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	svc.MustFunc("fail", func() error { return service.Errorf(service.KindConflict, "it changed") })
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}
	}, service.Args("n"))
	svc.MustFunc("sum", func(xs iter.Seq[int]) int {
		total := 0
		for x := range xs {
			total += x
		}
		return total
	}, service.Args("xs"))
	svc.MustFunc("double", func(xs iter.Seq[int]) iter.Seq[int] {
		return func(yield func(int) bool) {
			for x := range xs {
				if !yield(2 * x) {
					return
				}
			}
		}
	}, service.Args("xs"))
	svc.MustFunc("moved", func() service.SeeOther { return service.SeeOther{URL: "/greet"} })
	return svc
}

func TestServeInterceptors(t *testing.T) {
	var j intercepttest.Journal
	a := &intercepttest.Recorder{Name: "a", Journal: &j}
	b := &intercepttest.Recorder{Name: "b", Journal: &j}
	svc := interceptedService(t, a, b)
	peer := intercept.Peer{Transport: intercept.TransportInproc, Addr: "here"}
	ctx, cancel := context.WithTimeout(intercept.WithPeer(context.Background(), peer), time.Minute)
	defer cancel()
	deadline, _ := ctx.Deadline()

	res, err := svc.Serve(ctx, &service.Request{Method: "POST", Path: "greet", Args: wire.NewOrderedDict("name", "ann"),
		Header: map[string][]string{"Authorization": {"Bearer x"}}})
	if err != nil || res.Value != "hello ann" {
		t.Fatalf("greet: %v, %v", res, err)
	}
	if got, want := j.Take(), []string{"a greet", "b greet", "b greet done", "a greet done"}; !slices.Equal(got, want) {
		t.Errorf("order: %q, want %q", got, want)
	}
	c := a.Calls()[0]
	if c.Side != intercept.SideServer || c.StreamType != intercept.StreamUnary || c.Safe || c.Peer.Addr != "here" ||
		c.Header.Get("Authorization") != "Bearer x" || !c.Deadline.Equal(deadline) || c.Result != "hello ann" || c.Err != nil {
		t.Errorf("greet seen as %+v", c)
	}
	if d, ok := c.Args.(*wire.OrderedDict); !ok || d.Len() != 1 {
		t.Errorf("greet's args seen as %#v", c.Args)
	}

	// An error passes through with its kind.
	a.Reset()
	if _, err := svc.Serve(ctx, &service.Request{Method: "POST", Path: "fail"}); service.KindOf(err) != service.KindConflict {
		t.Errorf("fail: %v", err)
	}
	if c := a.Calls()[0]; service.KindOf(c.Err) != service.KindConflict {
		t.Errorf("fail seen with %v", c.Err)
	}

	// A result that streams is a server stream, its items counted as
	// the transport ranges over it, and its end seen when it ends.
	a.Reset()
	res, err = svc.Serve(ctx, &service.Request{Method: "POST", Path: "count", Args: wire.NewOrderedDict("n", 3)})
	if err != nil {
		t.Fatal(err)
	}
	items, err := drain(t, res.Value.(service.Stream))
	if err != nil || len(items) != 3 {
		t.Fatalf("count: %v, %v", items, err)
	}
	if c := a.Calls()[0]; c.StreamType != intercept.StreamServer || c.Sent != 3 || c.Recvd != 0 || !c.Ended || c.Err != nil {
		t.Errorf("count seen as %+v", c)
	}

	// Arguments that stream: a client stream, its one result sent as a
	// message.
	a.Reset()
	res, err = svc.Serve(ctx, &service.Request{Method: "POST", Path: "sum", Stream: source(1, 2, 3, 4)})
	if err != nil || res.Value != 10 {
		t.Fatalf("sum: %v, %v", res, err)
	}
	if c := a.Calls()[0]; c.StreamType != intercept.StreamClient || c.Recvd != 4 || c.Sent != 1 || !c.Ended {
		t.Errorf("sum seen as %+v", c)
	}

	// Both: bidi.
	a.Reset()
	res, err = svc.Serve(ctx, &service.Request{Method: "POST", Path: "double", Stream: source(1, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if items, err := drain(t, res.Value.(service.Stream)); err != nil || fmt.Sprint(items) != "[2 4]" {
		t.Errorf("double: %v, %v", items, err)
	}
	if c := a.Calls()[0]; c.StreamType != intercept.StreamBidi || c.Recvd != 2 || c.Sent != 2 || !c.Ended {
		t.Errorf("double seen as %+v", c)
	}

	// A follow-up request is part of the call before it: not seen.
	a.Reset()
	if _, err := svc.Serve(ctx, &service.Request{Method: "GET", Path: "greet", FollowUp: true}); err != nil {
		t.Fatal(err)
	}
	if n := len(a.Calls()); n != 0 {
		t.Errorf("a follow-up seen %d times", n)
	}
	// A redirect is answered as it was.
	res, err = svc.Serve(ctx, &service.Request{Method: "POST", Path: "moved"})
	if err != nil || res.Status != service.StatusSeeOther || res.Location != "/greet" {
		t.Errorf("moved: %+v, %v", res, err)
	}
}

// TestServeInterceptorRefuses: an interceptor that answers without
// calling next keeps the function from running; one that answers a
// value is answered with it.
func TestServeInterceptorRefuses(t *testing.T) {
	ran := false
	refuse := intercept.UnaryInterceptorFunc(func(next intercept.UnaryFunc) intercept.UnaryFunc {
		return func(ctx context.Context, c *intercept.Call) (any, error) {
			switch c.Header.Get("Who") {
			case "":
				return nil, service.Errorf(service.KindUnauthenticated, "who are you?")
			case "cache":
				return "cached", nil
			}
			return next(ctx, c)
		}
	})
	svc := service.New(service.WithInterceptors(refuse))
	svc.MustFunc("run", func() string { ran = true; return "ran" })
	if _, err := svc.Serve(context.Background(), &service.Request{Method: "POST", Path: "run"}); service.KindOf(err) != service.KindUnauthenticated || ran {
		t.Errorf("refused: %v, ran %v", err, ran)
	}
	res, err := svc.Serve(context.Background(), &service.Request{Method: "POST", Path: "run", Header: map[string][]string{"Who": {"cache"}}})
	if err != nil || res.Value != "cached" || res.Status != service.StatusOK || ran {
		t.Errorf("cached: %+v, %v, ran %v", res, err, ran)
	}
	res, err = svc.Serve(context.Background(), &service.Request{Method: "POST", Path: "run", Header: map[string][]string{"Who": {"me"}}})
	if err != nil || res.Value != "ran" || !ran {
		t.Errorf("let through: %+v, %v", res, err)
	}
}

// TestServeStreamInterceptorRefuses: a stream refused at its opening
// fails the call before the function runs.
func TestServeStreamInterceptorRefuses(t *testing.T) {
	refuse := streamRefuser{}
	svc := service.New(service.WithInterceptors(refuse))
	ran := false
	svc.MustFunc("sum", func(xs iter.Seq[int]) int { ran = true; return 0 }, service.Args("xs"))
	if _, err := svc.Serve(context.Background(), &service.Request{Method: "POST", Path: "sum", Stream: source(1)}); service.KindOf(err) != service.KindPermissionDenied || ran {
		t.Errorf("refused stream: %v, ran %v", err, ran)
	}
}

type streamRefuser struct{}

func (streamRefuser) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc { return next }
func (streamRefuser) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
		return nil, service.Errorf(service.KindPermissionDenied, "no streams")
	}
}

// BenchmarkServeInterceptors: what a call pays for the interceptors'
// chain: none, the call log while its logger is off (the default), and a
// pass-through interceptor.
func BenchmarkServeInterceptors(b *testing.B) {
	pass := intercept.UnaryInterceptorFunc(func(next intercept.UnaryFunc) intercept.UnaryFunc { return next })
	for _, bc := range []struct {
		name string
		opts []service.Option
	}{
		{"none", []service.Option{service.WithoutCallLog()}},
		{"calllog-off", nil},
		{"one", []service.Option{service.WithoutCallLog(), service.WithInterceptors(intercept.UnaryInterceptorFunc(func(next intercept.UnaryFunc) intercept.UnaryFunc {
			return func(ctx context.Context, c *intercept.Call) (any, error) { return next(ctx, c) }
		}))}},
		{"one-nil-wrap", []service.Option{service.WithoutCallLog(), service.WithInterceptors(pass)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			svc := service.New(bc.opts...)
			svc.MustFunc("greet", func(name string) string { return name }, service.Args("name"))
			req := &service.Request{Method: "POST", Path: "greet", Positional: []any{"ann"}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.Serve(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
