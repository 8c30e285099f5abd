package hyperhttp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"iter"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// gate is what the producer of listService's gate function waits for.
type gate struct {
	release atomic.Pointer[chan struct{}] // closed by the test
	gaveUp  atomic.Bool                   // the producer stopped waiting for release
	stopped chan struct{}                 // closed when endless's producer returns
}

// listService streams results in the ways TestStreamedList needs. gate's
// producer sends "first", then waits for g.release (or gives up after a
// while) before "second".
func listService(g *gate) *service.Service {
	s := service.New(service.WithLogger(discardLogger()))
	s.MustFunc("gate", func() iter.Seq[string] {
		return func(yield func(string) bool) {
			if !yield("first") {
				return
			}
			select {
			case <-*g.release.Load():
			case <-time.After(5 * time.Second):
				g.gaveUp.Store(true)
			}
			yield("second")
		}
	}, service.Safe())
	s.MustFunc("fails", func() iter.Seq2[string, error] {
		return func(yield func(string, error) bool) {
			_ = yield("a", nil) && yield("", service.Errorf(service.KindConflict, "changed under us"))
		}
	}, service.Safe())
	s.MustFunc("crashes", func() iter.Seq[int] {
		return func(yield func(int) bool) {
			yield(1)
			panic("secret")
		}
	}, service.Safe())
	s.MustFunc("blob", func() iter.Seq[any] {
		return func(yield func(any) bool) {
			_ = yield(1) && yield(wire.BytesBlob("text/plain", []byte("hi")))
		}
	}, service.Safe())
	s.MustFunc("endless", func() iter.Seq[string] {
		return func(yield func(string) bool) {
			defer close(g.stopped)
			for yield(strings.Repeat("x", 1000)) {
			}
		}
	}, service.Safe())
	s.MustFunc("callback", func(cb func(int)) {}, service.Args("cb"))
	return s
}

func TestStreamedList(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			g := &gate{stopped: make(chan struct{})}
			logs := &logBuffer{}
			s := startServer(t, mode, listService(g), hyperhttp.WithLogger(newLogger(logs)))
			std := newTestServer(t, mode, nil)
			ctx := context.Background()
			index := func(t *testing.T, srv *server) *client.Value {
				v, err := client.New(client.WithHTTPClient(srv.client)).Get(ctx, srv.URL+"/")
				if err != nil {
					t.Fatal(err)
				}
				return v
			}

			t.Run("client reads a list", func(t *testing.T) {
				f, err := index(t, std).Get("countdown")
				if err != nil {
					t.Fatal(err)
				}
				v, err := f.Call(ctx, 3)
				if err != nil {
					t.Fatal(err)
				}
				var got []int
				if err := v.Decode(&got); err != nil || !reflect.DeepEqual(got, []int{3, 2, 1}) {
					t.Errorf("got %v, %v", got, err)
				}
				_, err = f.Call(ctx, 101)
				var e *service.Error
				if !errors.As(err, &e) || e.Kind != service.KindInvalid || !strings.Contains(e.Message, "from over 100") {
					t.Errorf("an error before the first item: %v", err)
				}
			})
			t.Run("client sends a list to a streaming input", func(t *testing.T) {
				v, err := index(t, std).Path(ctx, "total", []int{1, 2, 3, 4})
				var n int
				if err != nil || v.Decode(&n) != nil || n != 10 {
					t.Errorf("got %v, %v", v, err)
				}
			})
			t.Run("items are sent as they are produced", func(t *testing.T) {
				for _, enc := range []string{"identity", "gzip"} {
					t.Run(enc, func(t *testing.T) {
						release := make(chan struct{})
						g.release.Store(&release)
						req, _ := http.NewRequest("GET", s.URL+"/gate", nil)
						req.Header.Set("Accept-Encoding", enc)
						resp, err := s.client.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						defer resp.Body.Close()
						if resp.StatusCode != 200 || resp.Header.Get("ETag") != "" || resp.Header.Get("Cache-Control") != "no-store" ||
							resp.Header.Get("Content-Length") != "" {
							t.Errorf("status %d, header %v", resp.StatusCode, resp.Header)
						}
						var body io.Reader = resp.Body
						if enc == "gzip" {
							if resp.Header.Get("Content-Encoding") != "gzip" {
								t.Fatalf("not gzipped: %v", resp.Header)
							}
							if body, err = gzip.NewReader(resp.Body); err != nil {
								t.Fatal(err)
							}
						}
						first := "Lu5:first;"
						got := make([]byte, len(first))
						if _, err := io.ReadFull(body, got); err != nil || string(got) != first {
							t.Fatalf("read %q, %v", got, err)
						}
						if g.gaveUp.Load() {
							t.Fatal("the first item arrived only after the producer gave up waiting")
						}
						close(release)
						rest, err := io.ReadAll(body)
						if err != nil || string(rest) != "u6:second;;" {
							t.Errorf("then %q, %v", rest, err)
						}
					})
				}
			})
			for _, c := range []struct{ path, first, msg string }{
				{"/fails", "Lu1:a;", "fails: changed under us"},
				{"/crashes", "Li1;", "crashes: internal error"},
				{"/blob", "Li1;", "a streamed item holds a blob"},
			} {
				t.Run("error mid-stream "+c.path, func(t *testing.T) {
					wantCutOff(t, s, c.path, "", c.first, c.msg, logs)
					f, err := index(t, s).Get(strings.TrimPrefix(c.path, "/"))
					if err != nil {
						t.Fatal(err)
					}
					if v, err := f.Call(ctx); err == nil {
						t.Errorf("the client got %v, want an error", v.Any())
					}
				})
			}
			t.Run("client gone stops the producer", func(t *testing.T) {
				cctx, cancel := context.WithCancel(ctx)
				req, _ := http.NewRequestWithContext(cctx, "GET", s.URL+"/endless", nil)
				resp, err := s.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(resp.Body, make([]byte, 10000)); err != nil {
					t.Fatal(err)
				}
				cancel()
				resp.Body.Close()
				select {
				case <-g.stopped:
				case <-time.After(5 * time.Second):
					t.Fatal("the producer still runs after the client went away")
				}
			})
			t.Run("HEAD", func(t *testing.T) {
				r := std.do(t, "HEAD", "/countdown?Ou4%3Afrom%3Bi101%3B%3B", nil, nil)
				if r.status != 400 {
					t.Errorf("HEAD of a stream that fails first: %d", r.status)
				}
				r = std.do(t, "HEAD", "/countdown?Ou4%3Afrom%3Bi3%3B%3B", nil, nil)
				if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Type") != hyperhttp.MediaType {
					t.Errorf("HEAD: %d %v %q", r.status, r.header, r.body)
				}
			})
			t.Run("callback over HTTP", func(t *testing.T) {
				r := s.do(t, "POST", "/callback", glyphHeader(), bytes.NewReader([]byte("Ou2:cb;u1:x;;")))
				wantError(t, r, 400, `callback: argument "cb" is a callback: it needs a peer connection`)
			})
		})
	}
}

// wantCutOff fails unless a GET of path (with that Accept header, when
// not "") answers 200 and first, then breaks off, and the server logs
// msg.
func wantCutOff(t *testing.T, s *server, path, accept, first, msg string, logs *logBuffer) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || err == nil || string(b) != first {
		t.Errorf("status %d, body %q, error %v: want %q cut off by an error", resp.StatusCode, b, err, first)
	}
	if !strings.Contains(logs.String(), msg) {
		t.Errorf("the error %q is not logged:\n%s", msg, logs)
	}
}
