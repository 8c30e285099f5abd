package hyperpeer

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/glyph-ipc/glyph/internal/faillog"
	"github.com/glyph-ipc/glyph/service"
)

// logFailure returns err, which the handler is about to reply with to a
// call of method, as a *service.Error with a logref, and logs it with
// that logref (package faillog). This is the one place the handler logs
// a failed call; the reply it becomes is what package peer would have
// made of err, with the logref added.
func logFailure(ctx context.Context, log *slog.Logger, method string, err error) *service.Error {
	var e *service.Error
	if errors.As(err, &e) {
		c := *e
		e = &c
	} else {
		// As package peer reports an error that is not a *service.Error.
		k := service.KindOf(err)
		msg := k.String()
		if k != service.KindCanceled && k != service.KindDeadlineExceeded {
			k, msg = service.KindInternal, err.Error()
		}
		e = &service.Error{Kind: k, Message: msg, Err: err}
	}
	if e.Logref == "" {
		e.Logref = faillog.NewLogref()
	}
	faillog.Log(ctx, log, "glyph: call failed", e, slog.String("method", logMethod(method)))
	return e
}

// logMethod is the method of a call as logged: without its query, which
// holds an instance's state, as an HTTP request's path is logged without
// it.
func logMethod(method string) string {
	m, _, _ := strings.Cut(method, "?")
	return m
}
