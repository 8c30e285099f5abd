package bench

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/componenttest"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
)

// The component benchmarks (issue 13) measure what the component layer
// adds to a call:
//
//   - BenchmarkComponentLocal: a colocated call through the interface
//     (component.Dial of an "inproc:" route, the stubs glyph gen wrote)
//     against a direct call of the implementation through a Go interface
//     value, with copies off and on; for a string argument (Echo) and a
//     struct with a slice (Keep).
//   - BenchmarkComponentRouting: a call through the routing client
//     (component.Router, one provider) against the same call made
//     directly with package client on the same transport (the form's
//     Call and Decode, as the provider makes it), over HTTP and TCP peers
//     on 127.0.0.1, by a struct of funcs (Router.Bind) and by the
//     generated stub (component.Dial).
//
// See README.md for the command and the results.

var benchRecord = componenttest.Record{Name: "r", Tags: []string{"a", "b", "c"}, Score: 1.5}

var inprocBenchSeq atomic.Int64

// colocated returns Echo through a router whose route is the in-process
// service svc, with copies or without.
func colocated(b *testing.B, svc *service.Service, copies bool) componenttest.Echo {
	name := fmt.Sprintf("bench-%d", inprocBenchSeq.Add(1))
	b.Cleanup(component.ServeInProcess(name, svc))
	u := "inproc:" + name
	if !copies {
		u += "?copy=0"
	}
	r, err := component.NewRouter(component.WithRoutes(component.Routes{"Echo": {Providers: []string{u}}}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	e, err := component.Dial[componenttest.Echo](context.Background(), r)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func BenchmarkComponentLocal(b *testing.B) {
	impl := &componenttest.Impl{}
	svc := componenttest.NewService(impl)
	callers := []struct {
		name string
		e    func(b *testing.B) componenttest.Echo
	}{
		{"direct", func(*testing.B) componenttest.Echo { return impl }},
		{"nocopy", func(b *testing.B) componenttest.Echo { return colocated(b, svc, false) }},
		{"copy", func(b *testing.B) componenttest.Echo { return colocated(b, svc, true) }},
	}
	ctx := context.Background()
	for _, c := range callers {
		b.Run("Echo/"+c.name, func(b *testing.B) {
			e := c.e(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Echo(ctx, "hello"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, c := range callers {
		b.Run("Keep/"+c.name, func(b *testing.B) {
			e := c.e(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Keep(ctx, benchRecord); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// echoFuncs is Echo's Echo method as a struct of funcs.
type echoFuncs struct {
	Echo func(ctx context.Context, s string) (string, error)
}

func BenchmarkComponentRouting(b *testing.B) {
	ctx := context.Background()
	transports := []struct {
		name  string
		serve func(b *testing.B, svc *service.Service) string
	}{
		{"http", func(b *testing.B, svc *service.Service) string {
			srv := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithLogger(slog.New(slog.DiscardHandler))))
			b.Cleanup(srv.Close)
			return srv.URL + "/"
		}},
		{"tcp", func(b *testing.B, svc *service.Service) string {
			return componenttest.ServePeer(b, "tcp", svc)
		}},
	}
	for _, tr := range transports {
		url := tr.serve(b, componenttest.NewService(&componenttest.Impl{}))
		b.Run(tr.name+"/direct", func(b *testing.B) {
			c := client.New()
			defer c.Close()
			idx, err := c.Get(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			res, err := idx.Path(ctx, "Echo")
			if err != nil {
				b.Fatal(err)
			}
			form, err := res.Get("echo")
			if err != nil {
				b.Fatal(err)
			}
			measureCalls(b, func() (string, error) {
				v, err := form.Call(ctx, "hello")
				if err != nil {
					return "", err
				}
				defer v.Close()
				var s string
				err = v.Decode(&s)
				return s, err
			})
		})
		router := func(b *testing.B) *component.Router {
			r, err := component.NewRouter(component.WithRoutes(component.Routes{"Echo": {Providers: []string{url}}}))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { r.Close() })
			return r
		}
		b.Run(tr.name+"/funcs", func(b *testing.B) {
			var f echoFuncs
			if err := router(b).Bind(ctx, "Echo", &f); err != nil {
				b.Fatal(err)
			}
			measureCalls(b, func() (string, error) { return f.Echo(ctx, "hello") })
		})
		b.Run(tr.name+"/stub", func(b *testing.B) {
			e, err := component.Dial[componenttest.Echo](ctx, router(b))
			if err != nil {
				b.Fatal(err)
			}
			measureCalls(b, func() (string, error) { return e.Echo(ctx, "hello") })
		})
	}
}

// measureCalls makes b.N calls one after the other and reports the
// median of their durations and the CPU time per call, which, unlike
// wall-clock time, does not depend on what else the machine runs.
func measureCalls(b *testing.B, call func() (string, error)) {
	for range 20 {
		call()
	}
	durations := make([]time.Duration, b.N)
	b.ReportAllocs()
	cpu := startCPU()
	b.ResetTimer()
	for i := range durations {
		t0 := time.Now()
		s, err := call()
		durations[i] = time.Since(t0)
		if err != nil || s != "hello" {
			b.Fatal(s, err)
		}
	}
	b.StopTimer()
	cpu.report(b)
	slices.Sort(durations)
	b.ReportMetric(float64(percentile(durations, 50)), "p50-ns")
}

// nullProvider answers every call at once, so that a router over it
// measures only what the router itself costs.
type nullProvider struct{ in *component.Interface }

func (p nullProvider) Describe(context.Context, string) (*component.Interface, error) {
	return p.in, nil
}
func (nullProvider) Call(_ context.Context, c *component.Call) error {
	*(c.Result.(*string)) = c.Args[0].(string)
	return nil
}
func (nullProvider) Stream(context.Context, *component.Call) iter.Seq2[any, error] {
	return func(func(any, error) bool) {}
}
func (nullProvider) Capabilities() component.Capabilities {
	return component.Capabilities{Transport: "null", Streams: true}
}
func (nullProvider) Close() error { return nil }

// BenchmarkComponentRouterOverhead measures the routing client alone:
// a call through a router (by a struct of funcs and by the generated
// stub) to a provider that answers at once, against the same provider
// called directly.
func BenchmarkComponentRouterOverhead(b *testing.B) {
	ctx := context.Background()
	svc := componenttest.NewService(&componenttest.Impl{})
	res, err := svc.Serve(ctx, &service.Request{Method: "GET", Path: "Echo/"})
	if err != nil {
		b.Fatal(err)
	}
	in, err := component.DescribeResource(res.Value.(hyper.Resource))
	if err != nil {
		b.Fatal(err)
	}
	p := nullProvider{in}
	const u = "null://provider"
	r, err := component.NewRouter(component.WithRoutes(component.Routes{"Echo": {Providers: []string{u}}}), component.WithProvider(u, p))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s string
			if err := p.Call(ctx, &component.Call{Interface: "Echo", Method: "echo", Args: []any{"hello"}, Result: &s}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("funcs", func(b *testing.B) {
		var f echoFuncs
		if err := r.Bind(ctx, "Echo", &f); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Echo(ctx, "hello"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stub", func(b *testing.B) {
		e, err := component.Dial[componenttest.Echo](ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Echo(ctx, "hello"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
