package hyperhttp_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// limitedServer serves the test service with NewServer on a listener
// limited by lim, TLS when tlsCfg is set; it returns its address.
func limitedServer(t *testing.T, lim hyperhttp.ConnLimits, tlsCfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc := newTestService(1<<20, service.WithLogger(discardLogger()))
	hs := hyperhttp.NewServer("", hyperhttp.NewHandler(svc, hyperhttp.WithLogger(discardLogger())))
	var l net.Listener = hyperhttp.LimitListener(ln, lim)
	if tlsCfg != nil {
		l = tls.NewListener(l, tlsCfg)
	}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// dialFrom opens a TCP connection to addr from the loopback address
// from (127.0.0.1, 127.0.0.2, ...), so that one test has several hosts.
func dialFrom(t testing.TB, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address from, and never kept alive.
func clientFrom(from string, tlsCfg *tls.Config) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true, TLSClientConfig: tlsCfg}}
}

// wantRefusal checks the answer to a request over a connection limit: a
// 503 with Retry-After and Connection: close, whose body is a hyperglyph
// error of the limit met.
func wantRefusal(t *testing.T, resp *http.Response, retryAfter, msg string) {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != retryAfter || !resp.Close ||
		resp.Header.Get("Content-Type") != hyperhttp.MediaType {
		t.Fatalf("refused with %s, Retry-After %q, close %v, Content-Type %q",
			resp.Status, resp.Header.Get("Retry-After"), resp.Close, resp.Header.Get("Content-Type"))
	}
	var v any
	if err := wire.Unmarshal(body, &v); err != nil {
		t.Fatalf("refusal body %q: %v", body, err)
	}
	e, ok := v.(hyper.Error)
	if !ok || e.Code != 503 || len(e.Logref) != 16 || e.Message != msg {
		t.Errorf("refusal body %#v, want a hyper.Error %q", v, msg)
	}
}

// TestLimitListener: connections over the listener's limits are
// answered 503 with the limit they met and logged; the others are
// served, and a place that frees is taken again.
func TestLimitListener(t *testing.T) {
	tests := []struct {
		name       string
		lim        hyperhttp.ConnLimits
		retryAfter string
		refused    string // the message of a third connection from 127.0.0.1
		otherHost  bool   // whether 127.0.0.2 is served meanwhile
	}{
		{"total", hyperhttp.ConnLimits{Max: 2}, "1", "connect: too many connections (limit 2)", false},
		{"per host", hyperhttp.ConnLimits{MaxPerHost: 2, RetryAfter: 2500 * time.Millisecond}, "3", "connect: too many connections from 127.0.0.1 (limit 2)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logger := logtest.New()
			tt.lim.Logger = logger
			addr := limitedServer(t, tt.lim, nil)
			held := []net.Conn{dialFrom(t, "127.0.0.1", addr), dialFrom(t, "127.0.0.1", addr)}
			c := clientFrom("127.0.0.1", nil)
			resp, err := c.Get("http://" + addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			wantRefusal(t, resp, tt.retryAfter, tt.refused)
			waitFor(t, "the refusal logged", func() bool {
				return len(log.Entries("glyph: connection refused", "answered", "true")) == 1
			})
			if resp, err := clientFrom("127.0.0.2", nil).Get("http://" + addr + "/"); err != nil {
				t.Fatal(err)
			} else {
				resp.Body.Close()
				if served := resp.StatusCode == http.StatusOK; served != tt.otherHost {
					t.Errorf("another host answered %s", resp.Status)
				}
			}
			held[0].Close()
			waitFor(t, "a request served once a place freed", func() bool {
				resp, err := c.Get("http://" + addr + "/")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			})
		})
	}
}

// TestLimitListenerTLS: over TLS the refusal is answered over TLS too,
// to a client that would speak HTTP/2.
func TestLimitListenerTLS(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.EnableHTTP2 = true
	ts.StartTLS()
	serverTLS := ts.TLS.Clone()
	clientTLS := ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	ts.Close()

	addr := limitedServer(t, hyperhttp.ConnLimits{Max: 1, TLS: serverTLS, Logger: discardLogger()}, serverTLS)
	first := clientFrom("127.0.0.1", clientTLS)
	first.Transport.(*http.Transport).DisableKeepAlives = false
	first.Transport.(*http.Transport).ForceAttemptHTTP2 = true
	resp, err := first.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("the first client: %s over %s", resp.Status, resp.Proto)
	}
	second := clientFrom("127.0.0.1", clientTLS)
	second.Transport.(*http.Transport).ForceAttemptHTTP2 = true
	resp, err = second.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, resp, "1", "connect: too many connections (limit 1)")
}

// TestRateLimitHTTP: requests over a remote address's rate are answered
// 503 with the wait in Retry-After and a hyperglyph error, as JSON to a
// JSON client; another address has a rate of its own.
func TestRateLimitHTTP(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			srv := newTestServer(t, mode, []hyperhttp.Option{hyperhttp.WithRateLimit(0.01, 2)})
			for i := range 2 {
				if r := srv.do(t, "GET", "/", nil, nil); r.status != http.StatusOK {
					t.Fatalf("request %d within the burst: %d %q", i, r.status, r.body)
				}
			}
			r := srv.do(t, "GET", "/", nil, nil)
			wantError(t, r, http.StatusServiceUnavailable, "too many requests from 127.0.0.1 (limit 0.01 a second)")
			// A token every 100 s, the last taken less than 10 s ago.
			if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 90 || ra > 100 {
				t.Errorf("Retry-After %q, want the seconds to the next token, 90 to 100", r.header.Get("Retry-After"))
			}
			if !strings.Contains(srv.logs.String(), "too many requests") {
				t.Errorf("the refusal was not logged:\n%s", srv.logs)
			}
			r = srv.do(t, "GET", "/", http.Header{"Accept": {"application/json"}}, nil)
			if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), `"too many requests`) {
				t.Errorf("a JSON client over the rate: %d %s", r.status, r.body)
			}
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within 10 s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
