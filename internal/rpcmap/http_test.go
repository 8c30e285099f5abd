package rpcmap_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/internal/rpctest"
)

// TestHTTPServer checks the HTTP side the RPC handlers share: POST only,
// a body over the limit answered 413 with the transport's failure, an
// empty answer 204, and a panic of the transport's code answered 500.
func TestHTTPServer(t *testing.T) {
	h := &rpcmap.HTTPServer{Transport: "TEST", ContentType: []string{"text/plain"}, MaxRequestBytes: 8,
		ReadTimeout: time.Second, BadBodyStatus: http.StatusBadRequest,
		Answer: func(r *http.Request, body, b []byte) []byte {
			switch string(body) {
			case "panic":
				panic("a bug")
			case "none":
				return b
			}
			return append(b, strings.ToUpper(string(body))...)
		},
		Fail: func(b []byte, err error) []byte {
			f := rpcmap.FailureOf(err)
			return append(b, f.Kind.String()+": "+f.Message...)
		},
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	tests := []struct {
		name, body string
		status     int
		answer     string
	}{
		{"answer", "abc", 200, "ABC"},
		{"no answer", "none", 204, ""},
		{"too large", "123456789", 413, "too_large: a request body of 9 bytes, more than 8"},
		{"panic", "panic", 500, "internal: internal error"},
	}
	for _, tt := range tests {
		if status, got := rpctest.Post(t, srv.URL, tt.body); status != tt.status || got != tt.answer {
			t.Errorf("%s: %d %q, want %d %q", tt.name, status, got, tt.status, tt.answer)
		}
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q; want 405, POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}
