package hyperhttp_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// TestSpecHTMLPages runs the `html-page` blocks of spec.md section 10.4:
// requests written as in `http` blocks whose page must have the status,
// the headers listed and the text given.
func TestSpecHTMLPages(t *testing.T) {
	pages := specReadHTMLPages(t, "spec.md")
	if len(pages) < 4 {
		t.Fatalf("spec.md has %d html-page examples; the parser probably missed some", len(pages))
	}
	srv := newTestServer(t, "h1", nil)
	for _, x := range pages {
		t.Run(x.String(), func(t *testing.T) {
			var body io.Reader
			if x.reqBody != nil {
				body = bytes.NewReader(x.reqBody)
			}
			r := srv.do(t, x.method, x.target, x.reqHeader, body)
			if r.status != x.status {
				t.Fatalf("%v: status %d, want %d: %s", x, r.status, x.status, r.body)
			}
			for _, h := range x.respHeader {
				k, v, _ := strings.Cut(h, ": ")
				if got := r.header.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%v: header %s is %q, want %q", x, k, got, v)
				}
			}
			if !specContains(x.respBody, r.body) {
				t.Errorf("%v: the page does not hold\n%s\npage:\n%s", x, specPieces(x.respBody), r.body)
			}
		})
	}
}

// specReadHTMLPages parses the `html-page` blocks of a spec page, each
// written as an `http` block.
func specReadHTMLPages(t *testing.T, name string) []*specExchange {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out   []*specExchange
		block []string
		start int
		in    bool
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case !in && line == "```html-page":
			in, start, block = true, n, nil
		case in && line == "```":
			in = false
			x, err := specParse(start, nil, block)
			if err != nil {
				t.Fatalf("%s:%d: %v", name, start, err)
			}
			out = append(out, x)
		case in:
			block = append(block, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// specContains reports whether body holds the pieces of an expected text
// one after another, each nil piece matching a logref.
func specContains(pieces [][]byte, body []byte) bool {
	n := 0
	for _, p := range pieces {
		if p == nil {
			n += 16 // a logref
		}
		n += len(p)
	}
	for off := 0; off+n <= len(body); off++ {
		if specMatch(pieces, body[off:off+n]) {
			return true
		}
	}
	return false
}
