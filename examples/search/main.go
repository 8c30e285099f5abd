// Command search is the seed's search service: a Search component that
// ranks the records a Storage component holds, and the front, which
// serves Search.RunQuery to the outside over every protocol and
// Storage's methods not at all.
//
//	go run ./examples/search    # all three in this process; prints a checked transcript
//
// The application code is packages search and storage: they know their
// interfaces, not their transports or their processes. Search reaches
// Storage through a component.Router, so the same code runs when a
// deployment puts them in separate processes, over Unix sockets or
// NATS: only the routing table changes. This file and process.go are
// the deployment in one process; tour.go calls the front as outside
// callers would and checks that every protocol gives the same answer.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "search:", err)
		os.Exit(1)
	}
}

// run serves search, storage and the front in this process and tours
// the front.
func run(ctx context.Context, w io.Writer) error {
	frontURL, stop, err := serveInProcess(ctx)
	if err != nil {
		return err
	}
	defer stop()
	return tour(ctx, frontURL, w)
}
