package hypernats

import (
	"context"
	"errors"
	"log/slog"

	"github.com/glyph-ipc/glyph/internal/faillog"
	"github.com/glyph-ipc/glyph/service"
)

// logFailure returns err, which the server is about to reply with to a
// call on subject, as a *service.Error with a kind ([service.KindInternal]
// for none) and a logref, and logs it with that logref (package
// faillog). This is the one place the server logs a failed call.
func logFailure(ctx context.Context, log *slog.Logger, subject string, err error) *service.Error {
	kindless := service.KindOf(err) == service.KindOther
	if se, ok := errors.AsType[*service.Error](err); ok {
		kindless = se.Kind == service.KindOther
	}
	e := faillog.Error(err)
	if kindless && e.Message == "" && e.Err != nil {
		e.Message = e.Err.Error()
	}
	if e.Logref == "" {
		e.Logref = faillog.NewLogref()
	}
	faillog.Log(ctx, log, "glyph: call failed", e, slog.String("subject", subject))
	return e
}
