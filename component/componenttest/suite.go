package componenttest

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/service"
)

// Transport is what [Run] needs of a transport.
type Transport struct {
	// Serve serves svc over the transport until the test ends and
	// returns the URL of its provider. When it returns a Provider too,
	// the router uses it for that URL ([component.WithProvider]) instead
	// of dialling the URL by its scheme.
	Serve func(t *testing.T, svc *service.Service) (url string, p component.Provider)
	// Copies says that a caller and the implementation share no memory:
	// an implementation that changes an argument does not change the
	// caller's. False only for in-process calls that opt out of copies.
	Copies bool
	// Streams, Headers and Deadlines say what the transport carries:
	// streamed results, call headers and deadlines.
	Streams, Headers, Deadlines bool
	// Describes says that the provider describes the interface
	// (component.Provider's Describe), so that binding checks the caller
	// against it and the methods' declared defaults, such as their
	// deadlines, apply to callers. Without it the service still checks
	// every call, after it was sent.
	Describes bool
}

// funcs is Echo as a struct of funcs, bound with no generated code.
type funcs struct {
	Echo     func(ctx context.Context, s string) (string, error)
	Add      func(ctx context.Context, a, b int) (int, error)
	Keep     func(ctx context.Context, r Record) (Record, error)
	Scale    func(ctx context.Context, xs []float64, by float64) ([]float64, error)
	Fail     func(ctx context.Context, kind int, msg string) error
	Deadline func(ctx context.Context) (int64, error)
	Header   func(ctx context.Context, name string) (string, error)
}

// asEcho makes the funcs an Echo (Count is separate: it needs streams).
type funcEcho struct {
	funcs
	count func(ctx context.Context, n int) (iter.Seq2[int, error], error)
}

func (f funcEcho) Echo(ctx context.Context, s string) (string, error) { return f.funcs.Echo(ctx, s) }
func (f funcEcho) Add(ctx context.Context, a, b int) (int, error)     { return f.funcs.Add(ctx, a, b) }
func (f funcEcho) Keep(ctx context.Context, r Record) (Record, error) { return f.funcs.Keep(ctx, r) }
func (f funcEcho) Scale(ctx context.Context, xs []float64, by float64) ([]float64, error) {
	return f.funcs.Scale(ctx, xs, by)
}
func (f funcEcho) Fail(ctx context.Context, kind int, msg string) error {
	return f.funcs.Fail(ctx, kind, msg)
}
func (f funcEcho) Deadline(ctx context.Context) (int64, error) { return f.funcs.Deadline(ctx) }
func (f funcEcho) Header(ctx context.Context, name string) (string, error) {
	return f.funcs.Header(ctx, name)
}
func (f funcEcho) Count(ctx context.Context, n int) (iter.Seq2[int, error], error) {
	return f.count(ctx, n)
}

// Run runs the conformance suite over tr: the implementation [Impl]
// registered as [Echo] on a service that tr serves, called through a
// [component.Router] by a struct of funcs ([component.Router.Bind]) and,
// when its generated stubs are linked in, by [component.Dial].
func Run(t *testing.T, tr Transport) {
	t.Helper()
	impl := &Impl{}
	url, p := tr.Serve(t, NewService(impl))
	opts := []component.RouterOption{component.WithRoutes(component.Routes{"Echo": {Providers: []string{url}, Fail: component.FailFast}})}
	if p != nil {
		opts = append(opts, component.WithProvider(url, p))
	}
	r, err := component.NewRouter(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()

	t.Run("funcs", func(t *testing.T) {
		var f funcs
		if err := r.Bind(ctx, "Echo", &f); err != nil {
			t.Fatal(err)
		}
		var count struct {
			Count func(ctx context.Context, n int) (iter.Seq2[int, error], error)
		}
		err := r.Bind(ctx, "Echo", &count)
		switch {
		case tr.Streams && err != nil:
			t.Fatalf("binding a streamed result: %v", err)
		case !tr.Streams && service.KindOf(err) != service.KindUnsupported:
			t.Fatalf("binding a streamed result to a transport without streams: err = %v, want kind unsupported", err)
		}
		runCalls(t, tr, impl, funcEcho{funcs: f, count: count.Count})
		// With a description the router refuses the argument before
		// sending it; without one the service does, before the
		// implementation: either way the implementation never sees it.
		t.Run("type checked before sending", func(t *testing.T) {
			var loose struct {
				Echo func(ctx context.Context, s any) (string, error)
			}
			if err := r.Bind(ctx, "Echo", &loose); err != nil {
				t.Fatal(err)
			}
			before := impl.Calls.Load()
			_, err := loose.Echo(ctx, 42)
			if service.KindOf(err) != service.KindInvalid || !strings.Contains(err.Error(), `"s"`) {
				t.Fatalf("err = %v, want an invalid argument error naming the input s", err)
			}
			if got := impl.Calls.Load(); got != before {
				t.Fatalf("the implementation got %d call(s) for an argument of the wrong type", got-before)
			}
		})
	})
	t.Run("interceptors", func(t *testing.T) { runInterceptors(t, tr) })
	t.Run("interface", func(t *testing.T) {
		e, err := component.Dial[Echo](ctx, r)
		switch {
		case service.KindOf(err) == service.KindUnsupported && strings.Contains(err.Error(), "glyph gen"):
			t.Skip("no generated stub for Echo is linked in: run go generate in package componenttest")
		case !tr.Streams:
			// Count streams its result: the whole interface cannot be
			// bound, and binding says why.
			if service.KindOf(err) != service.KindUnsupported || !strings.Contains(err.Error(), "Echo.count") {
				t.Fatalf("Dial over a transport without streams = %v, want an unsupported error naming Echo.count", err)
			}
			return
		case err != nil:
			t.Fatal(err)
		}
		runCalls(t, tr, impl, e)
	})
}

// runCalls checks what a caller of Echo relies on.
func runCalls(t *testing.T, tr Transport, impl *Impl, e Echo) {
	ctx := context.Background()
	t.Run("values", func(t *testing.T) {
		if s, err := e.Echo(ctx, "héllo, wörld"); err != nil || s != "héllo, wörld" {
			t.Fatalf("Echo = %q, %v", s, err)
		}
		if n, err := e.Add(ctx, 2, 40); err != nil || n != 42 {
			t.Fatalf("Add = %d, %v", n, err)
		}
		in := Record{Name: "r", Tags: []string{"a", "b"}, Score: 1.5}
		if out, err := e.Keep(ctx, in); err != nil || !reflect.DeepEqual(out, Record{Name: "r", Tags: []string{"a", "b"}, Score: 3}) {
			t.Fatalf("Keep = %+v, %v", out, err)
		}
		if out, err := e.Keep(ctx, Record{Name: "only"}); err != nil || out.Name != "only" || out.Score != 0 {
			t.Fatalf("Keep without optional fields = %+v, %v", out, err)
		}
	})
	t.Run("copies", func(t *testing.T) {
		xs := []float64{1, 2, 3}
		out, err := e.Scale(ctx, xs, 10)
		if err != nil || !slices.Equal(out, []float64{10, 20, 30}) {
			t.Fatalf("Scale = %v, %v", out, err)
		}
		changed := !slices.Equal(xs, []float64{1, 2, 3})
		if tr.Copies && changed {
			t.Fatalf("the implementation changed the caller's slice: %v", xs)
		}
		if !tr.Copies && !changed {
			t.Fatalf("without copies, the implementation works on the caller's slice; it is still %v", xs)
		}
	})
	t.Run("errors keep their kind", func(t *testing.T) {
		for _, k := range []service.Kind{service.KindInvalid, service.KindNotFound, service.KindConflict,
			service.KindPermissionDenied, service.KindUnavailable, service.KindUnimplemented} {
			err := e.Fail(ctx, int(k), "failed on purpose")
			var se *service.Error
			if !errors.As(err, &se) || se.Kind != k || !strings.Contains(se.Message, "failed on purpose") {
				t.Errorf("Fail(%v) = %#v, want a *service.Error of that kind with the message", k, err)
			}
		}
		err := e.Fail(ctx, 0, "plain error")
		if service.KindOf(err) != service.KindInternal {
			t.Errorf("a plain Go error arrives as %v, want kind internal", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		if !tr.Deadlines {
			t.Skip("the transport carries no deadlines")
		}
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ms, err := e.Deadline(c)
		if err != nil || ms <= 0 || ms > 5000 {
			t.Fatalf("Deadline = %d ms, %v; want within (0, 5000]", ms, err)
		}
		if !tr.Describes {
			return
		}
		// Without one, the method's default (component.Timeout, 30s) applies.
		ms, err = e.Deadline(ctx)
		if err != nil || ms <= 5000 || ms > 30000 {
			t.Fatalf("Deadline without a deadline = %d ms, %v; want the default, within (5000, 30000]", ms, err)
		}
	})
	t.Run("header", func(t *testing.T) {
		if !tr.Headers {
			t.Skip("the transport carries no headers")
		}
		const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		got, err := e.Header(client.WithCallHeader(ctx, "Traceparent", tp), "traceparent")
		if err != nil || got != tp {
			t.Fatalf("Header = %q, %v; want the caller's traceparent", got, err)
		}
	})
	t.Run("stream", func(t *testing.T) {
		if !tr.Streams {
			t.Skip("the transport carries no streams")
		}
		seq, err := e.Count(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for n, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
		}
		if !slices.Equal(got, []int{0, 1, 2, 3}) {
			t.Fatalf("Count = %v", got)
		}
	})
}
