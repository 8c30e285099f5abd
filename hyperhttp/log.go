package hyperhttp

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// logFailure returns err as the *[service.Error] to report, with a kind
// ([service.KindInternal] for none) and a logref, and logs it with msg and that
// logref: at error level when the status is a 5xx, the server's fault,
// and at info level when it is a 4xx, the client's. This is the one
// place the handler logs a failed request.
func (h *Handler) logFailure(r *http.Request, err error, msg string) *service.Error {
	var e *service.Error
	if !errors.As(err, &e) {
		e = &service.Error{Kind: service.KindOf(err), Err: err}
	}
	c := *e
	e = &c
	if e.Kind == service.KindOther {
		e.Kind = service.KindInternal
	}
	status := e.Kind.HTTPStatus()
	if e.Logref == "" {
		e.Logref = newLogref()
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	log := h.log()
	if !log.Enabled(r.Context(), level) {
		return e
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("logref", e.Logref))
	if e.Op != "" {
		attrs = append(attrs, slog.String("op", e.Op))
	}
	attrs = append(attrs, slog.String("kind", e.Kind.String()), slog.Int("status", status),
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", e.Hyper().Message))
	if e.Err != nil {
		attrs = append(attrs, slog.String("cause", e.Err.Error()))
	}
	log.LogAttrs(r.Context(), level, msg, attrs...)
	return e
}

// logRequest logs one line at debug level for a request served since
// start: its method and path, and the status and body size of the
// response tw sent.
func logRequest(log *slog.Logger, r *http.Request, tw *trackingWriter, start time.Time) {
	log.LogAttrs(r.Context(), slog.LevelDebug, "glyph: request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", tw.status),
		slog.Duration("duration", time.Since(start)), slog.Int64("bytes", tw.bytes))
}

func newLogref() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
