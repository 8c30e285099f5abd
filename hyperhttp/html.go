package hyperhttp

import (
	"io"
	"net/http"

	"github.com/glyph-ipc/glyph/service"
)

// The HTML representation: pages for browsers, which send
// Accept: text/html, and the forms they submit, of Content-Type
// application/x-www-form-urlencoded.

// mediaURLForm is the media type of an HTML form's submission.
const mediaURLForm = "application/x-www-form-urlencoded"

// writeValueHTML sends the value of a result as a page.
// TODO(html): pages; until then, the canonical form.
func (h *Handler) writeValueHTML(w http.ResponseWriter, r *http.Request, res *service.Result) {
	h.writeValueGlyph(w, r, res)
}

// writeErrorHTML sends an error as a page.
// TODO(html): pages; until then, the canonical form.
func (h *Handler) writeErrorHTML(w http.ResponseWriter, r *http.Request, e *service.Error, status int) {
	h.writeErrorGlyph(w, r, e, status)
}

// urlFormEnvelope decodes an HTML form's submission, the arguments of a
// call.
func (h *Handler) urlFormEnvelope(r *http.Request, x *exchange, req *service.Request, rd io.Reader, compressed bool) error {
	return &service.Error{Kind: service.KindUnsupported, Message: "HTML form submissions are not supported yet"}
}
