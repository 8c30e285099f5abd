package main

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/examples/search/search"
	"github.com/glyph-ipc/glyph/examples/search/storage"
	"github.com/glyph-ipc/glyph/service"
)

// components are the components this binary can serve, by interface
// name, each started on its service with the process's router (through
// which it reaches the components it depends on). A process side that
// serves only some of them in each process starts those.
var components = []struct {
	name  string
	start func(ctx context.Context, svc *service.Service, r *component.Router) error
}{
	{"Storage", func(_ context.Context, svc *service.Service, _ *component.Router) error {
		return storage.Register(svc, storage.NewShelf(storage.Seed()))
	}},
	{"Search", search.Serve},
}

// serveInProcess is the deployment in one process: every component on
// a service of its own, routed in process ("inproc:"), and the front
// before them on a port of the loopback interface. It returns the
// front's URL and what stops it all.
func serveInProcess(ctx context.Context) (frontURL string, stop func(), err error) {
	quiet := slog.New(slog.DiscardHandler)
	routes := component.Routes{}
	for _, c := range components {
		routes[c.name] = component.Route{Providers: []string{"inproc:" + c.name}}
	}
	r, err := component.NewRouter(component.WithRoutes(routes))
	if err != nil {
		return "", nil, err
	}
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	stops = append(stops, func() { r.Close() })
	for _, c := range components { // in order: a component's dependencies come first
		svc := service.New(service.WithLogger(quiet))
		if err := c.start(ctx, svc, r); err != nil {
			stop()
			return "", nil, err
		}
		stops = append(stops, component.ServeInProcess(c.name, svc))
	}
	f, err := front.New(ctx, r, front.WithLogger(quiet))
	if err != nil {
		stop()
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stop()
		return "", nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- f.Serve(fctx, l) }()
	stops = append(stops, func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			quiet.Error("front", "err", err)
		}
	})
	return "http://" + l.Addr().String() + "/", stop, nil
}
