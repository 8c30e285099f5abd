package hyperhttp

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/glyph-ipc/glyph/internal/faillog"
	"github.com/glyph-ipc/glyph/service"
)

// logFailure returns err as the *[service.Error] to report, with a kind
// ([service.KindInternal] for none) and a logref, and logs it with msg
// and that logref (package faillog). This is the one place the handler
// logs a failed request.
func (h *Handler) logFailure(r *http.Request, err error, msg string) *service.Error {
	e := faillog.Error(err)
	if e.Logref == "" {
		e.Logref = faillog.NewLogref()
	}
	status := e.Kind.HTTPStatus()
	faillog.Log(r.Context(), h.log(), msg, e, slog.Int("status", status),
		slog.String("method", r.Method), slog.String("path", r.URL.Path))
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
