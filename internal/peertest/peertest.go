// Package peertest holds what the tests of the packages that serve and
// call over peer connections share: the connection types every test runs
// over (real WebSocket through httptest, real TCP and Unix sockets, the
// in-memory pipe), a handshake over each, and small helpers.
package peertest

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// A Transport connects two FrameConns, the dialing end first; max bounds
// the frames each end reads (≤ 0 for the default).
type Transport struct {
	Name string
	Pair func(t *testing.T, max int) (peer.FrameConn, peer.FrameConn)
}

// Transports are the connection types every suite test runs over: real
// WebSocket through httptest, real TCP and Unix sockets, the pipe.
var Transports = []Transport{
	{"websocket", wsPair},
	{"tcp", func(t *testing.T, max int) (peer.FrameConn, peer.FrameConn) {
		return listenPair(t, "tcp://127.0.0.1:0", max)
	}},
	{"unix", func(t *testing.T, max int) (peer.FrameConn, peer.FrameConn) {
		return listenPair(t, "unix://"+filepath.Join(ShortTempDir(t), "p.sock"), max)
	}},
	{"pipe", func(t *testing.T, max int) (peer.FrameConn, peer.FrameConn) {
		a, b := peer.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return a, b
	}},
}

// ShortTempDir is t.TempDir, unless its path is too long for a Unix
// socket's address.
func ShortTempDir(t *testing.T) string {
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
	srv := httptest.NewServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) { accepted <- fc }, peer.WithMaxFrameSize(max)))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fc, err := peer.Dial(ctx, "ws://"+strings.TrimPrefix(srv.URL, "http://"), peer.WithMaxFrameSize(max))
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
	l, err := peer.Listen(ctx, addr, peer.WithMaxFrameSize(max))
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
	fc, err := peer.Dial(ctx, l.Addr(), peer.WithMaxFrameSize(max))
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

// Connect runs the handshake over a transport, the connecting side
// configured by copts and the accepting one by sopts, and returns both
// ends.
func Connect(t *testing.T, tr Transport, copts, sopts []peer.Option) (client, server *peer.Conn) {
	t.Helper()
	cfc, sfc := tr.Pair(t, 0)
	return Handshake(t, cfc, sfc, copts, sopts)
}

// Handshake runs the handshake on two connected FrameConns, cfc's end
// connecting, and returns both ends; the test closes them when it ends.
func Handshake(t *testing.T, cfc, sfc peer.FrameConn, copts, sopts []peer.Option) (client, server *peer.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var serr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		server, serr = peer.Server(ctx, sfc, sopts...)
	}()
	client, err := peer.Client(ctx, cfc, copts...)
	wg.Wait()
	if err != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", err, serr)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// ModeOptions returns opts, with WithBaseline first for a side that
// talks as a baseline duplex peer: the options of one side in one of
// the Modes.
func ModeOptions(baseline bool, opts ...peer.Option) []peer.Option {
	if baseline {
		return append([]peer.Option{peer.WithBaseline()}, opts...)
	}
	return opts
}

// Modes are the two ways glyph peers talk: with every extension, and
// as baseline duplex peers.
var Modes = []struct {
	Name     string
	Baseline bool
}{{"ext", false}, {"baseline", true}}

// ForEach runs f over every transport in both modes.
func ForEach(t *testing.T, f func(t *testing.T, tr Transport, baseline bool)) {
	for _, tr := range Transports {
		for _, m := range Modes {
			t.Run(tr.Name+"/"+m.Name, func(t *testing.T) { f(t, tr, m.Baseline) })
		}
	}
}

// KindOf returns err's kind, failing the test when err is not a
// *service.Error.
func KindOf(t *testing.T, err error) service.Kind {
	t.Helper()
	var se *service.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *service.Error", err, err)
	}
	return se.Kind
}

// Timeout returns a context that ends after d or with the test.
func Timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// RecvAll collects a stream's results until io.EOF or an error.
func RecvAll(s interface{ Recv() (any, error) }) ([]any, error) {
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

// ServeService serves svc to the peers that connect to addr (a
// [peer.Listen] address, opts its listen options) until the test ends,
// and returns the address they dial.
func ServeService(t testing.TB, addr string, svc *service.Service, opts ...peer.ListenOption) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l, err := peer.Listen(ctx, addr, opts...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		peer.Serve(ctx, l, peer.WithHandler(hyperpeer.NewHandler(svc)))
		close(served)
	}()
	t.Cleanup(func() { cancel(); <-served })
	return l.Addr()
}
