package hyperhttp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// forModes runs f once per connection type (HTTP/1.1 and HTTP/2), each
// with its own server.
func forModes(t *testing.T, opts []hyperhttp.Option, f func(t *testing.T, s *server), svcOpts ...service.Option) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			f(t, newTestServer(t, mode, opts, svcOpts...))
		})
	}
}

// unsized hides the length of a body, so that it is sent chunked (HTTP/1.1)
// or without Content-Length (HTTP/2).
type unsized struct{ r io.Reader }

func (u unsized) Read(p []byte) (int, error) { return u.r.Read(p) }

// TestEnvelopes calls functions with every envelope every method allows,
// PUT, PATCH and DELETE both as themselves and as a POST with a Method
// header, with bodies of known and unknown length.
func TestEnvelopes(t *testing.T) {
	type call struct {
		name   string
		method string
		target string
		header http.Header
		body   func(t testing.TB) []byte // nil: no body
		want   any
	}
	form := func(t testing.TB) []byte { return encode(t, wire.NewOrderedDict("name", "Ann")) }
	text := func(testing.TB) []byte { return []byte("some text") }
	calls := []call{
		{"GET/none", "GET", "/now", nil, nil, "always the same"},
		{"GET/query", "GET", "/square?Ou1%3Ax%3Bi7%3B%3B", nil, nil, int64(49)},
		{"POST/none", "POST", "/hello", nil, nil, "Hello, World!"},
		{"POST/none-with-content-type", "POST", "/hello", glyphHeader(), nil, "Hello, World!"},
		{"POST/form", "POST", "/hello", glyphHeader(), form, "Hello, Ann!"},
		{"POST/blob", "POST", "/save", hdr("Content-Type", "text/plain", "Content-Disposition", `form-data; name="body"`), text,
			map[string]any{"title": "untitled", "bytes": int64(9)}},
		{"POST/blob-first-input", "POST", "/count", hdr("Content-Type", "text/plain"), text, int64(9)},
		{"PUT/blob", "PUT", "/count", hdr("Content-Type", "application/octet-stream"), text, int64(9)},
		{"PUT/form", "PUT", "/hello", glyphHeader(), form, "Hello, Ann!"},
		{"DELETE/none", "DELETE", "/hello", nil, nil, "Hello, World!"},
		{"DELETE/query", "DELETE", "/hello?Ou4%3Aname%3Bu3%3AAnn%3B%3B", nil, nil, "Hello, Ann!"},
		{"DELETE/blob", "DELETE", "/count", hdr("Content-Type", "text/plain"), text, int64(9)},
		{"DELETE/form", "DELETE", "/hello", glyphHeader(), form, "Hello, Ann!"},
		{"PATCH/blob", "PATCH", "/count", hdr("Content-Type", "text/plain"), text, int64(9)},
		{"PATCH/form", "PATCH", "/hello", glyphHeader(), form, "Hello, Ann!"},
	}
	forModes(t, nil, func(t *testing.T, s *server) {
		for _, c := range calls {
			variants := []string{c.method}
			switch c.method {
			case "PUT", "PATCH", "DELETE":
				variants = append(variants, "POST+Method")
			}
			for _, v := range variants {
				for _, sized := range []bool{true, false} {
					if !sized && c.body == nil {
						continue
					}
					name := c.name + "/" + v
					if !sized {
						name += "/unsized"
					}
					t.Run(name, func(t *testing.T) {
						header := http.Header{}
						for k, vs := range c.header {
							header[k] = vs
						}
						method := c.method
						if v == "POST+Method" {
							method = "POST"
							header.Set("Method", strings.ToLower(c.method))
						}
						var body io.Reader
						if c.body != nil {
							body = bytes.NewReader(c.body(t))
							if !sized {
								body = unsized{body}
							}
						}
						r := s.do(t, method, c.target, header, body)
						wantValue(t, r, c.want)
						cc := r.header.Get("Cache-Control")
						if c.method == "GET" {
							if cc == "no-store" || r.header.Get("ETag") == "" {
								t.Errorf("GET: Cache-Control %q, ETag %q; want cacheable with an ETag", cc, r.header.Get("ETag"))
							}
						} else if cc != "no-store" || r.header.Get("ETag") != "" {
							t.Errorf("%s: Cache-Control %q, ETag %q; want no-store and no ETag", method, cc, r.header.Get("ETag"))
						}
					})
				}
			}
		}
		t.Run("unsized-empty-body-is-none", func(t *testing.T) {
			r := s.do(t, "POST", "/hello", glyphHeader(), unsized{strings.NewReader("")})
			wantValue(t, r, "Hello, World!")
		})
		t.Run("form-as-dict-list-and-nil", func(t *testing.T) {
			for _, body := range []any{map[string]any{"name": "Ann"}, []any{"Ann"}} {
				wantValue(t, s.do(t, "POST", "/hello", glyphHeader(), bytes.NewReader(encode(t, body))), "Hello, Ann!")
			}
			wantValue(t, s.do(t, "POST", "/hello", glyphHeader(), strings.NewReader("N;")), "Hello, World!")
		})
		t.Run("form-with-a-blob-argument", func(t *testing.T) {
			body := encode(t, wire.NewOrderedDict("data", wire.BytesBlob("text/plain", []byte("inside a form"))))
			r := s.do(t, "POST", "/count", glyphHeader(), bytes.NewReader(body))
			wantValue(t, r, int64(len("inside a form")))
		})
		t.Run("safe-function-called-with-POST", func(t *testing.T) {
			r := s.do(t, "POST", "/square", glyphHeader(), args(t, "x", 3))
			wantValue(t, r, int64(9))
		})
	})
}

// TestRedirectsAndCreated checks 201, 204 and 303, and that following a
// 303 with GET gives the instance, for URL state and persistent classes.
func TestRedirectsAndCreated(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s *server) {
		r := s.do(t, "POST", "/made", nil, nil)
		if r.status != http.StatusCreated || r.header.Get("Location") != "/Counter/?Du1%3An%3Bi7%3B%3B" || len(r.body) != 0 {
			t.Fatalf("made: %d Location %q body %q", r.status, r.header.Get("Location"), r.body)
		}
		r = s.do(t, "POST", "/nothing", nil, nil)
		if r.status != http.StatusNoContent || len(r.body) != 0 || r.header.Get("Content-Type") != "" {
			t.Fatalf("nothing: %d %v %q", r.status, r.header, r.body)
		}
		for _, target := range []string{"/Counter", "/start"} {
			r = s.do(t, "POST", target, glyphHeader(), args(t, "n", 4))
			loc := r.header.Get("Location")
			if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/Counter/?") || r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s: %d Location %q", target, r.status, loc)
			}
			page := s.do(t, "GET", loc, nil, nil)
			res, ok := decodeBody(t, page).(hyper.Resource)
			if !ok || res.Content["n"] != int64(4) || res.URL != loc {
				t.Fatalf("GET %s: %#v", loc, decodeBody(t, page))
			}
			// Follow the resource's own link and form.
			value := res.Content["value"].(hyper.Link)
			wantValue(t, s.do(t, "GET", value.URL, nil, nil), int64(4))
			add := res.Content["add"].(hyper.Form)
			added := decodeBody(t, s.do(t, add.Method, add.URL, glyphHeader(), args(t, "by", 3))).(hyper.Resource)
			if added.Content["n"] != int64(7) {
				t.Fatalf("add: %#v", added)
			}
		}
		t.Run("persistent", func(t *testing.T) {
			r := s.do(t, "POST", "/Note", glyphHeader(), args(t, "text", "first"))
			loc := r.header.Get("Location")
			if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/Note/") || !strings.HasSuffix(loc, "/") {
				t.Fatalf("POST /Note: %d %q", r.status, loc)
			}
			res := decodeBody(t, s.do(t, "GET", loc, nil, nil)).(hyper.Resource)
			if res.Content["text"] != "first" {
				t.Fatalf("GET %s: %#v", loc, res)
			}
			if r := s.do(t, "POST", loc+"write", glyphHeader(), args(t, "text", "second")); r.status != http.StatusNoContent {
				t.Fatalf("write: %d %q", r.status, r.body)
			}
			wantValue(t, s.do(t, "GET", loc+"read", nil, nil), "second")
			wantError(t, s.do(t, "GET", "/Note/0123/", nil, nil), http.StatusNotFound, "no Note with id 0123")
		})
	})
}

// TestErrors checks 4xx and 5xx answers: status, error body, Allow.
func TestErrors(t *testing.T) {
	cases := []struct {
		name   string
		method string
		target string
		header http.Header
		body   string
		status int
		msg    string
	}{
		{"unknown function", "GET", "/nope", nil, "", 404, `no function or class "nope"`},
		{"below a function", "POST", "/hello/more", nil, "", 404, ""},
		{"unknown method of a class", "GET", "/Counter/nope?Du1%3An%3Bi1%3B%3B", nil, "", 404, `no method "nope"`},
		{"persistent without id", "GET", "/Note/", nil, "", 404, "no instance id"},
		{"method not supported", "PROPFIND", "/hello", nil, "", 405, `method "PROPFIND" is not supported`},
		{"Method header not supported", "POST", "/hello", hdr("Method", "CONNECT"), "", 405, `method "CONNECT" is not supported`},
		{"form read with a query", "GET", "/hello?Ou4%3Aname%3Bu1%3Ax%3B%3B", nil, "", 405, "call it with POST"},
		{"index with POST", "POST", "/", nil, "", 405, "the index is read with GET"},
		{"instance with POST", "POST", "/Counter/?Du1%3An%3Bi1%3B%3B", nil, "", 405, "an instance is read with GET"},
		{"missing argument", "POST", "/square", nil, "", 400, `missing argument "x"`},
		{"unknown argument", "POST", "/hello", glyphHeader(), "Ou1:x;i1;;", 400, `unknown argument "x"`},
		{"wrong type", "POST", "/square", glyphHeader(), "Ou1:x;u1:x;;", 400, `argument "x"`},
		{"body not a dict", "POST", "/hello", glyphHeader(), "i1;", 400, "expected an ordered dict"},
		{"truncated body", "POST", "/hello", glyphHeader(), "Ou4:name;u3:An", 400, "bad request body"},
		{"trailing garbage", "POST", "/hello", glyphHeader(), "Ou4:name;u3:Ann;;x", 400, "bad request body"},
		{"bad blob trailer", "POST", "/count", glyphHeader(), "Ou4:data;B0:Du12:content-type;u1:a;;;;c0:9:abc;", 400, "bad request body"},
		{"blob for a function without inputs", "POST", "/nothing", hdr("Content-Type", "text/plain"), "x", 400, ""},
		{"blob for an unknown input", "POST", "/save", hdr("Content-Type", "text/plain", "Content-Disposition", `form-data; name="nope"`), "x", 400, `"nope"`},
		{"bad Content-Type", "POST", "/hello", hdr("Content-Type", "a/b; c"), "x", 400, "bad Content-Type"},
		{"bad query envelope", "DELETE", "/hello?Ou4%3Aname", nil, "", 400, "bad query arguments"},
		{"bad query escape", "DELETE", "/hello?%zz", nil, "", 400, "bad query arguments"},
		{"bad gzip", "POST", "/hello", glyphHeader("Content-Encoding", "gzip"), "not gzip", 400, "bad gzip"},
		{"unknown encoding", "POST", "/hello", glyphHeader("Content-Encoding", "compress"), "x", 415, "unsupported Content-Encoding"},
		{"function error", "POST", "/broken", nil, "", 500, "broken: disk full"},
		{"panic", "POST", "/crash", nil, "", 500, "crash: internal error"},
	}
	forModes(t, nil, func(t *testing.T, s *server) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				r := s.do(t, c.method, c.target, c.header, body)
				e := wantError(t, r, c.status, c.msg)
				if c.status == 405 && r.header.Get("Allow") == "" {
					t.Errorf("405 without Allow")
				}
				if c.status >= 500 && !strings.Contains(s.logs.String(), e.Logref) {
					t.Errorf("logref %s is not in the server log:\n%s", e.Logref, s.logs.String())
				}
			})
		}
	})
}

// TestPanicLogref checks that a panic in a function answers 500 with a
// logref that the log holds with the panic and its stack, and that the
// panic's value is not sent.
func TestPanicLogref(t *testing.T) {
	s := newTestServer(t, "h1", nil)
	e := wantError(t, s.do(t, "POST", "/crash", nil, nil), 500, "internal error")
	logs := s.logs.String()
	if strings.Contains(e.Message, "boom") {
		t.Errorf("the panic's value reached the client: %q", e.Message)
	}
	for _, want := range []string{"logref=" + e.Logref, "panic=boom", "stack="} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// marshalPanics panics when encoded, in the handler rather than in the
// function.
type marshalPanics struct{}

func (marshalPanics) MarshalGlyph() (any, error) { panic("cannot encode") }

type marshalFails struct{}

func (marshalFails) MarshalGlyph() (any, error) { return nil, errors.New("no encoding") }

// failingReader fails after n bytes.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("the disk went away")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

// TestEncodingFailures checks results that cannot be encoded: a 500 when
// nothing was sent yet, an aborted response after that.
func TestEncodingFailures(t *testing.T) {
	svc := service.New(service.WithLogger(discardLogger()))
	svc.MustFunc("panics", func() marshalPanics { return marshalPanics{} })
	svc.MustFunc("fails", func() marshalFails { return marshalFails{} })
	svc.MustFunc("blob_fails_early", func() map[string]any {
		return map[string]any{"b": wire.NewBlob("x/y", &failingReader{})}
	})
	svc.MustFunc("blob_fails_late", func() map[string]any {
		return map[string]any{"b": wire.NewBlob("x/y", &failingReader{n: 1 << 20})}
	})
	svc.MustFunc("raw_fails_late", func() *wire.Blob { return wire.NewBlob("x/y", &failingReader{n: 1 << 20}) })
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			logs := &logBuffer{}
			s := startServer(t, mode, svc, hyperhttp.WithLogger(newLogger(logs)))
			for name, msg := range map[string]string{"panics": "internal error", "fails": "cannot encode the result", "blob_fails_early": "cannot encode the result"} {
				e := wantError(t, s.do(t, "POST", "/"+name, nil, nil), 500, msg)
				if !strings.Contains(logs.String(), e.Logref) {
					t.Errorf("%s: logref %s not logged", name, e.Logref)
				}
			}
			for _, name := range []string{"blob_fails_late", "raw_fails_late"} {
				req, _ := http.NewRequest("POST", s.URL+"/"+name, nil)
				resp, err := s.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || err == nil {
					t.Errorf("%s: status %d, read error %v; want 200 and a broken body", name, resp.StatusCode, err)
				}
			}
			if !strings.Contains(logs.String(), "the disk went away") {
				t.Errorf("the failure is not logged:\n%s", logs)
			}
		})
	}
}

// TestStateTampering checks instance state in URLs: changed signed state,
// missing signatures and garbage state are 400, never 500.
func TestStateTampering(t *testing.T) {
	t.Run("signed", func(t *testing.T) {
		forModes(t, nil, func(t *testing.T, s *server) {
			r := s.do(t, "POST", "/Counter", glyphHeader(), args(t, "n", 1))
			loc := r.header.Get("Location")
			state, sig, ok := strings.Cut(strings.TrimPrefix(loc, "/Counter/?"), "~")
			if !ok || sig == "" {
				t.Fatalf("Location %q has no signature", loc)
			}
			if res := decodeBody(t, s.do(t, "GET", loc, nil, nil)).(hyper.Resource); res.Content["n"] != int64(1) {
				t.Fatalf("GET %s: %#v", loc, res)
			}
			changed := strings.Replace(state, "i1", "i2", 1)
			for _, target := range []string{
				"/Counter/?" + changed + "~" + sig,
				"/Counter/value?" + changed + "~" + sig,
				"/Counter/?" + state,
				"/Counter/?" + state + "~",
				"/Counter/?" + state + "~" + strings.ToUpper(sig),
			} {
				wantError(t, s.do(t, "GET", target, nil, nil), 400, "state")
			}
			wantError(t, s.do(t, "POST", "/Counter/add?"+changed+"~"+sig, glyphHeader(), args(t, "by", 1)), 400, "state")
		}, service.WithStateKey([]byte("secret")))
	})
	t.Run("unsigned", func(t *testing.T) {
		forModes(t, nil, func(t *testing.T, s *server) {
			for _, q := range []string{"", "?", "?garbage", "?%zz", "?Du1%3An%3Bu1%3Ax%3B%3B", "?L%3B", "?N%3B", "?i1%3B",
				"?Du1%3An%3Bi99999999999999999999999%3B%3B", "?Du1%3An%3Bi1%3B%3B~sig"} {
				r := s.do(t, "GET", "/Counter/value"+q, nil, nil)
				if r.status != 400 && r.status != 200 {
					t.Errorf("state %q: status %d, want 400 (or 200 for state that decodes): %q", q, r.status, r.body)
				}
				if r.status == 400 {
					wantError(t, r, 400, "")
				}
			}
		})
	})
}

// TestUnknownPathsAndRoot checks 404s and a handler mounted below /.
func TestUnknownPathsAndRoot(t *testing.T) {
	forModes(t, []hyperhttp.Option{hyperhttp.WithRoot("/api")}, func(t *testing.T, s *server) {
		wantValue(t, s.do(t, "POST", "/api/hello", nil, nil), "Hello, World!")
		for _, target := range []string{"/api/", "/api"} {
			res, ok := decodeBody(t, s.do(t, "GET", target, nil, nil)).(hyper.Resource)
			if !ok || res.URL != "/api/" || res.Content["hello"].(hyper.Form).URL != "/api/hello" {
				t.Fatalf("GET %s: %#v", target, res)
			}
		}
		for _, target := range []string{"/hello", "/", "/apix/hello", "/ap"} {
			wantError(t, s.do(t, "GET", target, nil, nil), 404, "")
		}
		r := s.do(t, "POST", "/api/Counter", nil, nil)
		if loc := r.header.Get("Location"); r.status != 303 || !strings.HasPrefix(loc, "/api/Counter/?") {
			t.Fatalf("constructor below a root: %d %q", r.status, loc)
		}
	})
}

// TestHEAD checks that HEAD answers like GET without a body, and does not
// read a blob it will not send.
func TestHEAD(t *testing.T) {
	var reads, closes atomic.Int32
	svc := newTestService(1<<40, service.WithLogger(discardLogger()))
	svc.MustFunc("watched", func() *wire.Blob {
		return wire.NewBlob("text/plain", &watchedReader{reads: &reads, closes: &closes})
	}, service.Safe())
	svc.MustFunc("watched_inside", func() []any {
		return []any{wire.NewBlob("text/plain", &watchedReader{reads: &reads, closes: &closes})}
	}, service.Safe())
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, mode, svc, hyperhttp.WithLogger(discardLogger()))
			for _, target := range []string{"/square?Ou1%3Ax%3Bi7%3B%3B", "/", "/hello", "/Counter/?Du1%3An%3Bi1%3B%3B", "/nope", "/big"} {
				get := s.do(t, "GET", target, nil, nil)
				head := s.do(t, "HEAD", target, nil, nil)
				if head.status != get.status || len(head.body) != 0 {
					t.Errorf("HEAD %s: %d with %d body bytes; GET: %d", target, head.status, len(head.body), get.status)
				}
				for _, h := range []string{"Content-Type", "Content-Length", "Etag", "Cache-Control", "Vary"} {
					if head.header.Get(h) != get.header.Get(h) {
						t.Errorf("HEAD %s: %s %q, GET has %q", target, h, head.header.Get(h), get.header.Get(h))
					}
				}
			}
			etag := s.do(t, "GET", "/big", nil, nil).header.Get("ETag")
			if r := s.do(t, "HEAD", "/big", hdr("If-None-Match", etag), nil); r.status != 304 {
				t.Errorf("conditional HEAD: %d", r.status)
			}
			reads.Store(0)
			closes.Store(0)
			for _, target := range []string{"/watched", "/watched_inside"} {
				if r := s.do(t, "HEAD", target, nil, nil); r.status != 200 {
					t.Errorf("HEAD %s: %d", target, r.status)
				}
			}
			if reads.Load() != 0 || closes.Load() != 2 {
				t.Errorf("HEAD read the blobs %d times and closed them %d times; want 0 and 2", reads.Load(), closes.Load())
			}
		})
	}
}

type watchedReader struct{ reads, closes *atomic.Int32 }

func (w *watchedReader) Read(p []byte) (int, error) { w.reads.Add(1); return 0, io.EOF }
func (w *watchedReader) Close() error               { w.closes.Add(1); return nil }

// TestCaching checks ETags, 304s and Cache-Control.
func TestCaching(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s *server) {
		for _, target := range []string{"/square?Ou1%3Ax%3Bi7%3B%3B", "/", "/hello", "/Counter/?Du1%3An%3Bi1%3B%3B", "/Counter/value?Du1%3An%3Bi1%3B%3B"} {
			r := s.do(t, "GET", target, nil, nil)
			etag := r.header.Get("ETag")
			if r.status != 200 || !strings.HasPrefix(etag, `"`) || r.header.Get("Cache-Control") != "no-cache" {
				t.Fatalf("GET %s: %d ETag %q Cache-Control %q", target, r.status, etag, r.header.Get("Cache-Control"))
			}
			if again := s.do(t, "GET", target, nil, nil).header.Get("ETag"); again != etag {
				t.Errorf("GET %s: ETag %q then %q", target, etag, again)
			}
			for _, inm := range []string{etag, "W/" + etag, `"x", ` + etag, "*"} {
				nm := s.do(t, "GET", target, hdr("If-None-Match", inm), nil)
				if nm.status != 304 || len(nm.body) != 0 || nm.header.Get("ETag") != etag || nm.header.Get("Content-Type") != "" {
					t.Errorf("GET %s If-None-Match %s: %d %v %q", target, inm, nm.status, nm.header, nm.body)
				}
			}
			if r := s.do(t, "GET", target, hdr("If-None-Match", `"other"`), nil); r.status != 200 {
				t.Errorf("GET %s with another tag: %d", target, r.status)
			}
		}
		// Different answers, different tags.
		a := s.do(t, "GET", "/square?Ou1%3Ax%3Bi7%3B%3B", nil, nil).header.Get("ETag")
		b := s.do(t, "GET", "/square?Ou1%3Ax%3Bi8%3B%3B", nil, nil).header.Get("ETag")
		if a == b {
			t.Errorf("two answers share the ETag %s", a)
		}
		// Gzipped answers have the weak form of the same tag.
		plain := s.do(t, "GET", "/big", nil, nil).header.Get("ETag")
		zipped := s.do(t, "GET", "/big", hdr("Accept-Encoding", "gzip"), nil)
		if zipped.header.Get("ETag") != "W/"+plain || zipped.header.Get("Content-Encoding") != "gzip" {
			t.Errorf("gzip ETag %q, identity %q", zipped.header.Get("ETag"), plain)
		}
		if r := s.do(t, "GET", "/big", hdr("Accept-Encoding", "gzip", "If-None-Match", plain), nil); r.status != 304 {
			t.Errorf("gzip If-None-Match with the strong tag: %d", r.status)
		}
		// Calls are never cacheable, and never conditional.
		for _, c := range []struct{ method, target string }{{"POST", "/square"}, {"POST", "/now"}, {"DELETE", "/hello"}, {"POST", "/Counter"}, {"POST", "/made"}, {"POST", "/nothing"}} {
			var body io.Reader
			if c.target == "/square" {
				body = args(t, "x", 2)
			}
			r := s.do(t, c.method, c.target, glyphHeader("If-None-Match", "*"), body)
			if r.status == 304 || r.header.Get("ETag") != "" || r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s %s: %d ETag %q Cache-Control %q", c.method, c.target, r.status, r.header.Get("ETag"), r.header.Get("Cache-Control"))
			}
		}
		if r := s.do(t, "GET", "/now", nil, nil); r.header.Get("Cache-Control") != "max-age=60" || r.header.Get("ETag") == "" {
			t.Errorf("/now: Cache-Control %q ETag %q", r.header.Get("Cache-Control"), r.header.Get("ETag"))
		}
		if r := s.do(t, "GET", "/attach?Ou4%3Asize%3Bi3%3B%3B", nil, nil); r.header.Get("ETag") != "" || r.header.Get("Cache-Control") != "no-cache" {
			t.Errorf("streamed answer: ETag %q Cache-Control %q", r.header.Get("ETag"), r.header.Get("Cache-Control"))
		}
		for _, target := range []string{"/", "/nope"} {
			if v := s.do(t, "GET", target, nil, nil).header.Get("Vary"); v != "Accept, Accept-Encoding" {
				t.Errorf("%s: Vary %q", target, v)
			}
		}
	})
}

// TestGzip checks compressed responses and requests.
func TestGzip(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s *server) {
		big := strings.Repeat(bigWord, 300)
		r := s.do(t, "GET", "/big", hdr("Accept-Encoding", "gzip"), nil)
		if r.header.Get("Content-Encoding") != "gzip" || len(r.body) >= len(big) {
			t.Fatalf("gzip: Content-Encoding %q, %d bytes", r.header.Get("Content-Encoding"), len(r.body))
		}
		wantValue(t, r, big)
		for _, ae := range []string{"", "identity", "gzip;q=0", "gzip; q=0.000", "br, deflate"} {
			r := s.do(t, "GET", "/big", hdr("Accept-Encoding", ae), nil)
			if r.header.Get("Content-Encoding") != "" {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, r.header.Get("Content-Encoding"))
			}
			wantValue(t, r, big)
		}
		for _, ae := range []string{"GZIP", "deflate, gzip;q=0.5", "br;q=1.0, gzip"} {
			if r := s.do(t, "GET", "/big", hdr("Accept-Encoding", ae), nil); r.header.Get("Content-Encoding") != "gzip" {
				t.Errorf("Accept-Encoding %q: not gzipped", ae)
			}
		}
		// Small answers and errors are never gzipped.
		if r := s.do(t, "POST", "/hello", hdr("Accept-Encoding", "gzip"), nil); r.header.Get("Content-Encoding") != "" {
			t.Errorf("a small answer was gzipped")
		}
		if r := s.do(t, "GET", "/nope", hdr("Accept-Encoding", "gzip"), nil); r.header.Get("Content-Encoding") != "" {
			t.Errorf("an error was gzipped")
		}
		// Go's own client asks for gzip and decompresses by itself.
		req, _ := http.NewRequest("GET", s.URL+"/big", nil)
		tr := s.client.Transport.(*http.Transport).Clone()
		tr.DisableCompression = false
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if !resp.Uncompressed || !bytes.Equal(b, encode(t, big)) {
			t.Errorf("Go client: Uncompressed %v, body %d bytes", resp.Uncompressed, len(b))
		}
		// Raw blobs: compressible types are gzipped, others not.
		text := bytes.Repeat([]byte("text "), 1000)
		r = s.do(t, "POST", "/echo", hdr("Content-Type", "text/plain", "Accept-Encoding", "gzip"), bytes.NewReader(text))
		if r.header.Get("Content-Encoding") != "gzip" || !bytes.Equal(plainBody(t, r), text) {
			t.Errorf("text blob: Content-Encoding %q", r.header.Get("Content-Encoding"))
		}
		for _, ct := range []string{"image/png", "application/octet-stream", "Application/Octet-Stream; x=1"} {
			r = s.do(t, "POST", "/echo", hdr("Content-Type", ct, "Accept-Encoding", "gzip"), bytes.NewReader(text))
			if r.header.Get("Content-Encoding") != "" || !bytes.Equal(r.body, text) {
				t.Errorf("%s blob: Content-Encoding %q", ct, r.header.Get("Content-Encoding"))
			}
		}
		// Streamed values are gzipped whatever their size.
		r = s.do(t, "GET", "/attach?Ou4%3Asize%3Bi100000%3B%3B", hdr("Accept-Encoding", "gzip"), nil)
		if r.header.Get("Content-Encoding") != "gzip" {
			t.Errorf("streamed value: Content-Encoding %q", r.header.Get("Content-Encoding"))
		}
		m := decodeBody(t, r).(map[string]any)
		if data, _ := m["data"].(*wire.Blob).Bytes(); len(data) != 100000 || data[251] != 0 || data[250] != 250 {
			t.Errorf("streamed blob: %d bytes", len(data))
		}
		// Requests.
		for _, enc := range []string{"gzip", "x-gzip", "GZip"} {
			wantValue(t, s.do(t, "POST", "/hello", glyphHeader("Content-Encoding", enc), bytes.NewReader(gz(encode(t, wire.NewOrderedDict("name", "Zed"))))), "Hello, Zed!")
			wantValue(t, s.do(t, "POST", "/count", hdr("Content-Type", "text/plain", "Content-Encoding", enc), bytes.NewReader(gz(text))), int64(len(text)))
		}
		wantValue(t, s.do(t, "POST", "/hello", glyphHeader("Content-Encoding", "identity"), args(t, "name", "Id")), "Hello, Id!")
		// A gzip body that breaks off in the middle is the client's fault,
		// whatever the function makes of its read error.
		broken := gz(text)
		broken = broken[:len(broken)/2]
		wantError(t, s.do(t, "POST", "/count", hdr("Content-Type", "text/plain", "Content-Encoding", "gzip"), bytes.NewReader(broken)), 400, "reading the request body")
		wantError(t, s.do(t, "POST", "/hello", glyphHeader("Content-Encoding", "gzip"), bytes.NewReader(gz(encode(t, wire.NewOrderedDict("name", "Zed")))[:20])), 400, "")
	})
	t.Run("NoGzip", func(t *testing.T) {
		s := newTestServer(t, "h1", []hyperhttp.Option{hyperhttp.WithoutGzip()})
		if r := s.do(t, "GET", "/big", hdr("Accept-Encoding", "gzip"), nil); r.header.Get("Content-Encoding") != "" {
			t.Errorf("NoGzip: gzipped")
		}
		wantValue(t, s.do(t, "POST", "/hello", glyphHeader("Content-Encoding", "gzip"), bytes.NewReader(gz(encode(t, wire.NewOrderedDict("name", "Zed"))))), "Hello, Zed!")
	})
}

// TestBlobResults checks how a single blob is sent, by Accept and
// BlobsAsGlyph.
func TestBlobResults(t *testing.T) {
	raw := func(t *testing.T, r *response) {
		t.Helper()
		if r.header.Get("Content-Type") != "application/octet-stream" || !bytes.Equal(r.body, []byte{0, 1, 2}) {
			t.Errorf("want raw: %v %q", r.header, r.body)
		}
	}
	glyph := func(t *testing.T, r *response) {
		t.Helper()
		b, ok := decodeBody(t, r).(*wire.Blob)
		if !ok {
			t.Fatalf("want a glyph blob, got %q", r.body)
		}
		if data, _ := b.Bytes(); b.ContentType != "application/octet-stream" || !bytes.Equal(data, []byte{0, 1, 2}) {
			t.Errorf("blob %q %q", b.ContentType, data)
		}
	}
	forModes(t, nil, func(t *testing.T, s *server) {
		get := func(accept string) *response {
			h := http.Header{}
			if accept != "" {
				h.Set("Accept", accept)
			}
			return s.do(t, "GET", "/download?Ou4%3Asize%3Bi3%3B%3B", h, nil)
		}
		for _, a := range []string{"", "*/*", "application/octet-stream", "application/*", "application/vnd.hyperglyph, */*;q=0.1", "text/html"} {
			t.Run("raw "+a, func(t *testing.T) { raw(t, get(a)) })
		}
		for _, a := range []string{"application/vnd.hyperglyph", "Application/Vnd.Hyperglyph", "application/vnd.hyperglyph, */*;q=0", "text/plain, application/vnd.hyperglyph;q=0.5"} {
			t.Run("glyph "+a, func(t *testing.T) { glyph(t, get(a)) })
		}
	})
	t.Run("BlobsAsGlyph", func(t *testing.T) {
		s := newTestServer(t, "h1", []hyperhttp.Option{hyperhttp.WithBlobsAsGlyph()})
		glyph(t, s.do(t, "GET", "/download?Ou4%3Asize%3Bi3%3B%3B", hdr("Accept", "*/*"), nil))
	})
}

// TestLimits checks 413s: by Content-Length, while reading, after gzip,
// and for the wire limits.
func TestLimits(t *testing.T) {
	opts := []hyperhttp.Option{hyperhttp.WithMaxRequestBytes(1 << 10), hyperhttp.WithMaxBlobBytes(64 << 10), hyperhttp.WithLimits(wire.Limits{MaxDepth: 4})}
	forModes(t, opts, func(t *testing.T, s *server) {
		over := encode(t, wire.NewOrderedDict("name", strings.Repeat("a", 2000)))
		wantError(t, s.do(t, "POST", "/hello", glyphHeader(), bytes.NewReader(over)), 413, "over 1024 bytes")
		wantError(t, s.do(t, "POST", "/hello", glyphHeader(), unsized{bytes.NewReader(over)}), 413, "over 1024 bytes")
		wantError(t, s.do(t, "POST", "/hello", glyphHeader("Content-Encoding", "gzip"), bytes.NewReader(gz(over))), 413, "over 1024 bytes")
		// Exactly the limit is fine.
		name := strings.Repeat("a", 1007) // Ou4:name;u1007:…;; is 1024 bytes
		exact := encode(t, wire.NewOrderedDict("name", name))
		if len(exact) != 1024 {
			t.Fatalf("exact body is %d bytes", len(exact))
		}
		wantValue(t, s.do(t, "POST", "/hello", glyphHeader(), unsized{bytes.NewReader(exact)}), "Hello, "+name+"!")
		wantError(t, s.do(t, "POST", "/hello", glyphHeader(), strings.NewReader("Ou4:name;LLLLLLN;;;;;;;;")), 413, "MaxDepth")
		wantError(t, s.do(t, "DELETE", "/hello?"+url.QueryEscape("Ou4:name;LLLLLLN;;;;;;;;"), nil, nil), 413, "MaxDepth")

		blob := bytes.Repeat([]byte("x"), 100<<10)
		wantError(t, s.do(t, "POST", "/count", hdr("Content-Type", "text/plain"), bytes.NewReader(blob)), 413, "over 65536 bytes")
		wantError(t, s.do(t, "POST", "/count", hdr("Content-Type", "text/plain"), unsized{bytes.NewReader(blob)}), 413, "over 65536 bytes")
		wantError(t, s.do(t, "POST", "/echo", hdr("Content-Type", "text/plain", "Content-Encoding", "gzip"), bytes.NewReader(gz(blob))), 413, "over 65536 bytes")
		wantValue(t, s.do(t, "POST", "/count", hdr("Content-Type", "text/plain"), unsized{bytes.NewReader(blob[:64<<10])}), int64(64<<10))
		// A function that stops reading early is not blamed for the rest.
		wantValue(t, s.do(t, "POST", "/peek", hdr("Content-Type", "text/plain"), unsized{bytes.NewReader(blob)}), "xxx")

		// Whitespace counts: every byte of the body does.
		spaced := append(bytes.Repeat([]byte(" "), 1020), encode(t, wire.NewOrderedDict("name", "Ann"))...)
		wantError(t, s.do(t, "POST", "/hello", glyphHeader(), bytes.NewReader(spaced)), 413, "over 1024 bytes")
		wantError(t, s.do(t, "POST", "/hello", glyphHeader("Content-Encoding", "gzip"), bytes.NewReader(gz(spaced))), 413, "over 1024 bytes")
		inside := []byte("Ou4:name;" + strings.Repeat(" ", 1020) + "u3:Ann;;")
		wantError(t, s.do(t, "POST", "/hello", glyphHeader(), bytes.NewReader(inside)), 413, "over 1024 bytes")
	})
}

// TestGzipBomb sends small gzip bodies that expand far past the limits:
// 413, with the heap bounded, and without reading the whole expansion.
func TestGzipBomb(t *testing.T) {
	// A form whose argument is a list of 200 000 bytearrays of 1000
	// zeros: valid glyph, so the decoder reads on until the limit.
	item := append([]byte("b1000:"), make([]byte, 1001)...)
	item[len(item)-1] = ';'
	form := append(gz([]byte("Ou4:name;L")), bombOf(item, 1000, 200)...)
	blob := bombOf(make([]byte, 1<<20), 1, 200)
	t.Logf("bombs: form %d bytes, blob %d bytes, each expanding to about 200 MB", len(form), len(blob))
	forModes(t, nil, func(t *testing.T, s *server) {
		peak := watchHeap(t, func() {
			wantError(t, s.do(t, "POST", "/hello", glyphHeader("Content-Encoding", "gzip"), bytes.NewReader(form)), 413, "over 8388608 bytes")
		})
		if peak > 48<<20 {
			t.Errorf("form bomb: heap grew by %d MiB", peak>>20)
		}
		s2 := newTestServer(t, "h1", []hyperhttp.Option{hyperhttp.WithMaxBlobBytes(16 << 20)})
		peak = watchHeap(t, func() {
			wantError(t, s2.do(t, "POST", "/count", hdr("Content-Type", "text/plain", "Content-Encoding", "gzip"), bytes.NewReader(blob)), 413, "over 16777216 bytes")
		})
		if peak > 32<<20 {
			t.Errorf("blob bomb: heap grew by %d MiB", peak>>20)
		}
	})
}

// bombOf returns a gzip stream of unit repeated per*members times, made of
// members gzip members (gzip readers read concatenated members as one
// stream), so that it is quick to build.
func bombOf(unit []byte, per, members int) []byte {
	member := gz(bytes.Repeat(unit, per))
	return bytes.Repeat(member, members)
}

// TestMethodHeaderOnlyOnPOST checks that a Method header cannot turn a
// GET into a call.
func TestMethodHeaderOnlyOnPOST(t *testing.T) {
	s := newTestServer(t, "h1", nil)
	r := s.do(t, "GET", "/nothing", hdr("Method", "POST"), nil)
	if _, ok := decodeBody(t, r).(hyper.Form); !ok || r.status != 200 {
		t.Fatalf("GET with Method: POST: %d %q", r.status, r.body)
	}
	// Reading a method's URL shows its form or refuses; it never calls it.
	if r := s.do(t, "GET", "/Counter/add?Du1%3An%3Bi1%3B%3B", hdr("Method", "POST"), nil); r.status == 200 {
		if _, ok := decodeBody(t, r).(hyper.Form); !ok {
			t.Fatalf("GET of a form's URL with Method: POST: %q", r.body)
		}
	} else {
		wantError(t, r, 405, "")
	}
	// A POST may stand for a GET: harmless, and what the header says.
	wantValue(t, s.do(t, "POST", "/Counter/value?Du1%3An%3Bi1%3B%3B", hdr("Method", "GET"), nil), int64(1))
}

// TestFormDecoderReuse checks that the form decoders the handler reuses
// carry nothing from one request to the next: bodies that fail (bad
// syntax, over a limit, a second message) between good ones, forms with
// blobs, and many callers at once.
func TestFormDecoderReuse(t *testing.T) {
	forModes(t, []hyperhttp.Option{hyperhttp.WithMaxRequestBytes(1 << 10)}, func(t *testing.T, s *server) {
		over := encode(t, wire.NewOrderedDict("name", strings.Repeat("a", 2000)))
		withBlob := encode(t, wire.NewOrderedDict("data", wire.BytesBlob("text/plain", []byte("inside a form"))))
		for range 3 {
			wantError(t, s.do(t, "POST", "/hello", glyphHeader(), strings.NewReader("Ou4:name;u3:Ann")), 400, "")
			wantValue(t, s.do(t, "POST", "/hello", glyphHeader(), args(t, "name", "Bob")), "Hello, Bob!")
			wantError(t, s.do(t, "POST", "/hello", glyphHeader(), unsized{bytes.NewReader(over)}), 413, "over 1024 bytes")
			wantValue(t, s.do(t, "POST", "/count", glyphHeader(), bytes.NewReader(withBlob)), int64(len("inside a form")))
			wantError(t, s.do(t, "POST", "/hello", glyphHeader(), strings.NewReader("Ou4:name;u3:Ann;;N;")), 400, "more than one message")
			wantValue(t, s.do(t, "POST", "/hello", glyphHeader(), strings.NewReader("N;")), "Hello, World!")
		}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					name := fmt.Sprintf("caller%d-%d", g, i)
					body, _ := wire.Marshal(wire.NewOrderedDict("name", name))
					req, _ := http.NewRequest("POST", s.URL+"/hello", bytes.NewReader(body))
					req.Header = glyphHeader()
					resp, err := s.client.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					var got any
					if err == nil {
						err = wire.Unmarshal(b, &got)
					}
					if want := "Hello, " + name + "!"; err != nil || resp.StatusCode != 200 || got != want {
						t.Errorf("status %d, %v, %v; want %q", resp.StatusCode, got, err, want)
					}
				}
			}()
		}
		wg.Wait()
	})
}
