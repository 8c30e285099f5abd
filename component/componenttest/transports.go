package componenttest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

var inprocSeq atomic.Int64

// quiet is where the servers of the suite log: nowhere.
var quiet = slog.New(slog.DiscardHandler)

// InProcess serves in this process ([component.ServeInProcess]); copies
// false opts out of copying arguments and results.
func InProcess(copies bool) Transport {
	return Transport{
		Serve: func(t *testing.T, svc *service.Service) (string, component.Provider) {
			name := fmt.Sprintf("componenttest-%d", inprocSeq.Add(1))
			t.Cleanup(component.ServeInProcess(name, svc))
			if copies {
				return "inproc:" + name, nil
			}
			return "inproc:" + name + "?copy=0", nil
		},
		Copies: copies, Streams: true, Headers: true, Deadlines: true, Describes: true,
	}
}

// HTTP serves over HTTP (package hyperhttp) on 127.0.0.1:0.
func HTTP() Transport {
	return Transport{
		Serve: func(t *testing.T, svc *service.Service) (string, component.Provider) {
			return ServeHTTP(t, svc), nil
		},
		Copies: true, Streams: true, Headers: true, Deadlines: true, Describes: true,
	}
}

// ServeHTTP serves svc over HTTP on 127.0.0.1:0 until the test ends and
// returns its root URL.
func ServeHTTP(t testing.TB, svc *service.Service) string {
	srv := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithLogger(quiet)))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// InMemoryHTTP serves through the whole HTTP stack in one process: the
// client encodes each request and the hyperhttp handler decodes it, as
// over a network, but the request is handed to the handler in memory.
func InMemoryHTTP() Transport {
	return Transport{
		Serve: func(t *testing.T, svc *service.Service) (string, component.Provider) {
			h := hyperhttp.NewHandler(svc, hyperhttp.WithLogger(quiet))
			const u = "http://in-memory/"
			return u, component.NewClientProvider(client.New(client.WithHTTPClient(handlerClient{h})), u)
		},
		Copies: true, Streams: true, Headers: true, Deadlines: true, Describes: true,
	}
}

// handlerClient sends requests to an http.Handler in memory.
type handlerClient struct{ h http.Handler }

func (c handlerClient) Do(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// Peer serves over the peer protocol: scheme is "ws", "tcp" or "unix".
func Peer(scheme string) Transport {
	return Transport{
		Serve: func(t *testing.T, svc *service.Service) (string, component.Provider) {
			return ServePeer(t, scheme, svc), nil
		},
		Copies: true, Streams: true, Headers: true, Deadlines: true, Describes: true,
	}
}

// ServePeer serves svc to peers over scheme ("ws", "tcp" or "unix") on
// the loopback interface or in a temporary directory until the test ends,
// and returns the URL they dial.
func ServePeer(t testing.TB, scheme string, svc *service.Service) string {
	cfg := []peer.Option{peer.WithHandler(hyperpeer.NewHandler(svc)), peer.WithLogger(quiet)}
	if scheme == "ws" {
		srv := httptest.NewServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) {
			if c, err := peer.Server(context.Background(), fc, cfg...); err == nil {
				<-c.Done()
			}
		}))
		t.Cleanup(srv.Close)
		return "ws://" + strings.TrimPrefix(srv.URL, "http://") + "/peer"
	}
	addr := "tcp://127.0.0.1:0"
	if scheme == "unix" {
		addr = "unix://" + filepath.Join(shortDir(t), "s.sock")
	}
	ctx, cancel := context.WithCancel(context.Background())
	l, err := peer.Listen(ctx, addr)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		peer.Serve(ctx, l, cfg...)
		close(served)
	}()
	t.Cleanup(func() { cancel(); <-served })
	return l.Addr()
}

// shortDir is t.TempDir, unless its path is too long for a Unix socket.
func shortDir(t testing.TB) string {
	dir := t.TempDir()
	if len(dir) < 80 {
		return dir
	}
	d, err := os.MkdirTemp("", "component")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
