package hyperhttp_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// TestGzipSkipsCompressedBodies checks that a large answer that looks
// compressed already (nearly every byte value in its samples) is sent
// as it is, and that any other answer of 1 KiB or more is gzipped.
func TestGzipSkipsCompressedBodies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	cases := []struct {
		name  string
		value any
		gzip  bool
	}{
		{"random bytes, 64 KiB", random(64 << 10), false},
		{"random bytes, 1 MiB", random(1 << 20), false},
		{"random bytes, 8 KiB: too short to sample", random(8 << 10), true},
		{"repeated bytes, 64 KiB", bytes.Repeat([]byte("abcdefgh"), 8<<10), true},
		{"text, 64 KiB", strings.Repeat("the quick brown fox jumps over the lazy dog ", 1500), true},
		{"a list of numbers, 64 KiB", func() []any {
			l := make([]any, 8000)
			for i := range l {
				l[i] = int64(rng.IntN(1 << 30))
			}
			return l
		}(), true},
		{"random bytes between text", []any{strings.Repeat("text ", 4000), random(32 << 10), strings.Repeat("text ", 4000)}, true},
	}
	s := service.New()
	s.MustFunc("value", func(i int) any { return cases[i].value }, service.Args("i"), service.Safe())
	srv := httptest.NewServer(hyperhttp.NewHandler(s))
	defer srv.Close()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := wire.Marshal(wire.NewOrderedDict("i", i))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", srv.URL+"/value?"+string(q), nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			body := io.Reader(resp.Body)
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != c.gzip {
				t.Errorf("gzipped %v, want %v", got, c.gzip)
			}
			if resp.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			}
			raw, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			want, err := wire.Marshal(c.value)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, want) {
				t.Errorf("the body is not the value's encoding (%d bytes, want %d)", len(raw), len(want))
			}
		})
	}
}
