package hyperpeer_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// logService fails in the ways the logging tests look for.
func logService(started chan<- struct{}, opts ...service.Option) *service.Service {
	svc := service.New(append([]service.Option{service.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	svc.MustFunc("find_user", func(name string) (string, error) {
		return "", service.Errorf(service.KindNotFound, "no user named %q", name)
	}, service.Args("name"))
	svc.MustFunc("broken", func() error { return errors.New("disk full") })
	svc.MustFunc("crash", func() string { panic("boom") })
	svc.MustFunc("hello", func() string { return "hello" })
	svc.MustFunc("wait", func(ctx context.Context) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	return svc
}

// TestServiceErrorsLogged checks that the handler logs each error
// it replies with once, with the logref the caller got, its op, kind,
// method and message: at info level when the caller is at fault (what
// HTTP answers with a 4xx), at error level when the server is (a 5xx).
func TestServiceErrorsLogged(t *testing.T) {
	cases := []struct {
		name, method    string
		args            any
		level, op, kind string
		msg             string // the message the caller got, with its op
	}{
		{"not found by the function", "find_user", []any{"zed"}, "INFO", "find_user", "not_found", `find_user: no user named "zed"`},
		{"no such function", "nope", nil, "INFO", "", "not_found", `no function or class "nope"`},
		{"missing argument", "/find_user", nil, "INFO", "find_user", "invalid", `find_user: missing argument "name"`},
		{"function error", "broken", nil, "ERROR", "broken", "internal", "broken: disk full"},
		{"panic", "crash", nil, "ERROR", "crash", "internal", "crash: internal error"},
	}
	for _, tr := range peertest.Transports {
		t.Run(tr.Name, func(t *testing.T) {
			logs, logger := logtest.New()
			c, _ := peertest.Connect(t, tr, nil, []peer.Option{peer.WithHandler(hyperpeer.NewHandler(logService(nil))), peer.WithLogger(logger)})
			ctx := peertest.Timeout(t, 5*time.Second)
			for _, tt := range cases {
				t.Run(tt.name, func(t *testing.T) {
					_, err := c.Call(ctx, tt.method, tt.args)
					var se *service.Error
					if !errors.As(err, &se) || se.Logref == "" {
						t.Fatalf("%s: %v, want an error with a logref", tt.method, err)
					}
					got := logs.Entries("glyph: call failed", "logref", se.Logref)
					if len(got) != 1 {
						t.Fatalf("%d lines with logref %s, want 1:\n%s", len(got), se.Logref, logs)
					}
					want := logtest.Entry{"level": tt.level, "op": tt.op, "kind": tt.kind, "method": tt.method, "error": tt.msg}
					if tt.op == "" {
						want["op"] = nil // not logged
					}
					for k, v := range want {
						if got[0][k] != v {
							t.Errorf("%s = %#v, want %#v, in %v", k, got[0][k], v, got[0])
						}
					}
					if _, ok := got[0]["remote"]; !ok {
						t.Errorf("no remote address in %v", got[0])
					}
				})
			}
		})
	}
}

// TestServiceCallsLogged checks the one line at debug level per call,
// the service's (service.LogCalls), and that a call its caller canceled is
// not logged as failed: nobody waits for its answer.
func TestServiceCallsLogged(t *testing.T) {
	logs, logger := logtest.New()
	started := make(chan struct{}, 1)
	c, _ := peertest.Connect(t, peertest.Transports[0], nil, []peer.Option{peer.WithHandler(hyperpeer.NewHandler(logService(started, service.WithLogger(logger)))), peer.WithLogger(logger)})
	ctx := peertest.Timeout(t, 5*time.Second)
	if _, err := c.Call(ctx, "hello", nil); err != nil {
		t.Fatal(err)
	}
	c.Call(ctx, "find_user", []any{"zed"})
	waitCtx, cancel := context.WithCancel(ctx)
	go func() {
		<-started
		cancel()
	}()
	if _, err := c.Call(waitCtx, "wait", nil); peertest.KindOf(t, err) != service.KindCanceled {
		t.Fatalf("wait: %v, want canceled", err)
	}
	// The server logs the canceled call when its function has returned,
	// after the caller saw it end.
	for len(logs.Entries("glyph: call", "method", "wait")) == 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	for _, tt := range []struct {
		method string
		kind   any // nil: no kind, the call succeeded
	}{
		{"hello", nil},
		{"find_user", "not_found"},
		{"wait", "canceled"},
	} {
		got := logs.Entries("glyph: call", "method", tt.method)
		if len(got) != 1 {
			t.Errorf("%d lines for %s, want 1:\n%s", len(got), tt.method, logs)
			continue
		}
		if got[0]["level"] != "DEBUG" || got[0]["kind"] != tt.kind {
			t.Errorf("%s: %v, want level DEBUG and kind %v", tt.method, got[0], tt.kind)
		}
		if d, ok := got[0]["duration"].(float64); !ok || d <= 0 {
			t.Errorf("%s: duration %#v, want nanoseconds", tt.method, got[0]["duration"])
		}
	}
	if got := logs.Entries("glyph: call failed", "method", "wait"); len(got) != 0 {
		t.Errorf("the canceled call is logged as failed: %v", got)
	}
}

// TestDefaultLogger checks that connections and peers configured without
// a logger log to slog.Default() as it is when they log: slog.SetDefault
// after they were made decides where their lines go. Not parallel: it
// sets slog's default.
func TestDefaultLogger(t *testing.T) {
	ctx := peertest.Timeout(t, 5*time.Second)
	svc := logService(nil)
	c, _ := peertest.Connect(t, peertest.Transports[0], nil, []peer.Option{peer.WithHandler(hyperpeer.NewHandler(svc))})

	p := peer.New(peer.WithHandler(hyperpeer.NewHandler(svc)))
	t.Cleanup(func() { p.Close() })
	addr, err := p.Bind(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fc, err := peer.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := peer.Client(ctx, fc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })

	logs, logger := logtest.New()
	logtest.SetDefault(t, logger)
	for name, c := range map[string]*peer.Conn{"a Conn": c, "a Peer": pc} {
		_, err := c.Call(ctx, "find_user", []any{"zed"})
		var se *service.Error
		if !errors.As(err, &se) || se.Logref == "" {
			t.Fatalf("%s: find_user: %v, want an error with a logref", name, err)
		}
		if got := logs.Entries("glyph: call failed", "logref", se.Logref, "level", "INFO"); len(got) != 1 {
			t.Errorf("%s: the failed call is not in slog's default log:\n%s", name, logs)
		}
	}
}
