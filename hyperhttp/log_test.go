package hyperhttp_test

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/service"
)

// logService fails in the ways the logging tests look for.
func logService() *service.Service {
	svc := service.New(service.WithLogger(discardLogger()))
	svc.MustFunc("find_user", func(name string) (string, error) {
		return "", service.Errorf(service.KindNotFound, "no user named %q", name)
	}, service.Args("name"))
	svc.MustFunc("broken", func() error { return errors.New("disk full") })
	svc.MustFunc("crash", func() string { panic("boom") })
	return svc
}

// TestErrorsLogged checks that every error response is logged once, with
// the logref the client got, its op, kind, status, method, path and
// message: at info level when the client is at fault (4xx), at error
// level when the server is (5xx).
func TestErrorsLogged(t *testing.T) {
	cases := []struct {
		name, method, path string
		args               []any // the form envelope's, if any
		status             int
		level, op, kind    string
		msg                string // the message the client got
	}{
		{"not found by the function", "POST", "/find_user", []any{"name", "zed"}, 404, "INFO", "find_user", "not_found", `find_user: no user named "zed"`},
		{"no such function", "GET", "/nope", nil, 404, "INFO", "", "not_found", `no function or class "nope"`},
		{"missing argument", "POST", "/find_user", nil, 400, "INFO", "find_user", "invalid", `find_user: missing argument "name"`},
		{"function error", "POST", "/broken", nil, 500, "ERROR", "broken", "internal", "broken: disk full"},
		{"panic", "POST", "/crash", nil, 500, "ERROR", "crash", "internal", "crash: internal error"},
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			logs, logger := logtest.New()
			s := startServer(t, mode, logService(), hyperhttp.WithLogger(logger))
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					var header http.Header
					var body io.Reader
					if c.args != nil {
						header, body = glyphHeader(), args(t, c.args...)
					}
					e := wantError(t, s.do(t, c.method, c.path, header, body), c.status, c.msg)
					got := logs.Entries("glyph: request failed", "logref", e.Logref)
					if len(got) != 1 {
						t.Fatalf("%d lines with logref %s, want 1:\n%s", len(got), e.Logref, logs)
					}
					want := logtest.Entry{"level": c.level, "op": c.op, "kind": c.kind, "status": float64(c.status),
						"method": c.method, "path": c.path, "error": c.msg}
					if c.op == "" {
						want["op"] = nil // not logged
					}
					for k, v := range want {
						if got[0][k] != v {
							t.Errorf("%s = %#v, want %#v, in %v", k, got[0][k], v, got[0])
						}
					}
				})
			}
		})
	}
}

// TestRequestsLogged checks the one line at debug level per request:
// method, path, status, duration and the bytes of the body sent.
func TestRequestsLogged(t *testing.T) {
	logs, logger := logtest.New()
	s := startServer(t, "h1", newTestService(1<<20, service.WithLogger(discardLogger())), hyperhttp.WithLogger(logger))
	ok := s.do(t, "GET", "/square?Ou1%3Ax%3Bi3%3B%3B", nil, nil)
	missing := s.do(t, "GET", "/nope", nil, nil)
	for _, c := range []struct {
		path   string
		r      *response
		status int
	}{
		{"/square", ok, 200},
		{"/nope", missing, 404},
	} {
		got := logs.Entries("glyph: request", "path", c.path)
		if len(got) != 1 {
			t.Errorf("%d lines for %s, want 1:\n%s", len(got), c.path, logs)
			continue
		}
		want := logtest.Entry{"level": "DEBUG", "method": "GET", "status": float64(c.status), "bytes": float64(len(c.r.body))}
		for k, v := range want {
			if got[0][k] != v {
				t.Errorf("%s: %s = %#v, want %#v, in %v", c.path, k, got[0][k], v, got[0])
			}
		}
		if d, ok := got[0]["duration"].(float64); !ok || d <= 0 {
			t.Errorf("%s: duration %#v, want nanoseconds", c.path, got[0]["duration"])
		}
	}
}

// TestDefaultLogger checks that a handler configured without a logger
// logs to slog.Default() as it is when it logs: slog.SetDefault after
// NewHandler decides where its lines go. Not parallel: it sets slog's
// default.
func TestDefaultLogger(t *testing.T) {
	s := startServer(t, "h1", logService())
	logs, logger := logtest.New()
	logtest.SetDefault(t, logger)
	e := wantError(t, s.do(t, "GET", "/nope", nil, nil), 404, "nope")
	if got := logs.Entries("glyph: request failed", "logref", e.Logref, "level", "INFO"); len(got) != 1 {
		t.Errorf("the 404 is not in slog's default log:\n%s", logs)
	}
}
