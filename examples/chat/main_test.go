package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/service"
)

// TestDemo runs the demo as go run ./examples/chat -demo does and checks
// its whole transcript, then that it left no goroutine behind: every
// join call, callback, stream and connection ended.
func TestDemo(t *testing.T) {
	logtest.RestoreDefault(t)
	before := runtime.NumGoroutine()
	var out, errOut bytes.Buffer
	start := time.Now()
	if err := run(context.Background(), []string{"-demo"}, nil, &out, &errOut); err != nil {
		t.Fatalf("run -demo: %v\n%s", err, out.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the demo took %v", d)
	}
	got := regexp.MustCompile(`127\.0\.0\.1:[0-9]+`).ReplaceAllString(out.String(), "127.0.0.1:PORT")
	want := `The chat room serves HTTP at http://127.0.0.1:PORT/ and peers at ws://127.0.0.1:PORT/peer.
ann and bob connect to it as peers, each over a WebSocket of their own.

ann> join("ann", deliver)
  # deliver is a Go func: the server calls it back with every message until the call ends
  ann ← [1] * ann joined
bob> join("bob", deliver)
  ann ← [2] * bob joined
  bob ← [2] * bob joined
ann> send("ann", "hi bob")
  = 3
  ann ← [3] ann: hi bob
  bob ← [3] ann: hi bob
bob> post(messages)
  # one call whose arguments stream: each message reaches the room while the call goes on
  ann ← [4] bob: hi ann
  bob ← [4] bob: hi ann
  ann ← [5] bob: two messages, one call
  bob ← [5] bob: two messages, one call
  = 2
bob> leave
  # bob cancels his join call: the server's join returns and calls his deliver no more
  ann ← [6] * bob left
ann> who()
  = ["ann"]
ann> history()
  # a streamed result: each message is a reply of its own, printed as it arrives
  [1] * ann joined
  [2] * bob joined
  [3] ann: hi bob
  [4] bob: hi ann
  [5] bob: two messages, one call
  [6] * bob left
ann> leave
`
	if got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
	// No call fails: bob's join ends because he canceled it, which is
	// not logged as a failure.
	if errOut.Len() > 0 {
		t.Errorf("the demo logged on stderr:\n%s", errOut.String())
	}
	checkGoroutines(t, before)
}

// checkGoroutines fails the test unless the number of goroutines comes
// back down to before within 5 seconds.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left over:\n%s", n-before, buf[:runtime.Stack(buf, true)])
	}
}

// output is a buffer that a test can wait on.
type output struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor waits at most 5 seconds for s to be written.
func (o *output) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(o.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %q in\n%s", s, o.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runAsync runs the command with args on a goroutine; wait returns its
// error, waiting at most 10 seconds. Each command sets slog's default
// logger to its stderr; the default is put back when the test ends.
func runAsync(ctx context.Context, t *testing.T, args []string, stdin io.Reader, stdout, stderr io.Writer) (wait func() error) {
	logtest.RestoreDefault(t)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, stdin, stdout, stderr) }()
	return func() error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatalf("chat %q did not return within 10s", args)
			return nil
		}
	}
}

// TestServeAndMembers runs the server and a member as their command
// lines do: the member prints the history, then every message, and sends
// the lines it reads; it leaves when its input ends. A member still in
// the room when the server stops is told the room closed.
func TestServeAndMembers(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	var serverOut, serverErr output
	serverDone := runAsync(ctx, t, []string{"-serve", "-addr", "127.0.0.1:0"}, nil, &serverOut, &serverErr)
	serverOut.waitFor(t, "/peer\n")
	m := regexp.MustCompile(`^chat room serving on (http://\S+/) \(Ctrl-C stops it\)\npeers: (ws://\S+/peer)\n$`).FindStringSubmatch(serverOut.String())
	if m == nil {
		t.Fatalf("the server printed %q", serverOut.String())
	}
	httpURL, peerURL := m[1], m[2]
	c := client.New()
	defer c.Close()
	say := func(name, text string) {
		t.Helper()
		// Over HTTP: send needs no peer connection.
		index, err := c.Get(ctx, httpURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := index.Path(ctx, "send", name, text); err != nil {
			t.Fatal(err)
		}
	}
	// A failed call is in the server's log with the logref the caller
	// got. Checked before any member starts: a member's run sets slog's
	// default to its own stderr, for the whole test process.
	index, err := c.Get(ctx, httpURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = index.Path(ctx, "send", "", "no name")
	var se *service.Error
	if !errors.As(err, &se) || se.Kind != service.KindInvalid || se.Logref == "" {
		t.Fatalf("send without a name: %v, want invalid with a logref", err)
	}
	if logs := serverErr.String(); !regexp.MustCompile(`level=INFO msg="glyph: request failed" logref=` + se.Logref + ` op=send kind=invalid status=400 `).MatchString(logs) {
		t.Errorf("the server's stderr lacks the failed send with logref %s:\n%s", se.Logref, logs)
	}
	say("zed", "before anyone came")

	annIn, annTypes := io.Pipe()
	// Typed at once: it is sent once ann has joined, so she sees it too.
	go io.WriteString(annTypes, "hello\n")
	var annOut output
	annDone := runAsync(context.Background(), t, []string{"-url", peerURL, "-name", "ann"}, annIn, &annOut, io.Discard)
	annOut.waitFor(t, "[3] ann: hello\n")
	io.WriteString(annTypes, "\nfrom ann\n")
	annOut.waitFor(t, "[4] ann: from ann\n")
	say("bob", "hi ann")
	annOut.waitFor(t, "[5] bob: hi ann\n")

	calIn, calTypes := io.Pipe()
	defer calTypes.Close()
	var calOut output
	calDone := runAsync(context.Background(), t, []string{"-url", peerURL, "-name", "cal"}, calIn, &calOut, io.Discard)
	annOut.waitFor(t, "[6] * cal joined\n")

	annTypes.Close() // ann's input ends: she leaves
	if err := annDone(); err != nil {
		t.Errorf("ann: %v", err)
	}
	want := "[1] zed: before anyone came\n[2] * ann joined\n[3] ann: hello\n[4] ann: from ann\n[5] bob: hi ann\n[6] * cal joined\n"
	if got := annOut.String(); got != want {
		t.Errorf("ann saw\n%s\nwant\n%s", got, want)
	}
	calOut.waitFor(t, "[7] * ann left\n")
	index, err = c.Get(ctx, httpURL)
	if err != nil {
		t.Fatal(err)
	}
	v, err := index.Path(ctx, "who")
	var who []string
	if err != nil || v.Decode(&who) != nil || !slices.Equal(who, []string{"cal"}) {
		t.Errorf("who: %v %v, %q", v, err, who)
	}

	stopServer()
	if err := serverDone(); err != nil {
		t.Errorf("server: %v", err)
	}
	if err := calDone(); err != nil {
		t.Errorf("cal: %v", err)
	}
	if !strings.HasSuffix(calOut.String(), "[7] * ann left\nthe room closed\n") {
		t.Errorf("cal saw\n%s", calOut.String())
	}
	calTypes.Close() // the goroutine reading cal's input ends too
	c.Close()
	checkGoroutines(t, before)
}

func TestPost(t *testing.T) {
	s, err := startServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := client.New()
	defer c.Close()
	index, err := c.Get(ctx, s.peerURL)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := post(ctx, index, "ann", slices.Values([]string(nil))); n != 0 || err != nil {
		t.Errorf("posting nothing: %d, %v", n, err)
	}
	n, err := post(ctx, index, "ann", slices.Values([]string{"one", strings.Repeat("x", 5000), "three"}))
	if n != 0 || err == nil || !strings.Contains(err.Error(), "message 2: a message is at most 4096 bytes of UTF-8") {
		t.Errorf("posting a bad message: %d, %v", n, err)
	}
	if got := s.room.Who(); len(got) != 0 {
		t.Errorf("who: %q", got)
	}
	var texts []string
	for m := range s.room.History() {
		texts = append(texts, m.String())
	}
	if !slices.Equal(texts, []string{"[1] ann: one"}) {
		t.Errorf("history %q", texts)
	}
	// Over HTTP the messages go as one list.
	index, err = c.Get(ctx, s.url)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := post(ctx, index, "ann", slices.Values([]string{"x", "y"})); n != 2 || err != nil {
		t.Errorf("post over HTTP: %d, %v", n, err)
	}
	if n, err := post(ctx, index, "ann", slices.Values([]string(nil))); n != 0 || err != nil {
		t.Errorf("posting nothing over HTTP: %d, %v", n, err)
	}
	texts = nil
	for m := range s.room.History() {
		texts = append(texts, m.String())
	}
	if !slices.Equal(texts, []string{"[1] ann: one", "[2] ann: x", "[3] ann: y"}) {
		t.Errorf("history after posting over HTTP %q", texts)
	}
}

// TestPostWithGlyphCall: glyph call, the command line tool, posts a list
// of messages in one call, over the peer connection as over HTTP. The
// test builds the tool and runs it, so what it checks is what a person
// typing the command gets: the list reaches post's iter.Seq parameter
// as its items, the one-message list included.
func TestPostWithGlyphCall(t *testing.T) {
	tool := filepath.Join(t.TempDir(), "glyph")
	if out, err := exec.Command("go", "build", "-o", tool, "github.com/glyph-ipc/glyph/cmd/glyph").CombinedOutput(); err != nil {
		t.Fatalf("building glyph: %v\n%s", err, out)
	}
	s, err := startServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.shutdown()
	var want []string
	for _, tt := range []struct {
		url, messages, out string
		texts              []string
	}{
		{s.peerURL, `[{"from": "ann", "text": "one"}, {"from": "bob", "text": "two"}]`, "integer 2\n", []string{"ann: one", "bob: two"}},
		{s.peerURL, `[{"from": "cal", "text": "alone"}]`, "integer 1\n", []string{"cal: alone"}},
		{s.peerURL, `messages=[{"from": "ann", "text": "named"}]`, "integer 1\n", []string{"ann: named"}},
		{s.url, `[{"from": "ann", "text": "three"}, {"from": "bob", "text": "four"}]`, "integer 2\n", []string{"ann: three", "bob: four"}},
	} {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(tool, "call", tt.url, "post", tt.messages)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stdout.String() != tt.out {
			t.Errorf("glyph call %s post %s: %v, stdout %q, stderr %q; want %q", tt.url, tt.messages, err, stdout.String(), stderr.String(), tt.out)
		}
		for _, text := range tt.texts {
			want = append(want, fmt.Sprintf("[%d] %s", len(want)+1, text))
		}
	}
	var got []string
	for m := range s.room.History() {
		got = append(got, m.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("history\n%q\nwant\n%q", got, want)
	}
}

func TestUsage(t *testing.T) {
	logtest.RestoreDefault(t)
	for _, args := range [][]string{
		{},
		{"-nope"},
		{"-name", "ann", "extra"},
		{"-serve", "-log-level", "loud"},
	} {
		if err := run(context.Background(), args, nil, io.Discard, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("run %q: %v, want a usage error", args, err)
		}
	}
	// Nobody serving there.
	err := run(context.Background(), []string{"-url", "tcp://127.0.0.1:1", "-name", "ann"}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil {
		t.Error("joining a room that is not there did not fail")
	}
}
