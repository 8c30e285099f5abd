// Command search is the seed's search service: a Search component that
// ranks the records a Storage component holds, and the front, which
// serves Search.RunQuery to the outside over every protocol and
// Storage's methods not at all.
//
//	go run ./examples/search                        # all in this process; prints a checked transcript
//	go run ./examples/search -listen 127.0.0.1:8080 # the same, then serves the front there until Ctrl-C
//	go build -o examples/search/bin/search ./examples/search
//	glyph run examples/search/deploy.yaml           # Storage (twice), Search and the front in processes of their own
//	glyph run examples/search/deploy-nats.yaml      # the same with Storage behind a NATS server
//
// The application code is in internal/searchapp (where glyph demo
// deploy finds it too): packages search and storage know their
// interfaces, not their transports or their processes. Search reaches
// Storage through a component.Router, so the same code runs when a
// deployment puts them in separate processes, over Unix sockets or NATS:
// only the routing table changes. Package searchapp lists them, and the
// front, as the parts of a process; [component.Start] serves those the
// environment assigns to this process (GLYPH_SERVE, set by `glyph run`),
// or every part in this process when no supervisor runs it.
// tour.go calls the front as outside callers would and checks that every
// protocol gives the same answer.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/internal/searchapp"
)

func main() {
	if _, supervised := os.LookupEnv(component.ServeEnv); supervised {
		// A process of a deployment: it serves what its environment
		// assigns it until its supervisor stops it, and logs slog's JSON,
		// which the supervisor passes through (and stamps with the time).
		slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}})))
		component.Main(searchapp.Parts())
		return
	}
	listen := flag.String("listen", "", "after the transcript, serve the front at this `address` until Ctrl-C")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "search:", err)
		os.Exit(1)
	}
}

// run serves every part in this process, the front on listen (a free
// port of the loopback interface when it is ""), and tours the front;
// with listen set, it then serves until ctx ends.
func run(ctx context.Context, w io.Writer, listen string) error {
	addr := listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	quiet := slog.New(slog.DiscardHandler)
	p, err := component.Start(ctx, searchapp.Parts(front.WithLogger(quiet)), component.WithLogger(quiet), component.WithListen(front.Name, addr))
	if err != nil {
		return err
	}
	defer p.Close()
	if err := tour(ctx, p.Addr(front.Name), w); err != nil {
		return err
	}
	if listen != "" {
		fmt.Fprintf(w, "The front serves at %s until Ctrl-C.\n", p.Addr(front.Name))
		<-ctx.Done()
	}
	return nil
}
