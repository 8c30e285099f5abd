package peer_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// blocker is a handler that reports its context and waits for it to end
// or to be released.
type blocker struct {
	started chan *peer.ServerStream
	ended   chan error // the context's cause when it ended
	release chan struct{}
	dl      chan time.Time
}

func newBlocker() *blocker {
	return &blocker{started: make(chan *peer.ServerStream, 8), ended: make(chan error, 8), release: make(chan struct{}), dl: make(chan time.Time, 8)}
}

func (b *blocker) ServePeer(ctx context.Context, s *peer.ServerStream) (any, error) {
	d, _ := ctx.Deadline()
	b.dl <- d
	b.started <- s
	select {
	case <-ctx.Done():
		b.ended <- context.Cause(ctx)
		return nil, ctx.Err()
	case <-b.release:
		return "released", nil
	}
}

func TestCancelReachesHandler(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.Name, func(t *testing.T) {
			b := newBlocker()
			c, _ := connect(t, tr, nil, []peer.Option{peer.WithHandler(b)})
			ctx, cancel := context.WithCancel(ctxTimeout(t, 5*time.Second))
			errc := make(chan error, 1)
			go func() {
				_, err := c.Call(ctx, "wait", nil)
				errc <- err
			}()
			<-b.started
			cancel()
			if err := <-errc; kindOf(t, err) != service.KindCanceled {
				t.Errorf("canceled call: %v", err)
			}
			select {
			case cause := <-b.ended:
				if kindOf(t, cause) != service.KindCanceled {
					t.Errorf("handler's cause %v", cause)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the handler's context was not canceled")
			}
			// A stream closed before its end is canceled the same way.
			s, err := c.NewStream(ctxTimeout(t, 5*time.Second), "wait")
			if err != nil {
				t.Fatal(err)
			}
			s.Send("x")
			<-b.started
			s.Close()
			if _, err := s.Recv(); kindOf(t, err) != service.KindCanceled {
				t.Errorf("Recv after Close: %v", err)
			}
			select {
			case <-b.ended:
			case <-time.After(5 * time.Second):
				t.Fatal("Close did not cancel the handler")
			}
		})
	}
}

func TestDeadlineReachesHandler(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.Name, func(t *testing.T) {
			b := newBlocker()
			c, _ := connect(t, tr, nil, []peer.Option{peer.WithHandler(b)})
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			want, _ := ctx.Deadline()
			_, err := c.Call(ctx, "wait", nil)
			if kindOf(t, err) != service.KindDeadlineExceeded {
				t.Errorf("call past its deadline: %v", err)
			}
			d := <-b.dl
			if d.IsZero() || d.Sub(want) > 50*time.Millisecond || want.Sub(d) > 300*time.Millisecond {
				t.Errorf("handler deadline %v, caller's %v", d, want)
			}
			select {
			case cause := <-b.ended:
				if !errors.Is(cause, context.DeadlineExceeded) && kindOf(t, cause) != service.KindCanceled {
					t.Errorf("handler's cause %v", cause)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the handler's context did not end")
			}
		})
	}
}

// In baseline mode there is no cancel envelope: the call fails at once
// for the caller and the remote's handler runs on.
func TestBaselineCancelIsLocal(t *testing.T) {
	b := newBlocker()
	c, _ := connect(t, transports[3], []peer.Option{peer.WithBaseline()}, []peer.Option{peer.WithHandler(b)})
	ctx, cancel := context.WithCancel(ctxTimeout(t, 5*time.Second))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, "wait", nil)
		errc <- err
	}()
	<-b.started
	cancel()
	if err := <-errc; kindOf(t, err) != service.KindCanceled {
		t.Errorf("canceled call: %v", err)
	}
	select {
	case <-b.ended:
		t.Error("a baseline remote's handler was canceled")
	case <-time.After(100 * time.Millisecond):
	}
	close(b.release)
	// The late reply is for an id the caller forgot: ignored, and the
	// connection carries on.
	if v, err := c.Call(ctxTimeout(t, 5*time.Second), "x", nil); err != nil || v != "released" {
		t.Error(v, err)
	}
}

func TestSlowConsumer(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		// A window of 512 bytes holds a few dozen results: the stream
		// stalls long before its 2000.
		c, _ := connect(t, tr, modeOptions(baseline, peer.WithMaxBuffered(50), peer.WithStreamWindow(512)), []peer.Option{peer.WithHandler(services())})
		ctx := ctxTimeout(t, 10*time.Second)
		const n = 2000
		slow, err := c.NewStream(ctx, "count")
		if err != nil {
			t.Fatal(err)
		}
		slow.Send(int64(n))
		slow.CloseSend()
		first, err := slow.Recv()
		if err != nil || first != int64(1) {
			t.Fatalf("first item %v, %v", first, err)
		}
		// The slow stream is stalled; other calls on the connection go on.
		for i := range 50 {
			if v, err := c.Call(ctx, "echo", int64(i)); err != nil || v != int64(i) {
				t.Fatalf("fast call %d next to a stalled stream: %v, %v", i, v, err)
			}
		}
		rest, err := recvAll(slow)
		if baseline {
			// Without flow control the stalled stream overflowed its
			// buffer and failed, instead of stalling the connection.
			if kindOf(t, err) != service.KindOverloaded {
				t.Fatalf("baseline slow stream: %d items, %v", len(rest), err)
			}
			return
		}
		// With flow control the producer waited: nothing was lost.
		if err != nil || len(rest) != n-1 || rest[len(rest)-1] != int64(n) {
			t.Fatalf("slow stream: %d items, %v", len(rest), err)
		}
	})
}

// A handler that does not read its streamed arguments stalls only its
// caller's Send (flow control), never the connection.
func TestSlowHandlerFlowControl(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.Name, func(t *testing.T) {
			read := make(chan struct{})
			h := services()
			h["lazy"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
				<-read
				var n int64
				for {
					_, err := s.Recv()
					if err == io.EOF {
						return n, nil
					}
					if err != nil {
						return nil, err
					}
					n++
				}
			}
			c, _ := connect(t, tr, nil, []peer.Option{peer.WithHandler(h), peer.WithStreamWindow(200)})
			ctx := ctxTimeout(t, 10*time.Second)
			s, _ := c.NewStream(ctx, "lazy")
			var sent atomic.Int64
			done := make(chan error, 1)
			go func() {
				for i := range 100 {
					if err := s.Send(int64(i)); err != nil {
						done <- err
						return
					}
					sent.Add(1)
				}
				done <- s.CloseSend()
			}()
			time.Sleep(100 * time.Millisecond)
			// Each argument takes 20 to 70 bytes depending on the codec:
			// a window of 200 bytes lets a few go, far from all 100.
			n := sent.Load()
			if n < 2 || n > 11 {
				t.Errorf("sent %d before the handler read, want what a window of 200 bytes lets go", n)
			}
			time.Sleep(50 * time.Millisecond)
			if m := sent.Load(); m != n {
				t.Errorf("sent %d, then %d, while the handler read nothing", n, m)
			}
			if v, err := c.Call(ctx, "echo", "fast"); err != nil || v != "fast" {
				t.Fatalf("echo next to a stalled stream: %v %v", v, err)
			}
			close(read)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if v, err := s.Recv(); err != nil || v != int64(100) {
				t.Fatalf("lazy = %v, %v", v, err)
			}
		})
	}
}

func TestConnectionLost(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		b := newBlocker()
		h := services()
		h["wait"] = b.ServePeer
		h["half"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
			s.Send(int64(1))
			s.Send(int64(2))
			return b.ServePeer(ctx, s)
		}
		c, srv := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(h)})
		ctx := ctxTimeout(t, 5*time.Second)
		errc := make(chan error, 1)
		go func() {
			_, err := c.Call(ctx, "wait", nil)
			errc <- err
		}()
		<-b.started
		st, _ := c.NewStream(ctx, "half")
		st.CloseSend()
		<-b.started
		if !baseline {
			if v, err := st.Recv(); err != nil || v != int64(1) {
				t.Fatalf("first item %v %v", v, err)
			}
		}
		srv.Close() // the remote goes away mid-call and mid-stream
		err := <-errc
		if !peer.Retryable(err) || kindOf(t, err) != service.KindUnavailable {
			t.Errorf("pending call: %v", err)
		}
		items, err := recvAll(st)
		if !peer.Retryable(err) {
			t.Errorf("pending stream: %v %v", items, err)
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("connection not done")
		}
		if kindOf(t, c.Err()) != service.KindUnavailable {
			t.Errorf("Err = %v", c.Err())
		}
		_, err = c.Call(ctx, "echo", nil)
		if !peer.Retryable(err) {
			t.Errorf("call on a closed connection: %v", err)
		}
		// The server's handlers saw their contexts canceled.
		select {
		case <-b.ended:
		case <-time.After(5 * time.Second):
			t.Error("server handler not canceled by Close")
		}
	})
}

func TestShutdown(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		b := newBlocker()
		h := services()
		h["wait"] = b.ServePeer
		c, srv := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(h)})
		ctx := ctxTimeout(t, 5*time.Second)
		type result struct {
			v   any
			err error
		}
		inflight := make(chan result, 1)
		go func() {
			v, err := c.Call(ctx, "wait", nil)
			inflight <- result{v, err}
		}()
		<-b.started
		shut := make(chan error, 1)
		go func() { shut <- srv.Shutdown(ctx) }()
		// New calls are refused, retryably, while the old one runs.
		deadline := time.Now().Add(2 * time.Second)
		for {
			_, err := c.Call(ctx, "echo", "late")
			if err != nil {
				if !peer.Retryable(err) {
					t.Fatalf("call during shutdown: %v", err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("calls still served during shutdown")
			}
			time.Sleep(5 * time.Millisecond)
		}
		select {
		case <-shut:
			t.Fatal("Shutdown returned with a call in flight")
		case <-time.After(50 * time.Millisecond):
		}
		close(b.release)
		if r := <-inflight; r.err != nil || r.v != "released" {
			t.Fatalf("in-flight call: %v, %v", r.v, r.err)
		}
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the client did not see the connection end")
		}
	})
}

func TestShutdownTimeout(t *testing.T) {
	b := newBlocker()
	cl, srv2 := connect(t, transports[3], nil, []peer.Option{peer.WithHandler(b)})
	go cl.Call(context.Background(), "wait", nil)
	<-b.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv2.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown past its context: %v", err)
	}
	<-srv2.Done()
	select {
	case <-b.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("handler not canceled after a forced shutdown")
	}
}

func TestKeepAliveDetectsDeadPeer(t *testing.T) {
	a, b := peer.Pipe()
	defer b.Close()
	// b answers the handshake as a glyph peer with ping, then goes silent.
	go func() {
		ctx := context.Background()
		f, err := b.ReadFrame(ctx)
		if err != nil || !strings.HasPrefix(string(f.Data), "SIMPLEX/1.0;") {
			return
		}
		b.WriteFrames(ctx, []peer.Frame{{Data: []byte("+OK;codec=json;ext=ping"), Text: true}})
	}()
	c, err := peer.Client(ctxTimeout(t, 5*time.Second), a, peer.WithKeepAlive(30*time.Millisecond, 60*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Call(ctxTimeout(t, 5*time.Second), "never", nil)
	if !peer.Retryable(err) {
		t.Errorf("call to a dead peer: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("dead peer found after %v", d)
	}
	if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) || kindOf(t, err) != service.KindUnavailable {
		t.Errorf("Err = %v", err)
	}
}

func TestKeepAliveKeepsLivePeer(t *testing.T) {
	cfg := []peer.Option{peer.WithKeepAlive(10*time.Millisecond, 40*time.Millisecond), peer.WithHandler(services())}
	c, srv := connect(t, transports[1], cfg, cfg)
	// Idle: only pings and pongs.
	holds(t, "an idle connection with keepalive stays open", 300*time.Millisecond, func() bool { return c.Err() == nil && srv.Err() == nil })
	if v, err := c.Call(ctxTimeout(t, 5*time.Second), "echo", "alive"); err != nil || v != "alive" {
		t.Fatal(v, err)
	}
}

func TestCodecNegotiation(t *testing.T) {
	tests := []struct {
		name           string
		client, server []string
		clientBaseline bool
		want           string // the codec, or "" for a refused handshake
		ext            bool
	}{
		{"defaults", nil, nil, false, "glyph", true},
		{"connector's preference", []string{"msgpack", "json"}, []string{"json", "msgpack"}, false, "msgpack", true},
		{"first common", []string{"glyph", "json"}, []string{"msgpack", "json"}, false, "json", true},
		{"only json", []string{"json"}, nil, false, "json", true},
		{"baseline json", []string{"json"}, nil, true, "json", false},
		{"baseline msgpack", []string{"msgpack"}, nil, true, "msgpack", false},
		{"none common", []string{"glyph"}, []string{"json", "msgpack"}, false, "", false},
		{"baseline unsupported", []string{"msgpack"}, []string{"json"}, true, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := peer.Pipe()
			defer a.Close()
			defer b.Close()
			ctx := ctxTimeout(t, 5*time.Second)
			type res struct {
				c   *peer.Conn
				err error
			}
			sc := make(chan res, 1)
			go func() {
				c, err := peer.Server(ctx, b, peer.WithCodecs(tt.server...), peer.WithHandler(services()))
				sc <- res{c, err}
			}()
			c, err := peer.Client(ctx, a, modeOptions(tt.clientBaseline, peer.WithCodecs(tt.client...))...)
			s := <-sc
			if tt.want == "" {
				if kindOf(t, err) != service.KindUnsupported || kindOf(t, s.err) != service.KindUnsupported {
					t.Fatalf("refused handshake: client %v, server %v", err, s.err)
				}
				if !strings.Contains(err.Error(), "codec") {
					t.Errorf("client error %q does not say why", err)
				}
				return
			}
			if err != nil || s.err != nil {
				t.Fatalf("handshake: %v / %v", err, s.err)
			}
			defer c.Close()
			defer s.c.Close()
			if c.Codec() != tt.want || s.c.Codec() != tt.want {
				t.Errorf("codec %s/%s, want %s", c.Codec(), s.c.Codec(), tt.want)
			}
			if got := len(c.Extensions()) > 0; got != tt.ext || len(s.c.Extensions()) != len(c.Extensions()) {
				t.Errorf("extensions %v / %v", c.Extensions(), s.c.Extensions())
			}
			v, err := c.Call(ctx, "echo", map[string]any{"n": int64(1), "s": "x", "l": []any{1.5, nil, true}})
			if err != nil || !eq(v, map[string]any{"n": int64(1), "s": "x", "l": []any{1.5, nil, true}}) {
				t.Errorf("echo over %s: %v %v", tt.want, v, err)
			}
		})
	}
}

func TestUnknownCodecConfig(t *testing.T) {
	a, b := peer.Pipe()
	defer b.Close()
	if _, err := peer.Client(context.Background(), a, peer.WithCodecs("xml")); kindOf(t, err) != service.KindInvalid {
		t.Fatalf("unknown codec: %v", err)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	a, b := peer.Pipe()
	defer b.Close()
	start := time.Now()
	_, err := peer.Client(context.Background(), a, peer.WithHandshakeTimeout(50*time.Millisecond))
	if kindOf(t, err) != service.KindDeadlineExceeded || time.Since(start) > 2*time.Second {
		t.Fatalf("silent acceptor: %v after %v", err, time.Since(start))
	}
}

// TestHandshakeWithHTTPServer: a peer URL that reaches an HTTP server
// fails at once, saying so and naming the URL to use, rather than at the
// handshake timeout. Go's server (like Apache's) reads a whole line before
// it answers; nginx and Node answer the first byte that cannot start a
// request.
func TestHandshakeWithHTTPServer(t *testing.T) {
	const timeout = 30 * time.Second // a pass proves the failure did not wait for it
	answerAtOnce := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			c.Read(make([]byte, 1))
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		}()
		return "tcp://" + l.Addr().String()
	}
	goServer := func(t *testing.T) string {
		srv := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(srv.Close)
		return "tcp://" + strings.TrimPrefix(srv.URL, "http://")
	}
	goServerOnUnix := func(t *testing.T) string {
		path := filepath.Join(shortTempDir(t), "http.sock")
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.NotFoundHandler()}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		return "unix://" + path
	}
	for _, c := range []struct {
		name   string
		server func(t *testing.T) string
		advice func(addr string) string // what the error suggests
	}{
		{"go", goServer, func(addr string) string { return "use http://" + strings.TrimPrefix(addr, "tcp://") + "/" }},
		{"at once", answerAtOnce, func(addr string) string { return "use http://" + strings.TrimPrefix(addr, "tcp://") + "/" }},
		{"unix socket", goServerOnUnix, func(string) string { return "not the peer protocol" }},
	} {
		for _, m := range modes {
			t.Run(c.name+"/"+m.Name, func(t *testing.T) {
				addr := c.server(t)
				ctx := ctxTimeout(t, timeout)
				fc, err := peer.Dial(ctx, addr)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				_, err = peer.Client(ctx, fc, modeOptions(m.Baseline, peer.WithHandshakeTimeout(timeout))...)
				if time.Since(start) >= timeout {
					t.Fatalf("the handshake waited for its timeout: %v", err)
				}
				want := addr + ` answered with HTTP ("HTTP/1.1 400 Bad Request")`
				if kindOf(t, err) != service.KindBadFrame || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), c.advice(addr)) {
					t.Errorf("got %v; want a BadFrame error saying %q and %q", err, want, c.advice(addr))
				}
			})
		}
	}
}

func TestOversizedFrame(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.Name, func(t *testing.T) {
			cfc, sfc := tr.Pair(t, 1024) // both ends' transports read at most 1 KiB
			c, srv := handshake(t, cfc, sfc, nil, []peer.Option{peer.WithHandler(services()), peer.WithMaxFrameSize(1024)})
			ctx := ctxTimeout(t, 5*time.Second)
			if v, err := c.Call(ctx, "echo", strings.Repeat("x", 500)); err != nil || len(v.(string)) != 500 {
				t.Fatalf("a small call: %v", err)
			}
			_, err := c.Call(ctx, "echo", strings.Repeat("x", 5000))
			if !peer.Retryable(err) {
				t.Errorf("oversized call: %v", err)
			}
			<-srv.Done()
			if kindOf(t, srv.Err()) != service.KindTooLarge {
				t.Errorf("server closed with %v", srv.Err())
			}
			<-c.Done()
			// The remote says why: with a WebSocket close status, or a
			// goaway carrying the error.
			if tr.Name != "websocket" && kindOf(t, c.Err()) != service.KindTooLarge {
				t.Errorf("client closed with %v", c.Err())
			}
			if !strings.Contains(c.Err().Error(), "1024") && !strings.Contains(c.Err().Error(), "status 1009") {
				t.Errorf("client's reason %q does not say the limit", c.Err())
			}
		})
	}
}

// Both ends shutting down at once: each may see the other hang up (a
// WebSocket close with status 1000, an EOF), which is how a graceful
// shutdown ends, not an error.
func TestShutdownBothEnds(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		for range 20 {
			c, srv := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(services())})
			if _, err := c.Call(ctxTimeout(t, 5*time.Second), "echo", 1); err != nil {
				t.Fatal(err)
			}
			ctx := ctxTimeout(t, 5*time.Second)
			errs := make(chan error, 2)
			go func() { errs <- c.Shutdown(ctx) }()
			go func() { errs <- srv.Shutdown(ctx) }()
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatalf("Shutdown: %v", err)
				}
			}
		}
	})
}

// A stream closed without arguments: with "end" the handler's first Recv
// is io.EOF; a baseline remote gets the one null argument it must. A
// streamed result of no item ends the caller's results at once.
func TestZeroItemStreams(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		h := mux{
			"args": func(ctx context.Context, s *peer.ServerStream) (any, error) {
				items, err := recvAll(s)
				return int64(len(items)), err
			},
		}
		c, _ := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(h)})
		ctx := ctxTimeout(t, 5*time.Second)
		st, err := c.NewStream(ctx, "args")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CloseSend(); err != nil {
			t.Fatal(err)
		}
		got, err := recvAll(st)
		want := int64(0)
		if baseline {
			want = 1
		}
		if err != nil || len(got) != 1 || got[0] != want {
			t.Fatalf("items the handler got: %v, %v; want [%d]", got, err, want)
		}
	})
}
