package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component"
)

// TestTour: the same application code gives the same answer in process,
// over HTTP and over TCP.
func TestTour(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), nil, &out); err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(out.String(), "Search at ")[1:]
	if len(blocks) != 3 {
		t.Fatalf("%d transports in the output, want 3:\n%s", len(blocks), out.String())
	}
	var answers []string
	for i, prefix := range []string{"inproc:search:", "http://127.0.0.1:", "tcp://127.0.0.1:"} {
		if !strings.HasPrefix(blocks[i], prefix) {
			t.Errorf("block %d starts %q, want %q", i, blocks[i], prefix)
		}
		_, answer, _ := strings.Cut(blocks[i], "\n")
		answers = append(answers, answer)
	}
	want := "  The glyph glyph                           13.3\n  Glyph peers over TCP                       5.0\n"
	for i, a := range answers {
		if a != want {
			t.Errorf("transport %d answered\n%s, want\n%s", i, a, want)
		}
	}
}

// TestServeAndCall: one run serves Search to peers, another calls it
// where GLYPH_ROUTES says.
func TestServeAndCall(t *testing.T) {
	dir, err := os.MkdirTemp("", "components")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	addr := "unix://" + filepath.Join(dir, "search.sock")
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-serve", addr}, w); w.Close() }()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "serving Search at unix://") {
		t.Fatalf("the server said %q, %v", line, err)
	}
	go io.Copy(io.Discard, r)

	t.Setenv(component.RoutesEnv, `{"Search": {"providers": ["`+addr+`"]}}`)
	var out strings.Builder
	if err := run(context.Background(), []string{"-call"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "The glyph glyph") {
		t.Fatalf("the call printed %q", out.String())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not stop")
	}
}
