package jsonrpc_test

import (
	"net/http"
	"testing"

	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/internal/rpctest"
	"github.com/glyph-ipc/glyph/jsonrpc"
)

// TestLogFailures checks that failed calls are logged, notifications'
// included (their callers hear nothing), at the level the kind says.
func TestLogFailures(t *testing.T) {
	log, logger := logtest.New()
	srv := newServer(t, jsonrpc.WithLogger(logger))
	rpctest.Post(t, srv.URL, `[{"jsonrpc":"2.0","method":"add","params":[1,"x"],"id":1},{"jsonrpc":"2.0","method":"fail","params":[12,"bug"]},{"jsonrpc":"2.0","method":"hello","id":2}]`)
	if got := log.Entries("glyph: call failed", "level", "INFO", "transport", "JSON-RPC", "method", "add", "kind", "invalid",
		"error", `add: argument "b": expected integer, got unicode`); len(got) != 1 {
		t.Errorf("the invalid call: %d lines in\n%s", len(got), log)
	}
	got := log.Entries("glyph: call failed", "level", "ERROR", "method", "fail", "kind", "internal", "error", "fail: bug")
	if len(got) != 1 || len(got[0]["logref"].(string)) != 16 {
		t.Errorf("the failed notification: %v in\n%s", got, log)
	}
	if n := len(log.Entries("glyph: call failed")); n != 2 {
		t.Errorf("%d failures logged, want 2:\n%s", n, log)
	}
	if status, _ := rpctest.Post(t, srv.URL, `{"jsonrpc":"2.0","method":"hello","id":1}`); status != http.StatusOK || len(log.Entries("glyph: call failed")) != 2 {
		t.Errorf("a call that worked was logged as failed:\n%s", log)
	}
}
