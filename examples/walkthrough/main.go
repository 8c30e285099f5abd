// Command walkthrough serves the glyph walkthrough: hello, goodbye, woo,
// types, greeting, salut and find_user with its User resources (see
// package app). One service is served three ways: over HTTP, to peers
// over WebSocket at /peer on the same port, and, with -peer-addr, to peers
// over TCP; and, for the wider world's RPC clients, as JSON-RPC 2.0 at
// /jsonrpc and as XML-RPC at /xmlrpc on the HTTP port. Its health (package
// health) is check and watch beside the walkthrough's functions, and the
// probes /livez and /readyz on the HTTP port; once stopping, it is not
// ready while it drains.
//
//	go run ./examples/walkthrough               # the evolved version, on 127.0.0.1:8080
//	go run ./examples/walkthrough -v 1          # the first version
//	go run ./examples/walkthrough -addr :9000
//	go run ./examples/walkthrough -peer-addr tcp://127.0.0.1:7001
//	go run ./examples/walkthrough -log-level debug   # also log every request and call
//
// The server logs on stderr: every failed call at info level (error
// level when the server is at fault) with the logref its caller got, and
// with -log-level debug every request and call.
//
// Then look around with the glyph tool, over HTTP or over a peer
// connection:
//
//	go run ./cmd/glyph get http://127.0.0.1:8080/
//	go run ./cmd/glyph call http://127.0.0.1:8080/ hello name=Bob
//	go run ./cmd/glyph call ws://127.0.0.1:8080/peer hello name=Bob
//	go run ./cmd/glyph call tcp://127.0.0.1:7001 find_user bob .bio
//	go run ./cmd/glyph health --watch tcp://127.0.0.1:7001
//	curl -d '{"jsonrpc":"2.0","method":"hello","params":["Bob"],"id":1}' http://127.0.0.1:8080/jsonrpc
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
	"strings"
	"syscall"
	"time"

	"github.com/glyph-ipc/glyph/health"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run serves the walkthrough as the command line args say until ctx ends,
// then shuts the server down: HTTP requests and peer calls in flight
// finish (for up to 5 seconds), new ones are refused. It logs to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("walkthrough", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "the HTTP address: the service at /, peers over WebSocket at /peer")
	peerAddr := fs.String("peer-addr", "", "also accept peers over TCP here (tcp://host:port or host:port; port 0 picks one)")
	version := fs.Int("v", 2, "version of the service to serve: 1 (the first) or 2 (the evolved one)")
	level := slog.LevelInfo
	fs.TextVar(&level, "log-level", level, "log on stderr from this `level`: debug (every request and call), info (failed calls), warn or error")
	if err := fs.Parse(args); err == flag.ErrHelp {
		return nil
	} else if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	svc, err := walkthrough.Service(*version)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	hs := health.NewServer()
	if err := hs.Register(svc); err != nil {
		return err
	}
	// The program's one logger: the service, the HTTP handler, the peers
	// and net/http's server all log to slog.Default(), as none is given
	// a logger of its own.
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))

	// One peer serves every peer connection, whichever way it came, with
	// the same service the HTTP handler serves.
	p := peer.New(peer.WithHandler(hyperpeer.NewHandler(svc)))
	defer p.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", hyperhttp.NewHandler(svc))
	mux.Handle("/peer", p.WebSocketHandler())
	mux.Handle("/jsonrpc", jsonrpc.NewHandler(svc))
	mux.Handle("/xmlrpc", xmlrpc.NewHandler(svc))
	mux.Handle("/livez", hs)
	mux.Handle("/readyz", hs)
	srv := hyperhttp.NewServer("", mux)

	tcpURL := ""
	if *peerAddr != "" {
		a := *peerAddr
		if !strings.Contains(a, "://") {
			a = "tcp://" + a
		}
		if tcpURL, err = p.Bind(ctx, a); err != nil {
			ln.Close()
			return err
		}
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(hyperhttp.LimitListener(ln, hyperhttp.ConnLimits{})) }()
	fmt.Fprintf(stdout, "walkthrough v%d serving on http://%s/ (Ctrl-C stops it)\n", *version, ln.Addr())
	fmt.Fprintf(stdout, "peers: ws://%s/peer\n", ln.Addr())
	if tcpURL != "" {
		fmt.Fprintf(stdout, "peers: %s\n", tcpURL)
	}

	select {
	case err = <-served: // the listener failed
	case <-ctx.Done():
	}
	hs.Shutdown() // readyz fails, watchers see NOT_SERVING
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// HTTP first, so that no new WebSocket arrives; then the peer
	// connections, which the HTTP server does not track once upgraded.
	if e := srv.Shutdown(shutdown); err == nil || errors.Is(err, http.ErrServerClosed) {
		err = e
	}
	// A remote that hangs up while the peer shuts down makes Shutdown
	// report that connection's error; only a shutdown that did not finish
	// in time failed.
	if e := p.Shutdown(shutdown); err == nil && shutdown.Err() != nil {
		err = e
	}
	return err
}
