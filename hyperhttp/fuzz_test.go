package hyperhttp_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Bits of FuzzHandler's flags argument.
const (
	fuzzGzip        = 1 << iota // gzip the body and say so
	fuzzUnsized                 // hide the body's length (chunked)
	fuzzMethodPUT               // send a Method: PUT header
	fuzzMethodGET               // send a Method: GET header
	fuzzAcceptGlyph             // Accept: application/vnd.hyperglyph
	fuzzAcceptGzip              // Accept-Encoding: gzip
	fuzzIfNoneMatch             // If-None-Match: *
	fuzzDisposition             // Content-Disposition naming the input "title"
)

// fuzzStatuses are the statuses the test service may answer; 500 only
// from the two functions that fail on purpose (see fuzzCheck).
var fuzzStatuses = map[int]bool{200: true, 201: true, 204: true, 303: true, 304: true,
	400: true, 404: true, 405: true, 413: true, 415: true, 500: true}

// FuzzHandler serves requests built from fuzzed parts (method, path,
// query, content type, body, and flags for gzip, chunking, the Method,
// Accept, Accept-Encoding, If-None-Match and Content-Disposition
// headers) and checks that the handler never panics, answers only the
// statuses the test service can cause, sends every 4xx and 5xx with a
// hyperglyph error body, and no body at all to a HEAD. The seed corpus
// is in testdata/fuzz/FuzzHandler.
func FuzzHandler(f *testing.F) {
	svc := newTestService(1<<20, service.WithLogger(discardLogger()))
	h := hyperhttp.NewHandler(svc, hyperhttp.WithMaxRequestBytes(64<<10), hyperhttp.WithMaxBlobBytes(64<<10), hyperhttp.WithLogger(discardLogger()))
	f.Fuzz(func(t *testing.T, method, path, query, contentType string, flags byte, body []byte) {
		r := fuzzRequest(method, path, query, contentType, flags, body)
		if r == nil {
			return
		}
		w := &cappedRecorder{ResponseRecorder: httptest.NewRecorder(), max: 1 << 20}
		func() {
			defer func() {
				// net/http turns this panic into a closed connection; the
				// handler uses it to abort a response that failed, here
				// the recorder's cap.
				if p := recover(); p != nil && p != http.ErrAbortHandler {
					t.Fatalf("%s %s: panic: %v", r.Method, r.URL, p)
				}
			}()
			h.ServeHTTP(w, r)
		}()
		fuzzCheck(t, r, w)
	})
}

// fuzzRequest builds the request, or returns nil for parts no HTTP
// server would hand a handler.
func fuzzRequest(method, path, query, contentType string, flags byte, body []byte) *http.Request {
	if method == "" || strings.ContainsAny(method, " \t\r\n") || !strings.HasPrefix(path, "/") {
		return nil
	}
	u := &url.URL{Path: path, RawQuery: query}
	r := httptest.NewRequest("GET", "/", nil)
	r.Method = method
	r.URL = u
	r.RequestURI = u.RequestURI()
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if flags&fuzzGzip != 0 {
		body = gz(body)
		r.Header.Set("Content-Encoding", "gzip")
	}
	if len(body) > 0 || flags&fuzzUnsized != 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		if flags&fuzzUnsized != 0 {
			r.ContentLength = -1
		}
	}
	for bit, kv := range map[byte][2]string{
		fuzzMethodPUT:   {"Method", "PUT"},
		fuzzMethodGET:   {"Method", "GET"},
		fuzzAcceptGlyph: {"Accept", hyperhttp.MediaType},
		fuzzAcceptGzip:  {"Accept-Encoding", "gzip"},
		fuzzIfNoneMatch: {"If-None-Match", "*"},
		fuzzDisposition: {"Content-Disposition", `form-data; name="title"`},
	} {
		if flags&bit != 0 {
			r.Header.Add(kv[0], kv[1])
		}
	}
	return r
}

// fuzzCheck checks one answer.
func fuzzCheck(t *testing.T, r *http.Request, w *cappedRecorder) {
	t.Helper()
	res := w.Result()
	if !fuzzStatuses[res.StatusCode] {
		t.Fatalf("%s %s: status %d: %q", r.Method, r.URL, res.StatusCode, w.Body.Bytes())
	}
	if r.Method == http.MethodHead {
		if w.Body.Len() != 0 {
			t.Fatalf("HEAD %s: %d with a body: %q", r.URL, res.StatusCode, w.Body.Bytes())
		}
		return
	}
	if res.StatusCode < 400 {
		return
	}
	var v any
	if err := wire.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("%s %s: %d with a body that does not decode: %v: %q", r.Method, r.URL, res.StatusCode, err, w.Body.Bytes())
	}
	e, ok := v.(hyper.Error)
	if !ok || e.Logref == "" || e.Message == "" || e.Code != int64(res.StatusCode) {
		t.Fatalf("%s %s: %d with a body that is no error: %#v", r.Method, r.URL, res.StatusCode, v)
	}
	if res.StatusCode == 500 && e.Message != "crash: internal error" && e.Message != "broken: disk full" {
		t.Fatalf("%s %s: unexpected 500: %s", r.Method, r.URL, e.Message)
	}
}

// cappedRecorder is a ResponseRecorder whose body holds at most max
// bytes, so that fuzzed requests for huge blobs end quickly.
type cappedRecorder struct {
	*httptest.ResponseRecorder
	max int
}

var errCapped = errors.New("response over the fuzz cap")

func (c *cappedRecorder) Write(p []byte) (int, error) {
	if c.Body.Len()+len(p) > c.max {
		return 0, errCapped
	}
	return c.ResponseRecorder.Write(p)
}
