// Command chat is a chat room (package room) served over HTTP and to
// peers, and a client for it. A member joins with a callback that the
// server calls with every message, what it types goes to the room as the
// streamed arguments of one call, and the history streams back.
//
//	go run ./examples/chat -demo          # a server and two members in one process: prints a transcript and exits
//	go run ./examples/chat -serve         # the room on 127.0.0.1:7002: HTTP at /, peers over WebSocket at /peer
//	go run ./examples/chat -name ann      # join ws://127.0.0.1:7002/peer as ann; each line typed is sent, Ctrl-D leaves
//
// It logs on stderr: every failed call at info level (error level when
// the server is at fault) with the logref its caller got, and with
// -log-level debug every request and call.
//
// The room's functions are ordinary service functions, so the glyph tool
// reaches them too:
//
//	go run ./cmd/glyph call ws://127.0.0.1:7002/peer send bob 'hi all'
//	go run ./cmd/glyph call ws://127.0.0.1:7002/peer history
//	go run ./cmd/glyph call http://127.0.0.1:7002/ who
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/chatroom"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run runs the command line args: the demo, the server until ctx ends,
// or a member until its input ends, ctx ends or the room closes. It logs
// to stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "run a server and two members in one process, print the transcript and exit")
	serve := fs.Bool("serve", false, "serve the room until Ctrl-C")
	addr := fs.String("addr", "127.0.0.1:7002", "with -serve: the HTTP address; peers connect over WebSocket at /peer")
	url := fs.String("url", "ws://127.0.0.1:7002/peer", "the room to join: a peer URL (ws://, tcp://, unix://)")
	name := fs.String("name", "", "join the room under this name: lines read from stdin are sent")
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
	// The program's one logger: the room's service, its HTTP handler and
	// the peers, the server's and the members', all log to
	// slog.Default(), as none is given a logger of its own.
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))
	switch {
	case *demo:
		return runDemo(ctx, stdout)
	case *serve:
		s, err := startServer(*addr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "chat room serving on %s (Ctrl-C stops it)\npeers: %s\n", s.url, s.peerURL)
		select {
		case err = <-s.served:
		case <-ctx.Done():
		}
		if e := s.shutdown(); err == nil {
			err = e
		}
		return err
	case *name != "":
		return member(ctx, *url, *name, stdin, stdout)
	}
	return fmt.Errorf("%w: give -demo, -serve or -name (see -help)", errUsage)
}

// server is a room served over HTTP at / and to peers over WebSocket at
// /peer, on one port.
type server struct {
	room    *chatroom.Room
	http    *http.Server
	peer    *peer.Peer
	url     string     // http://host:port/
	peerURL string     // ws://host:port/peer
	served  chan error // what http.Server.Serve returned
}

func startServer(addr string) (*server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := chatroom.New()
	svc := r.Service()
	p := peer.New(peer.WithHandler(hyperpeer.NewHandler(svc)))
	mux := http.NewServeMux()
	mux.Handle("/", hyperhttp.NewHandler(svc))
	mux.Handle("/peer", p.WebSocketHandler())
	s := &server{
		room:    r,
		http:    hyperhttp.NewServer("", mux),
		peer:    p,
		url:     "http://" + ln.Addr().String() + "/",
		peerURL: "ws://" + ln.Addr().String() + "/peer",
		served:  make(chan error, 1),
	}
	go func() { s.served <- s.http.Serve(hyperhttp.LimitListener(ln, hyperhttp.ConnLimits{})) }()
	return s, nil
}

// shutdown closes the room, which ends every join call, then stops the
// HTTP server and the peer connections, letting the calls in flight
// finish for up to 5 seconds.
func (s *server) shutdown() error {
	s.room.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	// A remote that hangs up while the peer shuts down makes Shutdown
	// report that connection's error; only a shutdown that did not finish
	// in time failed.
	if e := s.peer.Shutdown(ctx); err == nil && ctx.Err() != nil {
		err = e
	}
	return err
}

// join calls the room's join as name, on a goroutine of its own: the
// server calls deliver with every message until ctx ends (the member
// leaves) or the room ends the call. The call's error is sent on the
// channel returned; leaving is no error.
func join(ctx context.Context, index *client.Value, name string, deliver func(context.Context, chatroom.Message) error) <-chan error {
	done := make(chan error, 1)
	f, err := index.Get("join")
	if err != nil {
		done <- err
		return done
	}
	go func() {
		// deliver is a Go func: the client registers it on the connection
		// for as long as the call lasts and sends its name instead.
		_, err := f.Call(ctx, name, deliver)
		if ctx.Err() != nil {
			err = nil
		}
		done <- err
	}()
	return done
}

// post sends texts to the room at index as messages from name, each as
// soon as texts yields it, as the streamed argument of one call of the
// room's post (over HTTP, the list of them); it returns how many the room
// took.
func post(ctx context.Context, index *client.Value, name string, texts iter.Seq[string]) (int, error) {
	var sent atomic.Bool
	messages := func(yield func(map[string]any) bool) {
		for text := range texts {
			sent.Store(true)
			if !yield(map[string]any{"from": name, "text": text}) {
				return
			}
		}
	}
	res, err := index.Path(ctx, "post", iter.Seq[map[string]any](messages))
	if err != nil {
		if !sent.Load() && service.KindOf(err) == service.KindUnsupported {
			// Nothing to post: a peer call cannot stream no item.
			return 0, nil
		}
		return 0, err
	}
	var n int
	if err := res.Decode(&n); err != nil {
		return 0, fmt.Errorf("post answered %v, want a count", res.Any())
	}
	return n, nil
}

// history returns the room's history as it streams in.
func history(ctx context.Context, index *client.Value) iter.Seq2[chatroom.Message, error] {
	return func(yield func(chatroom.Message, error) bool) {
		f, err := index.Get("history")
		if err != nil {
			yield(chatroom.Message{}, err)
			return
		}
		for v, err := range f.Stream(ctx) {
			var m chatroom.Message
			if err == nil {
				err = v.Decode(&m)
			}
			if !yield(m, err) || err != nil {
				return
			}
		}
	}
}

// member is a member of the room at url until in ends, ctx ends or the
// room closes: it joins, prints the history up to its joining, then every
// message delivered, and sends each line of in.
func member(ctx context.Context, url, name string, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := client.New()
	defer c.Close()
	index, err := c.Get(ctx, url)
	if err != nil {
		return err
	}
	// deliver runs on the client's goroutines; this one prints.
	delivered := make(chan chatroom.Message, 64)
	joined := join(ctx, index, name, func(ctx context.Context, m chatroom.Message) error {
		select {
		case delivered <- m:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	closed := func(err error) error {
		for len(delivered) > 0 {
			fmt.Fprintln(out, <-delivered)
		}
		if err == nil {
			fmt.Fprintln(out, "the room closed")
		}
		return err
	}
	// The first message delivered is the notice that name joined: the
	// history has what came before it.
	var first chatroom.Message
	select {
	case first = <-delivered:
	case err := <-joined:
		return closed(err)
	}
	for m, err := range history(ctx, index) {
		if err != nil {
			return err
		}
		if m.ID >= first.ID {
			break
		}
		fmt.Fprintln(out, m)
	}
	fmt.Fprintln(out, first)

	posted := make(chan error, 1)
	go func() {
		_, err := post(ctx, index, name, lines(in))
		posted <- err
	}()
	for {
		select {
		case m := <-delivered:
			fmt.Fprintln(out, m)
		case err := <-joined:
			return closed(err)
		case err := <-posted: // in ended: leave
			cancel()
			if e := <-joined; err == nil {
				err = e
			}
			return err
		}
	}
}

// lines yields the lines of r that are not empty.
func lines(r io.Reader) iter.Seq[string] {
	return func(yield func(string) bool) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if sc.Text() != "" && !yield(sc.Text()) {
				return
			}
		}
	}
}
