package faillog_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/glyph-ipc/glyph/internal/faillog"
	"github.com/glyph-ipc/glyph/internal/logtest"
	"github.com/glyph-ipc/glyph/service"
)

// TestLog checks the level each kind is logged at, and the attributes of
// the line: logref and op when set, kind, the transport's, the message as
// the caller got it, and the cause.
func TestLog(t *testing.T) {
	cause := errors.New("disk full")
	tests := []struct {
		name  string
		err   error
		level string
		want  []string // attributes that the line must have
	}{
		{"caller's fault", &service.Error{Op: "add", Kind: service.KindInvalid, Message: "bad b"}, "INFO",
			[]string{"op", "add", "kind", "invalid", "error", "add: bad b", "subject", "s"}},
		{"server's fault", &service.Error{Kind: service.KindUnavailable, Message: "later", Logref: "0123456789abcdef", Err: cause}, "ERROR",
			[]string{"logref", "0123456789abcdef", "kind", "unavailable", "error", "later", "cause", "disk full"}},
		{"no kind", cause, "ERROR", []string{"kind", "internal", "error", "internal error", "cause", "disk full"}},
		{"canceled", context.Canceled, "INFO", []string{"kind", "canceled", "cause", "context canceled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logger := logtest.New()
			e := faillog.Error(tt.err)
			faillog.Log(context.Background(), logger, "glyph: call failed", e, slog.String("subject", "s"))
			got := log.Entries("glyph: call failed", append([]string{"level", tt.level}, tt.want...)...)
			if len(got) != 1 {
				t.Fatalf("no line with %v in\n%s", tt.want, log)
			}
			if _, ok := got[0]["logref"]; ok != (e.Logref != "") {
				t.Errorf("logref logged: %v, want %v", ok, e.Logref != "")
			}
		})
	}
}

// TestErrorCopies checks that Error returns a copy, so that a transport
// setting a logref does not change the service's error.
func TestErrorCopies(t *testing.T) {
	orig := &service.Error{Kind: service.KindOther, Message: "x"}
	e := faillog.Error(orig)
	e.Logref = faillog.NewLogref()
	if orig.Logref != "" || orig.Kind != service.KindOther || e.Kind != service.KindInternal || len(e.Logref) != 16 {
		t.Errorf("original %+v, copy %+v", orig, e)
	}
}
