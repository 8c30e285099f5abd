package hyperhttp_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
)

// TestSharedCache: WithSharedCache gives the answers that would say
// no-cache a lifetime in shared caches, and nothing else: a function's
// own Cache-Control, calls, redirects, streams and errors keep theirs.
func TestSharedCache(t *testing.T) {
	const shared = "max-age=0, s-maxage=60"
	requests := []struct {
		name         string
		method       string
		target       string
		header       http.Header
		body         func(t *testing.T) io.Reader
		status       int
		plain, cache string // Cache-Control without the option, and with WithSharedCache(time.Minute)
	}{
		{"the index", "GET", "/", nil, nil, 200, "no-cache", shared},
		{"a safe function", "GET", "/square?Ou1%3Ax%3Bi7%3B%3B", nil, nil, 200, "no-cache", shared},
		{"its HEAD", "HEAD", "/square?Ou1%3Ax%3Bi7%3B%3B", nil, nil, 200, "no-cache", shared},
		{"its 304", "GET", "/square?Ou1%3Ax%3Bi7%3B%3B", hdr("If-None-Match", `"g2OILVHavuqSN122THAHB34o"`), nil, 304, "no-cache", shared},
		{"a gzipped answer", "GET", "/big", hdr("Accept-Encoding", "gzip"), nil, 200, "no-cache", shared},
		{"a form", "GET", "/hello", nil, nil, 200, "no-cache", shared},
		{"an instance", "GET", "/Counter/?Du1%3An%3Bi5%3B%3B", nil, nil, 200, "no-cache", shared},
		{"a safe method", "GET", "/Counter/value?Du1%3An%3Bi5%3B%3B", nil, nil, 200, "no-cache", shared},
		{"a raw blob", "GET", "/download?Ou4%3Asize%3Bi10%3B%3B", nil, nil, 200, "no-cache", shared},
		{"a function's own Cache-Control", "GET", "/now", nil, nil, 200, "max-age=60", "max-age=60"},
		{"a call", "POST", "/square", glyphHeader(), func(t *testing.T) io.Reader { return args(t, "x", 7) }, 200, "no-store", "no-store"},
		{"a safe function called with POST", "POST", "/now", nil, nil, 200, "no-store", "no-store"},
		{"a 303", "POST", "/start", glyphHeader(), func(t *testing.T) io.Reader { return args(t, "n", 1) }, 303, "no-store", "no-store"},
		{"a stream", "GET", "/countdown?Ou4%3Afrom%3Bi3%3B%3B", nil, nil, 200, "no-store", "no-store"},
		{"an error", "GET", "/nowhere", nil, nil, 404, "no-store", "no-store"},
		{"a bad argument", "GET", "/square?Ou1%3Ay%3Bi7%3B%3B", nil, nil, 400, "no-store", "no-store"},
	}
	configs := []struct {
		name   string
		opts   []hyperhttp.Option
		shared bool
	}{
		{"default", nil, false},
		{"WithSharedCache(time.Minute)", []hyperhttp.Option{hyperhttp.WithSharedCache(time.Minute)}, true},
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			s := newTestServer(t, "h1", c.opts)
			for _, r := range requests {
				var body io.Reader
				if r.body != nil {
					body = r.body(t)
				}
				resp := s.do(t, r.method, r.target, r.header, body)
				want := r.plain
				if c.shared {
					want = r.cache
				}
				if resp.status != r.status || resp.header.Get("Cache-Control") != want {
					t.Errorf("%s: %s %s: %d with Cache-Control %q, want %d with %q",
						r.name, r.method, r.target, resp.status, resp.header.Get("Cache-Control"), r.status, want)
				}
			}
		})
	}
}

// TestSharedCacheLifetime: the lifetime in whole seconds, rounded up;
// none (the default) for zero or less, and the last option wins.
func TestSharedCacheLifetime(t *testing.T) {
	tests := []struct {
		name string
		opts []hyperhttp.Option
		want string
	}{
		{"an hour", []hyperhttp.Option{hyperhttp.WithSharedCache(time.Hour)}, "max-age=0, s-maxage=3600"},
		{"rounded up", []hyperhttp.Option{hyperhttp.WithSharedCache(1500 * time.Millisecond)}, "max-age=0, s-maxage=2"},
		{"at least a second", []hyperhttp.Option{hyperhttp.WithSharedCache(time.Nanosecond)}, "max-age=0, s-maxage=1"},
		{"zero", []hyperhttp.Option{hyperhttp.WithSharedCache(0)}, "no-cache"},
		{"negative", []hyperhttp.Option{hyperhttp.WithSharedCache(-time.Second)}, "no-cache"},
		{"turned off again", []hyperhttp.Option{hyperhttp.WithSharedCache(time.Hour), hyperhttp.WithSharedCache(0)}, "no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := newTestServer(t, "h1", tt.opts).do(t, "GET", "/", nil, nil)
			if got := resp.header.Get("Cache-Control"); resp.status != 200 || got != tt.want {
				t.Errorf("GET /: %d with Cache-Control %q, want 200 with %q", resp.status, got, tt.want)
			}
		})
	}
}

// ExampleWithSharedCache serves a service whose safe answers a proxy's
// cache may keep for a minute, except the one that depends on the caller,
// and shows the headers that say so.
func ExampleWithSharedCache() {
	svc := service.New()
	svc.MustFunc("square", func(x int) int { return x * x }, service.Args("x"), service.Safe())
	svc.MustFunc("me", func() string { return "you" }, service.Safe(), service.CacheControl("private, no-cache"))

	srv := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithSharedCache(time.Minute)))
	defer srv.Close()

	for _, target := range []string{"/square?Ou1%3Ax%3Bi7%3B%3B", "/me"} {
		resp, err := http.Get(srv.URL + target)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Printf("%s: %s, ETag %s\n", target, resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"))
	}
	// Output:
	// /square?Ou1%3Ax%3Bi7%3B%3B: max-age=0, s-maxage=60, ETag "g2OILVHavuqSN122THAHB34o"
	// /me: private, no-cache, ETag "LeDANMVYc6Gl6GPn0Pp6Vih7"
}
