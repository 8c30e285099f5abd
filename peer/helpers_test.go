package peer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// A transport connects two FrameConns, the dialing end first.
type transport struct {
	name string
	pair func(t *testing.T, max int) (peer.FrameConn, peer.FrameConn)
}

// transports are the connection types every suite test runs over: real
// WebSocket through httptest, real TCP and Unix sockets, the pipe.
var transports = []transport{
	{"websocket", wsPair},
	{"tcp", func(t *testing.T, max int) (peer.FrameConn, peer.FrameConn) {
		return listenPair(t, "tcp://127.0.0.1:0", max)
	}},
	{"unix", func(t *testing.T, max int) (peer.FrameConn, peer.FrameConn) {
		return listenPair(t, "unix://"+filepath.Join(shortTempDir(t), "p.sock"), max)
	}},
	{"pipe", func(t *testing.T, max int) (peer.FrameConn, peer.FrameConn) {
		a, b := peer.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return a, b
	}},
}

// shortTempDir is t.TempDir, unless its path is too long for a Unix
// socket's address.
func shortTempDir(t *testing.T) string {
	dir := t.TempDir()
	if len(dir) < 80 {
		return dir
	}
	d, err := os.MkdirTemp("", "peer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func wsPair(t *testing.T, max int) (peer.FrameConn, peer.FrameConn) {
	accepted := make(chan peer.FrameConn, 1)
	srv := httptest.NewServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) { accepted <- fc }, &peer.WebSocketOptions{MaxFrameSize: max}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fc, err := peer.Dial(ctx, "ws://"+strings.TrimPrefix(srv.URL, "http://"), &peer.DialOptions{MaxFrameSize: max})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fc.Close() })
	select {
	case sfc := <-accepted:
		t.Cleanup(func() { sfc.Close() })
		return fc, sfc
	case <-ctx.Done():
		t.Fatal("no WebSocket connection accepted")
	}
	return nil, nil
}

func listenPair(t *testing.T, addr string, max int) (peer.FrameConn, peer.FrameConn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := peer.Listen(ctx, addr, &peer.ListenOptions{MaxFrameSize: max})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	type res struct {
		fc  peer.FrameConn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		fc, err := l.Accept(ctx)
		ch <- res{fc, err}
	}()
	fc, err := peer.Dial(ctx, l.Addr(), &peer.DialOptions{MaxFrameSize: max})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fc.Close() })
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.fc.Close() })
	return fc, r.fc
}

// connect runs the handshake over a transport and returns both ends.
func connect(t *testing.T, tr transport, ccfg, scfg *peer.Config) (client, server *peer.Conn) {
	t.Helper()
	max := 0
	if scfg != nil {
		max = scfg.MaxFrameSize
	}
	cfc, sfc := tr.pair(t, max)
	return handshake(t, cfc, sfc, ccfg, scfg)
}

func handshake(t *testing.T, cfc, sfc peer.FrameConn, ccfg, scfg *peer.Config) (client, server *peer.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var serr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		server, serr = peer.Server(ctx, sfc, scfg)
	}()
	client, err := peer.Client(ctx, cfc, ccfg)
	wg.Wait()
	if err != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", err, serr)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// modes are the two ways glyph peers talk: with every extension, and
// as baseline duplex peers.
var modes = []struct {
	name     string
	baseline bool
}{{"ext", false}, {"baseline", true}}

// forEach runs f over every transport in both modes.
func forEach(t *testing.T, f func(t *testing.T, tr transport, baseline bool)) {
	for _, tr := range transports {
		for _, m := range modes {
			t.Run(tr.name+"/"+m.name, func(t *testing.T) { f(t, tr, m.baseline) })
		}
	}
}

// kindOf returns err's kind, failing the test when err is not a
// *service.Error.
func kindOf(t *testing.T, err error) service.Kind {
	t.Helper()
	var se *service.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *service.Error", err, err)
	}
	return se.Kind
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// mux is a Handler dispatching on the method name.
type mux map[string]peer.HandlerFunc

func (m mux) ServePeer(ctx context.Context, s *peer.ServerStream) (any, error) {
	if h, ok := m[s.Method()]; ok {
		return h(ctx, s)
	}
	return nil, service.Errorf(service.KindNotFound, "method not found: %s", s.Method())
}

// recvAll collects a stream's results until io.EOF or an error.
func recvAll(s interface{ Recv() (any, error) }) ([]any, error) {
	var out []any
	for {
		v, err := s.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, v)
	}
}

func eq(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
