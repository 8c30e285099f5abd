package nginxtest_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/glyph-ipc/glyph/internal/nginxtest"
)

// TestStart: nginx starts in front of two backends, spreads requests
// over them on connections it keeps, caches what they let shared caches
// keep, and is gone, its workers too, when the test that started it ends.
func TestStart(t *testing.T) {
	var pid int
	t.Run("serving", func(t *testing.T) {
		var hits, conns [2]atomic.Int64
		var backends []string
		for i := range hits {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits[i].Add(1)
				if r.URL.Path == "/cached" {
					w.Header().Set("Cache-Control", "max-age=0, s-maxage=60")
				}
				io.WriteString(w, "backend "+r.URL.Path)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns[i].Add(1)
				}
			}
			srv.Start()
			t.Cleanup(srv.Close)
			backends = append(backends, strings.TrimPrefix(srv.URL, "http://"))
		}
		ngx := nginxtest.Start(t, backends...)
		pid = ngx.PID()
		tests := []struct {
			path, cache string
		}{
			{"/cached", "MISS"},
			{"/cached", "HIT"},
			{"/plain", "MISS"},
			{"/plain", "MISS"},
			{"/plain", "MISS"},
		}
		for _, tt := range tests {
			resp, err := http.Get(ngx.URL + tt.path)
			if err != nil {
				t.Fatalf("GET %s: %v\n%s", tt.path, err, ngx.ErrorLog())
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := resp.Header.Get("X-Cache-Status"); resp.StatusCode != 200 || string(b) != "backend "+tt.path || got != tt.cache {
				t.Errorf("GET %s: %d %q with X-Cache-Status %q, want 200 %q with %q", tt.path, resp.StatusCode, b, got, "backend "+tt.path, tt.cache)
			}
		}
		// Four requests reached the backends, one of them /cached.
		if a, b := hits[0].Load(), hits[1].Load(); a != 2 || b != 2 {
			t.Errorf("the backends got %d and %d requests, want 2 each (round robin)", a, b)
		}
		// nginx kept its connection to each backend for the next request.
		if a, b := conns[0].Load(), conns[1].Load(); a != 1 || b != 1 {
			t.Errorf("nginx opened %d and %d connections to the backends, want 1 each", a, b)
		}
	})
	if pid == 0 {
		return // skipped
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("nginx (PID %d) still runs after its test: %v", pid, err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("nginx's process group %d still has processes after its test: %v", pid, err)
	}
}

// TestREADMEShowsTheSite: the nginx configuration README.md shows is the
// site Start runs, with an operator's addresses and cache directory.
func TestREADMEShowsTheSite(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Caches and load balancers in front\n")
	if !ok {
		t.Fatal(`README.md has no section "Caches and load balancers in front"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "\n```nginx\n")
	if !ok {
		t.Fatal("the section has no nginx block")
	}
	block, _, _ = strings.Cut(block, "```\n")
	want := nginxtest.SiteConfig(nginxtest.Site{
		Listen:   "80",
		Backends: []string{"10.0.0.1:8080", "10.0.0.2:8080"},
		CacheDir: "/var/cache/nginx/glyph",
	})
	if block != want {
		t.Errorf("README.md shows\n%s\nthe test runs\n%s", block, want)
	}
}
