package main

import (
	"bufio"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/health"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
)

// healthServers serves a service with h's check and watch over HTTP and
// each peer transport, and returns the URLs by transport.
func healthServers(t *testing.T, h *health.Server) map[string]string {
	t.Helper()
	svc := service.New(service.WithLogger(slog.New(slog.DiscardHandler)))
	if err := h.Register(svc); err != nil {
		t.Fatal(err)
	}
	urls := servePeers(t, svc)
	srv := httptest.NewServer(hyperhttp.NewHandler(svc))
	t.Cleanup(srv.Close)
	urls["http"] = srv.URL + "/"
	return urls
}

func TestHealth(t *testing.T) {
	h := health.NewServer()
	h.SetServingStatus("db", health.NotServing)
	h.SetServingStatus("cache", health.Unknown)
	for transport, u := range healthServers(t, h) {
		t.Run(transport, func(t *testing.T) {
			tests := []struct {
				args     []string
				wantOut  string
				wantCode int
			}{
				{nil, "SERVING\n", 0},
				{[]string{""}, "SERVING\n", 0},
				{[]string{"db"}, "NOT_SERVING\n", exitNotServing},
				{[]string{"cache"}, "UNKNOWN\n", exitNotServing},
				{[]string{"nope"}, "SERVICE_UNKNOWN\n", exitNotServing},
			}
			for _, tt := range tests {
				out, errOut, code := glyph(t, "", append([]string{"health", u}, tt.args...)...)
				if out != tt.wantOut || code != tt.wantCode || errOut != "" {
					t.Errorf("glyph health %s %v = %q, exit %d, stderr %q; want %q, exit %d", u, tt.args, out, code, errOut, tt.wantOut, tt.wantCode)
				}
			}
		})
	}
}

func TestHealthErrors(t *testing.T) {
	plain := httptest.NewServer(hyperhttp.NewHandler(service.New()))
	defer plain.Close()
	tests := []struct {
		name     string
		args     []string
		wantErr  string
		wantCode int
	}{
		{"no check", []string{plain.URL + "/"}, "glyph health: check: ", exitFailure},
		{"no server", []string{"tcp://127.0.0.1:1"}, "glyph health: GET tcp://127.0.0.1:1: ", exitFailure},
		{"watch over HTTP", []string{"--watch", plain.URL + "/"}, "glyph health: --watch needs a peer URL", exitUsage},
		{"no URL", nil, "glyph: accepts between 1 and 2 arg(s), received 0", exitUsage},
		{"too many", []string{"tcp://127.0.0.1:1", "a", "b"}, "glyph: accepts between 1 and 2 arg(s), received 3", exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := glyph(t, "", append([]string{"health", "--timeout", "5s"}, tt.args...)...)
			if out != "" || code != tt.wantCode || !strings.HasPrefix(errOut, tt.wantErr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stderr starting with %q", code, out, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}

// TestHealthWatch follows a status over each peer transport with --watch:
// each change is a line as it happens, and the exit status is the last
// status's once --timeout ends the watch.
func TestHealthWatch(t *testing.T) {
	h := health.NewServer()
	h.SetServingStatus("db", health.NotServing)
	urls := healthServers(t, h)
	delete(urls, "http")
	for transport, u := range urls {
		t.Run(transport, func(t *testing.T) {
			name := "db-" + transport // a status of its own, for watches in parallel
			h.SetServingStatus(name, health.NotServing)
			t.Parallel()
			pr, pw := io.Pipe()
			done := make(chan int, 1)
			var errOut strings.Builder
			go func() {
				code := run([]string{"health", "--watch", "--timeout", "5s", u, name}, strings.NewReader(""), pw, &errOut)
				pw.Close()
				done <- code
			}()
			lines := bufio.NewScanner(pr)
			next := func() string {
				t.Helper()
				if !lines.Scan() {
					t.Fatalf("the watch ended early: %v", lines.Err())
				}
				return lines.Text()
			}
			if got := next(); got != "NOT_SERVING" {
				t.Fatalf("first line %q, want NOT_SERVING", got)
			}
			h.SetServingStatus(name, health.Serving)
			if got := next(); got != "SERVING" {
				t.Fatalf("second line %q, want SERVING", got)
			}
			if lines.Scan() {
				t.Errorf("unexpected line %q", lines.Text())
			}
			select {
			case code := <-done:
				if code != 0 || errOut.String() != "" {
					t.Errorf("exit %d, stderr %q; want 0", code, errOut.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatal("glyph health --watch did not end at its --timeout")
			}
		})
	}
}

// TestHealthWatchShutdown: a watch ends when the server shuts down, with
// NOT_SERVING and exit status 3.
func TestHealthWatchShutdown(t *testing.T) {
	h := health.NewServer()
	u := healthServers(t, h)["tcp"]
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errOut strings.Builder
	go func() {
		code := run([]string{"health", "--watch", u}, strings.NewReader(""), pw, &errOut)
		pw.Close()
		done <- code
	}()
	lines := bufio.NewScanner(pr)
	var got []string
	for lines.Scan() {
		got = append(got, lines.Text())
		if len(got) == 1 {
			h.Shutdown()
		}
	}
	if strings.Join(got, " ") != "SERVING NOT_SERVING" {
		t.Errorf("printed %q, want SERVING then NOT_SERVING", got)
	}
	select {
	case code := <-done:
		if code != exitNotServing || errOut.String() != "" {
			t.Errorf("exit %d, stderr %q; want %d", code, errOut.String(), exitNotServing)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("glyph health --watch did not end when the server shut down")
	}
}
