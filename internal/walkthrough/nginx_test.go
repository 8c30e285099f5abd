package walkthrough_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/internal/nginxtest"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// These tests put version 2 of the walkthrough behind a real nginx with
// a proxy cache and two upstream servers, configured as README.md shows,
// and check what a cache in front of a service must and must not do.

// origin is one of the upstream servers: a walkthrough server that
// records every request it answers.
type origin struct {
	name string
	mu   sync.Mutex // guards seen
	seen []received // in order
}

// received is a request an origin answered.
type received struct {
	method, target string // target: path and query as sent
	ifNoneMatch    string
	status         int
}

// serve passes each request on to next and records it.
func (o *origin) serve(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		o.mu.Lock()
		o.seen = append(o.seen, received{r.Method, r.URL.RequestURI(), r.Header.Get("If-None-Match"), sw.status})
		o.mu.Unlock()
	})
}

func (o *origin) received() []received {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]received(nil), o.seen...)
}

// statusWriter remembers the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer, to flush
// streamed answers.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// front is nginx in front of two walkthrough servers, and a client that
// does not follow redirects.
type front struct {
	*nginxtest.Server
	origins [2]*origin
	client  *http.Client
}

// newFront starts two walkthrough servers, each a replica of version 2
// (plus whoami, an answer for the caller only, marked private) served
// with opts, and nginx in front of them.
func newFront(t *testing.T, opts ...hyperhttp.Option) *front {
	t.Helper()
	f := &front{}
	var backends []string
	for i := range f.origins {
		o := &origin{name: []string{"a", "b"}[i]}
		svc := walkthrough.V2()
		svc.MustFunc("whoami", func() string { return "origin " + o.name }, service.Safe(), service.CacheControl("private, max-age=60"))
		// The errors the tests provoke are not worth a log line.
		quiet := hyperhttp.WithLogger(slog.New(slog.DiscardHandler))
		srv := httptest.NewServer(o.serve(hyperhttp.NewHandler(svc, append([]hyperhttp.Option{quiet}, opts...)...)))
		t.Cleanup(srv.Close)
		f.origins[i] = o
		backends = append(backends, strings.TrimPrefix(srv.URL, "http://"))
	}
	f.Server = nginxtest.Start(t, backends...)
	f.client = &http.Client{
		Transport:     &http.Transport{},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(f.client.CloseIdleConnections)
	return f
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// cache is what nginx says it did: HIT, MISS, REVALIDATED, BYPASS, or
// nothing when the request did not go through the cache.
func (a *answer) cache() string { return a.header.Get("X-Cache-Status") }

// do sends a request to nginx, with header names and values in kv.
func (f *front) do(t *testing.T, method, target string, body []byte, kv ...string) *answer {
	t.Helper()
	req, err := http.NewRequest(method, f.URL+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = nil
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", method, target, err, f.ErrorLog())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, target, err)
	}
	return &answer{resp.StatusCode, resp.Header, b}
}

// get sends GET target with header names and values in kv.
func (f *front) get(t *testing.T, target string, kv ...string) *answer {
	t.Helper()
	return f.do(t, http.MethodGet, target, nil, kv...)
}

// hits returns the requests of method for target that reached either
// origin.
func (f *front) hits(method, target string) []received {
	var out []received
	for _, o := range f.origins {
		for _, r := range o.received() {
			if r.method == method && r.target == target {
				out = append(out, r)
			}
		}
	}
	return out
}

// want checks a response's status and cache status.
func (a *answer) want(t *testing.T, what string, status int, cache string) {
	t.Helper()
	if a.status != status || a.cache() != cache {
		t.Errorf("%s: %d with X-Cache-Status %q, want %d with %q", what, a.status, a.cache(), status, cache)
	}
}

// wantHits checks how many requests of method for target reached the
// origins.
func (f *front) wantHits(t *testing.T, method, target string, n int) {
	t.Helper()
	if got := f.hits(method, target); len(got) != n {
		t.Errorf("%s %s reached the origins %d times, want %d: %+v", method, target, len(got), n, got)
	}
}

// findUser is the form envelope of find_user("bob").
func findUser(t *testing.T) []byte {
	t.Helper()
	b, err := wire.Marshal(wire.NewOrderedDict("name", "bob"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBehindNginx(t *testing.T) {
	t.Run("safe GETs are cached", func(t *testing.T) {
		f := newFront(t, hyperhttp.WithSharedCache(time.Minute))
		for _, target := range []string{"/", "/hello", "/User", "/User/bio?Du2%3Aid%3Bi2%3Bu5%3Ashard%3Bu7%3Ashard-0%3B%3B"} {
			first := f.get(t, target)
			first.want(t, "first GET "+target, 200, "MISS")
			second := f.get(t, target)
			second.want(t, "second GET "+target, 200, "HIT")
			if !bytes.Equal(first.body, second.body) || first.header.Get("ETag") != second.header.Get("ETag") {
				t.Errorf("GET %s: the cache answered %q (ETag %s), the origin %q (ETag %s)",
					target, second.body, second.header.Get("ETag"), first.body, first.header.Get("ETag"))
			}
			f.wantHits(t, "GET", target, 1)
		}
	})

	t.Run("without WithSharedCache nothing is stored", func(t *testing.T) {
		f := newFront(t)
		f.get(t, "/").want(t, "first GET /", 200, "MISS")
		f.get(t, "/").want(t, "second GET /", 200, "MISS")
		f.wantHits(t, "GET", "/", 2)
	})

	t.Run("ETag revalidation gives 304", func(t *testing.T) {
		f := newFront(t, hyperhttp.WithSharedCache(time.Second))
		first := f.get(t, "/")
		first.want(t, "GET /", 200, "MISS")
		etag := first.header.Get("ETag")
		if etag == "" {
			t.Fatal("GET / has no ETag")
		}
		// A client's If-None-Match is answered by nginx from its copy.
		f.get(t, "/", "If-None-Match", etag).want(t, "GET / with If-None-Match", 304, "HIT")
		f.get(t, "/", "If-None-Match", `"other"`).want(t, "GET / with another tag", 200, "HIT")
		f.wantHits(t, "GET", "/", 1)
		// Once its copy is a second old, nginx asks the origin with the
		// ETag, and the origin answers 304.
		var again *answer
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if again = f.get(t, "/"); again.cache() != "HIT" {
				break
			}
		}
		again.want(t, "GET / after a second", 200, "REVALIDATED")
		if !bytes.Equal(again.body, first.body) {
			t.Errorf("the revalidated copy is %q, the origin's answer was %q", again.body, first.body)
		}
		hits := f.hits("GET", "/")
		if len(hits) != 2 || hits[1].ifNoneMatch != etag || hits[1].status != 304 {
			t.Errorf("the origins got %+v, want a 200 then If-None-Match %s answered 304", hits, etag)
		}
	})

	t.Run("POST→303 is never cached, its result URL is", func(t *testing.T) {
		f := newFront(t, hyperhttp.WithSharedCache(time.Minute))
		var location string
		for i := range 2 {
			a := f.do(t, http.MethodPost, "/find_user", findUser(t), "Content-Type", hyperhttp.MediaType)
			a.want(t, "POST /find_user", 303, "")
			if cc := a.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("POST /find_user: Cache-Control %q, want no-store", cc)
			}
			if i == 0 {
				location = a.header.Get("Location")
			} else if got := a.header.Get("Location"); got != location {
				t.Errorf("POST /find_user went to %q, then %q", location, got)
			}
		}
		f.wantHits(t, "POST", "/find_user", 2)
		if !strings.HasPrefix(location, "/User/?") {
			t.Fatalf("find_user sent to %q, want a User's URL", location)
		}
		f.get(t, location).want(t, "first GET of the User", 200, "MISS")
		f.get(t, location).want(t, "second GET of the User", 200, "HIT")
		f.wantHits(t, "GET", location, 1)
	})

	t.Run("Vary on Accept keeps the representations apart", func(t *testing.T) {
		f := newFront(t, hyperhttp.WithSharedCache(time.Minute))
		accepts := []struct {
			accept    string
			mediaType string // of the answer
		}{
			{hyperhttp.MediaType, hyperhttp.MediaType},
			{"application/json", "application/json"},
			{"text/html", "text/html"},
		}
		first := map[string]*answer{}
		for _, a := range accepts {
			first[a.accept] = f.get(t, "/", "Accept", a.accept)
			first[a.accept].want(t, "first GET / for "+a.accept, 200, "MISS")
		}
		for _, a := range accepts {
			got := f.get(t, "/", "Accept", a.accept)
			got.want(t, "second GET / for "+a.accept, 200, "HIT")
			ct, want := got.header.Get("Content-Type"), first[a.accept].header.Get("Content-Type")
			if ct != want || !bytes.Equal(got.body, first[a.accept].body) {
				t.Errorf("GET / for %s: the cache answered %s %q, the origin %s %q", a.accept, ct, got.body, want, first[a.accept].body)
			}
			if mt, _, _ := mime.ParseMediaType(ct); mt != a.mediaType {
				t.Errorf("GET / for %s: the cache answered %s, want %s", a.accept, ct, a.mediaType)
			}
		}
		f.wantHits(t, "GET", "/", len(accepts))
	})

	t.Run("a browser's form goes through as same-origin", func(t *testing.T) {
		// nginx passes the Host the browser used, which the service's
		// cross-origin check compares with the Origin.
		f := newFront(t, hyperhttp.WithSharedCache(time.Minute))
		a := f.do(t, http.MethodPost, "/find_user", []byte("name=bob"),
			"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html", "Origin", f.URL)
		a.want(t, "POST /find_user from a page of the site", 303, "")
		a = f.do(t, http.MethodPost, "/find_user", []byte("name=bob"),
			"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html", "Origin", "http://elsewhere.example")
		a.want(t, "POST /find_user from a page of another site", 403, "")
	})

	t.Run("Cache-Control: private is not cached", func(t *testing.T) {
		f := newFront(t, hyperhttp.WithSharedCache(time.Minute))
		for range 2 {
			a := f.get(t, "/whoami")
			a.want(t, "GET /whoami", 200, "MISS")
			if cc := a.header.Get("Cache-Control"); cc != "private, max-age=60" {
				t.Errorf("GET /whoami: Cache-Control %q, want the function's own", cc)
			}
		}
		f.wantHits(t, "GET", "/whoami", 2)
	})

	t.Run("errors are not cached", func(t *testing.T) {
		f := newFront(t, hyperhttp.WithSharedCache(time.Minute))
		for _, tt := range []struct {
			target string
			status int
		}{
			{"/nowhere", 404},
			{"/User/?garbage", 400},
		} {
			f.get(t, tt.target).want(t, "GET "+tt.target, tt.status, "MISS")
			f.get(t, tt.target).want(t, "GET "+tt.target+" again", tt.status, "MISS")
			f.wantHits(t, "GET", tt.target, 2)
		}
	})

	t.Run("requests with Authorization bypass the cache", func(t *testing.T) {
		f := newFront(t, hyperhttp.WithSharedCache(time.Minute))
		f.get(t, "/", "Authorization", "Bearer a").want(t, "GET / as a", 200, "BYPASS")
		f.get(t, "/", "Authorization", "Bearer b").want(t, "GET / as b", 200, "BYPASS")
		f.get(t, "/").want(t, "GET / without Authorization", 200, "MISS")
		f.wantHits(t, "GET", "/", 3)
	})

	t.Run("the walkthrough client works over both upstreams", func(t *testing.T) {
		f := newFront(t, hyperhttp.WithSharedCache(time.Minute))
		var user *client.Value
		see := func(s walkthrough.Step) {
			if strings.HasPrefix(s.Call, "user = ") {
				user = s.Value
			}
		}
		c := client.New()
		res, err := walkthrough.Tour(context.Background(), c, f.URL+"/", see)
		if err != nil {
			t.Fatalf("%v\n%s", err, f.ErrorLog())
		}
		if want := walkthrough.Expected(2); !reflect.DeepEqual(res, want) {
			t.Errorf("got  %#v\nwant %#v", res, want)
		}
		// The User's state is in its URL, which leads back to nginx: any
		// origin answers for it, with no stickiness.
		if r, ok := user.Any().(hyper.Resource); !ok || !strings.HasPrefix(r.URL, f.URL+"/User/?") {
			t.Errorf("the user is %#v, want a resource behind nginx", user.Any())
		}
		for _, o := range f.origins {
			posts := 0
			for _, r := range o.received() {
				if r.method == http.MethodPost {
					posts++
				}
			}
			if posts == 0 {
				t.Errorf("origin %s answered no call: %+v", o.name, o.received())
			}
		}
		// The tour again: its pages come from the cache.
		if _, err := walkthrough.Tour(context.Background(), c, f.URL+"/", nil); err != nil {
			t.Fatal(err)
		}
		f.wantHits(t, "GET", "/", 1)
	})
}
