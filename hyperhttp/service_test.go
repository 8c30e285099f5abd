package hyperhttp_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"iter"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// This file holds the service every test serves, and the helpers that
// serve it over real HTTP/1.1 and HTTP/2 connections.

// Counter is a class whose state travels in its URLs.
type Counter struct {
	N int `glyph:"n"`
}

// Value is safe: a link, called with GET.
func (c Counter) Value() int { return c.N }

// Add is a form: it answers a new counter, which becomes a resource.
func (c Counter) Add(by int) Counter { return Counter{N: c.N + by} }

// Note is a class whose instances live on the server, under an id.
type Note struct {
	Text string `glyph:"text"`
}

// Read is safe.
func (n *Note) Read() string { return n.Text }

// Write changes the stored instance.
func (n *Note) Write(text string) { n.Text = text }

const bigWord = "glyph "

// newTestService returns the service the tests and spec.md's examples
// run against. Its blobs made up on the fly are at most maxPattern bytes.
func newTestService(maxPattern int64, opts ...service.Option) *service.Service {
	s := service.New(opts...)
	s.MustFunc("hello", func(name string) string { return "Hello, " + name + "!" },
		service.Args("name"), service.Default("name", "World"))
	s.MustFunc("square", func(x int) int { return x * x }, service.Args("x"), service.Safe())
	s.MustFunc("now", func() string { return "always the same" }, service.Safe(), service.CacheControl("max-age=60"))
	s.MustFunc("big", func() string { return strings.Repeat(bigWord, 300) }, service.Safe())
	s.MustFunc("nothing", func() {})
	s.MustFunc("echo", func(data *wire.Blob) (*wire.Blob, error) {
		b, err := io.ReadAll(data)
		if err != nil {
			return nil, err
		}
		return wire.BytesBlob(data.ContentType, b), nil
	}, service.Args("data"))
	s.MustFunc("save", func(title string, body io.Reader) (map[string]any, error) {
		n, err := io.Copy(io.Discard, body)
		if err != nil {
			return nil, err
		}
		return map[string]any{"title": title, "bytes": n}, nil
	}, service.Args("title", "body"), service.Default("title", "untitled"))
	s.MustFunc("count", func(data io.Reader) (int64, error) {
		return io.Copy(io.Discard, data)
	}, service.Args("data"))
	s.MustFunc("pipe", func(data *wire.Blob) *wire.Blob { return data }, service.Args("data"))
	s.MustFunc("peek", func(data io.Reader) (string, error) {
		b := make([]byte, 3)
		_, err := io.ReadFull(data, b)
		return string(b), err
	}, service.Args("data"))
	s.MustFunc("measure", func(data *wire.Blob) (map[string]any, error) {
		n, err := readPattern(data)
		return map[string]any{"type": data.ContentType, "bytes": n}, err
	}, service.Args("data"))
	patternBlob := func(size int64) (*wire.Blob, error) {
		if size > maxPattern {
			return nil, service.Errorf(service.KindInvalid, "size over %d", maxPattern)
		}
		return wire.NewBlob("application/octet-stream", io.LimitReader(&patternReader{}, size)), nil
	}
	s.MustFunc("download", patternBlob, service.Args("size"), service.Safe())
	s.MustFunc("attach", func(size int64) (map[string]any, error) {
		b, err := patternBlob(size)
		return map[string]any{"name": "pattern", "data": b}, err
	}, service.Args("size"), service.Safe())
	s.MustFunc("crash", func() string { panic("boom") })
	s.MustFunc("broken", func() error { return errors.New("disk full") })
	s.MustFunc("start", func(n int) Counter { return Counter{N: n} }, service.Args("n"), service.Redirect())
	s.MustFunc("made", func() service.Created { return service.Created{URL: "/Counter/?Du1%3An%3Bi7%3B%3B"} })
	s.MustFunc("upper", func(words []string) []string {
		out := make([]string, len(words))
		for i, w := range words {
			out[i] = strings.ToUpper(w)
		}
		return out
	}, service.Args("words"))
	s.MustFunc("countdown", func(from int) iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			if from > 100 {
				yield(0, service.Errorf(service.KindInvalid, "from over 100"))
				return
			}
			for i := from; i > 0 && yield(i, nil); i-- {
			}
		}
	}, service.Args("from"), service.Safe())
	s.MustFunc("total", func(xs iter.Seq[int]) int {
		n := 0
		for x := range xs {
			n += x
		}
		return n
	}, service.Args("xs"))
	// The constructors are explicit: see the report on service's
	// isArgStruct, which takes the test package's types for hyper's.
	s.MustClass("Counter", Counter{},
		service.Constructor(func(n int) Counter { return Counter{N: n} }, service.Args("n"), service.Default("n", 0)),
		service.Method("value", service.Safe()),
		service.Method("add", service.Args("by")))
	s.MustClass("Note", Note{},
		service.Constructor(func(text string) Note { return Note{Text: text} }, service.Args("text")),
		service.Persistent(service.NewMemoryStore()),
		service.Method("read", service.Safe()),
		service.Method("write", service.Args("text")))
	return s
}

// patternReader is an endless, cheap stream of bytes: the byte at offset
// k is k mod 251.
type patternReader struct{ off int64 }

// patternTable holds the pattern from every phase, so that reading and
// checking it are copies and compares (fast under the race detector too).
var patternTable = func() []byte {
	b := make([]byte, 251+64<<10)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}()

// pattern returns the n <= 64 KiB bytes of the pattern at offset off.
func pattern(off int64, n int) []byte {
	phase := int(off % 251)
	return patternTable[phase : phase+n]
}

func (r *patternReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], pattern(r.off, min(len(p)-n, 64<<10)))
		n += k
		r.off += int64(k)
	}
	return n, nil
}

// readPattern reads r to the end, checking that it is the pattern, and
// returns how many bytes it read. It holds at most 64 KiB.
func readPattern(r io.Reader) (int64, error) {
	buf := make([]byte, 64<<10)
	var off int64
	for {
		k, err := r.Read(buf)
		if !bytes.Equal(buf[:k], pattern(off, k)) {
			// Bad input, not a server failure.
			return off, service.Errorf(service.KindInvalid, "bytes %d to %d are not the pattern", off, off+int64(k))
		}
		off += int64(k)
		if err == io.EOF {
			return off, nil
		}
		if err != nil {
			return off, err
		}
	}
}

// discardLogger logs nothing.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newLogger logs everything, debug included, as text into w.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// server is a test server and a client for it.
type server struct {
	*httptest.Server
	client *http.Client
	logs   *logBuffer
}

// modes are the connection types every transport test runs over.
var modes = []string{"h1", "h2"}

// newTestServer serves the test service, built with svcOpts, over mode
// ("h1": HTTP/1.1, "h2": HTTP/2 over TLS) with opts. The service and the
// handler log into the server's logs.
func newTestServer(t testing.TB, mode string, opts []hyperhttp.Option, svcOpts ...service.Option) *server {
	t.Helper()
	logs := &logBuffer{}
	logger := newLogger(logs)
	opts = append([]hyperhttp.Option{hyperhttp.WithLogger(logger)}, opts...) // a later WithLogger wins
	svc := newTestService(1<<40, append([]service.Option{service.WithLogger(logger)}, svcOpts...)...)
	srv := startServer(t, mode, svc, opts...)
	srv.logs = logs
	return srv
}

// startServer serves svc with opts over mode. Its client follows no
// redirect and does not ask for gzip on its own.
func startServer(t testing.TB, mode string, svc *service.Service, opts ...hyperhttp.Option) *server {
	t.Helper()
	ts := httptest.NewUnstartedServer(hyperhttp.NewHandler(svc, opts...))
	// net/http logs the panics it recovers (other than
	// http.ErrAbortHandler) there: a test fails on any.
	serverLog := &logBuffer{}
	ts.Config.ErrorLog = log.New(serverLog, "", 0)
	t.Cleanup(func() {
		if strings.Contains(serverLog.String(), "panic") {
			t.Errorf("net/http recovered a panic:\n%s", serverLog)
		}
	})
	switch mode {
	case "h1":
		ts.Start()
	case "h2":
		ts.EnableHTTP2 = true
		ts.StartTLS()
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	t.Cleanup(ts.Close)
	// The server's own client trusts its certificate and speaks HTTP/2
	// to it in h2 mode.
	client := ts.Client()
	client.Transport.(*http.Transport).DisableCompression = true
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &server{Server: ts, client: client, logs: &logBuffer{}}
}

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// response is a response read in full.
type response struct {
	status int
	header http.Header
	body   []byte
	proto  string
}

// do sends a request and reads the whole response. A nil body sends none.
func (s *server) do(t testing.TB, method, target string, header http.Header, body io.Reader) *response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+target, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, target, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b, proto: resp.Proto}
}

// hdr builds a header from name, value pairs.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// glyphHeader is the header of a request with the form envelope.
func glyphHeader(kv ...string) http.Header {
	return hdr(append([]string{"Content-Type", hyperhttp.MediaType}, kv...)...)
}

// encode marshals v or fails the test.
func encode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := wire.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// args is the form envelope body for name, value pairs.
func args(t testing.TB, kv ...any) io.Reader {
	return bytes.NewReader(encode(t, wire.NewOrderedDict(kv...)))
}

// decodeBody decodes a glyph response body, gunzipping it first when the
// response says it is gzipped.
func decodeBody(t testing.TB, r *response) any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != hyperhttp.MediaType {
		t.Fatalf("Content-Type %q, want %q (status %d, body %q)", ct, hyperhttp.MediaType, r.status, r.body)
	}
	var v any
	if err := wire.Unmarshal(plainBody(t, r), &v); err != nil {
		t.Fatalf("decoding the body %q: %v", r.body, err)
	}
	return v
}

// plainBody returns the body, gunzipped when Content-Encoding says gzip.
func plainBody(t testing.TB, r *response) []byte {
	t.Helper()
	if r.header.Get("Content-Encoding") != "gzip" {
		return r.body
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return b
}

// wantValue checks a 200 response whose body decodes to want.
func wantValue(t testing.TB, r *response, want any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %q", r.status, r.body)
	}
	got := decodeBody(t, r)
	if !bytes.Equal(encode(t, got), encode(t, want)) {
		t.Fatalf("body %#v, want %#v", got, want)
	}
}

// wantError checks an error response: its status, that the body is a
// hyper.Error with a logref, the status as code, and a message holding
// msg.
func wantError(t testing.TB, r *response, status int, msg string) hyper.Error {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %q", r.status, status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("error Cache-Control %q, want no-store", cc)
	}
	v := decodeBody(t, r)
	e, ok := v.(hyper.Error)
	if !ok {
		t.Fatalf("body is %T (%q), want a hyper.Error", v, r.body)
	}
	if len(e.Logref) != 16 {
		t.Errorf("logref %q, want 16 hex digits", e.Logref)
	}
	if e.Code != int64(status) {
		t.Errorf("code %d, want %d", e.Code, status)
	}
	if !strings.Contains(e.Message, msg) {
		t.Errorf("message %q, want it to contain %q", e.Message, msg)
	}
	return e
}

// gz compresses b.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
