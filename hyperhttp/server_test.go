package hyperhttp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
)

// TestNewServer: the timeouts a server facing the network needs.
func TestNewServer(t *testing.T) {
	s := hyperhttp.NewServer("127.0.0.1:0", http.NotFoundHandler())
	if s.ReadHeaderTimeout != hyperhttp.DefaultReadHeaderTimeout || s.IdleTimeout != hyperhttp.DefaultIdleTimeout ||
		s.MaxHeaderBytes != hyperhttp.DefaultMaxHeaderBytes || s.ReadTimeout != 0 || s.WriteTimeout != 0 {
		t.Errorf("NewServer: %+v", s)
	}
}

// slowBodyServer serves a function that reads a blob body, with a
// minimum body rate of 1 KiB per 200 ms.
func slowBodyServer(t *testing.T) *httptest.Server {
	t.Helper()
	svc := service.New(service.WithLogger(discardLogger()))
	svc.MustFunc("count", func(r io.Reader) (int, error) {
		b, err := io.ReadAll(r)
		return len(b), err
	}, service.Args("data"))
	svc.MustFunc("slow_count", func(r io.Reader) (int, error) {
		n := 0
		buf := make([]byte, 512)
		for {
			time.Sleep(100 * time.Millisecond) // the function's own pace
			k, err := r.Read(buf)
			n += k
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
		}
	}, service.Args("data"))
	h := hyperhttp.NewHandler(svc, hyperhttp.WithLogger(discardLogger()), hyperhttp.WithMinBodyRate(1<<10, 200*time.Millisecond))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestMinBodyRate: a body trickled a byte at a time is cut off once it
// falls behind the rate; a function that reads slowly on its own is not.
func TestMinBodyRate(t *testing.T) {
	srv := slowBodyServer(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 4096
	fmt.Fprintf(conn, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", size)
	// A byte every 20 ms: 50 bytes/s, far below 1 KiB per 200 ms.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for i := 0; i < size && ctx.Err() == nil; i++ {
			if _, err := conn.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	// The whole body would take 80 s; the server gives up after 200 ms
	// of waiting: an answer, or the connection closed, well before.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || !strings.Contains(string(body), "too slowly") {
			t.Errorf("a trickled body: %d %q", resp.StatusCode, body)
		}
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server still waited for a trickled body after 30 s")
	}

	// The function reads 512 bytes per 100 ms: the client is not to blame.
	body := strings.Repeat("y", 8<<10)
	resp, err = http.Post(srv.URL+"/slow_count", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), fmt.Sprint(len(body))) {
		t.Errorf("a function reading slowly: %d %q", resp.StatusCode, b)
	}
}

// TestDecodeBudget: requests whose bodies would take the handler past
// its decode budget wait their turn, then get 503 with Retry-After;
// room comes back when a request ends.
// TestDecodeBudget: form bodies, glyph and JSON, share the decode budget.
func TestDecodeBudget(t *testing.T) {
	for _, enc := range []struct {
		ct   string
		body func(s string) string // the arguments {s: s}
	}{
		{hyperhttp.MediaType, func(s string) string { return fmt.Sprintf("Ou1:s;u%d:%s;;", len(s), s) }},
		{"application/json", func(s string) string { return `{"s":"` + s + `"}` }},
	} {
		t.Run(enc.ct, func(t *testing.T) { testDecodeBudget(t, enc.ct, enc.body) })
	}
}

// testDecodeBudget runs TestDecodeBudget with bodies of type ct.
func testDecodeBudget(t *testing.T, ct string, body func(s string) string) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	svc := service.New(service.WithLogger(discardLogger()))
	svc.MustFunc("hold", func(s string) int {
		entered <- struct{}{}
		<-release
		return len(s)
	}, service.Args("s"))
	svc.MustFunc("size", func(s string) int { return len(s) }, service.Args("s"))
	h := hyperhttp.NewHandler(svc, hyperhttp.WithLogger(discardLogger()), hyperhttp.WithDecodeBudget(1000, 100*time.Millisecond))
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(fn string, n int) *http.Response {
		resp, err := http.Post(srv.URL+"/"+fn, ct, strings.NewReader(body(strings.Repeat("z", n))))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	done := make(chan *http.Response)
	go func() { done <- post("hold", 780) }() // 793 bytes of the 1000
	<-entered
	if r := post("size", 100); r.StatusCode != 200 {
		t.Errorf("a body that fits beside it: %d", r.StatusCode)
	}
	r := post("size", 780)
	if r.StatusCode != 503 || r.Header.Get("Retry-After") != "1" {
		t.Errorf("a body past the budget: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	close(release)
	if r := <-done; r.StatusCode != 200 {
		t.Errorf("the request holding the budget: %d", r.StatusCode)
	}
	if r := post("size", 780); r.StatusCode != 200 {
		t.Errorf("after the budget came back: %d", r.StatusCode)
	}
}
