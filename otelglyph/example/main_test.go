package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
)

// TestScrape runs the program on 127.0.0.1:0, calls its service over
// HTTP and over a peer, and finds the calls in what /metrics serves.
func TestScrape(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-peer-addr", "tcp://127.0.0.1:0"}, w)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		go io.Copy(io.Discard, r)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the program did not stop within 10s")
		}
	})
	sc := bufio.NewScanner(r)
	var httpURL, peerURL string
	for (httpURL == "" || peerURL == "") && sc.Scan() {
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "serving http://"); ok {
			httpURL = "http://" + strings.Fields(u)[0]
		}
		if u, ok := strings.CutPrefix(line, "serving peers at "); ok {
			peerURL = u
		}
	}
	if httpURL == "" || peerURL == "" {
		t.Fatalf("the program did not say where it serves: %q, %q", httpURL, peerURL)
	}

	callCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	c := client.New()
	defer c.Close()
	for _, u := range []string{httpURL, httpURL, peerURL} {
		index, err := c.Get(callCtx, u)
		if err != nil {
			t.Fatal(err)
		}
		v, err := index.Path(callCtx, "hello", "Bob")
		if err != nil || v.Any() != "Hello, Bob!" {
			t.Fatalf("hello at %s: %v, %v", u, v, err)
		}
	}

	res, err := http.Get(strings.TrimSuffix(httpURL, "/") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d, %v", res.StatusCode, err)
	}
	metrics := string(body)
	for _, c := range []struct {
		name, labels string
		want         int
	}{
		{"rpc_server_call_duration_seconds_count", `glyph_transport="http",rpc_method="hello",rpc_response_status_code="OK",rpc_system_name="glyph"`, 2},
		{"rpc_server_call_duration_seconds_count", `glyph_transport="tcp",rpc_method="hello",rpc_response_status_code="OK",rpc_system_name="glyph"`, 1},
		{"rpc_server_call_duration_seconds_bucket", `glyph_transport="http",rpc_method="hello",rpc_response_status_code="OK",rpc_system_name="glyph",le="+Inf"`, 2},
		{"rpc_server_active_calls", `glyph_transport="http",rpc_method="hello",rpc_system_name="glyph"`, 0},
		{"glyph_peer_connections", `glyph_transport="tcp"`, 1},
	} {
		if got := value(t, metrics, c.name, c.labels); got != c.want {
			t.Errorf("%s{%s} = %d, want %d", c.name, c.labels, got, c.want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", metrics)
	}
}

// value finds the sample name{labels...} in metrics, with the labels the
// exporter adds (otel_scope_name, ...) among labels, and returns its
// value, or -1 when there is none.
func value(t *testing.T, metrics, name, labels string) int {
	t.Helper()
	for line := range strings.Lines(metrics) {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		set, v, ok := strings.Cut(rest, "} ")
		if !ok || !hasLabels(set, labels) {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return int(n)
	}
	return -1
}

var labelRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// hasLabels reports whether the label set has every label of want.
func hasLabels(set, want string) bool {
	have := map[string]string{}
	for _, m := range labelRE.FindAllStringSubmatch(set, -1) {
		have[m[1]] = m[2]
	}
	for _, m := range labelRE.FindAllStringSubmatch(want, -1) {
		if have[m[1]] != m[2] {
			return false
		}
	}
	return true
}
