package hyperhttp_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestSpecHTMLPages runs the `html-page` blocks of spec.md section 11.4:
// requests written as in `http` blocks whose page must have the status,
// the headers listed and the text given.
func TestSpecHTMLPages(t *testing.T) {
	pages := specRead(t, "spec.md", "html-page")
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
