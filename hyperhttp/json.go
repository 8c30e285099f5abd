package hyperhttp

import (
	"io"
	"net/http"

	"github.com/glyph-ipc/glyph/service"
)

// The JSON representation: responses for clients that send
// Accept: application/json, and request bodies of Content-Type
// application/json.

// writeValueJSON sends the value of a result as JSON.
// TODO(json): the JSON mapping; until then, the canonical form.
func (h *Handler) writeValueJSON(w http.ResponseWriter, r *http.Request, res *service.Result) {
	h.writeValueGlyph(w, r, res)
}

// writeErrorJSON sends an error as JSON.
// TODO(json): the JSON mapping; until then, the canonical form.
func (h *Handler) writeErrorJSON(w http.ResponseWriter, r *http.Request, e *service.Error, status int) {
	h.writeErrorGlyph(w, r, e, status)
}

// jsonEnvelope decodes a JSON request body, the arguments of a call.
func (h *Handler) jsonEnvelope(r *http.Request, x *exchange, req *service.Request, rd io.Reader, compressed bool) error {
	return &service.Error{Kind: service.KindUnsupported, Message: "JSON request bodies are not supported yet"}
}
