// Command components shows one component interface (package search)
// served and called over three transports with the same application
// code: only the routing table changes.
//
//	go run ./examples/components            # in process, over HTTP and over TCP, one after the other
//	go run ./examples/components -serve tcp://127.0.0.1:7002   # serve Search to peers
//	GLYPH_ROUTES='{"Search": {"providers": ["tcp://127.0.0.1:7002"]}}' \
//	    go run ./examples/components -call  # call it from another process
//
// The application code is the function app: it holds a search.Search and
// never learns where the implementation runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/examples/components/search"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "components:", err)
		os.Exit(1)
	}
}

// app is the application: it knows the interface, not the transport.
func app(ctx context.Context, s search.Search, w io.Writer) error {
	hits, err := s.RunQuery(ctx, "glyph", 2)
	if err != nil {
		return err
	}
	for _, h := range hits {
		fmt.Fprintf(w, "  %-40s %5.1f\n", h.Title, h.Score)
	}
	return nil
}

var titles = []string{"Glyph: duck-typed IPC", "Hypermedia RPC", "Glyph peers over TCP", "The glyph glyph"}

func newService() (*service.Service, error) {
	svc := service.New(service.WithLogger(slog.New(slog.DiscardHandler)))
	return svc, search.Register(svc, &search.Index{Titles: titles})
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("components", flag.ContinueOnError)
	serve := fs.String("serve", "", "only serve Search to peers at this address (tcp://host:port or unix:///path)")
	call := fs.Bool("call", false, "only call Search where $GLYPH_ROUTES routes it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *serve != "":
		svc, err := newService()
		if err != nil {
			return err
		}
		l, err := peer.Listen(ctx, *serve)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "serving Search at %s\n", l.Addr())
		return peer.Serve(ctx, l, peer.WithHandler(hyperpeer.NewHandler(svc)))
	case *call:
		routes, err := component.RoutesFromEnv()
		if err != nil {
			return err
		}
		return callWith(ctx, routes, stdout)
	}
	return tour(ctx, stdout)
}

// callWith binds Search through a router with the given table and runs
// the application.
func callWith(ctx context.Context, routes component.Routes, w io.Writer) error {
	r, err := component.NewRouter(component.WithRoutes(routes))
	if err != nil {
		return err
	}
	defer r.Close()
	s, err := component.Dial[search.Search](ctx, r)
	if err != nil {
		return err
	}
	return app(ctx, s, w)
}

// tour serves Search in this process, over HTTP and over TCP, and runs
// the same application code against each, changing only the table.
func tour(ctx context.Context, w io.Writer) error {
	svc, err := newService()
	if err != nil {
		return err
	}
	defer component.ServeInProcess("search", svc)()

	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: hyperhttp.NewHandler(svc)}
	go hs.Serve(hl)
	defer hs.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pl, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- peer.Serve(ctx, pl, peer.WithHandler(hyperpeer.NewHandler(svc))) }()

	for _, provider := range []string{"inproc:search", "http://" + hl.Addr().String() + "/", pl.Addr()} {
		fmt.Fprintf(w, "Search at %s:\n", provider)
		if err := callWith(ctx, component.Routes{"Search": {Providers: []string{provider}}}, w); err != nil {
			return err
		}
	}
	cancel()
	if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
