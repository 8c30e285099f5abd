package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDemo(t *testing.T) {
	start := time.Now()
	out, errOut, code := glyph(t, "", "demo", "--once")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the demo took %v", d)
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("demo reports a failure:\n%s", out)
	}
	if strings.Contains(out, "== The hyperglyph encoding ==") {
		t.Errorf("demo without parts ran the encoding tour")
	}
	url := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/`).FindString(out)
	if url == "" {
		t.Fatalf("no server URL in the output:\n%s", out)
	}
	for _, want := range []string{
		"== The walkthrough: a client finds its way ==",
		"The walkthrough service (examples/walkthrough, version 2) is serving at\n" + url + "\n",
		"» index = GET " + url + "\n",
		"      \"hello\": extension form {method: \"POST\", url: \"" + url + "hello\", values: [extension input {name: \"name\", type: \"unicode\", value: \"World\"}]}\n",
		"» index.hello()\n",
		"  unicode \"Hello World\"\n",
		"» salut()\n  unicode \"Salut World\"\n",
		"» user = index.find_user(\"bob\")\n",
		"  extension resource {name: \"User\", url: \"" + url + "User/?",
		"» user.message(\"hi\", \"there\")\n  unicode \"message for bob on shard-0: hi (there)\"\n",
		"» user.bio()\n",
		"  unicode \"bob is user 2, kept on shard-0\"\n",
		"» index.woo()\n  list (6 items)\n",
		"    \"blob\": blob text/plain, 11 bytes\n",
		"» index.hello(\"Bob\")\n",
		"  error: find_user: no user named \"zed\" (404 Not Found, logref ",
		"  error: goodbye: missing argument \"name\"\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(out, "keeps serving") {
		t.Errorf("demo --once says it keeps serving")
	}
	// The server's log is on stderr, and holds the failure the tour shows
	// with its logref, at info level.
	logref := regexp.MustCompile(`find_user: no user named "zed" \(404 Not Found, logref ([0-9a-f]{16})\)`).FindStringSubmatch(out)
	if logref == nil {
		t.Errorf("no logref for find_user(\"zed\") in the output:\n%s", out)
	} else if !strings.Contains(errOut, `level=INFO msg="glyph: request failed" logref=`+logref[1]+` op=find_user kind=not_found status=404 `) {
		t.Errorf("stderr lacks the failed find_user with logref %s:\n%s", logref[1], errOut)
	}
	if strings.Contains(out, "level=") {
		t.Errorf("the server's log is in the output:\n%s", out)
	}
	checkPeersPart(t, out, strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"))
	// The server is gone once the demo has returned, peers included.
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("the walkthrough server still answers at %s", url)
	}
	ws := "ws://" + strings.TrimPrefix(url, "http://") + "peer"
	if _, errOut, code := glyph(t, "", "get", ws); code != exitFailure {
		t.Errorf("glyph get %s after the demo: exit %d, stderr %q", ws, code, errOut)
	}
}

// checkPeersPart checks the output of the peers part of the demo whose
// server was at hostPort: the walkthrough and the chat room answered over
// WebSocket, the callback was called with each message in turn, the
// streamed result came item by item.
func checkPeersPart(t *testing.T, out, hostPort string) {
	t.Helper()
	_, part, ok := strings.Cut(out, "== Peers: streams and callbacks ==\n")
	if !ok {
		t.Fatalf("no peers part in the output:\n%s", out)
	}
	part, _, _ = strings.Cut(part, "\n== ")
	want := `
The same server accepts peers, over WebSocket on the same port:

  ws://HOST/peer       the walkthrough service: the very registrations HTTP serves
  ws://HOST/chat/peer  a chat room (examples/chat)

On a peer connection results and arguments stream, and either side calls
the other, so a function can take a callback.

» index = GET ws://HOST/peer
  # the walkthrough's index over a peer connection: its forms and links are called on it

» index.hello("Peer")
  unicode "Hello Peer"

» chat = GET ws://HOST/chat/peer

» chat.join("demo", deliver)
  # deliver is a Go func: the client registers it on the connection and sends
  # its name; the server calls it with every message until the call ends
  deliver ← [1] * demo joined

» chat.send("ann", "hello")
  integer 2
  deliver ← [2] ann: hello

» chat.send("bob", "hi ann")
  integer 3
  deliver ← [3] bob: hi ann

» leave()
  # canceling the join call ends it on the server too: deliver is called no more

» chat.who()
  list (0 items)

» for item in chat.history(): print(item)
  # history returns an iter.Seq: over a peer connection each item is a
  # message of its own, printed here as it arrives
  {"from": "", "id": 1, "text": "demo joined"}
  {"from": "ann", "id": 2, "text": "hello"}
  {"from": "bob", "id": 3, "text": "hi ann"}
  {"from": "", "id": 4, "text": "demo left"}

`
	if got := strings.ReplaceAll(part, hostPort, "HOST"); got != want {
		t.Errorf("the peers part:\n%s\nwant:\n%s", got, want)
	}
}

// TestDemoPeers runs the peers part alone, logging at debug level: every
// call is logged on stderr, and the tour on stdout is what it always is.
func TestDemoPeers(t *testing.T) {
	out, errOut, code := glyph(t, "", "demo", "--once", "--log-level", "debug", "peers")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{`level=DEBUG msg="glyph: call" `, ` method=history side=server transport=ws `} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(out, "== The walkthrough") || strings.Contains(out, "== The hyperglyph encoding ==") {
		t.Errorf("demo peers ran other parts:\n%s", out)
	}
	m := regexp.MustCompile(`ws://(127\.0\.0\.1:[0-9]+)/peer `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no peer URL in the output:\n%s", out)
	}
	checkPeersPart(t, out, m[1])
}

// TestDemoServes checks that without --once the demo keeps serving the
// walkthrough until it is stopped.
func TestDemoServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, &demo{w: w, log: io.Discard, addr: "127.0.0.1:0"}, defaultParts, false)
		w.Close()
	}()
	var out strings.Builder
	buf := make([]byte, 4096)
	url := ""
	for !strings.Contains(out.String(), "-name you\n") {
		n, err := r.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			t.Fatalf("demo ended early: %v\n%s", err, out.String())
		}
	}
	url = regexp.MustCompile(`keeps serving at (http://\S+/) until`).FindStringSubmatch(out.String())[1]
	go io.Copy(io.Discard, r)
	out2, errOut, code := glyph(t, "", "call", url, "hello", "Demo")
	if code != 0 || out2 != "unicode \"Hello Demo\"\n" {
		t.Errorf("glyph call against the demo: exit %d, %q %q", code, out2, errOut)
	}
	// The peer URLs it offers answer too, with the commands it shows.
	ws := "ws://" + strings.TrimPrefix(url, "http://") + "peer"
	for _, want := range []string{
		"  go run ./cmd/glyph call " + ws + " find_user bob .bio\n",
		"  go run ./cmd/glyph call " + strings.TrimSuffix(ws, "peer") + "chat/peer history\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo does not show %q", want)
		}
	}
	out2, errOut, code = glyph(t, "", "call", ws, "find_user", "bob", ".bio")
	if code != 0 || out2 != "unicode \"bob is user 2, kept on shard-0\"\n" {
		t.Errorf("glyph call %s against the demo: exit %d, %q %q", ws, code, out2, errOut)
	}
	chat := strings.TrimSuffix(ws, "peer") + "chat/peer"
	out2, errOut, code = glyph(t, "", "call", chat, "history")
	if code != 0 || !strings.HasPrefix(out2, "list (4 items)\n  dict (3 entries)\n    \"from\": unicode \"\"\n    \"id\": integer 1\n    \"text\": unicode \"demo joined\"\n") {
		t.Errorf("glyph call %s history against the demo: exit %d, %q %q", chat, code, out2, errOut)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the demo did not stop")
	}
}

func TestDemoEncoding(t *testing.T) {
	out, errOut, code := glyph(t, "", "demo", "encoding")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("demo reports a failure:\n%s", out)
	}
	if strings.Contains(out, "walkthrough") {
		t.Errorf("demo encoding ran the walkthrough")
	}
	for _, want := range []string{
		"== The hyperglyph encoding ==",
		"  wire     i18446744073709551616;\n",
		"  wire     u2:\\xc3\\xa9;\n",
		"  wire     f-0x0p+00;\n",
		"  wire     B0:Du12:content-type;u10:text/plain;;;c0:5:hello;c0;\n",
		"round-trip to the same bytes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

func TestDemoAllParts(t *testing.T) {
	out, _, code := glyph(t, "", "demo", "--once", "walkthrough", "encoding")
	if code != 0 || !strings.Contains(out, "== The walkthrough") || !strings.Contains(out, "== The hyperglyph encoding ==") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestEscapeWire(t *testing.T) {
	got := escapeWire([]byte("b2:\x00\xff;\\ ~\x7f"))
	want := `b2:\x00\xff;\x5c ~\x7f`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// glyph demo telemeter --once runs the shared objects' tutorial and
// checks it: pairing, statuses, the interval followed, a second pairing
// ignored.
func TestDemoTelemeter(t *testing.T) {
	out, errOut, code := glyph(t, "", "demo", "telemeter", "--once")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"== Shared objects: the Telemeter ==",
		"telemeter: paired with ",
		"telemeter: interval now 100ms",
		"telemeter: ignored a pairing from ",
		"demo: ok",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, out)
		}
	}
}
