package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
)

// TestCallHeader: the headers of WithCallHeader and the context's
// deadline go with each call, over HTTP and over peers, and the client's
// own headers win over them.
func TestCallHeader(t *testing.T) {
	var mu sync.Mutex
	var got []map[string][]string
	svc := service.New()
	svc.MustFunc("look", func(ctx context.Context) int64 {
		mu.Lock()
		got = append(got, service.RequestHeader(ctx))
		mu.Unlock()
		if d, ok := ctx.Deadline(); ok {
			return time.Until(d).Milliseconds()
		}
		return -1
	})
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			index, _ := tt.serve(t, svc)
			c := client.New(client.WithHeader("X-Own", "client"))
			defer c.Close()
			ctx := client.WithCallHeader(context.Background(), "Traceparent", "00-abc-01")
			ctx = client.WithCallHeader(ctx, "X-Own", "context")
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			v, err := c.Get(ctx, index)
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Path(ctx, "look")
			if err != nil {
				t.Fatal(err)
			}
			var left int64
			if err := res.Decode(&left); err != nil || left <= 0 || left > 3000 {
				t.Fatalf("the call had %d ms left (%v), want within (0, 3000]", left, err)
			}
			mu.Lock()
			h := http.Header(got[len(got)-1])
			mu.Unlock()
			if h.Get("Traceparent") != "00-abc-01" || h.Get("X-Own") != "client" {
				t.Fatalf("the call's headers: %v", h)
			}
		})
	}
	if h := client.CallHeader(context.Background()); h != nil {
		t.Fatalf("CallHeader of a bare context = %v", h)
	}
}

// TestTimeoutHeaderSent: over HTTP the deadline travels as Glyph-Timeout.
func TestTimeoutHeaderSent(t *testing.T) {
	var seen string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Get(client.TimeoutHeader)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := client.New().Get(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	ms, err := strconv.Atoi(seen)
	if err != nil || ms <= 0 || ms > 2000 {
		t.Fatalf("%s: %q, want the milliseconds left", client.TimeoutHeader, seen)
	}
	if client.TimeoutHeader != hyperhttp.TimeoutHeader || !strings.HasPrefix(client.TimeoutHeader, "Glyph-") {
		t.Fatal("the client and the server name the deadline's header differently")
	}
}

func TestCallHeaderFunc(t *testing.T) {
	n := 0
	ctx := client.WithCallHeader(context.Background(), "Traceparent", "t")
	ctx = client.WithCallHeaderFunc(ctx, "glyph-auth", func() string { n++; return fmt.Sprint("old", n) })
	ctx = client.WithCallHeaderFunc(ctx, "Glyph-Auth", func() string { n++; return fmt.Sprint("new", n) })
	a, b := client.CallHeader(ctx), client.CallHeader(ctx)
	if a.Get("Glyph-Auth") != "new1" || b.Get("Glyph-Auth") != "new2" || a.Get("Traceparent") != "t" {
		t.Fatalf("headers %v then %v", a, b)
	}
	if h := client.CallHeader(context.Background()); h != nil {
		t.Fatalf("no headers: %v", h)
	}
}

// Each request of a call gets its own value: reading the index and
// calling a link are two requests.
func TestCallHeaderFuncPerRequest(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	svc := service.New()
	svc.MustFunc("hello", func() string { return "hi" }, service.Safe())
	h := hyperhttp.NewHandler(svc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Glyph-Auth"))
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	n := 0
	ctx := client.WithCallHeaderFunc(context.Background(), "Glyph-Auth", func() string { n++; return strconv.Itoa(n) })
	c := client.New()
	idx, err := c.Get(ctx, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	link, err := idx.Get("hello")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := link.Call(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != "1,2" {
		t.Fatalf("the server saw %q, want 1,2", seen)
	}
}
