package xmlrpc_test

import (
	"testing"

	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// TestLogFailures checks that failed calls are logged at the level the
// kind says.
func TestLogFailures(t *testing.T) {
	log, logger := logtest.New()
	srv := newServer(t, xmlrpc.WithLogger(logger))
	call(t, srv.URL, "subtract")
	call(t, srv.URL, "fail", "<value><int>11</int></value>", "<value>later</value>")
	call(t, srv.URL, "hello")
	if got := log.Entries("glyph: call failed", "level", "INFO", "transport", "XML-RPC", "method", "subtract", "kind", "not_found"); len(got) != 1 {
		t.Errorf("the unknown method: %d lines in\n%s", len(got), log)
	}
	if got := log.Entries("glyph: call failed", "level", "ERROR", "method", "fail", "kind", "unavailable", "error", "fail: later"); len(got) != 1 {
		t.Errorf("the unavailable call: %d lines in\n%s", len(got), log)
	}
	if n := len(log.Entries("glyph: call failed")); n != 2 {
		t.Errorf("%d failures logged, want 2:\n%s", n, log)
	}
}
