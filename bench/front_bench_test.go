package bench

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/componenttest"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/service"
)

// BenchmarkFrontHop (issue 15) measures the hop through the unified
// front: Echo("hello") of a component served to peers over a Unix
// socket, called by a Go caller (a struct of funcs bound through a
// router, calls one after the other)
//
//   - direct: over that socket;
//   - front/http: through the front's port, hyperglyph over HTTP on
//     127.0.0.1, the front calling the component over the socket;
//   - front/ws: through the front's port, a peer over WebSocket;
//   - front/unix: through the front's service served to peers over a
//     Unix socket of its own: the front's hop alone, on the transport of
//     the direct call.
//
// It reports the median latency (p50-ns) and the CPU time of the whole
// process (caller, front and component) per call (cpu-ns/op). See
// README.md for the command and the results.
func BenchmarkFrontHop(b *testing.B) {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	svc := service.New(service.WithLogger(quiet))
	component.MustRegister[componenttest.Echo](svc, &componenttest.Impl{},
		append(componenttest.Options(), component.Method("Echo", component.Public()))...)
	sock := componenttest.ServePeer(b, "unix", svc)

	routed := func(b *testing.B, u string) *component.Router {
		r, err := component.NewRouter(component.WithRoutes(component.Routes{"Echo": {Providers: []string{u}}}))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { r.Close() })
		return r
	}
	f, err := front.New(ctx, routed(b, sock), front.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	srv := httptest.NewServer(f)
	defer srv.Close()

	targets := []struct{ name, url string }{
		{"direct", sock},
		{"front/http", srv.URL + "/"},
		{"front/ws", "ws://" + strings.TrimPrefix(srv.URL, "http://") + front.PathPeer},
		{"front/unix", componenttest.ServePeer(b, "unix", f.Service())},
	}
	for _, t := range targets {
		b.Run(t.name, func(b *testing.B) {
			var e echoFuncs
			if err := routed(b, t.url).Bind(ctx, "Echo", &e); err != nil {
				b.Fatal(err)
			}
			measureCalls(b, func() (string, error) { return e.Echo(ctx, "hello") })
		})
	}
}
