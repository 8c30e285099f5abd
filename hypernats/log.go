package hypernats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"

	"github.com/glyph-ipc/glyph/service"
)

// logFailure returns err, which the server is about to reply with to a
// call on subject, as a *service.Error with a kind ([service.KindInternal]
// for none) and a logref, and logs it with that logref: at error level
// when its kind's HTTP status is a 5xx, the server's fault, and at info
// level otherwise, the caller's. This is the one place the server logs a
// failed call.
func logFailure(ctx context.Context, log *slog.Logger, subject string, err error) *service.Error {
	var e *service.Error
	if !errors.As(err, &e) {
		e = &service.Error{Kind: service.KindOf(err), Err: err}
	}
	c := *e
	e = &c
	if e.Kind == service.KindOther {
		e.Kind = service.KindInternal
		if e.Message == "" && e.Err != nil {
			e.Message = e.Err.Error()
		}
	}
	if e.Logref == "" {
		e.Logref = newLogref()
	}
	level := slog.LevelInfo
	if e.Kind.HTTPStatus() >= 500 {
		level = slog.LevelError
	}
	if !log.Enabled(ctx, level) {
		return e
	}
	attrs := make([]slog.Attr, 0, 6)
	attrs = append(attrs, slog.String("logref", e.Logref))
	if e.Op != "" {
		attrs = append(attrs, slog.String("op", e.Op))
	}
	attrs = append(attrs, slog.String("kind", e.Kind.String()), slog.String("subject", subject), slog.String("error", e.Hyper().Message))
	if e.Err != nil {
		attrs = append(attrs, slog.String("cause", e.Err.Error()))
	}
	log.LogAttrs(ctx, level, "glyph: call failed", attrs...)
	return e
}

func newLogref() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
