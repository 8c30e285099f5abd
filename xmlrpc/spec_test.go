package xmlrpc_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/internal/rpctest"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// specExample is one request of spec.md's examples and its answer.
type specExample struct {
	request, response []string
	line              int
}

// specExamples reads the examples of spec.md: the lines after
// "--> request" up to "<-- response", and after it up to the end of the
// block or the next request.
func specExamples(t *testing.T) []specExample {
	t.Helper()
	f, err := os.Open("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []specExample
	var into *[]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		switch line := sc.Text(); {
		case line == "--> request":
			out = append(out, specExample{line: n})
			into = &out[len(out)-1].request
		case line == "<-- response":
			into = &out[len(out)-1].response
		case strings.HasPrefix(line, "```"):
			into = nil
		case into != nil:
			*into = append(*into, line)
		}
	}
	if len(out) < 8 {
		t.Fatalf("spec.md has %d examples; the parser must have missed them", len(out))
	}
	return out
}

// TestSpecExamples sends every example of spec.md to a real server and
// checks the answer byte for byte.
func TestSpecExamples(t *testing.T) {
	srv := httptest.NewServer(xmlrpc.NewHandler(rpctest.Service()))
	defer srv.Close()
	for _, ex := range specExamples(t) {
		resp, err := http.Post(srv.URL, "text/xml", strings.NewReader(strings.Join(ex.request, "\n")))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := strings.Join(ex.response, "\n") + "\n"
		if resp.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("spec.md:%d: got %d\n%s\nwant 200\n%s", ex.line, resp.StatusCode, body, want)
		}
	}
}
