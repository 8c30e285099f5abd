package service_test

import (
	"context"
	"iter"
	"log/slog"
	"testing"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// TestCallLog: one line per call at debug level by default, with the
// method, the caller, the kind and logref of a failure (the logref the
// caller gets), and a stream's messages; WithCallLog changes the level
// and WithoutCallLog turns it off.
func TestCallLog(t *testing.T) {
	logs, logger := logtest.New()
	svc := service.New(service.WithLogger(logger))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	svc.MustFunc("fail", func() error { return service.Errorf(service.KindConflict, "it changed") })
	svc.MustFunc("sum", func(xs iter.Seq[int]) int {
		total := 0
		for x := range xs {
			total += x
		}
		return total
	}, service.Args("xs"))
	ctx := intercept.WithPeer(context.Background(), intercept.Peer{Transport: "tcp", Addr: "tcp://127.0.0.1:9"})
	if _, err := svc.Serve(ctx, &service.Request{Method: "POST", Path: "greet", Args: wire.NewOrderedDict("name", "ann")}); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Serve(ctx, &service.Request{Method: "POST", Path: "fail"})
	se, ok := err.(*service.Error)
	if !ok || se.Logref == "" {
		t.Fatalf("fail: %#v, want an *Error with a logref", err)
	}
	if _, err := svc.Serve(ctx, &service.Request{Method: "POST", Path: "sum", Stream: source(1, 2, 3)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method string
		want   map[string]any
	}{
		{"greet", map[string]any{"level": "DEBUG", "side": "server", "transport": "tcp", "remote": "tcp://127.0.0.1:9"}},
		{"fail", map[string]any{"level": "DEBUG", "kind": "conflict", "logref": se.Logref}},
		{"sum", map[string]any{"stream": "client_stream", "received": float64(3), "sent": float64(1)}},
	} {
		got := logs.Entries("glyph: call", "method", tc.method)
		if len(got) != 1 {
			t.Errorf("%d lines for %s:\n%s", len(got), tc.method, logs)
			continue
		}
		for k, v := range tc.want {
			if got[0][k] != v {
				t.Errorf("%s: %s = %#v, want %#v", tc.method, k, got[0][k], v)
			}
		}
		if _, ok := got[0]["duration"].(float64); !ok {
			t.Errorf("%s: no duration: %v", tc.method, got[0])
		}
		if _, failed := got[0]["kind"]; failed != (tc.method == "fail") {
			t.Errorf("%s: kind %v", tc.method, got[0]["kind"])
		}
	}

	// Another level; off.
	infoLogs, info := logtest.New()
	quiet := service.New(service.WithLogger(info), service.WithCallLog(slog.LevelInfo))
	quiet.MustFunc("f", func() {})
	off := service.New(service.WithLogger(info), service.WithoutCallLog())
	off.MustFunc("g", func() {})
	quiet.Serve(context.Background(), &service.Request{Method: "POST", Path: "f"})
	off.Serve(context.Background(), &service.Request{Method: "POST", Path: "g"})
	if got := infoLogs.Entries("glyph: call", "method", "f"); len(got) != 1 || got[0]["level"] != "INFO" {
		t.Errorf("WithCallLog(Info): %v", got)
	}
	if got := infoLogs.Entries("glyph: call", "method", "g"); len(got) != 0 {
		t.Errorf("WithoutCallLog: %v", got)
	}
}
