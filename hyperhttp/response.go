package hyperhttp

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// gzipMinBytes is the smallest encoded body worth compressing.
const gzipMinBytes = 1024

// bufPool holds encoding buffers, so a response costs no allocation for
// its body once the pool is warm.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// gzipPool holds gzip writers: each holds a few hundred KiB of state.
var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

func getGzip(w io.Writer) *gzip.Writer {
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(w)
	return zw
}

// putGzip returns zw to the pool, without the response it wrote to.
func putGzip(zw *gzip.Writer) {
	zw.Reset(io.Discard)
	gzipPool.Put(zw)
}

// Header values the handler sets on every response, assigned to the
// header map directly instead of with Header.Set, which allocates a new
// []string each time. They are shared by all responses: net/http and
// httptest copy them when the header is written, Header.Add appends to a
// new array (their capacity is their length), and nothing in the handler
// changes one in place.
var (
	hdrVary        = []string{"Accept, Accept-Encoding"}
	hdrMediaType   = []string{MediaType}
	hdrNoStore     = []string{"no-store"}
	hdrNoCache     = []string{"no-cache"}
	hdrGzip        = []string{"gzip"}
	hdrNosniff     = []string{"nosniff"}
	contentLengths [256][]string // Content-Length values of small bodies
)

func init() {
	for i := range contentLengths {
		contentLengths[i] = []string{strconv.Itoa(i)}
	}
}

// setContentLength sets the Content-Length header to n.
func setContentLength(hdr http.Header, n int) {
	if n < len(contentLengths) {
		hdr["Content-Length"] = contentLengths[n]
		return
	}
	hdr["Content-Length"] = []string{strconv.Itoa(n)}
}

// writeResult sends a service result: statuses without a body and a
// single blob as the raw body the same way for every representation,
// any other value in the representation the request negotiated.
func (h *Handler) writeResult(w http.ResponseWriter, r *http.Request, res *service.Result) {
	hdr := w.Header()
	if (res.Status == service.StatusCreated || res.Status == service.StatusNoContent || res.Value == nil) &&
		res.Status != service.StatusSeeOther && negotiate(r) == representationHTML {
		h.writeStatusHTML(w, r, res)
		return
	}
	switch {
	case res.Status == service.StatusSeeOther || res.Status == service.StatusCreated:
		status := http.StatusSeeOther
		if res.Status == service.StatusCreated {
			status = http.StatusCreated
		}
		hdr.Set("Location", res.Location)
		hdr["Cache-Control"] = hdrNoStore
		w.WriteHeader(status)
		return
	case res.Status == service.StatusNoContent || res.Value == nil:
		h.cacheHeaders(hdr, res)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if b, ok := res.Value.(*wire.Blob); ok && h.sendRaw(r, b) {
		h.writeBlob(w, r, res, b)
		return
	}
	switch negotiate(r) {
	case representationJSON:
		h.writeValueJSON(w, r, res)
	case representationHTML:
		h.writeValueHTML(w, r, res)
	default:
		h.writeValueGlyph(w, r, res)
	}
}

// writeValueGlyph sends the value of a result in the hyperglyph encoding:
// a stream as a list flushed item by item, a value holding blobs
// streamed, any other value encoded whole.
func (h *Handler) writeValueGlyph(w http.ResponseWriter, r *http.Request, res *service.Result) {
	if st, ok := res.Value.(service.Stream); ok {
		h.writeList(w, r, res, st, &glyphList)
		return
	}
	if hasBlob(res.Value) {
		h.writeStream(w, r, res)
		return
	}
	bp := bufPool.Get().(*[]byte)
	b, err := wire.AppendMarshal((*bp)[:0], res.Value)
	defer func() {
		if cap(b) <= 1<<20 {
			*bp = b[:0]
			bufPool.Put(bp)
		}
	}()
	if err != nil {
		h.writeError(w, r, &service.Error{Kind: service.KindInternal, Message: "cannot encode the result", Err: err})
		return
	}
	h.writeEncoded(w, r, res, b, hdrMediaType)
}

// writeEncoded sends an encoded body b of content type ct (a shared
// header value, see hdrMediaType) with the result's caching headers: a
// strong ETag for a cacheable answer, and 304 when If-None-Match holds
// it; gzipped when it is large enough and the client accepts it.
func (h *Handler) writeEncoded(w http.ResponseWriter, r *http.Request, res *service.Result, b []byte, ct []string) {
	hdr := w.Header()
	gz := len(b) >= gzipMinBytes && h.acceptsGzip(r) && !looksCompressed(b)
	h.cacheHeaders(hdr, res)
	if res.Cacheable {
		etag := etagOf(b, gz)
		hdr["Etag"] = []string{etag}
		if inm := headerValue(r.Header, "If-None-Match"); inm != "" && etagMatch(inm, etag) {
			// A 304 carries the validators and caching headers of the
			// 200 it stands for, and nothing about a body.
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	hdr["Content-Type"] = ct
	if !gz {
		setContentLength(hdr, len(b))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(b)
		}
		return
	}
	hdr["Content-Encoding"] = hdrGzip
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		zw := getGzip(w)
		zw.Write(b)
		zw.Close()
		putGzip(zw)
	}
}

// writeStream sends a glyph value that holds blobs: the root object, then
// each blob's content in chunks as it is read, without an ETag or a
// Content-Length. An encoding failure before anything was sent is a 500;
// after that the response is aborted, so the client sees a broken
// response rather than a short one.
func (h *Handler) writeStream(w http.ResponseWriter, r *http.Request, res *service.Result) {
	hdr := w.Header()
	hdr["Content-Type"] = hdrMediaType
	h.cacheHeaders(hdr, res)
	if r.Method == http.MethodHead {
		forEachBlob(res.Value, func(b *wire.Blob) { b.Close() })
		w.WriteHeader(http.StatusOK)
		return
	}
	lw := &lazyWriter{w: w}
	var out io.Writer = lw
	var zw *gzip.Writer
	if h.acceptsGzip(r) {
		zw = getGzip(lw)
		out = zw
		lw.start = func() { hdr["Content-Encoding"] = hdrGzip }
	}
	bw := bufio.NewWriterSize(out, 32<<10)
	err := wire.NewEncoder(bw).Encode(res.Value)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && zw != nil {
		err = zw.Close()
	}
	if zw != nil {
		putGzip(zw)
	}
	if err == nil {
		return
	}
	forEachBlob(res.Value, func(b *wire.Blob) { b.Close() })
	if !lw.started {
		hdr.Del("Content-Encoding")
		h.writeError(w, r, &service.Error{Kind: service.KindInternal, Message: "cannot encode the result", Err: err})
		return
	}
	if r.Context().Err() == nil {
		h.log().Error("glyph: writing the response failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	panic(http.ErrAbortHandler)
}

// writeList sends a streamed result as one list in the format f (a glyph
// list, a JSON array), each item sent (and flushed) as the function
// produces it: `L` and the first item, the next items, then the closing
// `;`. Nothing is sent before the first item, so an error then is an
// ordinary error response. After it, an error (the stream's, or an item
// that cannot be encoded) is logged and aborts the response, so that the
// client sees a broken list rather than a short one. In a glyph list, an
// item holding a blob is such an error: a blob's content follows the
// message it is in, here the whole list. HEAD reads the first item only,
// for the status.
func (h *Handler) writeList(w http.ResponseWriter, r *http.Request, res *service.Result, st service.Stream, f *listFormat) {
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	var zw *gzip.Writer
	defer func() {
		if cap(b) <= 1<<20 {
			*bp = b[:0]
			bufPool.Put(bp)
		}
		if zw != nil {
			putGzip(zw)
		}
	}()
	hdr := w.Header()
	gz := h.acceptsGzip(r)
	head := func() {
		hdr["Content-Type"] = f.contentType
		h.cacheHeaders(hdr, res)
		if gz {
			hdr["Content-Encoding"] = hdrGzip
		}
	}
	rc := http.NewResponseController(w)
	var out io.Writer = w
	started := false
	var failed error
	for v, err := range st {
		b = b[:0]
		if !started {
			b = append(b, f.open...)
		} else {
			b = append(b, f.sep...)
		}
		if err == nil {
			b, err = f.item(b, v)
		}
		if err != nil {
			failed = err
			break
		}
		if !started {
			started = true
			head()
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodHead {
				return
			}
			if gz {
				zw = getGzip(w)
				out = zw
			}
		}
		if _, err := out.Write(b); err != nil {
			failed = err
			break
		}
		if zw != nil {
			zw.Flush()
		}
		rc.Flush()
	}
	switch {
	case failed != nil && !started:
		h.writeError(w, r, failed)
		return
	case failed != nil:
		if r.Context().Err() == nil {
			h.logFailure(r, failed, "glyph: request failed after the response started")
		}
		panic(http.ErrAbortHandler)
	case !started:
		// An empty stream: the empty list, too short to compress.
		gz = false
		head()
		setContentLength(hdr, len(f.open)+len(f.close))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			io.WriteString(w, f.open+f.close)
		}
		return
	}
	_, err := io.WriteString(out, f.close)
	if err == nil && zw != nil {
		err = zw.Close()
	}
	if err != nil {
		panic(http.ErrAbortHandler)
	}
}

// listFormat is how [Handler.writeList] writes a list in one
// representation.
type listFormat struct {
	open, sep, close string
	contentType      []string
	// item appends an item, or fails with a *service.Error.
	item func(b []byte, v any) ([]byte, error)
}

// glyphList writes a hyperglyph list.
var glyphList = listFormat{open: "L", close: ";", contentType: hdrMediaType, item: func(b []byte, v any) ([]byte, error) {
	if hasBlob(v) {
		return b, &service.Error{Kind: service.KindInternal, Message: "a streamed item holds a blob, which cannot be streamed in a list"}
	}
	b, err := wire.AppendMarshal(b, v)
	if err != nil {
		return b, &service.Error{Kind: service.KindInternal, Message: "cannot encode the result", Err: err}
	}
	return b, nil
}}

// lazyWriter sends the 200 header on the first write, so that an error
// before any output can still become an error response.
type lazyWriter struct {
	w       http.ResponseWriter
	start   func() // called before the header is sent
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		if l.start != nil {
			l.start()
		}
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}

// sendRaw reports whether a result that is a single blob goes out as the
// raw HTTP body with the blob's content type: yes, unless BlobsAsGlyph is
// set or the request accepts the hyperglyph media type but not the blob's
// type.
func (h *Handler) sendRaw(r *http.Request, b *wire.Blob) bool {
	if h.cfg.blobsAsGlyph {
		return false
	}
	accept := r.Header["Accept"]
	if len(accept) == 0 {
		return true
	}
	ct, _, err := mime.ParseMediaType(blobType(b))
	if err != nil {
		ct = "application/octet-stream"
	}
	major, _, _ := strings.Cut(ct, "/")
	glyph, raw := false, false
	for _, line := range accept {
		for _, part := range strings.Split(line, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || !positiveQ(params) {
				continue
			}
			switch mt {
			case MediaType:
				glyph = true
			case ct, major + "/*", "*/*":
				raw = true
			}
		}
	}
	return raw || !glyph
}

// positiveQ reports whether the q parameter of an Accept or
// Accept-Encoding element is absent or above zero.
func positiveQ(params map[string]string) bool {
	q, ok := params["q"]
	if !ok {
		return true
	}
	v, err := strconv.ParseFloat(q, 64)
	return err == nil && v > 0
}

func blobType(b *wire.Blob) string {
	if b.ContentType == "" {
		return "application/octet-stream"
	}
	return b.ContentType
}

// writeBlob sends a blob as the raw body with its content type, streamed,
// gzipped when the client accepts it and the type is not compressed
// already.
func (h *Handler) writeBlob(w http.ResponseWriter, r *http.Request, res *service.Result, b *wire.Blob) {
	defer b.Close()
	hdr := w.Header()
	ct := blobType(b)
	hdr.Set("Content-Type", ct)
	hdr["X-Content-Type-Options"] = hdrNosniff
	if negotiate(r) == representationHTML {
		hdr["Content-Security-Policy"] = hdrBlobCSP
	}
	h.cacheHeaders(hdr, res)
	gz := h.acceptsGzip(r) && compressible(ct)
	if gz {
		hdr["Content-Encoding"] = hdrGzip
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	var err error
	if gz {
		zw := getGzip(w)
		_, err = io.Copy(zw, b)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		putGzip(zw)
	} else {
		_, err = io.Copy(w, b)
	}
	if err != nil {
		if r.Context().Err() == nil {
			h.log().Error("glyph: writing a blob failed", slog.String("path", r.URL.Path), slog.Any("error", err))
		}
		panic(http.ErrAbortHandler)
	}
}

// Bodies of at least sampledMinBytes are sampled before they are gzipped:
// sampleBytes from their start, middle and end.
const (
	sampledMinBytes = 16 << 10
	sampleBytes     = 1 << 10
)

// looksCompressed reports whether a large encoded body is bytes that gzip
// cannot shrink (a bytes value holding an image, an archive, encrypted or
// random data): each of its samples holds nearly every byte value. In
// text, and in the encoding of strings, numbers and structures, a few
// dozen byte values make up most of 1 KiB; in 1 KiB of random bytes about
// 250 of the 256 occur. It costs a few microseconds, and saves gzip's
// 10 ms per MiB on such a body.
func looksCompressed(b []byte) bool {
	if len(b) < sampledMinBytes {
		return false
	}
	for _, start := range [3]int{0, len(b)/2 - sampleBytes/2, len(b) - sampleBytes} {
		var seen [256]bool
		distinct := 0
		for _, c := range b[start : start+sampleBytes] {
			if !seen[c] {
				seen[c] = true
				distinct++
			}
		}
		if distinct < 200 {
			return false
		}
	}
	return true
}

// compressible reports whether gzip is likely to make content of type ct
// smaller: not for formats that are compressed already, nor for
// application/octet-stream, which says nothing of its content: archives,
// media and encrypted or random bytes as often as not, which gzip only
// slows down (to a fifth of what loopback carries, for 64 MiB of random
// bytes: bench/README.md).
func compressible(ct string) bool {
	ct = strings.ToLower(ct)
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(mt) == "application/octet-stream" {
		return false
	}
	switch {
	case strings.HasPrefix(ct, "text/"), strings.Contains(ct, "json"), strings.Contains(ct, "xml"),
		strings.Contains(ct, "javascript"), strings.HasPrefix(ct, "image/svg"), strings.HasPrefix(ct, "image/bmp"):
		return true
	case strings.HasPrefix(ct, "image/"), strings.HasPrefix(ct, "video/"), strings.HasPrefix(ct, "audio/"),
		strings.HasPrefix(ct, "font/woff"), strings.Contains(ct, "zip"), strings.Contains(ct, "compress"),
		strings.Contains(ct, "zstd"), strings.Contains(ct, "bzip"), strings.Contains(ct, "x-xz"),
		strings.Contains(ct, "brotli"), strings.Contains(ct, "rar"), strings.Contains(ct, "7z"):
		return false
	}
	return true
}

// acceptsGzip reports whether the response may be gzipped: the client
// lists gzip in Accept-Encoding with a non-zero quality.
func (h *Handler) acceptsGzip(r *http.Request) bool {
	if h.cfg.noGzip {
		return false
	}
	for _, line := range r.Header["Accept-Encoding"] {
		for _, part := range strings.Split(line, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			_, q, hasQ := strings.Cut(strings.ReplaceAll(params, " ", ""), "q=")
			if !hasQ || positiveQ(map[string]string{"q": q}) {
				return true
			}
		}
	}
	return false
}

// etagOf returns the entity tag of an encoded body: strong for the
// identity encoding, weak when the body is sent gzipped (the gzip bytes
// are not promised to be the same everywhere). Equal values encode to
// equal bytes, so every replica gives the same answer the same tag.
func etagOf(b []byte, gzipped bool) string {
	sum := sha256.Sum256(b)
	// W/" then 24 base64 characters and ", built in place: one string.
	var tag [2 + 1 + 24 + 1]byte
	t := tag[:0]
	if gzipped {
		t = append(t, "W/"...)
	}
	t = append(t, '"')
	t = base64.RawURLEncoding.AppendEncode(t, sum[:18])
	t = append(t, '"')
	return string(t)
}

// etagMatch implements If-None-Match: the weak comparison of RFC 9110,
// so a tag matches with or without its W/ prefix, and * matches anything.
func etagMatch(header, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		if p == "*" || strings.TrimPrefix(p, "W/") == etag {
			return true
		}
	}
	return false
}

// writeError sends an error as its HTTP status with a hyperglyph error
// body, [service.Error.Hyper]: a logref, "op: message" and the status as
// code. logFailure logs it with that logref.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away: nobody is listening
	}
	e := h.logFailure(r, err, "glyph: request failed")
	status := e.Kind.HTTPStatus()
	hdr := w.Header()
	hdr.Del("ETag")
	hdr["Cache-Control"] = hdrNoStore
	switch {
	case status == http.StatusMethodNotAllowed:
		hdr.Set("Allow", allowFor(r))
	case e.Kind == service.KindOverloaded && hdr.Get("Retry-After") == "":
		hdr.Set("Retry-After", "1")
	case status == http.StatusUnauthorized && hdr.Get("WWW-Authenticate") == "":
		hdr.Set("WWW-Authenticate", bearerChallenge(r))
	}
	switch negotiate(r) {
	case representationJSON:
		h.writeErrorJSON(w, r, e, status)
	case representationHTML:
		h.writeErrorHTML(w, r, e, status)
	default:
		h.writeErrorGlyph(w, r, e, status)
	}
}

// bearerChallenge is the WWW-Authenticate header of a 401 (RFC 7235
// requires one): the challenge of RFC 6750, the scheme of glyph's
// authentication (package intercept/bearer), with error="invalid_token"
// when the request carried a bearer token that was refused, and no error
// when it carried none (RFC 6750, 3.1).
func bearerChallenge(r *http.Request) string {
	scheme, _, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if strings.EqualFold(scheme, "Bearer") {
		return `Bearer error="invalid_token"`
	}
	return "Bearer"
}

// writeBody sends a response of status whose whole body b is encoded
// already, of content type ct (a shared header value, see hdrMediaType),
// with its length; the body of a HEAD is left out.
func writeBody(w http.ResponseWriter, r *http.Request, status int, ct []string, b []byte) {
	hdr := w.Header()
	hdr["Content-Type"] = ct
	setContentLength(hdr, len(b))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

// writeErrorGlyph sends an error's body in the hyperglyph encoding, with
// its status; writeError set the other headers.
func (h *Handler) writeErrorGlyph(w http.ResponseWriter, r *http.Request, e *service.Error, status int) {
	body := e.Hyper()
	b, merr := wire.Marshal(body)
	if merr != nil {
		// Only a message that is not valid UTF-8 gets here.
		body.Message = strings.ToValidUTF8(body.Message, "\uFFFD")
		b, _ = wire.Marshal(body)
	}
	writeBody(w, r, status, hdrMediaType, b)
}

// allowFor returns the Allow header of a 405: every method when the
// method itself is unknown, the other kind of call when the service
// refused this one (a GET of a form, a POST to a page).
func allowFor(r *http.Request) string {
	switch method(r) {
	case http.MethodGet, http.MethodHead:
		return "POST, PUT, PATCH, DELETE"
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return "GET, HEAD"
	}
	return allowAll
}
