package main

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
	"github.com/glyph-ipc/glyph/peer"
)

// TestFlagsAnywhere: call's flags may follow the URL, the name and the
// arguments; -4 stays a number; "--" ends the flags.
func TestFlagsAnywhere(t *testing.T) {
	u := walkthroughServer(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"after the arguments", []string{"call", u, "hello", "Bob", "--timeout", "5s"}, exitOK, "unicode \"Hello Bob\"\n", ""},
		{"with = after the name", []string{"call", u, "hello", "--timeout=5s", "name=Bob"}, exitOK, "unicode \"Hello Bob\"\n", ""},
		{"before the URL", []string{"call", "--full", u, "hello"}, exitOK, "unicode \"Hello World\"\n", ""},
		{"a short flag between arguments", []string{"call", u, "hello", "-H", "X-A: b", "Bob"}, exitOK, "unicode \"Hello Bob\"\n", ""},
		{"a negative number is an argument", []string{"call", u, "hello", "-4"}, exitFailure, "",
			`glyph call: hello(-4): hello: argument "name": expected unicode, got integer` + "\n"},
		{"-- ends the flags", []string{"call", u, "hello", "--", "--timeout"}, exitFailure, "",
			`glyph call: argument "--timeout" of hello: at byte 0: bad number "--timeout": expected a digit` + "\n"},
		{"-- before the URL", []string{"call", "--timeout", "5s", "--", u, "hello", "-H"}, exitFailure, "",
			`glyph call: argument "-H" of hello: at byte 0: bad number "-H": expected a digit` + "\n"},
		{"an unknown flag", []string{"call", u, "hello", "--nope"}, exitUsage, "",
			"glyph call: unknown flag: --nope (an argument that starts with - goes after --)\nRun 'glyph call --help' for usage.\n"},
		{"a flag without its value", []string{"call", u, "hello", "--timeout"}, exitUsage, "",
			"glyph call: flag needs an argument: --timeout\nRun 'glyph call --help' for usage.\n"},
		{"get takes flags after the URL", []string{"get", u + "hello", "--timeout", "5s"}, exitOK,
			`extension form {method: "POST", url: "` + u + `hello", values: [extension input {name: "name", type: "unicode", value: "World"}]}` + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := glyph(t, "", tt.args...)
			if code != tt.code || out != tt.stdout || errOut != tt.stderr {
				t.Errorf("glyph %s:\nexit %d, want %d\nstdout %q\nwant   %q\nstderr %q\nwant   %q",
					strings.Join(tt.args, " "), code, tt.code, out, tt.stdout, errOut, tt.stderr)
			}
		})
	}
}

// TestCallHelp: call parses its own flags, --help and -h included.
func TestCallHelp(t *testing.T) {
	for _, args := range [][]string{{"call", "--help"}, {"call", "http://x/", "-h"}, {"help", "call"}} {
		out, errOut, code := glyph(t, "", args...)
		if code != exitOK || errOut != "" || !strings.Contains(out, "Usage:\n  glyph call URL NAME") || !strings.Contains(out, "--header") {
			t.Errorf("glyph %s: exit %d, stderr %q, stdout\n%s", strings.Join(args, " "), code, errOut, out)
		}
	}
}

// TestCallWithoutName: glyph call URL lists what the page offers.
func TestCallWithoutName(t *testing.T) {
	u := walkthroughServer(t)
	out, errOut, code := glyph(t, "", "call", u)
	want := `glyph call: name a form or link to call: resource "walkthrough" has User, find_user, goodbye, greeting, hello, salut, types, woo` +
		"\nRun 'glyph call --help' for usage.\n"
	if code != exitUsage || out != "" || errOut != want {
		t.Errorf("exit %d, stdout %q, stderr\n%s\nwant\n%s", code, out, errOut, want)
	}
	_, errOut, code = glyph(t, "", "call")
	if code != exitUsage || !strings.HasPrefix(errOut, "glyph call: call needs a URL") {
		t.Errorf("no URL: exit %d, stderr %q", code, errOut)
	}
}

// headerRecorder records the X-Trace header of every HTTP request,
// WebSocket handshake and peer call it sees.
type headerRecorder struct {
	mu   sync.Mutex
	seen []string // "http GET /", "peer hello", ... each with its value
}

func (h *headerRecorder) add(s string) {
	h.mu.Lock()
	h.seen = append(h.seen, s)
	h.mu.Unlock()
}

func (h *headerRecorder) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.seen
	h.seen = nil
	return s
}

// recordingServer serves version 2 of the walkthrough over HTTP at / and
// over WebSocket peers at /peer, recording X-Trace headers. start is
// (*httptest.Server).Start or StartTLS.
func recordingServer(t *testing.T, h *headerRecorder, start func(*httptest.Server)) *httptest.Server {
	t.Helper()
	svc := walkthrough.V2()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	inner := hyperpeer.NewHandler(svc)
	cfg := []peer.Option{peer.WithHandler(peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
		h.add("peer " + s.Method() + " " + s.Header()["X-Trace"])
		return inner.ServePeer(ctx, s)
	}))}
	ws := peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		if c, err := peer.Server(ctx, fc, cfg...); err == nil {
			context.AfterFunc(ctx, func() { c.Close() })
			<-c.Done()
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/", hyperhttp.NewHandler(svc))
	mux.Handle("/peer", ws)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.add("http " + r.Method + " " + r.URL.Path + " " + r.Header.Get("X-Trace"))
		mux.ServeHTTP(w, r)
	}))
	// The refused TLS handshakes are what TestTLSFlags expects.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	start(srv)
	t.Cleanup(srv.Close)
	return srv
}

// TestHeaders: -H goes with every HTTP request, WebSocket handshake and
// peer call; a bad one is a usage error.
func TestHeaders(t *testing.T) {
	var h headerRecorder
	srv := recordingServer(t, &h, (*httptest.Server).Start)
	u := srv.URL + "/"
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/peer"

	if _, errOut, code := glyph(t, "", "call", u, "hello", "-H", "X-Trace: t1", "Bob"); code != 0 {
		t.Fatalf("over HTTP: exit %d, stderr %q", code, errOut)
	}
	if got, want := h.take(), []string{"http GET / t1", "http POST /hello t1"}; !equal(got, want) {
		t.Errorf("over HTTP the server saw %q, want %q", got, want)
	}
	if _, errOut, code := glyph(t, "", "call", ws, "hello", "Bob", "--header=X-Trace:t2"); code != 0 {
		t.Fatalf("over WebSocket: exit %d, stderr %q", code, errOut)
	}
	if got, want := h.take(), []string{"http GET /peer t2", "peer / t2", "peer /hello t2"}; !equal(got, want) {
		t.Errorf("over WebSocket the server saw %q, want %q", got, want)
	}
	if _, errOut, code := glyph(t, "", "get", ws, "-H", "X-Trace: t3"); code != 0 {
		t.Fatalf("get over WebSocket: exit %d, stderr %q", code, errOut)
	}
	if got, want := h.take(), []string{"http GET /peer t3", "peer / t3"}; !equal(got, want) {
		t.Errorf("get over WebSocket: the server saw %q, want %q", got, want)
	}

	for _, bad := range []string{"X-Trace", "X Trace: 1", ": 1", "X-Trace: a\nb"} {
		_, errOut, code := glyph(t, "", "call", u, "hello", "-H", bad)
		if code != exitUsage || !strings.HasPrefix(errOut, "glyph call: --header ") {
			t.Errorf("-H %q: exit %d, stderr %q", bad, code, errOut)
		}
	}
	if got := h.take(); len(got) != 0 {
		t.Errorf("bad headers still sent requests: %q", got)
	}
}

func equal(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// TestTLSFlags: https:// and wss:// against a server whose certificate
// the system does not trust: refused, then trusted with --cacert, or
// not checked with --insecure.
func TestTLSFlags(t *testing.T) {
	var h headerRecorder
	srv := recordingServer(t, &h, (*httptest.Server).StartTLS)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	https := srv.URL + "/"
	wss := "wss" + strings.TrimPrefix(srv.URL, "https") + "/peer"
	for _, u := range []string{https, wss} {
		_, errOut, code := glyph(t, "", "call", u, "hello", "Bob")
		if code != exitFailure || !strings.Contains(errOut, "certificate signed by unknown authority") {
			t.Errorf("%s without --cacert: exit %d, stderr %q", u, code, errOut)
		}
		for _, flags := range [][]string{{"--cacert", ca}, {"--insecure"}} {
			out, errOut, code := glyph(t, "", append([]string{"call", u, "hello", "Bob"}, flags...)...)
			if code != 0 || out != "unicode \"Hello Bob\"\n" {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q", u, flags, code, out, errOut)
			}
		}
	}
	for _, tt := range []struct{ file, want string }{
		{notPEM, "glyph call: --cacert " + notPEM + ": no PEM certificate in it\n"},
		{filepath.Join(t.TempDir(), "missing.pem"), "glyph call: --cacert: open "},
	} {
		_, errOut, code := glyph(t, "", "call", https, "hello", "--cacert", tt.file)
		if code != exitUsage || !strings.HasPrefix(errOut, tt.want) {
			t.Errorf("--cacert %s: exit %d, stderr %q, want it to start with %q", tt.file, code, errOut, tt.want)
		}
	}
}
