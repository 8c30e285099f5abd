package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/chatroom"
	"github.com/glyph-ipc/glyph/internal/telemeter"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
	"github.com/glyph-ipc/glyph/peer"
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
// need it, the URLs of the demo's server.
type demo struct {
	w       io.Writer
	log     io.Writer // where the servers log (stderr)
	addr    string    // where the demo's server (or the front) listens
	url     string    // the walkthrough server's root URL
	peerURL string    // the walkthrough served to peers: ws://host:port/peer
	chatURL string    // a chat room served to peers: ws://host:port/chat/peer
	running []running // what a part left running, to serve until Ctrl-C
	once    bool      // parts that keep running stop after their checks
}

// running is something a part started and leaves running after the
// tour, unless --once: what it tells the reader, and what stops it.
type running struct {
	hint string
	stop func()
}

// demoParts is the tour, in order. New capabilities add a part here.
var demoParts = []demoPart{
	{name: "walkthrough", title: "The walkthrough: a client finds its way", server: true, run: demoWalkthrough},
	{name: "peers", title: "Peers: streams and callbacks", server: true, run: demoPeers},
	{name: "encoding", title: "The hyperglyph encoding", run: func(_ context.Context, d *demo) error { return demoEncoding(d.w) }},
	{name: "deploy", title: "A deployment: one application in processes of their own", run: demoDeploy},
	{name: "telemeter", title: "Shared objects: the Telemeter", run: func(ctx context.Context, d *demo) error { return telemeter.RunDemo(ctx, d.w, d.once) }},
}

// defaultParts run when glyph demo is given none.
var defaultParts = []string{"walkthrough", "peers"}

func newDemoCommand() *cobra.Command {
	names := make([]string, len(demoParts))
	for i, part := range demoParts {
		names[i] = part.name
	}
	var once bool
	var addr string
	level := slog.LevelInfo
	cmd := &cobra.Command{
		Use:   "demo [part...]",
		Short: "A tour of glyph that checks itself as it goes",
		Long: `demo walks through what glyph does, printing each step and checking its
result. It exits with status 1 if any check fails.

With no arguments it runs the walkthrough and the peers part: it starts the
walkthrough service (the one go run ./examples/walkthrough serves) on a free
port, prints its URL, calls it step by step as a client that knows nothing but
that URL, then calls it and a chat room (examples/chat) over peer connections
on the same port, with a streamed result and a callback, and then keeps
serving, for glyph get and glyph call to explore, until Ctrl-C (--once stops
at the end instead).

The tour is printed on stdout, the server's log on stderr: every failed call
with the logref its caller got (--log-level debug adds every request and call).

Parts: ` + strings.Join(names, ", ") + `. "encoding" tours the wire format: every
glyph type as a Go value, its encoding and the value decoded back. "deploy"
runs the search example (examples/search) as glyph run runs
examples/search/deploy.yaml, Storage twice, Search and the front in processes
of their own, with this glyph as their binary; it calls the front, kills a
Storage replica, shows the calls still answered and the replica restarted, and
prints glyph status; the processes' output goes to stderr. "telemeter"
runs the shared objects' tutorial application on this machine: one remote,
three daemons of three identities, a telemeter publishing its host's status
and a monitor pairing with it (examples/telemeter); with --once it stops
after its checks, else the monitor prints statuses until Ctrl-C.`,
		Example: `  glyph demo
  glyph demo --once
  glyph demo --log-level debug
  glyph demo peers
  glyph demo encoding
  glyph demo deploy --once
  glyph demo telemeter --once`,
		ValidArgs: names,
		Args:      cobra.OnlyValidArgs,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = defaultParts
			}
			// The server's one logger, as a program's main would set it:
			// the services, the HTTP handler and the peers all log to
			// slog.Default(), on stderr, apart from the tour on stdout.
			slog.SetDefault(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level})))
			return runDemo(cmd.Context(), &demo{w: cmd.OutOrStdout(), log: cmd.ErrOrStderr(), addr: addr}, args, once)
		}),
	}
	cmd.Flags().BoolVar(&once, "once", false, "exit after the tour instead of serving until Ctrl-C")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "where the walkthrough server, or the deployment's front, listens (port 0: any free port)")
	cmd.Flags().TextVar(&level, "log-level", level, "log on stderr from this `level`: debug (every request and call), info (failed calls), warn or error")
	return cmd
}

// runDemo runs the named parts and fails if any fails. When a part needed
// the walkthrough server, or left a deployment running, it then keeps
// serving until ctx ends or the process is interrupted, unless once is
// set.
func runDemo(ctx context.Context, d *demo, names []string, once bool) error {
	w := d.w
	d.once = once
	var srv *demoServer
	for _, part := range demoParts {
		if part.server && slices.Contains(names, part.name) {
			var err error
			if srv, err = startDemoServer(d.addr); err != nil {
				return fmt.Errorf("starting the walkthrough server: %w", err)
			}
			d.url, d.peerURL, d.chatURL = srv.url, srv.peerURL, srv.chatURL
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
	if (srv != nil || len(d.running) > 0) && len(failed) == 0 && !once {
		serveUntilInterrupted(ctx, w, d)
	}
	if srv != nil {
		srv.shutdown()
	}
	for _, r := range slices.Backward(d.running) {
		r.stop()
	}
	if len(failed) > 0 {
		return fmt.Errorf("demo failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// serveUntilInterrupted waits for Ctrl-C (or ctx's end) while the
// demo's server keeps serving.
func serveUntilInterrupted(ctx context.Context, w io.Writer, d *demo) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, r := range d.running {
		fmt.Fprintln(w, r.hint)
	}
	if d.url == "" {
		<-ctx.Done()
		fmt.Fprintln(w, "Stopped.")
		return
	}
	url := d.url
	fmt.Fprintf(w, `The walkthrough service keeps serving at %s until Ctrl-C. Explore it:

  go run ./cmd/glyph get %s
  go run ./cmd/glyph call %s hello name=Bob
  go run ./cmd/glyph call %s find_user bob .message hi there
  curl -s %s

`, url, url, url, url, url)
	fmt.Fprintf(w, `and over peer connections, the walkthrough and the chat room:

  go run ./cmd/glyph call %s find_user bob .bio
  go run ./cmd/glyph call %s history
  go run ./examples/chat -url %s -name you

`, d.peerURL, d.chatURL, d.chatURL)
	<-ctx.Done()
	fmt.Fprintln(w, "Stopped.")
}

// demoServer is the demo's server, on one port: the walkthrough service
// over HTTP at / and to peers over WebSocket at /peer, and a chat room to
// peers at /chat/peer.
type demoServer struct {
	http                  *http.Server
	walkthrough, chat     *peer.Peer
	room                  *chatroom.Room
	url, peerURL, chatURL string
}

func startDemoServer(addr string) (*demoServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	svc := walkthrough.V2()
	s := &demoServer{
		walkthrough: peer.New(peer.WithHandler(hyperpeer.NewHandler(svc))),
		room:        chatroom.New(),
		url:         "http://" + ln.Addr().String() + "/",
		peerURL:     "ws://" + ln.Addr().String() + "/peer",
		chatURL:     "ws://" + ln.Addr().String() + "/chat/peer",
	}
	s.chat = peer.New(peer.WithHandler(hyperpeer.NewHandler(s.room.Service())))
	mux := http.NewServeMux()
	mux.Handle("/", hyperhttp.NewHandler(svc))
	mux.Handle("/peer", s.walkthrough.WebSocketHandler())
	mux.Handle("/chat/peer", s.chat.WebSocketHandler())
	s.http = hyperhttp.NewServer("", mux)
	go s.http.Serve(hyperhttp.LimitListener(ln, hyperhttp.ConnLimits{}))
	return s, nil
}

// shutdown stops the server: the chat room closes, which ends its join
// calls, then HTTP and the peer connections stop once the calls in
// flight have finished (at most 5 seconds).
func (s *demoServer) shutdown() {
	s.room.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.http.Shutdown(ctx)
	s.walkthrough.Shutdown(ctx)
	s.chat.Shutdown(ctx)
}
