package hyperhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/wire/glyphjson"
)

// jsonHeader is the header of a request that asks for JSON, with more
// header lines.
func jsonHeader(kv ...string) http.Header {
	return hdr(append([]string{"Accept", "application/json"}, kv...)...)
}

// jsonBodyHeader is the header of a request with a JSON body that asks
// for JSON.
func jsonBodyHeader(kv ...string) http.Header {
	return jsonHeader(append([]string{"Content-Type", "application/json"}, kv...)...)
}

// wantJSON fails unless r is a 200 JSON answer whose body is want.
func wantJSON(t *testing.T, r *response, want string) {
	t.Helper()
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || string(plainBody(t, r)) != want {
		t.Fatalf("got %d %q %s, want 200 application/json %s", r.status, r.header.Get("Content-Type"), plainBody(t, r), want)
	}
	if r.header.Get("Vary") != "Accept, Accept-Encoding" {
		t.Errorf("Vary %q", r.header.Get("Vary"))
	}
}

// wantJSONError fails unless r is a JSON error answer of that status,
// kind and message, with a logref.
func wantJSONError(t *testing.T, r *response, status int, kind, msg string) {
	t.Helper()
	var body struct {
		Error struct {
			Code    int    `json:"code"`
			Kind    string `json:"kind"`
			Logref  string `json:"logref"`
			Message string `json:"message"`
		} `json:"$error"`
	}
	if r.status != status || r.header.Get("Content-Type") != "application/json" || json.Unmarshal(r.body, &body) != nil {
		t.Fatalf("got %d %q %s, want a %d JSON error", r.status, r.header.Get("Content-Type"), r.body, status)
	}
	e := body.Error
	if e.Code != status || e.Kind != kind || len(e.Logref) != 16 || !strings.Contains(e.Message, msg) {
		t.Errorf("error %+v, want code %d, kind %s, a logref and a message with %q", e, status, kind, msg)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}
}

func TestJSONAnswers(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			s := newTestServer(t, mode, nil)
			const jq = "/square?%7B%22x%22%3A7%7D" // {"x":7}
			t.Run("value and ETag", func(t *testing.T) {
				r := s.do(t, "GET", jq, jsonHeader(), nil)
				wantJSON(t, r, "49")
				etag := r.header.Get("ETag")
				g := s.do(t, "GET", "/square?Ou1%3Ax%3Bi7%3B%3B", nil, nil)
				if g.header.Get("Content-Type") != hyperhttp.MediaType || string(g.body) != "i49;" {
					t.Fatalf("without Accept: %q %q", g.header.Get("Content-Type"), g.body)
				}
				if etag == "" || etag == g.header.Get("ETag") {
					t.Errorf("JSON ETag %q, glyph ETag %q: want two different tags", etag, g.header.Get("ETag"))
				}
				r = s.do(t, "GET", jq, jsonHeader("If-None-Match", etag), nil)
				if r.status != 304 || len(r.body) != 0 || r.header.Get("ETag") != etag {
					t.Errorf("If-None-Match: %d %v %q", r.status, r.header, r.body)
				}
				r = s.do(t, "GET", jq, jsonHeader("If-None-Match", g.header.Get("ETag")), nil)
				wantJSON(t, r, "49")
				r = s.do(t, "HEAD", jq, jsonHeader(), nil)
				if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Type") != "application/json" || r.header.Get("Content-Length") != "2" {
					t.Errorf("HEAD: %d %v %q", r.status, r.header, r.body)
				}
			})
			t.Run("accept", func(t *testing.T) {
				for _, c := range []struct{ accept, ct string }{
					{"application/json", "application/json"},
					{"application/json;q=0.9, application/vnd.hyperglyph;q=0.5", "application/json"},
					{"*/*", hyperhttp.MediaType},
					{"application/*", hyperhttp.MediaType},
					{"application/vnd.hyperglyph, */*;q=0.1", hyperhttp.MediaType},
					{"application/json;q=0.5, application/vnd.hyperglyph", hyperhttp.MediaType},
				} {
					r := s.do(t, "GET", jq, hdr("Accept", c.accept), nil)
					if r.status != 200 || r.header.Get("Content-Type") != c.ct {
						t.Errorf("Accept %q: %d %q, want %s", c.accept, r.status, r.header.Get("Content-Type"), c.ct)
					}
				}
			})
			t.Run("gzip", func(t *testing.T) {
				r := s.do(t, "GET", "/big", jsonHeader("Accept-Encoding", "gzip"), nil)
				wantJSON(t, r, `"`+strings.Repeat("glyph ", 300)+`"`)
				if r.header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(r.header.Get("ETag"), `W/"`) {
					t.Errorf("header %v: want gzip and a weak ETag", r.header)
				}
			})
			t.Run("resource with links and forms", func(t *testing.T) {
				r := s.do(t, "GET", "/", jsonHeader(), nil)
				var index struct {
					Content map[string]map[string]struct {
						Method string `json:"method"`
						URL    string `json:"url"`
					} `json:"$content"`
				}
				if err := json.Unmarshal(r.body, &index); err != nil {
					t.Fatal(err)
				}
				if f := index.Content["square"]["$form"]; f.Method != "GET" || f.URL != "/square" {
					t.Errorf("square: %+v in %s", index.Content["square"], r.body)
				}
				if l := index.Content["now"]["$link"]; l.URL != "/now" {
					t.Errorf("now: %+v", index.Content["now"])
				}
			})
			t.Run("blobs", func(t *testing.T) {
				r := s.do(t, "GET", "/attach?%7B%22size%22%3A4%7D", jsonHeader(), nil)
				wantJSON(t, r, `{"data":{"$blob":{"content-type":"application/octet-stream"},"$content":"AAECAw=="},"name":"pattern"}`)
				r = s.do(t, "GET", "/attach?%7B%22size%22%3A8388609%7D", jsonHeader(), nil)
				wantJSONError(t, r, 415, "unsupported", "too large for JSON: ask for application/vnd.hyperglyph")
				r = s.do(t, "GET", "/download?%7B%22size%22%3A3%7D", jsonHeader(), nil)
				if r.status != 200 || r.header.Get("Content-Type") != "application/octet-stream" || string(r.body) != "\x00\x01\x02" {
					t.Errorf("a single blob: %d %v %q, want it raw", r.status, r.header, r.body)
				}
			})
			t.Run("statuses without a body", func(t *testing.T) {
				if r := s.do(t, "POST", "/nothing", jsonHeader(), nil); r.status != 204 {
					t.Errorf("nothing: %d", r.status)
				}
				r := s.do(t, "POST", "/start", jsonBodyHeader(), strings.NewReader(`{"n":2}`))
				if r.status != 303 || r.header.Get("Location") != "/Counter/?Du1%3An%3Bi2%3B%3B" {
					t.Errorf("start: %d %v", r.status, r.header)
				}
			})
			t.Run("errors", func(t *testing.T) {
				wantJSONError(t, s.do(t, "GET", "/nope", jsonHeader(), nil), 404, "not_found", `no function or class "nope"`)
				wantJSONError(t, s.do(t, "POST", "/crash", jsonHeader(), nil), 500, "internal", "crash: internal error")
				wantJSONError(t, s.do(t, "TRACE", "/square", jsonHeader(), nil), 405, "method_not_allowed", "not supported")
			})
		})
	}
}

func TestJSONBodies(t *testing.T) {
	s := newTestServer(t, "h1", []hyperhttp.Option{hyperhttp.WithMaxRequestBytes(1024)})
	for _, c := range []struct {
		name, path, body string
		header           http.Header
		want             string
	}{
		{"object", "/hello", `{"name":"Ada"}`, nil, `"Hello, Ada!"`},
		{"white space", "/hello", " \n{ \"name\" : \"Ada\" }\n", nil, `"Hello, Ada!"`},
		{"array by position", "/square", `[9]`, nil, `81`},
		{"defaults", "/hello", `{}`, nil, `"Hello, World!"`},
		{"a list argument", "/upper", `{"words":["a","b"]}`, nil, `["A","B"]`},
		{"a streaming input", "/total", `{"xs":[1,2,3]}`, nil, `6`},
		{"a float is not an integer", "/square", `{"x":7.0}`, nil, ""},
		{"charset", "/square", `{"x":3}`, hdr("Content-Type", "application/json; charset=utf-8"), `9`},
		{"gzip", "/square", `{"x":4}`, hdr("Content-Encoding", "gzip"), `16`},
		{"blob inline", "/measure", `{"data":{"$blob":{"content-type":"text/plain"},"$content":"AAECAw=="}}`, nil,
			`{"bytes":4,"type":"text/plain"}`},
		{"blob into a reader", "/count", `{"data":{"$blob":{"content-type":"a/b"},"$content":"aGVsbG8="}}`, nil, `5`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := jsonBodyHeader()
			body := []byte(c.body)
			for k, v := range c.header {
				h[k] = v
			}
			if h.Get("Content-Encoding") == "gzip" {
				body = gz(body)
			}
			r := s.do(t, "POST", c.path, h, bytes.NewReader(body))
			if c.want == "" {
				wantJSONError(t, r, 400, "invalid", "expected integer, got float")
				return
			}
			wantJSON(t, r, c.want)
		})
	}
	for _, c := range []struct {
		name, body string
		chunked    bool
		status     int
		kind, msg  string
		encoding   string
	}{
		{"bad JSON", `{"x":}`, false, 400, "invalid", "bad request body", ""},
		{"two values", `{"x":1} {"x":2}`, false, 400, "invalid", "more than one JSON value", ""},
		{"white space only", "  \n", false, 400, "invalid", "no JSON value", ""},
		{"not arguments", `3`, false, 400, "invalid", "request body is integer", ""},
		{"duplicate keys", `{"x":1,"x":2}`, false, 400, "invalid", "bad request body", ""},
		{"a tag as a key", `{"x":1,"$y":2}`, false, 400, "invalid", "one more $", ""},
		{"over the limit", `{"x":"` + strings.Repeat("a", 1100) + `"}`, false, 413, "too_large", "request body over 1024 bytes", ""},
		{"over the limit, chunked", `{"x":"` + strings.Repeat("a", 1100) + `"}`, true, 413, "too_large", "request body over 1024 bytes", ""},
		{"gzip over the limit", `{"x":"` + strings.Repeat("a", 100000) + `"}`, false, 413, "too_large", "request body over 1024 bytes", "gzip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := jsonBodyHeader()
			var body io.Reader = strings.NewReader(c.body)
			if c.encoding == "gzip" {
				h.Set("Content-Encoding", "gzip")
				body = bytes.NewReader(gz([]byte(c.body)))
			}
			if c.chunked {
				body = struct{ io.Reader }{body} // unknown length
			}
			wantJSONError(t, s.do(t, "POST", "/square", h, body), c.status, c.kind, c.msg)
		})
	}
	t.Run("other envelopes answered in JSON", func(t *testing.T) {
		wantJSON(t, s.do(t, "POST", "/square", jsonHeader("Content-Type", hyperhttp.MediaType), strings.NewReader("Ou1:x;i3;;")), "9")
		wantJSON(t, s.do(t, "POST", "/count", jsonHeader("Content-Type", "text/plain"), strings.NewReader("hello")), "5")
		wantJSON(t, s.do(t, "GET", "/square?Ou1%3Ax%3Bi3%3B%3B", jsonHeader(), nil), "9")
		wantJSON(t, s.do(t, "POST", "/hello", jsonHeader(), nil), `"Hello, World!"`)
	})
	t.Run("glyph answer to a JSON body", func(t *testing.T) {
		r := s.do(t, "POST", "/square", hdr("Content-Type", "application/json"), strings.NewReader(`{"x":5}`))
		if r.status != 200 || string(r.body) != "i25;" {
			t.Errorf("got %d %q", r.status, r.body)
		}
	})
}

func TestJSONQuery(t *testing.T) {
	s := newTestServer(t, "h1", nil)
	for _, c := range []struct{ target, want string }{
		{`/square?{"x":6}`, "36"},
		{"/square?%7b%22x%22%3a6%7d", "36"},
		{"/square?%7B%22x%22%3A%7B%22%24integer%22%3A%226%22%7D%7D", "36"}, // {"x":{"$integer":"6"}}
		{"/Counter/value?%7B%22n%22%3A5%7D", "5"},
		{"/countdown?%7B%22from%22%3A2%7D", "[2,1]"},
		{"/square?Ou1%3Ax%3Bi6%3B%3B", "36"},
	} {
		wantJSON(t, s.do(t, "GET", c.target, jsonHeader(), nil), c.want)
	}
	for _, c := range []struct{ target, msg string }{
		{"/square?%7B%22x%22%3A%7D", "bad query arguments"},
		{"/square?%7B%22x%22%3A1%7D%7D", "bad query arguments"},
		{"/square?%7B%22x%22%3A1%2C%22x%22%3A2%7D", "bad query arguments"},
		{"/square?%7Bx%7D", "bad query arguments"},
		{"/square?%7B%22x%22%3A%22a%22%7D", `expected integer, got unicode`},
		{"/square?%7", "bad query arguments"},
	} {
		wantJSONError(t, s.do(t, "GET", c.target, jsonHeader(), nil), 400, "invalid", c.msg)
	}
}

func TestJSONStreams(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			g := &gate{stopped: make(chan struct{})}
			logs := &logBuffer{}
			s := startServer(t, mode, listService(g), hyperhttp.WithLogger(newLogger(logs)))
			t.Run("items are sent as they are produced", func(t *testing.T) {
				release := make(chan struct{})
				g.release.Store(&release)
				req, _ := http.NewRequest("GET", s.URL+"/gate", nil)
				req.Header.Set("Accept", "application/json")
				resp, err := s.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("ETag") != "" {
					t.Errorf("status %d, header %v", resp.StatusCode, resp.Header)
				}
				first := `["first"`
				got := make([]byte, len(first))
				if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != first {
					t.Fatalf("read %q, %v", got, err)
				}
				if g.gaveUp.Load() {
					t.Fatal("the first item arrived only after the producer gave up waiting")
				}
				close(release)
				rest, err := io.ReadAll(resp.Body)
				if err != nil || string(rest) != `,"second"]` {
					t.Errorf("then %q, %v", rest, err)
				}
			})
			for _, c := range []struct{ path, first, msg string }{
				{"/fails", `["a"`, "fails: changed under us"},
				{"/crashes", `[1`, "crashes: internal error"},
			} {
				t.Run("error mid-stream "+c.path, func(t *testing.T) {
					wantCutOff(t, s, c.path, "application/json", c.first, c.msg, logs)
				})
			}
			t.Run("a blob in a stream is inline", func(t *testing.T) {
				wantJSON(t, s.do(t, "GET", "/blob", jsonHeader(), nil), `[1,{"$blob":{"content-type":"text/plain"},"$content":"aGk="}]`)
			})
		})
	}
}

// recordingClient records the Content-Type of every answer.
type recordingClient struct {
	c     *http.Client
	mu    sync.Mutex
	types []string
}

func (r *recordingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.c.Do(req)
	if err == nil {
		r.mu.Lock()
		r.types = append(r.types, resp.Header.Get("Content-Type"))
		r.mu.Unlock()
	}
	return resp, err
}

// TestJSONClientUnaffected checks that glyph's own client still gets
// hyperglyph, answers and errors, from a handler that speaks JSON.
func TestJSONClientUnaffected(t *testing.T) {
	s := newTestServer(t, "h1", nil)
	rc := &recordingClient{c: s.client}
	ctx := context.Background()
	c := client.New(client.WithHTTPClient(rc))
	index, err := c.Get(ctx, s.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	v, err := index.Path(ctx, "square", 8)
	var n int
	if err != nil || v.Decode(&n) != nil || n != 64 {
		t.Fatalf("square: %v, %v", v, err)
	}
	if _, err := index.Path(ctx, "broken"); err == nil {
		t.Fatal("broken: no error")
	}
	for _, ct := range rc.types {
		if ct != hyperhttp.MediaType {
			t.Errorf("the client got an answer of type %q", ct)
		}
	}
	if len(rc.types) < 3 {
		t.Errorf("%d answers recorded", len(rc.types))
	}
	// And the JSON glyphjson reads is the value the client decodes.
	r := s.do(t, "GET", "/square?%7B%22x%22%3A8%7D", jsonHeader(), nil)
	var j any
	if err := glyphjson.Unmarshal(r.body, &j); err != nil || j != int64(64) {
		t.Errorf("JSON %s reads as %#v, %v", r.body, j, err)
	}
}
