package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/glyph-ipc/glyph/examples/walkthrough/app"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/spf13/cobra"
)

// A demoPart is one chapter of the tour glyph demo gives. Each part checks
// what it shows and returns an error when the system and the explanation
// disagree, so the demo doubles as a smoke test of a fresh checkout.
type demoPart struct {
	name   string // selects the part on the command line: glyph demo encoding
	title  string
	server bool // needs the walkthrough server
	run    func(ctx context.Context, d *demo) error
}

// demo is what the parts share: where to write and, for the parts that
// need it, the URL of the walkthrough server.
type demo struct {
	w   io.Writer
	url string // the walkthrough server's root URL
}

// demoParts is the tour, in order. New capabilities add a part here.
var demoParts = []demoPart{
	{name: "walkthrough", title: "The walkthrough: a client finds its way", server: true, run: demoWalkthrough},
	{name: "encoding", title: "The hyperglyph encoding", run: func(_ context.Context, d *demo) error { return demoEncoding(d.w) }},
}

// defaultParts run when glyph demo is given none.
var defaultParts = []string{"walkthrough"}

func newDemoCommand() *cobra.Command {
	names := make([]string, len(demoParts))
	for i, part := range demoParts {
		names[i] = part.name
	}
	var once bool
	var addr string
	cmd := &cobra.Command{
		Use:   "demo [part...]",
		Short: "A tour of glyph that checks itself as it goes",
		Long: `demo walks through what glyph does, printing each step and checking its
result. It exits with status 1 if any check fails.

With no arguments it runs the walkthrough: it starts the walkthrough service
(the one go run ./examples/walkthrough serves) on a free port, prints its URL,
calls it step by step as a client that knows nothing but that URL, and then
keeps serving it, for glyph get and glyph call to explore, until Ctrl-C
(--once stops at the end instead).

Parts: ` + strings.Join(names, ", ") + `. "encoding" tours the wire format: every
glyph type as a Go value, its encoding and the value decoded back.`,
		Example: `  glyph demo
  glyph demo --once
  glyph demo encoding`,
		ValidArgs: names,
		Args:      cobra.OnlyValidArgs,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = defaultParts
			}
			return runDemo(cmd.Context(), cmd.OutOrStdout(), args, addr, once)
		}),
	}
	cmd.Flags().BoolVar(&once, "once", false, "exit after the tour instead of serving until Ctrl-C")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "where the walkthrough server listens (port 0: any free port)")
	return cmd
}

// runDemo runs the named parts and fails if any fails. When a part needed
// the walkthrough server, it then keeps serving until ctx ends or the
// process is interrupted, unless once is set.
func runDemo(ctx context.Context, w io.Writer, names []string, addr string, once bool) error {
	d := &demo{w: w}
	var srv *http.Server
	for _, part := range demoParts {
		if part.server && slices.Contains(names, part.name) {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("starting the walkthrough server: %w", err)
			}
			srv = &http.Server{Handler: hyperhttp.NewHandler(app.V2(), hyperhttp.Config{}), ReadHeaderTimeout: 10 * time.Second}
			go srv.Serve(ln)
			d.url = "http://" + ln.Addr().String() + "/"
			break
		}
	}
	var failed []string
	for _, part := range demoParts {
		if !slices.Contains(names, part.name) {
			continue
		}
		fmt.Fprintf(w, "== %s ==\n\n", part.title)
		if err := part.run(ctx, d); err != nil {
			fmt.Fprintf(w, "\nFAILED: %v\n\n", err)
			failed = append(failed, part.name)
			continue
		}
		fmt.Fprintln(w)
	}
	if srv != nil {
		if len(failed) == 0 && !once {
			serveUntilInterrupted(ctx, w, d.url)
		}
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}
	if len(failed) > 0 {
		return fmt.Errorf("demo failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// serveUntilInterrupted waits for Ctrl-C (or ctx's end) while the
// walkthrough server keeps serving url.
func serveUntilInterrupted(ctx context.Context, w io.Writer, url string) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(w, `The walkthrough service keeps serving at %s until Ctrl-C. Explore it:

  go run ./cmd/glyph get %s
  go run ./cmd/glyph call %s hello name=Bob
  go run ./cmd/glyph call %s find_user bob .message hi there
  curl -s %s

`, url, url, url, url, url)
	<-ctx.Done()
	fmt.Fprintln(w, "Stopped.")
}
