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
	// The server is gone once the demo has returned.
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("the walkthrough server still answers at %s", url)
	}
}

// TestDemoServes checks that without --once the demo keeps serving the
// walkthrough until it is stopped.
func TestDemoServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, w, defaultParts, "127.0.0.1:0", false)
		w.Close()
	}()
	var out strings.Builder
	buf := make([]byte, 4096)
	url := ""
	for !strings.Contains(out.String(), "until Ctrl-C") {
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
