package client_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// echo is what the echo server says about a request.
type echo struct {
	Method      string `glyph:"method"`
	MethodHdr   string `glyph:"method_header"`
	ContentType string `glyph:"content_type"`
	Disposition string `glyph:"disposition"`
	Encoding    string `glyph:"encoding"`
	Query       string `glyph:"query"`
	Args        any    `glyph:"args"`  // the query envelope's arguments, decoded
	Body        any    `glyph:"body"`  // a hyperglyph body, decoded
	Raw         []byte `glyph:"raw"`   // any other body
	Blobs       any    `glyph:"blobs"` // the content of blobs in a glyph body, by argument name
	Length      int64  `glyph:"length"`
}

// echoServer serves page at / and answers every other request with an
// echo of it.
func echoServer(t testing.TB, page any) *server {
	return newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			writeGlyph(t, w, http.StatusOK, page)
			return
		}
		e := echo{Method: r.Method, MethodHdr: r.Header.Get("Method"), ContentType: r.Header.Get("Content-Type"),
			Disposition: r.Header.Get("Content-Disposition"), Encoding: r.Header.Get("Content-Encoding"),
			Query: r.URL.RawQuery, Length: r.ContentLength}
		if r.URL.RawQuery != "" {
			q, err := url.QueryUnescape(r.URL.RawQuery)
			if err == nil {
				var args any
				if err := wire.Unmarshal([]byte(q), &args); err == nil {
					e.Args = args
				}
			}
		}
		body := io.Reader(r.Body)
		if e.Encoding == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Error(err)
				return
			}
			body = zr
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			t.Error(err)
		}
		if strings.HasPrefix(e.ContentType, client.MediaType) {
			dec := wire.NewDecoder(bytes.NewReader(raw))
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Errorf("bad request body %q: %v", raw, err)
			}
			e.Body = v
			if od, ok := v.(*wire.OrderedDict); ok {
				blobs := map[string]any{}
				for _, en := range od.Entries() {
					if b, ok := en.Value.(*wire.Blob); ok {
						content, err := io.ReadAll(b)
						if err != nil {
							t.Error(err)
						}
						blobs[en.Key.(string)] = b.ContentType + ":" + string(content)
						od.Set(en.Key, "blob")
					}
				}
				e.Blobs = blobs
			}
		} else if len(raw) > 0 {
			e.Raw = raw
		}
		writeGlyph(t, w, http.StatusOK, e)
	}))
}

func writeGlyph(t testing.TB, w http.ResponseWriter, status int, v any) {
	b, err := wire.Marshal(v)
	if err != nil {
		t.Error(err)
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", client.MediaType)
	w.WriteHeader(status)
	w.Write(b)
}

func in(name string) hyper.Input { return hyper.Input{Name: name} }

func inDefault(name string, def any) hyper.Input {
	return hyper.Input{Name: name, Default: def, HasDefault: true}
}

func inTyped(name, typ string) hyper.Input { return hyper.Input{Name: name, Type: typ} }

// call gets the page of srv, calls the form name in it and decodes the
// echo.
func call(t *testing.T, c *client.Client, srv *server, name string, args ...any) echo {
	t.Helper()
	ctx := ctxT(t)
	page := must[*client.Value](t)(c.Get(ctx, srv.URL+"/"))
	v, err := page.Path(ctx, name, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var e echo
	if err := v.Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestClientSideRejections(t *testing.T) {
	page := hyper.Resource{Content: map[string]any{
		"f": hyper.Form{URL: "/f", Values: []hyper.Input{in("a"), inDefault("b", int64(2))}},
		"typed": hyper.Form{URL: "/typed", Values: []hyper.Input{
			inTyped("n", "integer"), inTyped("xs", "float list/1"), inTyped("m", "object unicode dict/2"),
			{Name: "weird", Type: "no such type", HasDefault: true}, {Name: "maybe", Type: "unicode?", HasDefault: true},
		}},
		"get":   hyper.Form{URL: "/get", Method: "GET", Envelope: "form", Values: []hyper.Input{in("a")}},
		"none":  hyper.Form{URL: "/none", Envelope: "none", Values: []hyper.Input{in("a")}},
		"blob":  hyper.Form{URL: "/blob", Method: "PUT", Values: []hyper.Input{in("a"), in("b")}},
		"weird": hyper.Form{URL: "/weird", Method: "BREW"},
		"data":  "just data",
	}}
	srv := echoServer(t, page)
	ctx := ctxT(t)
	index := must[*client.Value](t)(client.New().Get(ctx, srv.URL+"/"))
	cases := []struct {
		name string
		form string
		args []any
		kind service.Kind
		want string
	}{
		{"missing required", "f", nil, service.KindInvalid, `f: missing argument "a"`},
		{"missing required with named", "f", []any{client.Named{"b": 1}}, service.KindInvalid, `f: missing argument "a"`},
		{"unknown named", "f", []any{1, client.Named{"c": 1}}, service.KindInvalid, `f: unknown argument "c" (the form takes a, b)`},
		{"too many", "f", []any{1, 2, 3}, service.KindInvalid, `f: takes 2 argument(s), got 3`},
		{"twice", "f", []any{1, client.Named{"a": 1}}, service.KindInvalid, `f: argument "a" given twice`},
		{"Named not last", "f", []any{client.Named{"a": 1}, 2}, service.KindInvalid, `f: client.Named must be the last argument`},
		{"wrong type", "typed", []any{"1", []float64{1}, map[string]any{}}, service.KindInvalid, `typed: argument "n": expected integer, got unicode`},
		{"wrong item type", "typed", []any{1, []any{1.5, "x"}, map[string]any{}}, service.KindInvalid, `typed: argument "xs": item 1: expected float, got unicode`},
		{"wrong key type", "typed", []any{1, []float64{}, map[int]any{1: 1}}, service.KindInvalid, `typed: argument "m": key 1 (the key itself): expected unicode, got integer`},
		{"nil for non-nullable", "typed", []any{nil, []float64{}, map[string]any{}}, service.KindInvalid, `typed: argument "n": expected integer, got nil`},
		{"nullable", "typed", []any{1, []float64{}, map[string]any{}, 5, 5}, service.KindInvalid, `typed: argument "maybe": expected unicode?, got integer`},
		{"GET cannot send a body", "get", []any{1}, service.KindUnsupported, `get: a GET form cannot use the "form" envelope`},
		{"none takes nothing", "none", []any{1}, service.KindInvalid, `none: argument "a": the form sends no arguments (envelope none)`},
		{"blob sends one", "blob", []any{[]byte("x"), []byte("y")}, service.KindInvalid, `blob: the blob envelope sends one argument, got "a" and "b"`},
		{"unknown method", "weird", nil, service.KindUnsupported, `weird: the form's method BREW is not supported`},
		{"data is not callable", "data", []any{1}, service.KindInvalid, `data: a unicode is not callable: it is not a link or a form`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.requests()
			_, err := index.Path(ctx, tc.form, tc.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want || service.KindOf(err) != tc.kind {
				t.Errorf("got %v %q\nwant %v %q", service.KindOf(err), err, tc.kind, tc.want)
			}
			if n := srv.requests() - before; n != 0 {
				t.Errorf("%d request(s) made", n)
			}
			if client.StatusCode(err) != 0 || client.IsClientError(err) {
				t.Errorf("a rejected call has a status: %d", client.StatusCode(err))
			}
		})
	}
	// Readers are closed when a call is rejected, as when it is sent.
	r := &closeCounter{Reader: strings.NewReader("x")}
	if _, err := index.Path(ctx, "none", r); err == nil || r.closed != 1 {
		t.Errorf("rejected call: %v, reader closed %d times", err, r.closed)
	}
	// Unknown types are object; nullable types take nil.
	e := call(t, client.New(), srv, "typed", 1, []any{1, 2.5}, map[string]any{"k": "v"}, []any{"anything"}, nil)
	body := e.Body.(*wire.OrderedDict)
	if w, _ := body.Get("weird"); w == nil {
		t.Errorf("weird = %v", w)
	}
	// Get on something without fields.
	if _, err := must[*client.Value](t)(index.Get("data")).Get("x"); service.KindOf(err) != service.KindInvalid {
		t.Errorf("Get on a string: %v", err)
	}
	_, err := index.Get("nope")
	if service.KindOf(err) != service.KindNotFound || !strings.Contains(err.Error(), `no "nope" in a resource (it has blob, data, f, get, none, typed, weird)`) {
		t.Errorf("Get(nope): %v", err)
	}
}

func TestEnvelopes(t *testing.T) {
	page := hyper.Resource{Content: map[string]any{
		"post": hyper.Form{URL: "/post", Values: []hyper.Input{in("b"), in("a"), inDefault("c", "dflt")}},
		"get": hyper.Form{URL: "/get?old=state", Method: "GET",
			Values: []hyper.Input{in("q"), inDefault("n", int64(1))}},
		"get_query":  hyper.Form{URL: "/getq", Method: "GET", Envelope: "query", Values: []hyper.Input{in("q")}},
		"get_none":   hyper.Form{URL: "/getn?keep=me", Method: "GET", Envelope: "none"},
		"put":        hyper.Form{URL: "/put", Method: "PUT", Values: []hyper.Input{in("file")}},
		"put_form":   hyper.Form{URL: "/putf", Method: "PUT", Envelope: "form", Values: []hyper.Input{in("x")}},
		"patch":      hyper.Form{URL: "/patch", Method: "patch", Values: []hyper.Input{in("data")}},
		"delete":     hyper.Form{URL: "/delete", Method: "DELETE", Values: []hyper.Input{inDefault("force", false)}},
		"post_blob":  hyper.Form{URL: "/pb", Envelope: "blob", ContentType: "image/png", Values: []hyper.Input{in("img"), inDefault("z", 1)}},
		"post_none":  hyper.Form{URL: "/pn", Envelope: "none"},
		"mixed":      hyper.Form{URL: "/mixed", Values: []hyper.Input{{Name: "id", Envelope: "query"}, in("body")}},
		"headers":    hyper.Form{URL: "/h", Headers: map[string]string{"X-Form": "yes"}},
		"relative":   hyper.Form{URL: "rel/ative", Values: nil},
		"empty_url":  hyper.Form{Values: nil},
		"post_typed": hyper.Form{URL: "/pt", Values: []hyper.Input{inTyped("file", "blob"), in("name")}},
		"post_file":  hyper.Form{URL: "/pf", Values: []hyper.Input{inTyped("file", "blob"), inDefault("label", "x")}},
	}}
	srv := echoServer(t, page)
	c := client.New()

	t.Run("form body in values order with defaults", func(t *testing.T) {
		e := call(t, c, srv, "post", client.Named{"a": int64(1), "b": "two"})
		if e.Method != "POST" || e.ContentType != client.MediaType {
			t.Errorf("%s %q", e.Method, e.ContentType)
		}
		od, ok := e.Body.(*wire.OrderedDict)
		if !ok {
			t.Fatalf("body %#v is not an ordered dict", e.Body)
		}
		if got := fmtOD(od); got != "b=two a=1 c=dflt" {
			t.Errorf("body %s", got)
		}
	})
	t.Run("query envelope on GET", func(t *testing.T) {
		e := call(t, c, srv, "get", "a+b &c=d/é")
		if e.Method != "GET" || e.Length != 0 || e.Body != nil {
			t.Errorf("%s with a body: %#v", e.Method, e.Body)
		}
		if strings.ContainsAny(e.Query, "+ &=/") || strings.Contains(e.Query, "old=state") {
			t.Errorf("query %q is not fully escaped or keeps the old query", e.Query)
		}
		if !strings.Contains(e.Query, "%2B") {
			t.Errorf("query %q: + is not %%2B", e.Query)
		}
		od, ok := e.Args.(*wire.OrderedDict)
		if !ok || fmtOD(od) != "q=a+b &c=d/é n=1" {
			t.Errorf("query args %#v", e.Args)
		}
		if !strings.HasPrefix(e.Query, "Ou1%3Aq%3Bu") {
			t.Errorf("query %q", e.Query)
		}
		e = call(t, c, srv, "get_query", "x")
		if od, ok := e.Args.(*wire.OrderedDict); !ok || fmtOD(od) != "q=x" {
			t.Errorf("explicit query envelope: %#v", e.Args)
		}
	})
	t.Run("none envelope keeps the URL", func(t *testing.T) {
		e := call(t, c, srv, "get_none")
		if e.Method != "GET" || e.Query != "keep=me" {
			t.Errorf("%s ?%s", e.Method, e.Query)
		}
		e = call(t, c, srv, "post_none")
		if e.Method != "POST" || e.Length != 0 || e.ContentType != "" {
			t.Errorf("%s length %d type %q", e.Method, e.Length, e.ContentType)
		}
	})
	t.Run("PUT sends a blob as POST with Method", func(t *testing.T) {
		e := call(t, c, srv, "put", wire.BytesBlob("text/csv", []byte("a,b\n1,2\n")))
		if e.Method != "POST" || e.MethodHdr != "PUT" {
			t.Errorf("method %s, Method header %q", e.Method, e.MethodHdr)
		}
		if e.ContentType != "text/csv" || e.Disposition != `form-data; name=file` || string(e.Raw) != "a,b\n1,2\n" {
			t.Errorf("type %q disposition %q raw %q", e.ContentType, e.Disposition, e.Raw)
		}
	})
	t.Run("PUT with the form envelope", func(t *testing.T) {
		e := call(t, c, srv, "put_form", 1)
		if e.MethodHdr != "PUT" || fmtOD(e.Body.(*wire.OrderedDict)) != "x=1" {
			t.Errorf("%q %#v", e.MethodHdr, e.Body)
		}
	})
	t.Run("real methods", func(t *testing.T) {
		rc := client.New(client.WithoutMethodOverride())
		for form, want := range map[string]string{"put": "PUT", "patch": "PATCH", "delete": "DELETE"} {
			var args []any
			if form != "delete" {
				args = []any{[]byte("data")}
			}
			e := call(t, rc, srv, form, args...)
			if e.Method != want || e.MethodHdr != "" {
				t.Errorf("%s: sent %s with Method %q", form, e.Method, e.MethodHdr)
			}
		}
	})
	t.Run("DELETE sends nothing", func(t *testing.T) {
		e := call(t, c, srv, "delete")
		if e.Method != "POST" || e.MethodHdr != "DELETE" || e.Length != 0 || e.Body != nil || len(e.Raw) != 0 {
			t.Errorf("%+v", e)
		}
	})
	t.Run("PATCH string body", func(t *testing.T) {
		e := call(t, c, srv, "patch", "text body")
		if e.MethodHdr != "PATCH" || e.ContentType != "text/plain; charset=utf-8" || string(e.Raw) != "text body" || e.Disposition != "form-data; name=data" {
			t.Errorf("%+v", e)
		}
	})
	t.Run("blob envelope takes the form's content type for plain bytes", func(t *testing.T) {
		e := call(t, c, srv, "post_blob", []byte{0x89, 'P', 'N', 'G'})
		if e.ContentType != "image/png" || string(e.Raw) != "\x89PNG" || e.Disposition != "form-data; name=img" {
			t.Errorf("%+v", e)
		}
	})
	t.Run("per-input query envelope", func(t *testing.T) {
		e := call(t, c, srv, "mixed", 7, "payload")
		if fmtOD(e.Args.(*wire.OrderedDict)) != "id=7" || fmtOD(e.Body.(*wire.OrderedDict)) != "body=payload" {
			t.Errorf("args %#v body %#v", e.Args, e.Body)
		}
	})
	t.Run("form headers and URLs", func(t *testing.T) {
		call(t, c, srv, "headers")
		if got := srv.last().Header.Get("X-Form"); got != "yes" {
			t.Errorf("X-Form %q", got)
		}
		call(t, c, srv, "relative")
		if got := srv.last().URL.Path; got != "/rel/ative" {
			t.Errorf("relative form went to %q", got)
		}
		// An empty form URL is the page itself.
		page := must[*client.Value](t)(c.Get(ctxT(t), srv.URL+"/"))
		if u := must[*client.Value](t)(page.Get("empty_url")).URL(); u != srv.URL+"/" {
			t.Errorf("empty URL resolved to %q", u)
		}
	})
	t.Run("a blob argument streams in the glyph body", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "notes.txt")
		if err := os.WriteFile(path, []byte("file content"), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		e := call(t, c, srv, "post_typed", f, "n")
		if e.Length != -1 || e.ContentType != client.MediaType {
			t.Errorf("length %d type %q: not streamed", e.Length, e.ContentType)
		}
		if got := e.Blobs.(map[string]any)["file"]; got != "text/plain; charset=utf-8:file content" {
			t.Errorf("blob %q", got)
		}
		if _, err := f.Read(make([]byte, 1)); err == nil {
			t.Error("the file was not closed after sending")
		}
		e = call(t, c, srv, "post_typed", strings.NewReader("from a reader"), "n")
		if got := e.Blobs.(map[string]any)["file"]; got != "application/octet-stream:from a reader" {
			t.Errorf("reader blob %q", got)
		}
		e = call(t, c, srv, "post_typed", []byte("bytes for a blob input"), "n")
		if got := e.Blobs.(map[string]any)["file"]; got != "application/octet-stream:bytes for a blob input" {
			t.Errorf("bytes blob %q", got)
		}
	})
	t.Run("a lone blob argument of a POST form is the raw body", func(t *testing.T) {
		for _, c := range []struct {
			name, ct string
			arg      any
		}{
			{"blob", "text/csv", wire.BytesBlob("text/csv", []byte("a,b\n"))},
			{"reader", "application/octet-stream", strings.NewReader("a,b\n")},
			{"bytes for a blob input", "application/octet-stream", []byte("a,b\n")},
		} {
			e := call(t, client.New(), srv, "post_file", c.arg)
			if e.Method != "POST" || e.ContentType != c.ct || e.Disposition != "form-data; name=file" || string(e.Raw) != "a,b\n" || e.Body != nil {
				t.Errorf("%s: %+v", c.name, e)
			}
		}
		// Beside another argument given, or when its content type would
		// read as a form, it goes in the form body.
		e := call(t, client.New(), srv, "post_file", wire.BytesBlob("text/csv", []byte("a,b\n")), "y")
		if e.ContentType != client.MediaType || e.Blobs.(map[string]any)["file"] != "text/csv:a,b\n" {
			t.Errorf("with a label: %+v", e)
		}
		e = call(t, client.New(), srv, "post_file", wire.BytesBlob(client.MediaType, []byte("Ou1:a;i1;;")))
		if e.ContentType != client.MediaType || e.Blobs.(map[string]any)["file"] != client.MediaType+":Ou1:a;i1;;" {
			t.Errorf("a hyperglyph blob: %+v", e)
		}
	})
	t.Run("gzip requests", func(t *testing.T) {
		gc := client.New(client.WithGzipRequests())
		e := call(t, gc, srv, "post", "x", "y")
		if e.Encoding != "gzip" || fmtOD(e.Body.(*wire.OrderedDict)) != "b=x a=y c=dflt" {
			t.Errorf("%+v", e)
		}
		e = call(t, gc, srv, "put", wire.BytesBlob("text/plain", []byte("zipped")))
		if e.Encoding != "gzip" || string(e.Raw) != "zipped" {
			t.Errorf("%+v", e)
		}
	})
}

// fmtOD formats an ordered dict of string keys as "k=v k=v".
func fmtOD(od *wire.OrderedDict) string {
	var parts []string
	for _, e := range od.Entries() {
		parts = append(parts, e.Key.(string)+"="+strings.TrimSpace(strings.ReplaceAll(fmtAny(e.Value), "\n", " ")))
	}
	return strings.Join(parts, " ")
}

func fmtAny(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	b, _ := wire.Marshal(v)
	switch v.(type) {
	case int64:
		return strings.TrimSuffix(strings.TrimPrefix(string(b), "i"), ";")
	}
	return string(b)
}

// pythonStylePage is a page as the Python reference server writes it:
// form values as plain names, no envelope, defaults as input values.
var pythonStylePage = []byte("Xu8:resource;Du4:name;u4:Root;u3:url;u1:/;;" +
	"Du5:greet;Xu4:form;Du6:method;u4:POST;u3:url;u6:/greet;u6:values;Lu4:name;Xu5:input;Du4:name;u5:times;u5:value;i1;;N;;;;N;;" +
	";;")

func TestPythonStyleForms(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", client.MediaType+"; charset=binary")
			w.Write(pythonStylePage)
			return
		}
		var args wire.OrderedDict
		b, _ := io.ReadAll(r.Body)
		if err := wire.Unmarshal(b, &args); err != nil {
			t.Error(err)
		}
		name, _ := args.Get("name")
		times, _ := args.Get("times")
		writeGlyph(t, w, http.StatusOK, strings.Repeat("hi "+name.(string)+" ", int(times.(int64))))
	}))
	ctx := ctxT(t)
	index := must[*client.Value](t)(client.New().Get(ctx, srv.URL+"/"))
	got := decode[string](t, must[*client.Value](t)(index.Path(ctx, "greet", "py")))
	if got != "hi py " {
		t.Errorf("greet = %q", got)
	}
	got = decode[string](t, must[*client.Value](t)(index.Path(ctx, "greet", client.Named{"name": "py", "times": 2})))
	if got != "hi py hi py " {
		t.Errorf("greet = %q", got)
	}
}

func TestBlobsWithTheService(t *testing.T) {
	srv := serve(t)
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	index := ok(client.New().Get(ctx, srv.URL+"/"))
	// A large blob streams to the service inside the form body.
	big := strings.Repeat("x", 3<<20)
	got := decode[string](t, ok(index.Path(ctx, "upload", strings.NewReader(big), "big")))
	if want := `big: 3145728 bytes of application/octet-stream: "xxxxxxxxxxxxxxxxxxxx..."`; got != want {
		t.Errorf("upload = %q", got)
	}
	// Alone, it is the raw body (the blob envelope), and the label its
	// default.
	got = decode[string](t, ok(index.Path(ctx, "upload", wire.NewBlob("text/plain", strings.NewReader(big)))))
	if want := `file: 3145728 bytes of text/plain: "xxxxxxxxxxxxxxxxxxxx..."`; got != want {
		t.Errorf("upload = %q", got)
	}
}

type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

// failingReader fails after some data.
type failingReader struct{ n int }

var errDisk = errors.New("disk on fire")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n > 100<<10 {
		return 0, errDisk
	}
	for i := range p {
		p[i] = 'f'
	}
	f.n += len(p)
	return len(p), nil
}

func TestFailingArgumentReader(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			writeGlyph(t, w, 200, hyper.Resource{Content: map[string]any{
				"post": hyper.Form{URL: "/post", Values: []hyper.Input{in("file")}},
				"put":  hyper.Form{URL: "/put", Method: "PUT", Values: []hyper.Input{in("file")}},
			}})
			return
		}
		io.Copy(io.Discard, r.Body) // fails: the body is cut short
		writeGlyph(t, w, 200, "read")
	}))
	ctx := ctxT(t)
	index := must[*client.Value](t)(client.New().Get(ctx, srv.URL+"/"))
	for _, form := range []string{"post", "put"} {
		_, err := index.Path(ctx, form, &failingReader{})
		if !errors.Is(err, errDisk) || service.KindOf(err) != service.KindInvalid || client.StatusCode(err) != 0 {
			t.Errorf("%s: %v (kind %v)", form, err, service.KindOf(err))
		}
	}
}

// shout is a Go type the type check does not know, but that encodes as
// unicode.
type shout string

func (s shout) MarshalGlyph() (any, error) { return strings.ToUpper(string(s)), nil }

func TestTypeCheckOfMarshalers(t *testing.T) {
	srv := echoServer(t, hyper.Resource{Content: map[string]any{
		"say": hyper.Form{URL: "/say", Values: []hyper.Input{inTyped("word", "unicode")}},
		"n":   hyper.Form{URL: "/n", Values: []hyper.Input{inTyped("n", "integer")}},
	}})
	e := call(t, client.New(), srv, "say", shout("hey"))
	if got := fmtOD(e.Body.(*wire.OrderedDict)); got != "word=HEY" {
		t.Errorf("body %s", got)
	}
	index := must[*client.Value](t)(client.New().Get(ctxT(t), srv.URL+"/"))
	before := srv.requests()
	if _, err := index.Path(ctxT(t), "n", shout("1")); err == nil || err.Error() != `n: argument "n": expected integer, got unicode` || srv.requests() != before {
		t.Errorf("shout for an integer: %v", err)
	}
}
