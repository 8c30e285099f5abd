package hyperhttp

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// MediaType is the hyperglyph media type.
const MediaType = "application/vnd.hyperglyph"

// Config configures a Handler. The zero value is valid: defaults apply to
// zero fields.
type Config struct {
	// Root is the absolute path the handler is mounted at, ending in "/"
	// (default "/"). Requests outside it get 404.
	Root string
	// MaxRequestBytes bounds a hyperglyph request body (after gzip
	// decompression); larger bodies get 413. Default 8 MiB.
	MaxRequestBytes int64
	// MaxBlobBytes bounds a raw request body sent with the blob envelope
	// (streamed to the function, never held in memory). Default 1 GiB.
	MaxBlobBytes int64
	// Limits bound the decoding of hyperglyph request bodies.
	Limits wire.Limits
	// BlobsAsGlyph sends a result that is a single blob glyph-encoded
	// instead of as the raw HTTP body. The Python reference client
	// expects that.
	BlobsAsGlyph bool
	// NoGzip disables gzip responses.
	NoGzip bool
	// Logger receives server-side errors; default slog.Default().
	Logger *slog.Logger
}

// Handler serves a service.Service over HTTP with the hyperglyph 1.0
// mapping: GET for links and pages, POST (or the Method header) for forms,
// the form, query, blob and none envelopes, 201/204/303, error bodies,
// gzip both ways, strong ETags with 304s on safe GETs.
type Handler struct {
	svc *service.Service
	cfg Config
}

// NewHandler returns a Handler serving svc.
func NewHandler(svc *service.Service, cfg Config) *Handler {
	if cfg.Root == "" {
		cfg.Root = "/"
	}
	if !strings.HasSuffix(cfg.Root, "/") {
		cfg.Root += "/"
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = 8 << 20
	}
	if cfg.MaxBlobBytes == 0 {
		cfg.MaxBlobBytes = 1 << 30
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handler{svc: svc, cfg: cfg}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Accept, Accept-Encoding")
	req, err := h.request(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	res, err := h.svc.Serve(r.Context(), req)
	if req.Blob != nil {
		// Whatever the function did not read is discarded.
		io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeResult(w, r, req, res)
}

// method returns the effective request method: the Method header wins.
func method(r *http.Request) string {
	if m := r.Header.Get("Method"); m != "" {
		return strings.ToUpper(m)
	}
	return r.Method
}

// request translates an HTTP request into a service request.
func (h *Handler) request(w http.ResponseWriter, r *http.Request) (*service.Request, error) {
	if !strings.HasPrefix(r.URL.Path, h.cfg.Root) {
		if r.URL.Path+"/" == h.cfg.Root {
			return &service.Request{Method: "GET", Root: h.cfg.Root}, nil
		}
		return nil, &service.Error{Kind: service.NotFound, Message: "not under " + h.cfg.Root}
	}
	m := method(r)
	req := &service.Request{
		Root:   h.cfg.Root,
		Path:   strings.TrimPrefix(r.URL.Path, h.cfg.Root),
		Query:  r.URL.RawQuery,
		Method: "POST",
	}
	switch m {
	case "GET", "HEAD":
		req.Method = "GET"
		return req, nil
	case "POST", "PUT", "PATCH", "DELETE":
	default:
		return nil, &service.Error{Kind: service.MethodNotAllowed, Message: "method " + m + " is not supported"}
	}
	if len(r.Header) > 0 {
		req.Header = map[string]string{}
		for k, v := range r.Header {
			if len(v) > 0 {
				req.Header[k] = v[0]
			}
		}
	}
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return req, nil // the none envelope
	}
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return nil, &service.Error{Kind: service.Unsupported, Message: "bad Content-Type: " + err.Error()}
	}
	_ = params
	body := r.Body
	if enc := r.Header.Get("Content-Encoding"); enc != "" {
		if !strings.EqualFold(enc, "gzip") {
			return nil, &service.Error{Kind: service.Unsupported, Message: "unsupported Content-Encoding " + enc}
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, &service.Error{Kind: service.Invalid, Message: "bad gzip body: " + err.Error()}
		}
		body = zr
	}
	if ct == MediaType {
		// The form envelope: an (ordered) dict of arguments.
		lr := &limitReader{r: body, n: h.cfg.MaxRequestBytes}
		dec := wire.NewDecoderConfig(lr, wire.DecodeConfig{Limits: h.cfg.Limits})
		var args any
		if err := dec.Decode(&args); err != nil {
			if lr.over {
				return nil, &service.Error{Kind: service.TooLarge, Message: "request body over " + itoa(h.cfg.MaxRequestBytes) + " bytes"}
			}
			var le *wire.LimitError
			if errors.As(err, &le) {
				return nil, &service.Error{Kind: service.TooLarge, Message: err.Error()}
			}
			return nil, &service.Error{Kind: service.Invalid, Message: "bad request body: " + err.Error()}
		}
		switch a := args.(type) {
		case *wire.OrderedDict:
			req.Args = a
		case map[string]any:
			req.Args = &wire.OrderedDict{}
			for k, v := range a {
				req.Args.Set(k, v)
			}
		case nil:
		case []any:
			req.Positional = a
		default:
			return nil, &service.Error{Kind: service.Invalid, Message: "request body is " + wire.TypeName(args) + ", expected a dict of arguments"}
		}
		if err := dec.Finish(); err != nil {
			return nil, &service.Error{Kind: service.Invalid, Message: "bad request body: " + err.Error()}
		}
		return req, nil
	}
	// The blob envelope: the raw body is the single argument.
	if ct == "" {
		ct = "application/octet-stream"
	}
	req.Blob = wire.NewBlob(ct, &limitReader{r: body, n: h.cfg.MaxBlobBytes})
	if cd := r.Header.Get("Content-Disposition"); cd != "" {
		if _, p, err := mime.ParseMediaType(cd); err == nil {
			req.BlobName = p["name"]
		}
	}
	return req, nil
}

// limitReader fails with a TooLarge error after n bytes.
type limitReader struct {
	r    io.Reader
	n    int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe for one more byte: exactly n bytes is fine.
		var b [1]byte
		k, err := l.r.Read(b[:])
		if k > 0 {
			l.over = true
			return 0, &service.Error{Kind: service.TooLarge, Message: "request body too large"}
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeResult sends a service result.
func (h *Handler) writeResult(w http.ResponseWriter, r *http.Request, req *service.Request, res *service.Result) {
	hdr := w.Header()
	switch res.Status {
	case service.SeeOther:
		hdr.Set("Location", res.Location)
		hdr.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusSeeOther)
		return
	case service.Created:
		hdr.Set("Location", res.Location)
		hdr.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusCreated)
		return
	case service.NoContent:
		h.cacheHeaders(hdr, req, res)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if res.Value == nil {
		h.cacheHeaders(hdr, req, res)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if b, ok := res.Value.(*wire.Blob); ok && !h.cfg.BlobsAsGlyph {
		h.writeBlob(w, r, req, res, b)
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	buf.Reset()
	// Values holding blobs stream; everything else is encoded first so it
	// gets an ETag and a Content-Length.
	if hasBlob(res.Value) {
		hdr.Set("Content-Type", MediaType)
		h.cacheHeaders(hdr, req, res)
		out, closeOut := h.compress(w, r, -1)
		bw := bufio.NewWriterSize(out, 32<<10)
		if err := wire.NewEncoder(bw).Encode(res.Value); err != nil {
			h.cfg.Logger.Error("glyph: writing response", slog.String("path", r.URL.Path), slog.Any("error", err))
		}
		bw.Flush()
		closeOut()
		return
	}
	b, err := wire.AppendMarshal(buf.Bytes(), res.Value)
	if err != nil {
		h.writeError(w, r, &service.Error{Kind: service.Internal, Message: "cannot encode the result: " + err.Error(), Err: err})
		return
	}
	hdr.Set("Content-Type", MediaType)
	h.cacheHeaders(hdr, req, res)
	if res.Cacheable {
		etag := etagOf(b)
		hdr.Set("ETag", etag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.writeBody(w, r, b)
}

func (h *Handler) cacheHeaders(hdr http.Header, req *service.Request, res *service.Result) {
	switch {
	case !res.Cacheable:
		hdr.Set("Cache-Control", "no-store")
	case res.CacheControl != "":
		hdr.Set("Cache-Control", res.CacheControl)
	default:
		// Revalidate with the ETag before reuse.
		hdr.Set("Cache-Control", "no-cache")
	}
}

// writeBody writes an encoded body, gzipped when the client accepts it
// and it is worth it.
func (h *Handler) writeBody(w http.ResponseWriter, r *http.Request, b []byte) {
	if len(b) >= 1024 && h.acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(w)
		zw.Write(b)
		zw.Close()
		gzipPool.Put(zw)
		return
	}
	w.Header().Set("Content-Length", itoa(int64(len(b))))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

var gzipPool = sync.Pool{New: func() any { zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return zw }}

func (h *Handler) acceptsGzip(r *http.Request) bool {
	if h.cfg.NoGzip {
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && !strings.Contains(strings.ReplaceAll(q, " ", ""), "q=0") {
			return true
		}
	}
	return false
}

// compress returns a writer for a streamed body (size unknown: -1) and a
// function that finishes it.
func (h *Handler) compress(w http.ResponseWriter, r *http.Request, size int64) (io.Writer, func()) {
	if h.acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusOK)
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(w)
		return zw, func() { zw.Close(); gzipPool.Put(zw) }
	}
	w.WriteHeader(http.StatusOK)
	return w, func() {}
}

func (h *Handler) writeBlob(w http.ResponseWriter, r *http.Request, req *service.Request, res *service.Result, b *wire.Blob) {
	defer b.Close()
	hdr := w.Header()
	ct := b.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	hdr.Set("Content-Type", ct)
	h.cacheHeaders(hdr, req, res)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	out, done := w, func() {}
	if !isCompressed(ct) {
		var o io.Writer
		o, done = h.compress(w, r, -1)
		if zw, ok := o.(*gzip.Writer); ok {
			if _, err := io.Copy(zw, b); err != nil {
				h.cfg.Logger.Error("glyph: writing blob", slog.String("path", r.URL.Path), slog.Any("error", err))
			}
			done()
			return
		}
	} else {
		w.WriteHeader(http.StatusOK)
	}
	if _, err := io.Copy(out, b); err != nil {
		h.cfg.Logger.Error("glyph: writing blob", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	done()
}

func isCompressed(ct string) bool {
	return strings.HasPrefix(ct, "image/") || strings.HasPrefix(ct, "video/") || strings.HasPrefix(ct, "audio/") ||
		strings.Contains(ct, "zip") || strings.Contains(ct, "compressed")
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

func etagMatch(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		if p == "*" || p == etag || strings.TrimPrefix(p, "W/") == etag {
			return true
		}
	}
	return false
}

// hasBlob reports whether v holds a blob anywhere, so it must stream.
func hasBlob(v any) bool {
	switch x := v.(type) {
	case *wire.Blob:
		return true
	case []any:
		for _, it := range x {
			if hasBlob(it) {
				return true
			}
		}
	case map[string]any:
		for _, it := range x {
			if hasBlob(it) {
				return true
			}
		}
	case hyper.Resource:
		return hasBlob(x.Content)
	case hyper.Link:
		return hasBlob(x.Content)
	}
	return false
}

// writeError sends an error as its HTTP status with an error body.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *service.Error
	if !errors.As(err, &e) {
		e = &service.Error{Kind: service.KindOf(err), Message: err.Error()}
		if e.Kind == service.Other {
			e.Kind = service.Internal
		}
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // nobody is listening
	}
	status := e.Kind.HTTPStatus()
	if e.Logref == "" {
		// Every error body carries a logref (clients show it); client
		// errors are logged at debug level only.
		c := *e
		c.Logref = newLogref()
		e = &c
		h.cfg.Logger.Debug("glyph: request failed", slog.String("logref", e.Logref), slog.String("path", r.URL.Path), slog.String("error", e.Error()))
	}
	body := hyper.Error{Logref: e.Logref, Message: e.Message, Code: int64(status)}
	if body.Message == "" {
		body.Message = e.Error()
	}
	if e.Op != "" {
		body.Message = e.Op + ": " + body.Message
	}
	b, merr := wire.Marshal(body)
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	if merr != nil {
		http.Error(w, e.Error(), status)
		return
	}
	if e.Kind == service.MethodNotAllowed {
		hdr.Set("Allow", "GET, POST")
	}
	hdr.Set("Content-Type", MediaType)
	hdr.Set("Content-Length", itoa(int64(len(b))))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

func newLogref() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
