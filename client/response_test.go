package client_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

func TestRelativeURLs(t *testing.T) {
	// /a/b redirects to /x/y/page, whose nested resources use relative
	// URLs: each resolves against the final URL or its resource's URL.
	page := hyper.Resource{URL: "", Name: "page", Content: map[string]any{
		"up":   hyper.Link{URL: "../up"},
		"self": hyper.Form{},
		"child": hyper.Resource{URL: "child/", Content: map[string]any{
			"go":   hyper.Form{URL: "go", Values: []hyper.Input{inDefault("next", hyper.Link{URL: "in-attr"})}},
			"deep": hyper.Resource{URL: "deep?s=1", Content: map[string]any{"m": hyper.Link{URL: "m"}}},
		}},
		"list": []any{hyper.Link{URL: "/abs"}, map[string]any{"l": hyper.Link{URL: "l"}}},
	}}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a/b":
			http.Redirect(w, r, "/x/y/page", http.StatusSeeOther)
		case "/x/y/page":
			writeGlyph(t, w, 200, page)
		default:
			writeGlyph(t, w, 200, r.URL.String())
		}
	}))
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	v := ok(client.New().Get(ctx, srv.URL+"/a/b"))
	cases := []struct{ path, want string }{
		{"up", "/x/up"},
		{"self", "/x/y/page"},
		{"child", "/x/y/child/"},
		{"child.go", "/x/y/child/go"},
		{"child.deep", "/x/y/child/deep?s=1"},
		{"child.deep.m", "/x/y/child/m"},
		{"list.0", "/abs"},
		{"list.1.l", "/x/y/l"},
	}
	for _, tc := range cases {
		x := v
		for _, name := range strings.Split(tc.path, ".") {
			x = ok(x.Get(name))
		}
		if x.URL() != srv.URL+tc.want {
			t.Errorf("%s: URL %q, want %q", tc.path, x.URL(), srv.URL+tc.want)
		}
	}
	// A form's input defaults resolve against the outer base.
	form := ok(v.Path(ctx, "child")).Any().(hyper.Resource).Content["go"].(hyper.Form)
	// (the outer base of a form in the child resource is the child's URL).
	if got := form.Values[0].Default.(hyper.Link).URL; got != srv.URL+"/x/y/child/in-attr" {
		t.Errorf("input default link %q", got)
	}
	// Following and calling go where the URLs say.
	if got := decode[string](t, ok(v.Path(ctx, "child.deep.m"))); got != "/x/y/child/m" {
		t.Errorf("child.deep.m fetched %q", got)
	}
	if got := decode[string](t, ok(v.Path(ctx, "up"))); got != "/x/up" {
		t.Errorf("up fetched %q", got)
	}
	if got := decode[string](t, ok(v.Path(ctx, "list.1.l"))); got != "/x/y/l" {
		t.Errorf("list.1.l fetched %q", got)
	}
	if _, err := v.Get("list"); err != nil {
		t.Fatal(err)
	}
	if _, err := ok(v.Get("list")).Get("2"); service.KindOf(err) != service.KindNotFound {
		t.Errorf("list.2: %v", err)
	}
}

func TestStatuses(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			writeGlyph(t, w, 200, hyper.Resource{Content: map[string]any{
				"create": hyper.Form{URL: "/create"},
				"see":    hyper.Form{URL: "/see"},
				"empty":  hyper.Link{URL: "/empty"},
				"plain":  hyper.Link{URL: "/plain"},
				"teapot": hyper.Link{URL: "/teapot"},
				"glyph5": hyper.Link{URL: "/glyph5"},
				"two":    hyper.Link{URL: "/two"},
				"odd":    hyper.Link{URL: "/odd"},
			}})
		case "/create":
			w.Header().Set("Location", "items/7")
			w.WriteHeader(http.StatusCreated)
		case "/see":
			w.Header().Set("Location", "/seen")
			w.WriteHeader(http.StatusSeeOther)
		case "/seen":
			writeGlyph(t, w, 200, r.Method)
		case "/items/7":
			writeGlyph(t, w, 200, "item 7")
		case "/empty":
			w.Header().Set("Content-Type", client.MediaType)
			w.WriteHeader(200)
		case "/plain":
			http.Error(w, "plain failure", http.StatusBadGateway)
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
		case "/glyph5":
			writeGlyph(t, w, http.StatusServiceUnavailable, hyper.Error{Logref: "L1", Message: "later", Code: 7})
		case "/two":
			w.Header().Set("Content-Type", client.MediaType)
			w.Write([]byte("i1;i2;"))
		case "/odd":
			w.WriteHeader(http.StatusMultipleChoices)
		}
	}))
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	index := ok(client.New().Get(ctx, srv.URL+"/"))

	created := ok(index.Path(ctx, "create"))
	if l, isLink := created.Any().(hyper.Link); !isLink || l.URL != srv.URL+"/items/7" {
		t.Fatalf("201 gave %#v", created.Any())
	}
	if got := decode[string](t, ok(created.Call(ctx))); got != "item 7" {
		t.Errorf("following the 201 link: %q", got)
	}
	if got := decode[string](t, ok(index.Path(ctx, "see"))); got != "GET" {
		t.Errorf("303 followed with %s", got)
	}
	if v := ok(index.Path(ctx, "empty")); !v.IsNil() {
		t.Errorf("empty 200 body: %#v", v.Any())
	}
	_, err := index.Path(ctx, "plain")
	if service.KindOf(err) != service.KindUnavailable && service.KindOf(err) != service.KindInternal || !client.IsServerError(err) ||
		!strings.Contains(err.Error(), "502 Bad Gateway: plain failure") {
		t.Errorf("plain 502: kind %v: %v", service.KindOf(err), err)
	}
	_, err = index.Path(ctx, "teapot")
	if service.KindOf(err) != service.KindInvalid || !client.IsClientError(err) || client.StatusCode(err) != 418 {
		t.Errorf("418: %v", err)
	}
	_, err = index.Path(ctx, "glyph5")
	var se *service.Error
	if !errors.As(err, &se) || se.Kind != service.KindUnavailable || se.Message != "later" || se.Logref != "L1" {
		t.Errorf("503 with a body: %#v", err)
	}
	var st *client.StatusError
	if !errors.As(err, &st) || st.Body.Code != 7 || st.StatusCode != 503 || st.Error() != "GET "+srv.URL+"/glyph5: 503 Service Unavailable" {
		t.Errorf("StatusError %+v", st)
	}
	if _, err := index.Path(ctx, "two"); err == nil || !strings.Contains(err.Error(), "more than one value") {
		t.Errorf("two values: %v", err)
	}
	if _, err := index.Path(ctx, "odd"); err == nil || client.StatusCode(err) != 300 {
		t.Errorf("300: %v", err)
	}
}

// noRedirects is an HTTPClient that hands redirects back.
type noRedirects struct{ n atomic.Int64 }

func (h *noRedirects) Do(r *http.Request) (*http.Response, error) {
	h.n.Add(1)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return c.Do(r)
}

func TestCustomHTTPClientAndHeaders(t *testing.T) {
	srv := serve(t)
	ctx := ctxT(t)
	h := &noRedirects{}
	c := client.New(client.WithHTTPClient(h), client.WithHeader("Authorization", "Bearer x"))
	index := must[*client.Value](t)(c.Get(ctx, srv.URL+"/"))
	user := must[*client.Value](t)(index.Path(ctx, "find_user", "zed"))
	if got := decode[User](t, user); got.Name != "zed" {
		t.Errorf("user %+v", got)
	}
	if h.n.Load() != 3 {
		t.Errorf("%d requests through the HTTPClient, want 3 (the 303 followed by hand)", h.n.Load())
	}
	last := srv.last()
	if last.Header.Get("Authorization") != "Bearer x" || !strings.HasPrefix(last.Header.Get("Accept"), client.MediaType) {
		t.Errorf("headers %v", last.Header)
	}
	if !strings.HasPrefix(user.URL(), srv.URL+"/User/?") {
		t.Errorf("user URL %q", user.URL())
	}
}

func TestBlobResponses(t *testing.T) {
	for _, asGlyph := range []bool{false, true} {
		t.Run("WithBlobsAsGlyph="+strconv.FormatBool(asGlyph), func(t *testing.T) {
			var opts []hyperhttp.Option
			if asGlyph {
				opts = append(opts, hyperhttp.WithBlobsAsGlyph())
			}
			srv := serve(t, opts...)
			ctx := ctxT(t)
			index := must[*client.Value](t)(client.New().Get(ctx, srv.URL+"/"))
			v := must[*client.Value](t)(index.Path(ctx, "download", "a.txt"))
			b, isBlob := v.Blob()
			if !isBlob {
				t.Fatalf("download gave %#v", v.Any())
			}
			if !strings.HasPrefix(b.ContentType, "text/plain") {
				t.Errorf("content type %q", b.ContentType)
			}
			if b.URL() != srv.URL+"/download" || v.URL() != b.URL() {
				t.Errorf("blob url %q, value URL %q", b.URL(), v.URL())
			}
			content, err := io.ReadAll(b)
			if err != nil || string(content) != "content of a.txt" {
				t.Errorf("content %q, %v", content, err)
			}
			if err := b.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	// Decoding a blob into bytes or a string reads it.
	srv := serve(t)
	ctx := ctxT(t)
	index := must[*client.Value](t)(client.New().Get(ctx, srv.URL+"/"))
	if got := decode[[]byte](t, must[*client.Value](t)(index.Path(ctx, "download", "b"))); string(got) != "content of b" {
		t.Errorf("Decode([]byte) = %q", got)
	}
}

func TestBlobsInsideAGlyphBody(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", client.MediaType)
		enc := wire.NewEncoder(w)
		enc.SetChunkSize(3)
		err := enc.Encode(map[string]any{
			"name": "pair",
			"a":    wire.NewBlob("text/plain", strings.NewReader("first blob")),
			"b":    wire.NewBlob("application/json", strings.NewReader(`{"second":true}`)),
		})
		if err != nil {
			t.Error(err)
		}
	}))
	v := must[*client.Value](t)(client.New().Get(ctxT(t), srv.URL+"/"))
	defer v.Close()
	for name, want := range map[string]string{"b": `{"second":true}`, "a": "first blob"} {
		b, ok := must[*client.Value](t)(v.Get(name)).Blob()
		if !ok {
			t.Fatalf("%s is not a blob", name)
		}
		got, err := io.ReadAll(b)
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	if err := v.Close(); err != nil {
		t.Error(err)
	}
}

func TestGzipResponses(t *testing.T) {
	srv := serve(t)
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	index := ok(client.New().Get(ctx, srv.URL+"/"))
	// A long result: hyperhttp gzips it when the client accepts gzip.
	long := strings.Repeat("ab", 2000)
	got := decode[string](t, ok(index.Path(ctx, "hello", long)))
	if got != "hello, "+long {
		t.Errorf("hello(long) = %d bytes", len(got))
	}
	if ae := srv.last().Header.Get("Accept-Encoding"); ae != "gzip" {
		t.Errorf("Accept-Encoding %q", ae)
	}

	// A handcrafted gzipped blob, and an unknown encoding.
	raw := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/br" {
			w.Header().Set("Content-Encoding", "br")
			w.Write([]byte("??"))
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write([]byte("x,y\n"))
		zw.Close()
	}))
	b, _ := ok(client.New().Get(ctx, raw.URL+"/csv")).Blob()
	content, err := io.ReadAll(b)
	b.Close()
	if err != nil || string(content) != "x,y\n" || b.ContentType != "text/csv" {
		t.Errorf("gzipped blob %q %q %v", b.ContentType, content, err)
	}
	if _, err := client.New().Get(ctx, raw.URL+"/br"); err == nil || !strings.Contains(err.Error(), `unsupported Content-Encoding "br"`) {
		t.Errorf("br: %v", err)
	}
}

func TestLimits(t *testing.T) {
	srv := serve(t, hyperhttp.WithoutGzip())
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	index := ok(client.New().Get(ctx, srv.URL+"/"))
	hello := ok(index.Get("hello"))
	long := strings.Repeat("x", 5000)

	small := client.New(client.WithMaxResponseBytes(4000))
	_, err := small.Get(ctx, srv.URL+"/")
	if err != nil {
		t.Fatalf("index under 4000 bytes: %v", err)
	}
	bound := ok(ok(small.Get(ctx, srv.URL+"/")).Get("hello"))
	_, err = bound.Call(ctx, long)
	if service.KindOf(err) != service.KindTooLarge || !strings.Contains(err.Error(), "over 4000 bytes") {
		t.Errorf("over MaxResponseBytes: %v", err)
	}
	_, err = ok(ok(client.New(client.WithLimits(wire.Limits{MaxStringBytes: 100})).Get(ctx, srv.URL+"/")).Get("hello")).Call(ctx, long)
	var le *wire.LimitError
	if service.KindOf(err) != service.KindTooLarge || !errors.As(err, &le) || le.Limit != "MaxStringBytes" {
		t.Errorf("over MaxStringBytes: %v", err)
	}
	if _, err := hello.Call(ctx, long); err != nil {
		t.Errorf("default limits: %v", err)
	}
}

func TestConditionalGets(t *testing.T) {
	var version atomic.Int64
	var notModified atomic.Int64
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		etag := `"v` + strconv.FormatInt(version.Load(), 10) + `"`
		switch r.URL.Path {
		case "/nostore":
			w.Header().Set("Cache-Control", "no-store")
		case "/redirect":
			http.Redirect(w, r, "/sub/page", http.StatusSeeOther)
			return
		}
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeGlyph(t, w, 200, hyper.Resource{Content: map[string]any{
			"version": version.Load(), "next": hyper.Link{URL: "next"}, "pad": strings.Repeat("p", 100)}})
	}))
	ctx := ctxT(t)
	c := client.New(client.WithCache(1 << 20))
	get := func(path string) (int64, string) {
		t.Helper()
		v := must[*client.Value](t)(c.Get(ctx, srv.URL+path))
		return decode[int64](t, must[*client.Value](t)(v.Get("version"))), must[*client.Value](t)(v.Get("next")).URL()
	}
	if v, _ := get("/page"); v != 0 || srv.last().Header.Get("If-None-Match") != "" {
		t.Errorf("first GET: version %d, If-None-Match %q", v, srv.last().Header.Get("If-None-Match"))
	}
	if v, _ := get("/page"); v != 0 || notModified.Load() != 1 || srv.last().Header.Get("If-None-Match") != `"v0"` {
		t.Errorf("second GET: version %d, %d 304s", v, notModified.Load())
	}
	version.Store(1)
	if v, _ := get("/page"); v != 1 || notModified.Load() != 1 {
		t.Errorf("after a change: version %d, %d 304s", v, notModified.Load())
	}
	if v, _ := get("/page"); v != 1 || notModified.Load() != 2 {
		t.Errorf("again: version %d, %d 304s", v, notModified.Load())
	}
	// The cached body keeps the base URL it came from after a redirect.
	_, next := get("/redirect")
	_, next2 := get("/redirect")
	if next != srv.URL+"/sub/next" || next2 != next || notModified.Load() != 3 {
		t.Errorf("after redirect: next %q then %q, %d 304s", next, next2, notModified.Load())
	}
	// no-store is not kept.
	get("/nostore")
	get("/nostore")
	if h := srv.last().Header.Get("If-None-Match"); h != "" {
		t.Errorf("no-store revalidated with %q", h)
	}
	// Without WithCache, no conditional GETs.
	plain := client.New()
	must[*client.Value](t)(plain.Get(ctx, srv.URL+"/page"))
	must[*client.Value](t)(plain.Get(ctx, srv.URL+"/page"))
	if h := srv.last().Header.Get("If-None-Match"); h != "" {
		t.Errorf("no cache, yet If-None-Match %q", h)
	}
}

func TestCacheIsBounded(t *testing.T) {
	var requests, notModified atomic.Int64
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("ETag", `"same"`)
		if r.Header.Get("If-None-Match") == `"same"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeGlyph(t, w, 200, strings.Repeat("z", 400)+r.URL.Path)
	}))
	ctx := ctxT(t)
	// Room for two bodies of ~410 bytes.
	c := client.New(client.WithCache(1000))
	for _, p := range []string{"/1", "/2", "/1", "/3", "/1", "/2"} {
		got := decode[string](t, must[*client.Value](t)(c.Get(ctx, srv.URL+p)))
		if !strings.HasSuffix(got, p) {
			t.Errorf("%s gave %q", p, got[len(got)-5:])
		}
	}
	// /1 miss, /2 miss, /1 hit, /3 miss (evicts /2), /1 hit, /2 miss.
	if notModified.Load() != 2 {
		t.Errorf("%d revalidations, want 2", notModified.Load())
	}
	// A body larger than the whole cache is not kept but still read.
	big := client.New(client.WithCache(100))
	for range 2 {
		must[*client.Value](t)(big.Get(ctx, srv.URL+"/big"))
	}
	if notModified.Load() != 2 {
		t.Errorf("a body over the cache size was kept")
	}
}

// TestStreaming checks that blobs stream both ways: the server reads the
// start of an argument before the client has the rest, and the client
// reads the start of a response before the server has written the rest.
func TestStreaming(t *testing.T) {
	gotFirst := make(chan string, 1)
	release := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			writeGlyph(t, w, 200, hyper.Resource{Content: map[string]any{
				"up":     hyper.Form{URL: "/up", Values: []hyper.Input{in("file")}},
				"put":    hyper.Form{URL: "/up", Method: "PUT", Values: []hyper.Input{in("file")}},
				"stream": hyper.Link{URL: "/stream"},
			}})
		case "/up":
			var rd io.Reader = r.Body
			if r.Header.Get("Content-Type") == client.MediaType {
				var args map[string]*wire.Blob
				dec := wire.NewDecoder(r.Body)
				if err := dec.Decode(&args); err != nil {
					t.Error(err)
					return
				}
				rd = args["file"]
			}
			first := make([]byte, 5)
			if _, err := io.ReadFull(rd, first); err != nil {
				t.Error(err)
				return
			}
			gotFirst <- string(first)
			rest, err := io.ReadAll(rd)
			if err != nil {
				t.Error(err)
			}
			writeGlyph(t, w, 200, len(first)+len(rest))
		case "/stream":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte("part1"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			w.Write([]byte("part2"))
		}
	}))
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	index := ok(client.New().Get(ctx, srv.URL+"/"))
	// The encoder sends a blob in chunks of 64 KiB: the first one goes
	// out while the rest has not been written yet.
	part := bytes.Repeat([]byte("a"), 64<<10)
	for _, form := range []string{"up", "put"} {
		pr, pw := io.Pipe()
		done := make(chan *client.Value, 1)
		go func() {
			v, err := index.Path(ctx, form, pr)
			if err != nil {
				t.Error(err)
			}
			done <- v
		}()
		pw.Write(part)
		select {
		case got := <-gotFirst:
			if got != "aaaaa" {
				t.Errorf("%s: server read %q first", form, got)
			}
		case <-ctx.Done():
			t.Fatalf("%s: the server never saw the start of the blob", form)
		}
		pw.Write(part)
		pw.Close()
		if v := <-done; v != nil {
			if got := decode[int](t, v); got != 2*len(part) {
				t.Errorf("%s: server got %d bytes", form, got)
			}
		}
	}

	b, _ := ok(index.Path(ctx, "stream")).Blob()
	first := make([]byte, 5)
	if _, err := io.ReadFull(b, first); err != nil || string(first) != "part1" {
		t.Fatalf("first part %q, %v", first, err)
	}
	close(release)
	rest, err := io.ReadAll(b)
	if err != nil || string(rest) != "part2" {
		t.Errorf("rest %q, %v", rest, err)
	}
	b.Close()
}
