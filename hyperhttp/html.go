package hyperhttp

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
)

// The HTML representation: pages for browsers, which send
// Accept: text/html, and the forms they submit, of Content-Type
// application/x-www-form-urlencoded (POST) or as a query (GET).
// spec.md, section 11, states what a page holds and how fields bind.

// mediaURLForm is the media type of an HTML form's submission.
const mediaURLForm = "application/x-www-form-urlencoded"

// WithCrossOriginProtection sets the check that refuses cross-origin
// requests with side effects (every method but GET, HEAD and OPTIONS):
// those a page on another site can make a browser send with the user's
// cookies, an HTML form's POST first of all. The default is
// [http.NewCrossOriginProtection]'s, which reads the Sec-Fetch-Site
// header browsers send (and Origin from older ones) and lets requests
// without either, those of programs rather than browsers, through. Give
// one with trusted origins added to allow pages on other origins; nil
// turns the check off, for a handler behind a gateway that makes it.
func WithCrossOriginProtection(p *http.CrossOriginProtection) Option {
	return func(c *config) { c.crossOrigin, c.crossOriginSet = p, true }
}

// defaultCrossOrigin is the check of handlers without
// WithCrossOriginProtection; it holds no state but its configuration.
var defaultCrossOrigin = http.NewCrossOriginProtection()

// checkOrigin refuses a cross-origin request with side effects.
func (h *Handler) checkOrigin(r *http.Request) error {
	cop := defaultCrossOrigin
	if h.cfg.crossOriginSet {
		cop = h.cfg.crossOrigin
	}
	if cop == nil {
		return nil
	}
	if err := cop.Check(r); err != nil {
		return &service.Error{Kind: service.KindPermissionDenied, Message: "cross-origin request refused: " + err.Error(), Err: err}
	}
	return nil
}

// writeValueHTML sends the value of a result as a page: a stream as a
// list, item by item as they come.
func (h *Handler) writeValueHTML(w http.ResponseWriter, r *http.Request, res *service.Result) {
	if st, ok := res.Value.(service.Stream); ok {
		h.writeListHTML(w, r, res, st)
		return
	}
	v, err := plainValue(res.Value)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	p := h.newPage(r)
	if rs, ok := v.(hyper.Resource); ok && rs.Name != "" {
		p.Title, p.Heading = rs.Name, rs.Name
	}
	p.Value = viewOf(v, path.Base(r.URL.Path), 0)
	b, err := renderHTML("page", p)
	if err != nil {
		h.writeError(w, r, &service.Error{Kind: service.KindInternal, Message: "cannot render the page", Err: err})
		return
	}
	setHTMLHeaders(w.Header())
	h.writeEncoded(w, r, res, b, hdrHTML)
}

// writeListHTML sends a stream as a page listing its items, each sent as
// it comes. An error before the first item is an error page; after it,
// the last item of the list, since the status is sent.
func (h *Handler) writeListHTML(w http.ResponseWriter, r *http.Request, res *service.Result, st service.Stream) {
	hdr := w.Header()
	rc := http.NewResponseController(w)
	p := h.newPage(r)
	started := false
	start := func() bool {
		started = true
		setHTMLHeaders(hdr)
		hdr["Content-Type"] = hdrHTML
		h.cacheHeaders(hdr, res)
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return false
		}
		return h.writeTemplate(w, "stream-head", p)
	}
	for v, err := range st {
		if err == nil {
			v, err = plainValue(v)
		}
		if err != nil && !started {
			h.writeError(w, r, err)
			return
		}
		if !started && !start() {
			return
		}
		if err != nil {
			e := h.logFailure(r, err, "glyph: request failed after the response started")
			h.writeTemplate(w, "stream-item", viewOf(e.Hyper(), "", 0))
			break
		}
		if !h.writeTemplate(w, "stream-item", viewOf(v, "", 0)) {
			return
		}
		rc.Flush()
	}
	if !started && !start() {
		return
	}
	h.writeTemplate(w, "stream-foot", p)
}

// writeTemplate writes the template name for data, reporting whether it
// could: a failure is the client's going away.
func (h *Handler) writeTemplate(w io.Writer, name string, data any) bool {
	return htmlTemplates.ExecuteTemplate(w, name, data) == nil
}

// writeStatusHTML answers a browser for a result without a body, which a
// browser would not show: 201 stays 201 with a page linking to the new
// resource; 204 becomes 200 with a page saying there is nothing to show
// (a browser does not leave the form's page on 204). 303 needs nothing:
// the browser follows it as the API does.
func (h *Handler) writeStatusHTML(w http.ResponseWriter, r *http.Request, res *service.Result) {
	p := h.newPage(r)
	status := http.StatusOK
	if res.Status == service.StatusCreated {
		status = http.StatusCreated
		w.Header().Set("Location", res.Location)
		p.Heading = "Created"
		p.Value = viewOf(hyper.Link{URL: res.Location}, "", 0)
	} else {
		p.Heading = "Done"
		p.Value = htmlView{Kind: "note", Text: "the call returned nothing"}
	}
	b, err := renderHTML("page", p)
	if err != nil {
		h.writeError(w, r, &service.Error{Kind: service.KindInternal, Message: "cannot render the page", Err: err})
		return
	}
	hdr := w.Header()
	setHTMLHeaders(hdr)
	hdr["Cache-Control"] = hdrNoStore
	writeBody(w, r, status, hdrHTML, b)
}

// writeErrorHTML sends an error as a page: the status, the message and
// the logref.
func (h *Handler) writeErrorHTML(w http.ResponseWriter, r *http.Request, e *service.Error, status int) {
	p := h.newPage(r)
	he := e.Hyper()
	p.Title = http.StatusText(status)
	p.Heading = http.StatusText(status)
	if p.Heading == "" {
		p.Title, p.Heading = "Error", "Error"
	}
	p.Heading = strings.TrimSpace(strconv.Itoa(status) + " " + p.Heading)
	p.Error = &htmlError{Message: strings.ToValidUTF8(he.Message, "\uFFFD"), Logref: he.Logref, Kind: e.Kind.String()}
	b, err := renderHTML("error-page", p)
	if err != nil {
		// Only a template bug gets here: fall back to the canonical form.
		h.writeErrorGlyph(w, r, e, status)
		return
	}
	hdr := w.Header()
	setHTMLHeaders(hdr)
	writeBody(w, r, status, hdrHTML, b)
}

// urlFormEnvelope decodes an HTML form's submission, the arguments of a
// call: fields by input name, converted by the input types of the form
// the service describes for the request's URL. A _method field sets the
// method the POST stands for.
func (h *Handler) urlFormEnvelope(r *http.Request, x *exchange, req *service.Request, rd io.Reader, compressed bool) error {
	limit := h.cfg.maxRequestBytes
	if !compressed && r.ContentLength > limit {
		return tooLarge(limit)
	}
	x.body.limited = x.lim.reset(rd, limit)
	b, err := io.ReadAll(x.body.limited)
	if err != nil {
		return x.body.blame(readError(err))
	}
	override, err := h.bindForm(r.Context(), req, string(b))
	if err != nil {
		return err
	}
	if override != "" && r.Method == http.MethodPost {
		switch override {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			req.Method = override
		default:
			return &service.Error{Kind: service.KindMethodNotAllowed, Message: "method " + quoteShort(override) + " in " + fieldMethod + " is not supported (POST, PUT, PATCH, DELETE)"}
		}
	}
	return nil
}

// isFormQuery reports whether a query is an HTML form's submission with
// GET, marked by the _charset_ field every form of a page carries: a
// glyph query envelope or instance state never holds "=".
func isFormQuery(q string) bool {
	return strings.HasPrefix(q, fieldCharset+"=") || strings.Contains(q, "&"+fieldCharset+"=")
}

// urlFormQuery decodes the query of an HTML form sent with GET (a safe
// function's form) into the request's arguments.
func (h *Handler) urlFormQuery(r *http.Request, req *service.Request) error {
	q := req.Query
	req.Query = ""
	_, err := h.bindForm(r.Context(), req, q)
	return err
}

// bindForm parses urlencoded fields and binds them to the inputs of the
// form the service describes at req's path (req.Query being only an
// instance's state), setting req.Args. It returns the _method field.
func (h *Handler) bindForm(ctx context.Context, req *service.Request, encoded string) (string, error) {
	if n := strings.Count(encoded, "&") + 1; n > maxFormFields {
		return "", &service.Error{Kind: service.KindTooLarge, Message: "the form has more than " + strconv.Itoa(maxFormFields) + " fields"}
	}
	fields, err := url.ParseQuery(encoded)
	if err != nil {
		return "", &service.Error{Kind: service.KindInvalid, Message: "bad form fields: " + err.Error()}
	}
	form, err := h.describe(ctx, req)
	if err != nil {
		return "", err
	}
	args, override, err := formArgsOf(form, fields)
	if err != nil {
		return "", &service.Error{Kind: service.KindInvalid, Message: "bad form: " + err.Error()}
	}
	req.Args = args
	return override, nil
}

// describe returns the form the service offers at req's path, whose
// inputs say how to convert fields; a link or anything else has no
// inputs, and its fields are then taken as text.
func (h *Handler) describe(ctx context.Context, req *service.Request) (hyper.Form, error) {
	res, err := h.svc.Serve(ctx, &service.Request{Method: http.MethodGet, Root: req.Root, Path: req.Path,
		Query: req.Query, Header: req.Header, Describe: true, FollowUp: true})
	if err != nil {
		return hyper.Form{}, err
	}
	f, _ := res.Value.(hyper.Form)
	return f, nil
}

// hdrBlobCSP is the Content-Security-Policy of a raw blob: a sandbox, so
// that content a function passes on (an HTML page, an SVG) cannot run
// script as this origin when a browser opens it.
var hdrBlobCSP = []string{"sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"}
