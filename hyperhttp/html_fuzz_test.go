package hyperhttp_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyperhttp"
)

// htmlFuzzTargets are the paths FuzzHTMLForm sends forms to: a function
// with an input of every type, one with defaults, a safe one, a stream,
// an instance's method, and nothing.
var htmlFuzzTargets = []string{"/kinds", "/defaults", "/square", "/count", "/Arg/plus?Du4%3Abase%3Bi1%3B%3B", "/nope"}

// FuzzHTMLForm submits fuzzed HTML forms, as urlencoded POST bodies and
// as GET queries, to the HTML test service, and checks that the handler
// never panics, answers only the statuses bad input can cause, and
// answers a browser with a page that escapes what it was sent. The seed
// corpus is in testdata/fuzz/FuzzHTMLForm.
func FuzzHTMLForm(f *testing.F) {
	for _, seed := range []struct {
		target byte
		get    bool
		fields string
	}{
		{0, false, "n=1&f=2.5&b=false&b=true&s=x&raw=y&at=2012-08-12T00:00:00Z&d=1s&xs=1%0A2&words=a&opt=&big=99999999999999999999999"},
		{1, false, "_method=PUT&n=&s=%3Cscript%3E&xs=%0D%0A"},
		{2, true, "_charset_=UTF-8&x=7"},
		{3, true, "_charset_=UTF-8&to=3"},
		{4, false, "_charset_=UTF-8&n=-1"},
		{0, false, "xs=1&xs=2&xs=x&%zz"},
		{5, false, "a=1"},
	} {
		f.Add(seed.target, seed.get, seed.fields)
	}
	h := hyperhttp.NewHandler(newHTMLService(), hyperhttp.WithMaxRequestBytes(64<<10), hyperhttp.WithLogger(discardLogger()))
	f.Fuzz(func(t *testing.T, target byte, get bool, fields string) {
		path := htmlFuzzTargets[int(target)%len(htmlFuzzTargets)]
		var r *http.Request
		if get {
			r = httptest.NewRequest("GET", path, nil)
			if r.URL.RawQuery != "" {
				r.URL.RawQuery += "&"
			}
			r.URL.RawQuery += "_charset_=UTF-8&" + fields
			r.RequestURI = r.URL.RequestURI()
		} else {
			r = httptest.NewRequest("POST", path, strings.NewReader(fields))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		r.Header.Set("Accept", htmlAccept)
		w := &cappedRecorder{ResponseRecorder: httptest.NewRecorder(), max: 1 << 20}
		func() {
			defer func() {
				if p := recover(); p != nil && p != http.ErrAbortHandler {
					t.Fatalf("%s %s %q: panic: %v", r.Method, r.URL, fields, p)
				}
			}()
			h.ServeHTTP(w, r)
		}()
		res := w.Result()
		switch res.StatusCode {
		case 200, 400, 404, 405, 413:
		default:
			t.Fatalf("%s %s %q: status %d: %s", r.Method, r.URL, fields, res.StatusCode, w.Body.Bytes())
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Fatalf("%s %s %q: Content-Type %q", r.Method, r.URL, fields, ct)
		}
		if bytes.Contains(bytes.ToLower(w.Body.Bytes()), []byte("<script")) {
			t.Fatalf("%s %s %q: the page holds a script element: %s", r.Method, r.URL, fields, w.Body.Bytes())
		}
	})
}
