package main

import (
	"context"
	"iter"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// walkthroughPeers serves version 2 of the walkthrough over peer
// connections, TCP, a Unix socket and WebSocket, and returns the URLs.
func walkthroughPeers(t *testing.T) map[string]string {
	t.Helper()
	return servePeers(t, walkthrough.V2())
}

// servePeers serves svc over peer connections, TCP, a Unix socket and
// WebSocket, and returns the URLs by transport.
func servePeers(t *testing.T, svc *service.Service) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := []peer.Option{peer.WithHandler(hyperpeer.NewHandler(svc))}
	urls := map[string]string{}
	dir := t.TempDir()
	if len(dir) > 80 { // too long for a Unix socket's address
		d, err := os.MkdirTemp("", "glyph")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	for name, addr := range map[string]string{"tcp": "tcp://127.0.0.1:0", "unix": "unix://" + filepath.Join(dir, "w.sock")} {
		l, err := peer.Listen(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan struct{})
		go func() {
			peer.Serve(ctx, l, cfg...)
			close(served)
		}()
		t.Cleanup(func() {
			cancel()
			<-served
		})
		urls[name] = l.Addr()
	}
	srv := httptest.NewServer(peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		if c, err := peer.Server(ctx, fc, cfg...); err == nil {
			context.AfterFunc(ctx, func() { c.Close() })
			<-c.Done()
		}
	}))
	t.Cleanup(srv.Close)
	urls["websocket"] = "ws://" + strings.TrimPrefix(srv.URL, "http://") + "/peer"
	return urls
}

// TestPeerCall runs glyph call over each peer transport: the same
// answers as over HTTP (TestCall).
func TestPeerCall(t *testing.T) {
	for name, u := range walkthroughPeers(t) {
		t.Run(name, func(t *testing.T) {
			tests := []struct {
				name string
				args []string
				want string
			}{
				{"defaults", []string{"hello"}, "unicode \"Hello World\"\n"},
				{"named", []string{"hello", "name=Bob Smith"}, "unicode \"Hello Bob Smith\"\n"},
				{"a form returned by a form", []string{"greeting", "lang=fr"},
					`extension form {method: "POST", url: "` + u + `#/salut", values: [extension input {name: "name", type: "unicode", value: "World"}]}` + "\n"},
				{"two steps", []string{"find_user", "bob", ".message", "hi", "there"}, "unicode \"message for bob on shard-0: hi (there)\"\n"},
				{"a link", []string{"find_user", "bob", ".bio"}, "unicode \"bob is user 2, kept on shard-0\"\n"},
				{"list", []string{"woo"}, "list (6 items)\n  integer 1\n  true\n  nil\n  false\n  unicode \"a\"\n  unicode \"b\"\n"},
				{"calling the answer", []string{"greeting", "lang=fr", ".", "Bob"}, "unicode \"Salut Bob\"\n"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					out, errOut, code := glyph(t, "", append([]string{"call", u}, tt.args...)...)
					if code != 0 || errOut != "" {
						t.Fatalf("exit %d, stderr %q", code, errOut)
					}
					if out != tt.want {
						t.Errorf("got\n%s\nwant\n%s", out, tt.want)
					}
				})
			}
		})
	}
}

// TestPeerCallStreamedInput: a list given on the command line for an
// iter.Seq input is the whole argument over every peer transport, as
// over HTTP: the function ranges over its items.
func TestPeerCallStreamedInput(t *testing.T) {
	svc := service.New(service.WithName("sums"), service.WithLogger(slog.New(slog.DiscardHandler)))
	svc.MustFunc("sum", func(xs iter.Seq[int]) int {
		n := 0
		for x := range xs {
			n += x
		}
		return n
	}, service.Args("xs"))
	urls := servePeers(t, svc)
	srv := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithLogger(slog.New(slog.DiscardHandler))))
	t.Cleanup(srv.Close)
	urls["http"] = srv.URL + "/"
	for name, u := range urls {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{{"sum", "[1, 2, 3]"}, {"sum", "xs=[1, 2, 3]"}} {
				out, errOut, code := glyph(t, "", append([]string{"call", u}, args...)...)
				if code != 0 || errOut != "" || out != "integer 6\n" {
					t.Errorf("glyph call %s %q: exit %d, stdout %q, stderr %q; want integer 6", u, args, code, out, errOut)
				}
			}
		})
	}
}

// TestPeerGet: glyph get prints peer URLs, and what it printed can be
// followed with glyph get and glyph call.
func TestPeerGet(t *testing.T) {
	u := walkthroughPeers(t)["tcp"]
	out, errOut, code := glyph(t, "", "get", u)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		`extension resource {name: "walkthrough", url: "` + u + `#/"}` + "\n",
		`    "hello": extension form {method: "POST", url: "` + u + `#/hello", values: [extension input {name: "name", type: "unicode", value: "World"}]}` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, errOut, code = glyph(t, "", "call", u, "find_user", "bob")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	m := regexp.MustCompile(`url: "(` + regexp.QuoteMeta(u) + `#/User/\?[^"]+)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no user URL in\n%s", out)
	}
	out, _, code = glyph(t, "", "call", m[1], "bio")
	if code != 0 || out != "unicode \"bob is user 2, kept on shard-0\"\n" {
		t.Errorf("call %s bio: exit %d, %q", m[1], code, out)
	}
	out, _, code = glyph(t, "", "get", u+"#/hello")
	if code != 0 || !strings.HasPrefix(out, `extension form {method: "POST", url: "`+u+`#/hello"`) {
		t.Errorf("get %s#/hello: exit %d, %q", u, code, out)
	}
}

func TestPeerErrors(t *testing.T) {
	urls := walkthroughPeers(t)
	u := urls["unix"]
	tests := []struct {
		name string
		args []string
		// Peers send no status; every error of the server has a logref,
		// L here. The missing argument is found before anything is sent.
		stderr string
	}{
		{"the server's error", []string{"call", u, "find_user", "zed"},
			`glyph call: find_user("zed"): find_user: no user named "zed" (logref L)` + "\n"},
		{"a missing argument", []string{"call", u, "goodbye"},
			`glyph call: goodbye(): goodbye: missing argument "name"` + "\n"},
		{"a page that is not there", []string{"get", u + "#/nope"},
			`glyph get: GET ` + u + `#/nope: /nope: no function or class "nope" (logref L)` + "\n"},
	}
	logref := regexp.MustCompile(`\(logref [0-9a-f]{16}\)`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := glyph(t, "", tt.args...)
			if code != exitFailure || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			if errOut = logref.ReplaceAllString(errOut, "(logref L)"); errOut != tt.stderr {
				t.Errorf("stderr\ngot  %s\nwant %s", errOut, tt.stderr)
			}
		})
	}
	// Nobody listening.
	_, errOut, code := glyph(t, "", "get", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	if code != exitFailure || !strings.HasPrefix(errOut, "glyph get: GET unix://") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	// An HTTP server at a tcp:// URL: told at once, with the URL to use
	// (the test's deadline would end a wait for the handshake timeout).
	srv := httptest.NewServer(hyperhttp.NewHandler(walkthrough.V2(), hyperhttp.WithLogger(slog.New(slog.DiscardHandler))))
	defer srv.Close()
	hostPort := strings.TrimPrefix(srv.URL, "http://")
	_, errOut, code = glyph(t, "", "call", "tcp://"+hostPort, "hello")
	want := "glyph call: GET tcp://" + hostPort + ": handshake: tcp://" + hostPort + ` answered with HTTP ("HTTP/1.1 400 Bad Request"), not the peer protocol: use http://` + hostPort + "/ to reach it"
	if code != exitFailure || !strings.HasPrefix(errOut, want) {
		t.Errorf("exit %d, stderr %q; want it to start %q", code, errOut, want)
	}
}
