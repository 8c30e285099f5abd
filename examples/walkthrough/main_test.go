package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/examples/walkthrough/app"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/peer"
)

// startServer runs the command with args until the test ends and returns
// the lines it printed on starting, and a func that stops it and returns
// what run returned.
func startServer(t *testing.T, args ...string) (lines []string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, w)
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
	return lines, stop
}

// TestServeHTTPAndPeers starts the server as the command line would, with
// -peer-addr, and runs the walkthrough's one client, app.Tour, against
// each of the URLs it prints: the same service answers over HTTP, over a
// WebSocket on the HTTP port and over TCP.
func TestServeHTTPAndPeers(t *testing.T) {
	lines, stop := startServer(t, "-addr", "127.0.0.1:0", "-peer-addr", "127.0.0.1:0")
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
	want := app.Expected(2)
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
			res, err := app.Tour(ctx, c, tt.url, func(s app.Step) {
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
	lines, stop := startServer(t, "-addr", "127.0.0.1:0", "-v", "1")
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
	for _, args := range [][]string{
		{"-v", "3"},
		{"-nope"},
		{"extra"},
	} {
		err := run(context.Background(), args, io.Discard)
		if !errors.Is(err, errUsage) {
			t.Errorf("run %q: %v, want a usage error", args, err)
		}
	}
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-peer-addr", "udp://127.0.0.1:0"}, io.Discard); err == nil {
		t.Error("run with a udp:// peer address did not fail")
	}
}
