package jsonrpc_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/internal/rpctest"
	"github.com/glyph-ipc/glyph/jsonrpc"
)

// specExample is one request of spec.md's examples and its answer.
type specExample struct {
	request, response string // response "" means 204
	line              int
}

// specExamples reads the --> and <-- lines of spec.md's text blocks.
func specExamples(t *testing.T) []specExample {
	t.Helper()
	f, err := os.Open("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []specExample
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "--> "):
			out = append(out, specExample{request: line[4:], line: n})
		case strings.HasPrefix(line, "<-- "):
			if len(out) == 0 || out[len(out)-1].response != "" {
				t.Fatalf("spec.md:%d: an answer without its request", n)
			}
			out[len(out)-1].response = line[4:]
		}
	}
	if len(out) < 10 {
		t.Fatalf("spec.md has %d examples; the parser must have missed them", len(out))
	}
	return out
}

// TestSpecExamples sends every example of spec.md to a real server and
// checks the answer byte for byte.
func TestSpecExamples(t *testing.T) {
	srv := httptest.NewServer(jsonrpc.NewHandler(rpctest.Service()))
	defer srv.Close()
	for _, ex := range specExamples(t) {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(ex.request))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if ex.response == "" {
			if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
				t.Errorf("spec.md:%d: got %d %s, want 204 and no body", ex.line, resp.StatusCode, body)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK || string(body) != ex.response {
			t.Errorf("spec.md:%d: got %d\n%s\nwant 200\n%s", ex.line, resp.StatusCode, body, ex.response)
		}
	}
}
