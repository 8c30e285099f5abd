package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// call is one request to Serve, built from a URL as the service hands
// them out (root "/").
type call struct {
	method string
	url    string // "/hello", "/User/?state", ...
	args   []any  // name, value pairs for Args
	pos    []any  // positional arguments
}

func (c call) request() *service.Request {
	path, query, _ := strings.Cut(strings.TrimPrefix(c.url, "/"), "?")
	req := &service.Request{Method: c.method, Root: "/", Path: path, Query: query, Positional: c.pos}
	if c.args != nil {
		req.Args = wire.NewOrderedDict(c.args...)
	}
	return req
}

func do(t testing.TB, s *service.Service, c call) (*service.Result, error) {
	t.Helper()
	return s.Serve(context.Background(), c.request())
}

// mustDo serves c and fails the test on an error.
func mustDo(t testing.TB, s *service.Service, c call) *service.Result {
	t.Helper()
	res, err := do(t, s, c)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.url, err)
	}
	return res
}

func get(url string) call                 { return call{method: "GET", url: url} }
func post(url string, args ...any) call   { return call{method: "POST", url: url, args: args} }
func postPos(url string, pos ...any) call { return call{method: "POST", url: url, pos: pos} }
func getQuery(url string, args ...any) call {
	return call{method: "GET", url: url + "?" + queryOf(args...)}
}

// queryOf returns arguments in the query envelope.
func queryOf(args ...any) string {
	b, err := wire.Marshal(wire.NewOrderedDict(args...))
	if err != nil {
		panic(err)
	}
	var sb strings.Builder
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "%%%02X", c)
		}
	}
	return sb.String()
}

// encoded returns v as the hyperglyph bytes a transport would send.
func encoded(t testing.TB, v any) string {
	t.Helper()
	b, err := wire.Marshal(v)
	if err != nil {
		t.Fatalf("encoding %#v: %v", v, err)
	}
	return string(b)
}

// value returns the Result's value after an encode and decode, as a
// client sees it.
func value(t testing.TB, res *service.Result) any {
	t.Helper()
	if res.Status != service.StatusOK {
		t.Fatalf("status %v (location %q), want OK", res.Status, res.Location)
	}
	var v any
	if err := wire.Unmarshal([]byte(encoded(t, res.Value)), &v); err != nil {
		t.Fatalf("decoding the result: %v", err)
	}
	return v
}

// resource returns the Result's value as a resource.
func resource(t testing.TB, res *service.Result) hyper.Resource {
	t.Helper()
	r, ok := value(t, res).(hyper.Resource)
	if !ok {
		t.Fatalf("result is %T, want a resource", res.Value)
	}
	return r
}

// errKind returns err's kind and message, failing when err is not an
// *service.Error.
func errKind(t testing.TB, err error) (service.Kind, string) {
	t.Helper()
	var e *service.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *service.Error", err, err)
	}
	return e.Kind, e.Error()
}

// wantErr checks that err is an *Error of kind whose text contains each
// of msgs.
func wantErr(t testing.TB, err error, kind service.Kind, msgs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", kind)
	}
	k, text := errKind(t, err)
	if k != kind {
		t.Errorf("kind %v, want %v (%s)", k, kind, text)
	}
	for _, m := range msgs {
		if !strings.Contains(text, m) {
			t.Errorf("error %q does not contain %q", text, m)
		}
	}
}

// logBuffer is a slog handler's output, safe for concurrent use.
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

// newLogged returns a Service that logs as JSON into the returned buffer.
func newLogged(opts ...service.Option) (*service.Service, *logBuffer) {
	lb := &logBuffer{}
	l := slog.New(slog.NewJSONHandler(lb, nil))
	return service.New(append(opts, service.WithLogger(l))...), lb
}
