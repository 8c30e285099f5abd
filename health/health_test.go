package health_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/health"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/service"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStatusNames(t *testing.T) {
	tests := []struct {
		status health.Status
		name   string
	}{
		{health.Unknown, "UNKNOWN"},
		{health.Serving, "SERVING"},
		{health.NotServing, "NOT_SERVING"},
		{health.ServiceUnknown, "SERVICE_UNKNOWN"},
	}
	for _, tt := range tests {
		if got := tt.status.String(); got != tt.name {
			t.Errorf("%d.String() = %q, want %q", tt.status, got, tt.name)
		}
		got, err := health.ParseStatus(tt.name)
		if err != nil || got != tt.status {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v", tt.name, got, err, tt.status)
		}
	}
	_, err := health.ParseStatus("serving")
	var se *service.Error
	if !errors.As(err, &se) || se.Kind != service.KindInvalid {
		t.Errorf(`ParseStatus("serving") = %v, want a KindInvalid error`, err)
	}
	if got := health.Status(9).String(); got != "Status(9)" {
		t.Errorf("Status(9).String() = %q", got)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *health.Server)
		want  map[string]health.Status
	}{
		{"new", func(*health.Server) {}, map[string]health.Status{
			"": health.Serving, "db": health.ServiceUnknown,
		}},
		{"set", func(h *health.Server) {
			h.SetServingStatus("db", health.NotServing)
			h.SetServingStatus("cache", health.Unknown)
		}, map[string]health.Status{
			"": health.Serving, "db": health.NotServing, "cache": health.Unknown, "other": health.ServiceUnknown,
		}},
		{"shutdown", func(h *health.Server) {
			h.SetServingStatus("db", health.Serving)
			h.Shutdown()
			h.SetServingStatus("db", health.Serving) // ignored while shut down
			h.SetServingStatus("new", health.Serving)
		}, map[string]health.Status{
			"": health.NotServing, "db": health.NotServing, "new": health.ServiceUnknown,
		}},
		{"resume", func(h *health.Server) {
			h.SetServingStatus("db", health.NotServing)
			h.Shutdown()
			h.Resume()
		}, map[string]health.Status{
			"": health.Serving, "db": health.Serving,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := health.NewServer()
			tt.setup(h)
			for name, want := range tt.want {
				if got := h.Check(name); got != want {
					t.Errorf("Check(%q) = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestProbes(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(h *health.Server)
		method   string
		path     string
		wantCode int
		wantBody string
	}{
		{"live", nil, "GET", "/livez", 200, "ok\n"},
		{"live while shut down", (*health.Server).Shutdown, "GET", "/livez", 200, "ok\n"},
		{"ready", nil, "GET", "/readyz", 200, "SERVING\n"},
		{"ready HEAD", nil, "HEAD", "/readyz", 200, ""},
		{"not ready", func(h *health.Server) { h.SetServingStatus("", health.NotServing) }, "GET", "/readyz", 503, "NOT_SERVING\n"},
		{"shut down", (*health.Server).Shutdown, "GET", "/readyz", 503, "NOT_SERVING\n"},
		{"unknown", func(h *health.Server) { h.SetServingStatus("", health.Unknown) }, "GET", "/readyz", 503, "UNKNOWN\n"},
		{"service ready", func(h *health.Server) { h.SetServingStatus("db", health.Serving) }, "GET", "/readyz?service=db", 200, "SERVING\n"},
		{"service not ready", func(h *health.Server) { h.SetServingStatus("db", health.NotServing) }, "GET", "/readyz?service=db", 503, "NOT_SERVING\n"},
		{"service unknown", nil, "GET", "/readyz?service=db", 503, "SERVICE_UNKNOWN\n"},
		{"mounted below a prefix", nil, "GET", "/healthz/readyz", 200, "SERVING\n"},
		{"POST", nil, "POST", "/readyz", 405, "method not allowed\n"},
		{"no such probe", nil, "GET", "/startupz", 404, "no such probe: want livez or readyz\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := health.NewServer()
			if tt.setup != nil {
				tt.setup(h)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, err := http.NewRequestWithContext(ctxT(t), tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantCode || string(body) != tt.wantBody {
				t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, body, tt.wantCode, tt.wantBody)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
		})
	}
}

// healthService is a service with h's check and watch.
func healthService(t *testing.T, h *health.Server) *service.Service {
	svc := service.New(service.WithLogger(slog.New(slog.DiscardHandler)))
	if err := h.Register(svc); err != nil {
		t.Fatal(err)
	}
	return svc
}

// peerWatch serves h to peers over TCP and returns a client, the URL it
// dials and the watch form it finds there.
func peerWatch(t *testing.T, ctx context.Context, h *health.Server) (c *client.Client, url string, watch *client.Value) {
	url = listenPeer(t, "tcp://127.0.0.1:0", healthService(t, h))
	c = client.New()
	t.Cleanup(func() { c.Close() })
	index, err := c.Get(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { index.Close() })
	if watch, err = index.Get("watch"); err != nil {
		t.Fatal(err)
	}
	return c, url, watch
}

// listenPeer serves svc to the peers that connect to addr and returns the
// address they dial.
func listenPeer(t *testing.T, addr string, svc *service.Service) string {
	return peertest.ServeService(t, addr, svc)
}

// check calls check(name) on the service at url.
func check(t *testing.T, c *client.Client, url string, args ...any) string {
	t.Helper()
	ctx := ctxT(t)
	index, err := c.Get(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer index.Close()
	v, err := index.Path(ctx, "check", args...)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var s string
	if err := v.Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckOverTransports(t *testing.T) {
	h := health.NewServer()
	h.SetServingStatus("db", health.NotServing)
	svc := healthService(t, h)
	web := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithLogger(slog.New(slog.DiscardHandler))))
	defer web.Close()
	urls := map[string]string{
		"http": web.URL + "/",
		"tcp":  listenPeer(t, "tcp://127.0.0.1:0", svc),
	}
	c := client.New()
	defer c.Close()
	for transport, url := range urls {
		t.Run(transport, func(t *testing.T) {
			tests := []struct {
				args []any
				want string
			}{
				{nil, "SERVING"},
				{[]any{"db"}, "NOT_SERVING"},
				{[]any{"nope"}, "SERVICE_UNKNOWN"},
			}
			for _, tt := range tests {
				if got := check(t, c, url, tt.args...); got != tt.want {
					t.Errorf("check(%v) = %q, want %q", tt.args, got, tt.want)
				}
			}
		})
	}
}

// TestWatchOverPeer follows a service's status over a TCP peer connection:
// the current status, then each change as it happens.
func TestWatchOverPeer(t *testing.T) {
	h := health.NewServer()
	h.SetServingStatus("db", health.NotServing)
	ctx := ctxT(t)
	c, url, watch := peerWatch(t, ctx, h)
	steps := []health.Status{health.Serving, health.Unknown, health.NotServing}
	want := []string{"NOT_SERVING", "SERVING", "UNKNOWN", "NOT_SERVING"}
	var got []string
	for v, err := range watch.Stream(ctx, "db") {
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if err := v.Decode(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
		if len(got) == len(want) {
			break
		}
		// The next status is set only once this one arrived, so none is
		// missed.
		h.SetServingStatus("db", steps[len(got)-1])
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("watch(db) streamed %v, want %v", got, want)
	}
	// The connection serves on after the watch was broken off.
	if s := check(t, c, url, "db"); s != "NOT_SERVING" {
		t.Errorf("check(db) after the watch = %q", s)
	}
}

// TestWatchSlowWatcher sets many statuses while a watcher is busy with
// the first: it gets the latest next, not a queue of them.
func TestWatchSlowWatcher(t *testing.T) {
	h := health.NewServer()
	var got []health.Status
	for st := range h.Watch(ctxT(t), "db") {
		got = append(got, st)
		if len(got) == 2 {
			break
		}
		for i := range 1000 {
			h.SetServingStatus("db", health.Status(i%3))
		}
		h.SetServingStatus("db", health.NotServing)
	}
	want := []health.Status{health.ServiceUnknown, health.NotServing}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Watch yielded %v, want %v", got, want)
	}
}

// TestWatchEndsWithContext: a watch of a status that never changes ends
// when its context is done.
func TestWatchEndsWithContext(t *testing.T) {
	h := health.NewServer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []health.Status)
	go func() {
		var got []health.Status
		for st := range h.Watch(ctx, "") {
			got = append(got, st)
		}
		done <- got
	}()
	cancel()
	select {
	case got := <-done:
		if len(got) != 1 || got[0] != health.Serving {
			t.Errorf("Watch yielded %v, want [SERVING]", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not end when its context was done")
	}
}

func TestRegisterTwice(t *testing.T) {
	svc := service.New()
	h := health.NewServer()
	if err := h.Register(svc); err != nil {
		t.Fatal(err)
	}
	if err := h.Register(svc); err == nil {
		t.Error("a second Register on the same service succeeded")
	}
}

// TestWatchShutdown: Shutdown ends every watch, with the status the name
// then has, so that a graceful stop is not held up by watches.
func TestWatchShutdown(t *testing.T) {
	tests := []struct {
		name    string
		service string
		before  bool // shut down before the watch starts
		want    []health.Status
	}{
		{"overall", "", false, []health.Status{health.Serving, health.NotServing}},
		{"a service", "db", false, []health.Status{health.Serving, health.NotServing}},
		{"an unknown service", "nope", false, []health.Status{health.ServiceUnknown}},
		{"already shut down", "db", true, []health.Status{health.NotServing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := health.NewServer()
			h.SetServingStatus("db", health.Serving)
			if tt.before {
				h.Shutdown()
			}
			var got []health.Status
			for st := range h.Watch(ctxT(t), tt.service) {
				got = append(got, st)
				if len(got) == 1 {
					h.Shutdown()
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Watch(%q) yielded %v, want %v", tt.service, got, tt.want)
			}
		})
	}
}

// TestWatchShutdownOverPeer: over a peer connection, Shutdown ends the
// stream normally after NOT_SERVING.
func TestWatchShutdownOverPeer(t *testing.T) {
	h := health.NewServer()
	ctx := ctxT(t)
	_, _, watch := peerWatch(t, ctx, h)
	var got []string
	for v, err := range watch.Stream(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if err := v.Decode(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
		if len(got) == 1 {
			h.Shutdown()
		}
	}
	if strings.Join(got, " ") != "SERVING NOT_SERVING" {
		t.Errorf("watch() streamed %v, want [SERVING NOT_SERVING]", got)
	}
}
