package hyperhttp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"iter"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// htmlAccept is what a browser sends when it navigates.
const htmlAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// Arg is the state of the class of the HTML tests, whose method echoes
// its input.
type Arg struct {
	Base int `glyph:"base"`
}

// Plus adds n to the base.
func (a Arg) Plus(n int) int { return a.Base + n }

// newHTMLService is the service of the HTML tests: a function per input
// type, and the results a page must show.
func newHTMLService() *service.Service {
	svc := service.New(service.WithLogger(discardLogger()))
	svc.MustFunc("kinds", func(n int, f float64, b bool, s string, raw []byte, at time.Time, d time.Duration, xs []int, words []string, opt *int, big *big.Int) []any {
		var o any
		if opt != nil {
			o = *opt
		}
		return []any{n, f, b, s, raw, at, d, xs, words, o, big}
	}, service.Args("n", "f", "b", "s", "raw", "at", "d", "xs", "words", "opt", "big"))
	svc.MustFunc("defaults", func(n int, s string, b bool, xs []int) []any { return []any{n, s, b, xs} },
		service.Args("n", "s", "b", "xs"), service.Default("n", 5), service.Default("s", "x"),
		service.Default("b", true), service.Default("xs", []int{1, 2}))
	svc.MustFunc("square", func(x int) int { return x * x }, service.Args("x"), service.Safe())
	svc.MustFunc("shout", func() map[string]any {
		return map[string]any{"<b>key</b>": "<script>alert(1)</script>", "link": hyper.Link{URL: "javascript:alert(1)"},
			"note": wire.BytesBlob("text/plain", []byte("<i>hi</i>"))}
	}, service.Safe())
	svc.MustFunc("edit", func() hyper.Form {
		return hyper.Form{URL: "/defaults", Method: "PUT", Values: []hyper.Input{{Name: "n", Type: "integer"}}}
	}, service.Safe())
	svc.MustFunc("size", func(data io.Reader, flags []bool) (int64, error) {
		n, err := io.Copy(io.Discard, data)
		return n + int64(len(flags)), err
	}, service.Args("data", "flags"), service.Default("flags", []bool{}))
	svc.MustFunc("huge", func() map[string]any {
		return map[string]any{"zeros": wire.NewBlob("application/octet-stream", io.LimitReader(zeros{}, 17<<20))}
	}, service.Safe())
	svc.MustFunc("motd", func() []byte { return []byte("hi") }, service.Inline())
	svc.MustFunc("nothing", func() {})
	svc.MustFunc("made", func() service.Created { return service.Created{URL: "/Arg/?Du4%3Abase%3Bi1%3B%3B"} })
	svc.MustFunc("count", func(to int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := 1; i <= to; i++ {
				if !yield(i) {
					return
				}
			}
		}
	}, service.Args("to"), service.Safe())
	svc.MustFunc("failing", func(after int) iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			for i := range after {
				if !yield(i+1, nil) {
					return
				}
			}
			yield(0, service.Errorf(service.KindUnavailable, "the <source> ran dry"))
		}
	}, service.Args("after"), service.Safe())
	svc.MustFunc("page", func() *wire.Blob {
		return wire.BytesBlob("text/html", []byte("<script>alert(1)</script>"))
	}, service.Safe())
	svc.MustClass("Arg", Arg{}, service.Method("plus", service.Args("n")))
	return svc
}

// zeros reads zeros without end.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func formHeader(kv ...string) http.Header {
	return hdr(append([]string{"Content-Type", "application/x-www-form-urlencoded", "Accept", hyperhttp.MediaType}, kv...)...)
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestHTMLFormBinding submits forms and checks the arguments the function
// received, answered in glyph.
func TestHTMLFormBinding(t *testing.T) {
	s := startServer(t, "h1", newHTMLService())
	big64 := new(big.Int).Lsh(big.NewInt(1), 70)
	all := url.Values{
		"n": {"-12"}, "f": {"2.5"}, "b": {"false", "true"}, "s": {"héllo <x>"}, "raw": {"ab"},
		"at": {"2012-08-12T13:14:15.5Z"}, "d": {"1h30m"}, "xs": {"1\r\n2\n\n3"}, "words": {"a b", "c"},
		"opt": {"7"}, "big": {big64.String()},
	}
	with := func(changes ...string) string {
		v := url.Values{}
		for k, vs := range all {
			v[k] = vs
		}
		for i := 0; i+1 < len(changes); i += 2 {
			if changes[i+1] == "<none>" {
				delete(v, changes[i])
			} else {
				v[changes[i]] = []string{changes[i+1]}
			}
		}
		return v.Encode()
	}
	want := func(n int64, b bool, opt any) []any {
		return []any{n, 2.5, b, "héllo <x>", []byte("ab"), mustTime("2012-08-12T13:14:15.5Z"), 90 * time.Minute,
			[]any{int64(1), int64(2), int64(3)}, []any{"a b", "c"}, opt, big64}
	}
	tests := []struct {
		name   string
		target string
		body   string
		want   any
	}{
		{"every type", "/kinds", all.Encode(), want(-12, true, int64(7))},
		{"checkbox unchecked", "/kinds", with("b", "false"), want(-12, false, int64(7))},
		{"nullable emptied", "/kinds", with("opt", ""), want(-12, true, nil)},
		{"browser marker", "/kinds", "_charset_=UTF-8&" + all.Encode(), want(-12, true, int64(7))},
		{"defaults when emptied", "/defaults", "n=&s=&xs=&b=false", []any{int64(5), "x", false, []any{int64(1), int64(2)}}},
		{"defaults when absent", "/defaults", "", []any{int64(5), "x", true, []any{int64(1), int64(2)}}},
		{"values over defaults", "/defaults", "n=6&s=&xs=9", []any{int64(6), "x", true, []any{int64(9)}}},
		{"a form's method", "/defaults", "_method=PUT&n=1", []any{int64(1), "x", true, []any{int64(1), int64(2)}}},
		{"a safe function by POST", "/square", "x=9", int64(81)},
		{"a blob", "/size", "data=h%C3%A9llo", int64(6)},
		{"a list of bools", "/size", "data=&flags=true%0Afalse%0A1", int64(3)},
		{"an instance's method", "/Arg/plus?Du4%3Abase%3Bi10%3B%3B", "n=5", int64(15)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, "POST", tt.target, formHeader(), strings.NewReader(tt.body))
			wantValue(t, r, tt.want)
		})
	}
	t.Run("GET form", func(t *testing.T) {
		r := s.do(t, "GET", "/square?_charset_=UTF-8&x=7", hdr("Accept", hyperhttp.MediaType), nil)
		wantValue(t, r, int64(49))
	})
}

// TestHTMLFormErrors submits bad forms: each is an error page with the
// message and a logref, or the glyph error for a glyph client.
func TestHTMLFormErrors(t *testing.T) {
	s := startServer(t, "h1", newHTMLService())
	tests := []struct {
		name, method, target, body string
		status                     int
		msg                        string
	}{
		{"not an integer", "POST", "/square", "x=seven", 400, `bad form: input &#34;x&#34;: &#34;seven&#34; is not an integer`},
		{"not a float", "POST", "/kinds", "f=x", 400, `input &#34;f&#34;: &#34;x&#34; is not a number`},
		{"bad list item", "POST", "/kinds", "xs=1%0Atwo", 400, `input &#34;xs&#34;: item 1: &#34;two&#34; is not an integer`},
		{"twice", "POST", "/square", "x=1&x=2", 400, `input &#34;x&#34;: given 2 times`},
		{"missing", "POST", "/square", "", 400, `square: missing argument &#34;x&#34;`},
		{"unknown field", "POST", "/square", "x=1&y=2", 400, `&#34;y&#34;`},
		{"bad encoding", "POST", "/square", "x=%zz", 400, `bad form fields`},
		{"another charset", "POST", "/square", "_charset_=ISO-8859-1&x=1", 400, `only UTF-8`},
		{"bad method", "POST", "/square", "_method=TRACE&x=1", 405, `method &#34;TRACE&#34; in _method is not supported`},
		{"no such function", "POST", "/nope", "x=1", 404, `no function or class &#34;nope&#34;`},
		{"GET bad query", "GET", "/square?_charset_=UTF-8&x=", "", 400, `&#34;&#34; is not an integer`},
		{"too many fields", "POST", "/square", strings.Repeat("x=1&", 1000) + "x=1", 413, `more than 1000 fields`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hdr("Accept", htmlAccept)
			var body *strings.Reader
			if tt.method == "POST" {
				h.Set("Content-Type", "application/x-www-form-urlencoded")
				body = strings.NewReader(tt.body)
			}
			var r *response
			if body != nil {
				r = s.do(t, tt.method, tt.target, h, body)
			} else {
				r = s.do(t, tt.method, tt.target, h, nil)
			}
			page := wantPage(t, r, tt.status)
			if !strings.Contains(page, tt.msg) {
				t.Errorf("the page does not say %q:\n%s", tt.msg, page)
			}
			if !regexp.MustCompile(`<span class="glyph-logref">[0-9a-f]{16}</span>`).MatchString(page) {
				t.Errorf("the page has no logref:\n%s", page)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		s := startServer(t, "h1", newHTMLService(), hyperhttp.WithMaxRequestBytes(64))
		r := s.do(t, "POST", "/square", formHeader(), strings.NewReader("x="+strings.Repeat("1", 100)))
		wantError(t, r, 413, "request body over 64 bytes")
	})
}

// wantPage checks the headers every page carries and returns its body.
func wantPage(t *testing.T, r *response, status int) string {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s %q, want %q", k, got, v)
		}
	}
	page := string(plainBody(t, r))
	// The policy allows the page's one inline stylesheet by its hash,
	// and nothing else.
	csp := r.header.Get("Content-Security-Policy")
	m := regexp.MustCompile(`(?s)<style>(.*)</style>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page has no stylesheet")
	}
	sum := sha256.Sum256([]byte(m[1]))
	wantCSP := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	if csp != wantCSP {
		t.Errorf("Content-Security-Policy %q, want %q", csp, wantCSP)
	}
	if strings.Contains(page, "<script") || strings.Contains(page, " style=") || strings.Contains(page, " on") && regexp.MustCompile(` on[a-z]+=`).MatchString(page) {
		t.Errorf("the page has script or inline style:\n%s", page)
	}
	return page
}

// TestHTMLPages reads pages and checks what they show.
func TestHTMLPages(t *testing.T) {
	s := startServer(t, "h1", newHTMLService())
	tests := []struct {
		name, method, target, body string
		status                     int
		want                       []string
	}{
		{"index", "GET", "/", "", 200, []string{
			`<form class="glyph-form" method="post" action="/kinds" accept-charset="utf-8" data-name="kinds">`,
			`<input type="hidden" name="_charset_">`,
			`<input type="number" name="n" step="1" value="">`,
			`<input type="number" name="f" step="any" value="">`,
			`<input type="hidden" name="b" value="false"><input type="checkbox" name="b" value="true">`,
			`<input type="text" name="s" value="">`,
			`<textarea name="xs" rows="3"></textarea>`,
			`<form class="glyph-form" method="get" action="/square"`,
			`<a class="glyph-link" href="/shout">shout</a>`,
			`<a class="glyph-link" href="/motd">motd</a> <span class="glyph-bytearray">6869</span>`,
		}},
		{"defaults filled in", "GET", "/defaults", "", 200, []string{
			`<input type="number" name="n" step="1" value="5">`,
			`<input type="text" name="s" value="x">`,
			`<input type="checkbox" name="b" value="true" checked>`,
			`<textarea name="xs" rows="3">1` + "\n" + `2</textarea>`,
		}},
		{"escaped", "GET", "/shout", "", 200, []string{
			`<span class="glyph-unicode">&lt;script&gt;alert(1)&lt;/script&gt;</span>`,
			`<dt><span class="glyph-unicode">&lt;b&gt;key&lt;/b&gt;</span></dt>`,
			`<a class="glyph-link" href="#ZgotmplZ">link</a>`,
			`<div class="glyph-blob"><span class="glyph-type">blob text/plain, 9 bytes</span><pre class="glyph-blob-text">&lt;i&gt;hi&lt;/i&gt;</pre></div>`,
		}},
		{"a PUT form", "GET", "/edit", "", 200, []string{
			`<form class="glyph-form" method="post" action="/defaults" accept-charset="utf-8" data-name="edit">` + "\n" +
				`<input type="hidden" name="_charset_"><input type="hidden" name="_method" value="PUT">`,
		}},
		{"a result", "POST", "/square", "x=12", 200, []string{`<span class="glyph-integer">144</span>`}},
		{"GET form", "GET", "/square?_charset_=UTF-8&x=3", "", 200, []string{`<span class="glyph-integer">9</span>`}},
		{"a stream", "GET", "/count?_charset_=UTF-8&to=3", "", 200, []string{
			`<ol class="glyph-list glyph-stream">` + "\n" + `<li><span class="glyph-integer">1</span></li>` + "\n" +
				`<li><span class="glyph-integer">2</span></li>` + "\n" + `<li><span class="glyph-integer">3</span></li>` + "\n" + `</ol>`,
		}},
		{"an empty stream", "GET", "/count?_charset_=UTF-8&to=0", "", 200, []string{`<ol class="glyph-list glyph-stream">` + "\n" + `</ol>`}},
		{"a stream that fails", "GET", "/failing?_charset_=UTF-8&after=1", "", 200, []string{
			`<li><span class="glyph-integer">1</span></li>` + "\n" + `<li><div class="glyph-error"><p class="glyph-message">failing: the &lt;source&gt; ran dry</p>`,
			`</ol>` + "\n" + `</main>`,
		}},
		{"a stream that fails at once", "GET", "/failing?_charset_=UTF-8&after=0", "", 503, []string{
			`<p class="glyph-message">failing: the &lt;source&gt; ran dry</p>`,
		}},
		{"blob and bool list inputs", "GET", "/size", "", 200, []string{
			`<textarea name="data" rows="3"></textarea><span class="glyph-note">sent as a text/plain blob</span>`,
			`<textarea name="flags" rows="3"></textarea><span class="glyph-note">one item per line</span>`,
		}},
		{"a value too large for a page", "GET", "/huge", "", 413, []string{
			`<p class="glyph-message">the result is too large to show as a page; fetch it with a glyph client</p>`,
		}},
		{"nullable input", "GET", "/kinds", "", 200, []string{
			`<input type="number" name="opt" step="1" value=""><span class="glyph-note">empty is nil</span>`,
		}},
		{"no content", "POST", "/nothing", "", 200, []string{`<h1>Done</h1>`, `the call returned nothing`}},
		{"created", "POST", "/made", "", 201, []string{`<h1>Created</h1>`, `<a class="glyph-link" href="/Arg/?Du4%3Abase%3Bi1%3B%3B">`}},
		{"an instance", "GET", "/Arg/?Du4%3Abase%3Bi1%3B%3B", "", 200, []string{
			`<dt><span class="glyph-unicode">base</span></dt><dd><span class="glyph-integer">1</span></dd>`,
			`<form class="glyph-form" method="post" action="/Arg/plus?Du4%3Abase%3Bi1%3B%3B"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hdr("Accept", htmlAccept)
			var r *response
			if tt.method == "POST" {
				h.Set("Content-Type", "application/x-www-form-urlencoded")
				r = s.do(t, tt.method, tt.target, h, strings.NewReader(tt.body))
			} else {
				r = s.do(t, tt.method, tt.target, h, nil)
			}
			page := wantPage(t, r, tt.status)
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("the page lacks %q:\n%s", w, page)
				}
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		for _, target := range []string{"/", "/nope", "/count?_charset_=UTF-8&to=2"} {
			r := s.do(t, "HEAD", target, hdr("Accept", htmlAccept), nil)
			if r.header.Get("Content-Type") != "text/html; charset=utf-8" || len(r.body) != 0 {
				t.Errorf("HEAD %s: %d %q with %d bytes of body", target, r.status, r.header.Get("Content-Type"), len(r.body))
			}
		}
	})
	t.Run("ETag", func(t *testing.T) {
		r := s.do(t, "GET", "/", hdr("Accept", htmlAccept), nil)
		etag := r.header.Get("Etag")
		if etag == "" {
			t.Fatal("no ETag on the index page")
		}
		r = s.do(t, "GET", "/", hdr("Accept", htmlAccept, "If-None-Match", etag), nil)
		if r.status != http.StatusNotModified {
			t.Fatalf("status %d, want 304", r.status)
		}
		r = s.do(t, "GET", "/", hdr("If-None-Match", etag), nil)
		if r.status != http.StatusOK {
			t.Fatalf("a glyph client with the page's ETag got %d, want 200: the representations differ", r.status)
		}
	})
	t.Run("blob download", func(t *testing.T) {
		r := s.do(t, "GET", "/page", hdr("Accept", htmlAccept), nil)
		if r.status != 200 || r.header.Get("Content-Type") != "text/html" || string(r.body) != "<script>alert(1)</script>" {
			t.Fatalf("got %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") {
			t.Errorf("a blob sent to a browser has Content-Security-Policy %q, want a sandbox", csp)
		}
	})
}

// TestHTMLCrossOrigin checks that a form another site makes a browser
// send is refused, and that same-origin forms and programs are not.
func TestHTMLCrossOrigin(t *testing.T) {
	s := startServer(t, "h1", newHTMLService())
	host := strings.TrimPrefix(s.URL, "http://")
	tests := []struct {
		name   string
		header []string
		status int
	}{
		{"cross-site form", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-site form from another origin", []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"old browser, other origin", []string{"Origin", "http://evil.example"}, 403},
		{"same-origin form", []string{"Sec-Fetch-Site", "same-origin"}, 200},
		{"old browser, same origin", []string{"Origin", "http://" + host}, 200},
		{"typed by the user", []string{"Sec-Fetch-Site", "none"}, 200},
		{"a program", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", hyperhttp.MediaType} {
				h := hdr(append([]string{"Accept", htmlAccept, "Content-Type", ct}, tt.header...)...)
				body := "x=3"
				if ct == hyperhttp.MediaType {
					body = string(encode(t, wire.NewOrderedDict("x", 3)))
				}
				if ct == "text/plain" {
					continue // square takes no blob; the status is the check's only
				}
				r := s.do(t, "POST", "/square", h, strings.NewReader(body))
				if r.status != tt.status {
					t.Fatalf("%s: status %d, want %d: %s", ct, r.status, tt.status, r.body)
				}
				if tt.status == 403 {
					page := wantPage(t, r, 403)
					if !strings.Contains(page, "cross-origin request refused") {
						t.Errorf("the page does not say why:\n%s", page)
					}
				}
			}
		})
	}
	t.Run("GET is never refused", func(t *testing.T) {
		r := s.do(t, "GET", "/square?_charset_=UTF-8&x=3", hdr("Accept", htmlAccept, "Sec-Fetch-Site", "cross-site"), nil)
		wantPage(t, r, 200)
	})
	t.Run("trusted origin", func(t *testing.T) {
		cop := http.NewCrossOriginProtection()
		if err := cop.AddTrustedOrigin("https://app.example"); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, "h1", newHTMLService(), hyperhttp.WithCrossOriginProtection(cop))
		r := s.do(t, "POST", "/square", formHeader("Origin", "https://app.example", "Sec-Fetch-Site", "cross-site"), strings.NewReader("x=3"))
		wantValue(t, r, int64(9))
		r = s.do(t, "POST", "/square", formHeader("Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"), strings.NewReader("x=3"))
		wantError(t, r, 403, "cross-origin request refused")
	})
	t.Run("off", func(t *testing.T) {
		s := startServer(t, "h1", newHTMLService(), hyperhttp.WithCrossOriginProtection(nil))
		r := s.do(t, "POST", "/square", formHeader("Sec-Fetch-Site", "cross-site"), strings.NewReader("x=3"))
		wantValue(t, r, int64(9))
	})
}

// TestHTMLOtherClientsUnaffected checks that glyph clients still get the
// canonical form from the same URLs.
func TestHTMLOtherClientsUnaffected(t *testing.T) {
	s := startServer(t, "h1", newHTMLService())
	r := s.do(t, "POST", "/square", glyphHeader(), args(t, "x", 4))
	wantValue(t, r, int64(16))
	if r.header.Get("Content-Security-Policy") != "" {
		t.Errorf("a glyph answer carries a Content-Security-Policy")
	}
	r = s.do(t, "GET", "/nope", nil, nil)
	wantError(t, r, 404, "nope")
	r = s.do(t, "GET", "/square?Du1%3Ax%3Bi5%3B%3B", nil, nil)
	wantValue(t, r, int64(25))
	// A JSON client gets no page either, whatever its representation.
	for _, target := range []string{"/", "/nope"} {
		r = s.do(t, "GET", target, hdr("Accept", "application/json"), nil)
		if ct := r.header.Get("Content-Type"); strings.HasPrefix(ct, "text/html") || r.header.Get("Content-Security-Policy") != "" {
			t.Errorf("GET %s for JSON: Content-Type %q, Content-Security-Policy %q", target, ct, r.header.Get("Content-Security-Policy"))
		}
	}
}
