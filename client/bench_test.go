package client_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
)

// replayer is an HTTPClient that sends requests with hc and records the
// answers until replay is set; from then on it answers every request with
// the last answer it recorded, after reading the request's body, so that
// a benchmark counts the client's own work only.
type replayer struct {
	hc     *http.Client
	replay bool
	status int
	header http.Header
	body   []byte
}

func (r *replayer) Do(req *http.Request) (*http.Response, error) {
	if r.replay {
		if req.Body != nil {
			io.Copy(io.Discard, req.Body)
			req.Body.Close()
		}
		return &http.Response{
			StatusCode:    r.status,
			Header:        r.header,
			Body:          io.NopCloser(bytes.NewReader(r.body)),
			ContentLength: int64(len(r.body)),
			Request:       req,
		}, nil
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.status, r.header, r.body = resp.StatusCode, resp.Header.Clone(), b
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// BenchmarkCall is the client's side of the call bench/ times over HTTP:
// hello("bob") through Value.Call and Decode into a string, answered from
// a recorded answer, with no network and no server.
func BenchmarkCall(b *testing.B) {
	s := service.New()
	s.MustFunc("hello", func(name string) string { return "Hello " + name }, service.Args("name"))
	srv := httptest.NewServer(hyperhttp.NewHandler(s))
	defer srv.Close()
	ctx := context.Background()

	r := &replayer{hc: srv.Client()}
	index, err := client.New(client.WithHTTPClient(r)).Get(ctx, srv.URL+"/")
	if err != nil {
		b.Fatal(err)
	}
	hello, err := index.Get("hello")
	if err != nil {
		b.Fatal(err)
	}
	call := func() {
		v, err := hello.Call(ctx, "bob")
		if err != nil {
			b.Fatal(err)
		}
		var s string
		if err := v.Decode(&s); err != nil || s != "Hello bob" {
			b.Fatalf("got %q, %v", s, err)
		}
	}
	call()
	r.replay = true
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		call()
	}
}
