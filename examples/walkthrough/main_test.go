package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// startServer runs the command with args until the test ends and returns
// the lines it printed on starting, what it writes on stderr, and a func
// that stops it and returns what run returned. The command sets slog's
// default logger, which is put back when the test ends.
func startServer(t *testing.T, args ...string) (lines []string, stderr *logtest.Log, stop func() error) {
	t.Helper()
	logtest.RestoreDefault(t)
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	stderr = &logtest.Log{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, w, stderr)
		w.Close()
	}()
	stopped := false
	var runErr error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the server did not stop within 10s")
			}
		}
		return runErr
	}
	t.Cleanup(func() { stop() })

	got := make(chan string)
	go func() {
		defer close(got)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			got <- sc.Text()
		}
		io.Copy(io.Discard, r)
	}()
	want := 2 // the HTTP URL and the WebSocket URL
	for _, a := range args {
		if a == "-peer-addr" {
			want++
		}
	}
	for len(lines) < want {
		select {
		case l, ok := <-got:
			if !ok {
				t.Fatalf("the server ended after printing %q: %v", lines, stop())
			}
			lines = append(lines, l)
		case <-time.After(10 * time.Second):
			t.Fatalf("the server printed only %q in 10s", lines)
		}
	}
	return lines, stderr, stop
}

// TestServeHTTPAndPeers starts the server as the command line would, with
// -peer-addr, and runs the walkthrough's one client, walkthrough.Tour, against
// each of the URLs it prints: the same service answers over HTTP, over a
// WebSocket on the HTTP port and over TCP.
func TestServeHTTPAndPeers(t *testing.T) {
	lines, _, stop := startServer(t, "-addr", "127.0.0.1:0", "-peer-addr", "127.0.0.1:0")
	httpURL, ok := strings.CutPrefix(lines[0], "walkthrough v2 serving on ")
	httpURL, _, _ = strings.Cut(httpURL, " ")
	if !ok || !strings.HasPrefix(httpURL, "http://127.0.0.1:") || !strings.HasSuffix(httpURL, "/") {
		t.Fatalf("first line %q", lines[0])
	}
	hostPort := strings.TrimSuffix(strings.TrimPrefix(httpURL, "http://"), "/")
	if lines[1] != "peers: ws://"+hostPort+"/peer" {
		t.Errorf("second line %q, want the WebSocket URL on the HTTP port", lines[1])
	}
	tcpURL, ok := strings.CutPrefix(lines[2], "peers: ")
	if !ok || !strings.HasPrefix(tcpURL, "tcp://127.0.0.1:") || strings.HasSuffix(tcpURL, ":0") {
		t.Fatalf("third line %q, want the TCP URL with its port", lines[2])
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	want := walkthrough.Expected(2)
	c := client.New()
	defer c.Close()
	for _, tt := range []struct {
		name, url string
		userAt    string // where the User resource is
	}{
		{"http", httpURL, httpURL + "User/?"},
		{"websocket", "ws://" + hostPort + "/peer", "ws://" + hostPort + "/peer#/User/?"},
		{"tcp", tcpURL, tcpURL + "#/User/?"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var user *client.Value
			res, err := walkthrough.Tour(ctx, c, tt.url, func(s walkthrough.Step) {
				if strings.HasPrefix(s.Call, "user = ") {
					user = s.Value
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res, want) {
				t.Errorf("got  %#v\nwant %#v", res, want)
			}
			if r, ok := user.Any().(hyper.Resource); !ok || r.Name != "User" || !strings.HasPrefix(user.URL(), tt.userAt) {
				t.Errorf("user %#v at %q, want a User at %s...", user.Any(), user.URL(), tt.userAt)
			}
		})
	}

	// The client still holds its two peer connections: stopping the
	// server closes them and returns.
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := c.Get(ctx, tcpURL); !peer.Retryable(err) {
		t.Errorf("after the server stopped, GET %s gave %v, want an Unavailable error", tcpURL, err)
	}
	if _, err := c.Get(ctx, "ws://"+hostPort+"/peer"); !peer.Retryable(err) {
		t.Errorf("after the server stopped, GET ws://%s/peer gave %v, want an Unavailable error", hostPort, err)
	}
	if resp, err := http.Get(httpURL); err == nil {
		resp.Body.Close()
		t.Errorf("the HTTP server still answers at %s", httpURL)
	}
	if conn, err := net.Dial("tcp", strings.TrimPrefix(tcpURL, "tcp://")); err == nil {
		conn.Close()
		t.Errorf("the TCP peer port still accepts at %s", tcpURL)
	}
}

// TestServeWithoutPeerAddr: without -peer-addr only the HTTP port is
// open, and it takes WebSocket peers too.
func TestServeWithoutPeerAddr(t *testing.T) {
	lines, _, stop := startServer(t, "-addr", "127.0.0.1:0", "-v", "1")
	if !strings.HasPrefix(lines[0], "walkthrough v1 serving on http://127.0.0.1:") || !strings.HasPrefix(lines[1], "peers: ws://127.0.0.1:") {
		t.Fatalf("printed %q", lines)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := client.New()
	defer c.Close()
	v, err := c.Get(ctx, strings.TrimPrefix(lines[1], "peers: ")+"#/hello")
	if err != nil {
		t.Fatal(err)
	}
	v, err = v.Call(ctx)
	var s string
	if err != nil || v.Decode(&s) != nil || s != "Hello World" {
		t.Errorf("hello over WebSocket: %v %v, %q", v, err, s)
	}
	if err := stop(); err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestUsage(t *testing.T) {
	logtest.RestoreDefault(t)
	for _, args := range [][]string{
		{"-v", "3"},
		{"-nope"},
		{"extra"},
		{"-log-level", "loud"},
	} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		if !errors.Is(err, errUsage) {
			t.Errorf("run %q: %v, want a usage error", args, err)
		}
	}
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-peer-addr", "udp://127.0.0.1:0"}, io.Discard, io.Discard); err == nil {
		t.Error("run with a udp:// peer address did not fail")
	}
}

// TestServerLogs checks what the server writes on stderr: a failed call,
// over HTTP and over a peer connection, is logged at info level with the
// logref its caller got, in the line README.md shows; each request and
// call is logged too with -log-level debug, and only then.
func TestServerLogs(t *testing.T) {
	for _, tt := range []struct {
		name  string
		args  []string
		debug bool
	}{
		{"default", nil, false},
		{"debug", []string{"-log-level", "debug"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lines, stderr, stop := startServer(t, append([]string{"-addr", "127.0.0.1:0", "-peer-addr", "127.0.0.1:0"}, tt.args...)...)
			httpURL := strings.Fields(strings.TrimPrefix(lines[0], "walkthrough v2 serving on "))[0]
			tcpURL := strings.TrimPrefix(lines[2], "peers: ")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := client.New()
			defer c.Close()
			logref := map[string]string{}
			for name, url := range map[string]string{"http": httpURL, "tcp": tcpURL} {
				index, err := c.Get(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				_, err = index.Path(ctx, "find_user", "zed")
				var se *service.Error
				if !errors.As(err, &se) || se.Kind != service.KindNotFound || se.Logref == "" {
					t.Fatalf("find_user(zed) over %s: %v, want not found with a logref", name, err)
				}
				logref[name] = se.Logref
			}
			stop()
			logs := regexp.MustCompile(`(?m)^time=\S+ `).ReplaceAllString(stderr.String(), "")
			// Over HTTP, the line README.md shows.
			want := "level=INFO msg=\"glyph: request failed\" logref=" + logref["http"] +
				` op=find_user kind=not_found status=404 method=POST path=/find_user error="find_user: no user named \"zed\""` + "\n"
			if !strings.Contains(logs, want) {
				t.Errorf("stderr lacks\n%swhich has\n%s", want, logs)
			}
			peerLine := regexp.MustCompile(`(?m)^level=INFO msg="glyph: call failed" remote=tcp://127\.0\.0\.1:\d+ logref=` + logref["tcp"] +
				` op=find_user kind=not_found method=/find_user error="find_user: no user named \\"zed\\""$`)
			if !peerLine.MatchString(logs) {
				t.Errorf("stderr lacks the failed call over TCP with logref %s:\n%s", logref["tcp"], logs)
			}
			for _, msg := range []string{`msg="glyph: request" method=POST path=/find_user status=404 `, `msg="glyph: call" `} {
				if got := strings.Contains(logs, "level=DEBUG "+msg); got != tt.debug {
					t.Errorf("stderr holds %s: %v, want %v:\n%s", msg, got, tt.debug, logs)
				}
			}
		})
	}
}
