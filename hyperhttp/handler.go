package hyperhttp

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/ratelimit"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// MediaType is the hyperglyph media type, sent as the Content-Type of
// every glyph-encoded response and recognised (ignoring parameters) as the
// form envelope of a request.
const MediaType = "application/vnd.hyperglyph"

// config is what the options set; defaults apply to zero fields.
type config struct {
	root            string
	maxRequestBytes int64
	maxBlobBytes    int64
	limits          wire.Limits
	blobsAsGlyph    bool
	noGzip          bool
	sharedCache     []string // Cache-Control of safe answers; nil: no-cache
	logger          *slog.Logger
	minBodyBytes    int64         // per minBodyWindow of waiting for the body
	minBodyWindow   time.Duration // 0: the default; negative: no minimum
	decodeBudget    int64         // 0: the default; negative: none
	decodeWait      time.Duration
	crossOrigin     *http.CrossOriginProtection // WithCrossOriginProtection's, when crossOriginSet
	crossOriginSet  bool
	ratePerSecond   float64 // WithRateLimit's; ≤ 0: none
	rateBurst       int
}

// An Option configures a [Handler]. Options are functional throughout
// glyph: [NewHandler] takes them after the service.
type Option func(*config)

// WithRoot mounts the handler at the absolute path root, ending in "/"
// (default "/"; a missing leading or trailing slash is added). Requests
// outside it get 404; the root without its trailing slash is the index,
// like the root itself.
func WithRoot(root string) Option { return func(c *config) { c.root = root } }

// WithMaxRequestBytes bounds the glyph encoding of a form envelope body
// after gzip decompression: its root object, without the data of the
// blobs in it. A larger body gets 413. Default 8 MiB; negative means no
// limit.
func WithMaxRequestBytes(n int64) Option { return func(c *config) { c.maxRequestBytes = n } }

// WithMaxBlobBytes bounds blob data after gzip decompression: the raw body
// of the blob envelope, which is streamed to the function and never held
// in memory (a function reading past the limit gets an error, and the
// client 413), and the blobs inside a form body, which are read before
// the call (past 4 MiB into an unlinked temporary file). Default 1 GiB;
// negative means no limit.
func WithMaxBlobBytes(n int64) Option { return func(c *config) { c.maxBlobBytes = n } }

// WithLimits bounds the decoding of hyperglyph request bodies and of the
// query envelope (zero fields take wire's defaults).
func WithLimits(l wire.Limits) Option { return func(c *config) { c.limits = l } }

// WithBlobsAsGlyph sends a result that is a single blob glyph-encoded
// instead of as the raw HTTP body, whatever the request's Accept header
// says. Without it, a single blob is sent raw unless the request accepts
// the hyperglyph media type but not the blob's content type (as the
// Python reference client's requests do).
func WithBlobsAsGlyph() Option { return func(c *config) { c.blobsAsGlyph = true } }

// WithoutGzip disables gzip responses. Gzip request bodies are always
// accepted.
func WithoutGzip() Option { return func(c *config) { c.noGzip = true } }

// WithMinBodyRate requires a request body to arrive at n bytes for every
// window of time the handler spends waiting for it; a slower client gets
// a 400 saying so, and its connection is closed. The default, 32 KiB
// per 30 s (about 1 KiB/s), stops a body trickled a byte at a time without
// cutting a large upload short, as an http.Server's ReadTimeout would.
// Time the function spends not reading the body does not count. A window
// of 0 or less turns the minimum off. It needs a ResponseWriter with a
// SetReadDeadline method, as net/http's HTTP/1 and HTTP/2 servers give;
// with another (a test recorder) there is no minimum.
func WithMinBodyRate(n int64, window time.Duration) Option {
	return func(c *config) {
		c.minBodyBytes, c.minBodyWindow = n, window
		if window <= 0 {
			c.minBodyWindow = -1
		}
	}
}

// WithDecodeBudget bounds how many bytes of form bodies the handler
// decodes at once, over all its requests: a request takes its body's
// length (Content-Length, or the maximum request size when unknown, at
// most n) from the budget before decoding and gives it back when it
// ends; a request that finds no room waits up to wait, in turn, and is
// then answered 503 with Retry-After. Decoded values take up to about 35
// times their encoding in memory (small dicts; bench/README.md has the
// figures), so decoding holds at most about 35 × n at once: with the
// default of 16 MiB, about 0.6 GB, however many large requests come. The default is
// [DefaultDecodeBudget] and [DefaultDecodeWait]; n < 0 means no budget.
func WithDecodeBudget(n int64, wait time.Duration) Option {
	return func(c *config) { c.decodeBudget, c.decodeWait = n, wait }
}

// WithLogger sets where the handler logs (see Logging in the package
// doc); without it, or with nil, [slog.Default] as it is when a line is
// logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithSharedCache lets shared caches in front of the handler (a reverse
// proxy's cache such as nginx's proxy_cache, a CDN) keep the answers to
// safe GETs for maxAge and serve them without asking the service again.
// Those answers then carry
//
//	Cache-Control: max-age=0, s-maxage=N
//
// with N the whole seconds of maxAge, rounded up: a shared cache serves
// its copy for N seconds, then revalidates it with the answer's ETag
// (the service answers 304 when nothing changed), while a browser
// revalidates every time, as without this option. The default, and
// maxAge of 0 or less, is Cache-Control: no-cache, which shared caches
// such as nginx's do not store at all.
//
// Only what may be shared is affected: a function registered with
// [service.CacheControl] keeps its own value (say "private, no-cache"
// for an answer that depends on the caller's identity, or
// "max-age=60" to let browsers keep it too), and calls (POST, PUT,
// PATCH, DELETE), 201, 303, streamed results and errors stay no-store.
func WithSharedCache(maxAge time.Duration) Option {
	return func(c *config) {
		c.sharedCache = nil
		if maxAge <= 0 {
			return
		}
		secs := (maxAge + time.Second - 1) / time.Second
		c.sharedCache = []string{"max-age=0, s-maxage=" + strconv.FormatInt(int64(secs), 10)}
	}
}

// Handler serves a [service.Service] over HTTP with the hyperglyph 1.0
// mapping: GET for links and pages, POST (or a Method header on a POST)
// for forms; the none, form, query and blob envelopes; 201, 204 and 303;
// error bodies; gzip both ways; strong ETags with 304s on safe GETs.
// spec.md beside this file states the mapping with examples that the
// tests run against a real server. A Handler is safe for concurrent use.
type Handler struct {
	svc      *service.Service
	cfg      config
	budget   *budget          // nil: no decode budget
	rate     *ratelimit.Keyed // requests per remote address; nil: no limit
	decoders sync.Pool        // *wire.Decoder for form bodies, configured by cfg
}

// NewHandler returns a Handler serving svc, configured by opts.
func NewHandler(svc *service.Service, opts ...Option) *Handler {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if !strings.HasPrefix(cfg.root, "/") {
		cfg.root = "/" + cfg.root
	}
	if !strings.HasSuffix(cfg.root, "/") {
		cfg.root += "/"
	}
	if cfg.minBodyWindow == 0 {
		cfg.minBodyBytes, cfg.minBodyWindow = defaultMinBodyBytes, defaultMinBodyWindow
	}
	cfg.maxRequestBytes = limitOrDefault(cfg.maxRequestBytes, 8<<20)
	cfg.maxBlobBytes = limitOrDefault(cfg.maxBlobBytes, 1<<30)
	if cfg.decodeBudget == 0 {
		cfg.decodeBudget, cfg.decodeWait = DefaultDecodeBudget, DefaultDecodeWait
	}
	h := &Handler{svc: svc, cfg: cfg, rate: newRateLimit(&cfg)}
	if cfg.decodeBudget > 0 {
		h.budget = &budget{free: cfg.decodeBudget}
	}
	return h
}

// log returns the logger: WithLogger's, or else slog.Default() read
// now rather than in NewHandler, so that a program that calls
// slog.SetDefault after building its handlers still decides where they
// log.
func (h *Handler) log() *slog.Logger {
	if h.cfg.logger != nil {
		return h.cfg.logger
	}
	return slog.Default()
}

func limitOrDefault(n, def int64) int64 {
	switch {
	case n == 0:
		return def
	case n < 0:
		return math.MaxInt64
	}
	return n
}

// ServeHTTP implements http.Handler. No request makes it panic. A panic
// in the service or while encoding the result becomes a 500 with a logref
// when nothing was sent yet; after that, and when sending a streamed
// result fails, it aborts the response with http.ErrAbortHandler, so that
// the client sees a broken response rather than a short one.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["Vary"] = hdrVary
	x := &exchange{tw: trackingWriter{ResponseWriter: w}}
	x.tw.sizes = &x.sizes
	tw := &x.tw
	if log := h.log(); log.Enabled(r.Context(), slog.LevelDebug) {
		// Deferred first, so that it runs last, after a panic became a
		// 500, and also while an aborted response unwinds.
		defer logRequest(log, r, tw, time.Now())
	}
	// The call's bytes are all counted once the response is written,
	// after a panic became a 500 too.
	defer x.sizes.End()
	defer func() {
		p := recover()
		switch {
		case p == nil:
			return
		case p == http.ErrAbortHandler:
			panic(p)
		case tw.wrote:
			h.log().Error("glyph: panic after the response started", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			panic(http.ErrAbortHandler)
		}
		h.writeError(tw, r, &service.Error{Kind: service.KindInternal, Message: "internal error",
			Err: fmt.Errorf("panic: %v\n%s", p, debug.Stack())})
	}()

	if h.rate != nil && !h.admit(tw, r) {
		return
	}
	x.src = r.Body
	if d, ok := w.(readDeadliner); ok && h.cfg.minBodyWindow > 0 && r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		x.rate = rateReader{r: r.Body, conn: d, n: h.cfg.minBodyBytes, window: h.cfg.minBodyWindow}
		x.src = &x.rate
	}
	if r.Body != nil && r.Body != http.NoBody {
		x.count = countReader{ReadCloser: x.src, sizes: &x.sizes}
		x.src = &x.count
	}
	req, body, err := h.request(r, x)
	if body != nil {
		defer h.closeBody(body)
	}
	if err != nil {
		h.writeError(tw, r, err)
		return
	}
	if body != nil && body.blob {
		// A function may answer with a stream made from the request's
		// (even the request blob itself): HTTP/1 must then let it read
		// the body after the response has started. HTTP/2 always does.
		http.NewResponseController(tw).EnableFullDuplex()
	}
	ctx, cancel, err := callContext(r)
	if err != nil {
		h.writeError(tw, r, err)
		return
	}
	defer cancel()
	res, err := h.svc.Serve(ctx, req)
	if err != nil {
		h.writeError(tw, r, body.blame(err))
		return
	}
	h.writeResult(tw, r, res)
}

// exchange holds what the handler needs for one request, allocated
// together.
type exchange struct {
	tw    trackingWriter
	req   service.Request
	body  requestBody
	lim   limitReader
	rate  rateReader
	count countReader
	src   io.ReadCloser // the body as read: r.Body, or rate over it, counted
	sizes intercept.Sizes
}

// countReader counts the bytes of the request body as they are read
// (before any gunzip), for [intercept.Call.Sizes].
type countReader struct {
	io.ReadCloser
	sizes *intercept.Sizes
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.sizes.AddIn(int64(n))
	return n, err
}

// trackingWriter remembers whether the response has started, so that a
// panic can still be answered with a 500 when it has not, and its status
// and size, for the request's debug line.
type trackingWriter struct {
	http.ResponseWriter
	wrote  bool
	status int              // the status sent; 0 before it was
	bytes  int64            // body bytes written, after any gzip
	sizes  *intercept.Sizes // the call's, which counts them too
}

func (t *trackingWriter) WriteHeader(code int) {
	if t.status < 200 {
		// The final status: informational ones (1xx) come before it.
		t.status = code
	}
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(p []byte) (int, error) {
	if t.status < 200 {
		t.status = http.StatusOK // as net/http sends it
	}
	t.wrote = true
	n, err := t.ResponseWriter.Write(p)
	t.bytes += int64(n)
	t.sizes.AddOut(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// allowAll lists the methods the handler accepts, for 405 responses.
const allowAll = "GET, HEAD, POST, PUT, PATCH, DELETE"

// method returns the effective request method. A POST may carry the
// method it stands for in a Method header (clients that only speak GET
// and POST send PUT, PATCH and DELETE that way). Other methods ignore the
// header, so a GET can never be turned into a call with side effects.
func method(r *http.Request) string {
	if r.Method == http.MethodPost {
		if m := headerValue(r.Header, "Method"); m != "" {
			return strings.ToUpper(strings.TrimSpace(m))
		}
	}
	return r.Method
}

// request translates an HTTP request into a service request. The returned
// body, when not nil, must be closed after the call.
func (h *Handler) request(r *http.Request, x *exchange) (*service.Request, *requestBody, error) {
	path, err := h.servicePath(r.URL.Path)
	if err != nil {
		return nil, nil, err
	}
	if err := h.checkOrigin(r); err != nil {
		return nil, nil, err
	}
	req := &x.req
	*req = service.Request{Root: h.cfg.root, Path: path, Query: r.URL.RawQuery, Header: r.Header, Sizes: &x.sizes}
	if req.Method, err = serviceMethod(r); err != nil {
		return nil, nil, err
	}
	if isJSONQuery(req.Query) {
		if req.Query, err = h.jsonQuery(req.Query); err != nil {
			return nil, nil, err
		}
	}
	if req.Method == http.MethodGet {
		// A GET has no envelope but the query, which the service reads:
		// instance state, or the arguments of a safe function; or the
		// fields of an HTML form, which need the form's input types.
		if isFormQuery(req.Query) {
			return req, nil, h.urlFormQuery(r, req)
		}
		return req, nil, nil
	}
	raw, err := bodyOf(r, x.src)
	if err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return req, nil, h.queryEnvelope(req)
	}
	body := &x.body
	*body = requestBody{raw: x.src}
	rd, err := decompressed(r, raw)
	if err != nil {
		return nil, nil, err
	}
	compressed := rd != raw
	ctHeader := strings.TrimSpace(headerValue(r.Header, "Content-Type"))
	ct, err := mediaType(ctHeader)
	if err != nil {
		return nil, nil, err
	}
	switch ct {
	case MediaType:
		if err := h.formEnvelope(r, x, req, rd, compressed); err != nil {
			return nil, body, err
		}
		return req, body, nil
	case mediaJSON:
		if err := h.jsonEnvelope(r, x, req, rd, compressed); err != nil {
			return nil, body, err
		}
		return req, body, nil
	case mediaURLForm:
		if err := h.urlFormEnvelope(r, x, req, rd, compressed); err != nil {
			return nil, body, err
		}
		return req, body, nil
	}
	if err := h.blobEnvelope(r, x, req, rd, compressed, ctHeader); err != nil {
		return nil, nil, err
	}
	return req, body, nil
}

// servicePath returns the path of a request below the root: "" for the
// root, with or without its trailing slash. A path outside the root is
// NotFound.
func (h *Handler) servicePath(path string) (string, error) {
	switch {
	case strings.HasPrefix(path, h.cfg.root):
		return path[len(h.cfg.root):], nil
	case path+"/" == h.cfg.root:
		return "", nil
	}
	return "", &service.Error{Kind: service.KindNotFound, Message: "no such path: not under " + h.cfg.root}
}

// serviceMethod returns the method the service sees: GET for GET and
// HEAD, the method (or the Method header of a POST) for the form methods.
func serviceMethod(r *http.Request) (string, error) {
	switch m := method(r); m {
	case http.MethodGet, http.MethodHead:
		return http.MethodGet, nil
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return m, nil
	default:
		return "", &service.Error{Kind: service.KindMethodNotAllowed, Message: "method " + quoteShort(m) + " is not supported (" + allowAll + ")"}
	}
}

// queryEnvelope decodes the arguments of a request without a body: the
// none envelope, or the query envelope (DELETE).
func (h *Handler) queryEnvelope(req *service.Request) error {
	if req.Query == "" || strings.Contains(req.Path, "/") {
		// Below a class, the query is the instance's state and left to
		// the service.
		return nil
	}
	// The service reads the query envelope of GETs only; for other
	// methods the handler decodes it.
	args, err := h.queryArgs(req.Query)
	if err != nil {
		return err
	}
	req.Args = args
	return nil
}

// decompressed returns the body as its Content-Encoding says to read it.
func decompressed(r *http.Request, raw io.Reader) (io.Reader, error) {
	switch enc := strings.ToLower(strings.TrimSpace(headerValue(r.Header, "Content-Encoding"))); enc {
	case "", "identity":
		return raw, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, &service.Error{Kind: service.KindInvalid, Message: "bad gzip request body: " + err.Error()}
		}
		return zr, nil
	default:
		return nil, &service.Error{Kind: service.KindUnsupported, Message: "unsupported Content-Encoding " + quoteShort(enc) + " (gzip and identity are)"}
	}
}

// mediaType returns the media type of a Content-Type header, without its
// parameters; "" for none.
func mediaType(ctHeader string) (string, error) {
	if strings.EqualFold(ctHeader, MediaType) {
		// What glyph clients send; ParseMediaType would allocate.
		return MediaType, nil
	}
	if ctHeader == "" {
		return "", nil
	}
	ct, _, err := mime.ParseMediaType(ctHeader)
	if err != nil {
		return "", &service.Error{Kind: service.KindInvalid, Message: "bad Content-Type " + quoteShort(ctHeader) + ": " + err.Error()}
	}
	return ct, nil
}

// formEnvelope decodes the form envelope, an ordered dict (or dict) of
// arguments, into req. Its root is bounded by the maximum request bytes
// and the blobs in it by the maximum blob bytes (the decoder enforces
// both), the whole body by their sum.
func (h *Handler) formEnvelope(r *http.Request, x *exchange, req *service.Request, rd io.Reader, compressed bool) error {
	total := h.cfg.maxRequestBytes + h.cfg.maxBlobBytes
	if total < 0 {
		total = math.MaxInt64
	}
	if !compressed && r.ContentLength > total {
		return tooLarge(total)
	}
	if err := h.reserve(r, x, compressed); err != nil {
		return err
	}
	x.body.limited = x.lim.reset(rd, total)
	return h.formArgs(req, &x.body)
}

// reserve takes what decoding the request's body may cost from the decode
// budget: its length, or the maximum request size when it is unknown.
func (h *Handler) reserve(r *http.Request, x *exchange, compressed bool) error {
	if h.budget == nil {
		return nil
	}
	n := h.cfg.maxRequestBytes
	if r.ContentLength > 0 && !compressed {
		n = min(n, r.ContentLength)
	}
	n = min(n, h.cfg.decodeBudget)
	if !h.budget.acquire(r.Context(), n, h.cfg.decodeWait) {
		return &service.Error{Kind: service.KindOverloaded, Message: "too many large requests at once: try again later"}
	}
	x.body.reserved = n
	return nil
}

// blobEnvelope makes the raw body the request's single argument, a blob
// of the request's content type (application/octet-stream when it has
// none), named by its Content-Disposition.
func (h *Handler) blobEnvelope(r *http.Request, x *exchange, req *service.Request, rd io.Reader, compressed bool, ctHeader string) error {
	if !compressed && r.ContentLength > h.cfg.maxBlobBytes {
		return tooLarge(h.cfg.maxBlobBytes)
	}
	if ctHeader == "" {
		ctHeader = "application/octet-stream"
	}
	body := &x.body
	body.limited = x.lim.reset(rd, h.cfg.maxBlobBytes)
	body.blob = true
	req.Blob = wire.NewBlob(ctHeader, body.limited)
	if cd := headerValue(r.Header, "Content-Disposition"); cd != "" {
		if _, p, err := mime.ParseMediaType(cd); err == nil {
			req.BlobName = p["name"]
		}
	}
	return nil
}

// headerValue is Header.Get for a key in canonical form, without the
// cost of canonicalizing it again.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// bodyOf returns the request body, read from src (r.Body, or a reader
// over it), or nil when there is none. A body of
// unknown length (chunked, or HTTP/2 without Content-Length) is probed
// for its first byte.
func bodyOf(r *http.Request, src io.Reader) (io.Reader, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, nil
	}
	if r.ContentLength > 0 {
		return src, nil
	}
	var first [1]byte
	n, err := io.ReadFull(src, first[:])
	switch {
	case n == 1:
		return io.MultiReader(bytes.NewReader(first[:]), src), nil
	case err == io.EOF:
		return nil, nil
	}
	return nil, readError(err)
}

// formArgs decodes the form envelope into req.
func (h *Handler) formArgs(req *service.Request, body *requestBody) error {
	body.dec = h.getDecoder(body.limited)
	args := &body.args
	err := body.dec.Decode(args)
	if err == nil {
		// Read the blob trailers too (spooling blobs past 4 MiB to a
		// temporary file), so that a truncated or malformed body is a
		// 400 before the call rather than a failure inside it.
		err = body.dec.Finish()
	}
	if err == nil {
		// The body is one message: only white space may follow it.
		switch err = body.dec.Decode(&body.extra); err {
		case io.EOF:
			err = nil
		case nil:
			err = errors.New("more than one message")
		}
	}
	if err != nil {
		var le *wire.LimitError
		if errors.As(err, &le) {
			switch le.Limit {
			case "MaxMessageBytes":
				return tooLarge(h.cfg.maxRequestBytes)
			case "MaxBlobBytes":
				return &service.Error{Kind: service.KindTooLarge, Message: fmt.Sprintf("blobs in the request body over %d bytes", h.cfg.maxBlobBytes)}
			}
		}
		return body.blame(badBody(err))
	}
	return setArgs(req, *args)
}

// setArgs makes a decoded body the request's arguments: an ordered dict
// (or dict) by name, a list by position.
func setArgs(req *service.Request, args any) error {
	switch a := args.(type) {
	case nil:
	case *wire.OrderedDict:
		req.Args = a
	case map[string]any:
		// Arguments bind by name, so the order of a plain dict is
		// irrelevant.
		req.Args = wire.NewOrderedDict()
		for k, v := range a {
			req.Args.Set(k, v)
		}
	case []any:
		req.Positional = a
	default:
		return &service.Error{Kind: service.KindInvalid, Message: "request body is " + wire.TypeName(a) + ", expected an ordered dict of arguments"}
	}
	return nil
}

// queryArgs decodes the query envelope: a percent-encoded glyph ordered
// dict (or dict) of arguments.
func (h *Handler) queryArgs(query string) (*wire.OrderedDict, error) {
	b, err := hyper.UnescapeQuery(query)
	if err != nil {
		return nil, &service.Error{Kind: service.KindInvalid, Message: "bad query arguments: " + err.Error()}
	}
	var args wire.OrderedDict
	if err := wire.UnmarshalConfig(b, &args, wire.DecodeConfig{Limits: h.cfg.limits}); err != nil {
		e := badBody(err)
		e.Message = "bad query arguments: " + err.Error()
		return nil, e
	}
	return &args, nil
}

// badBody classifies an error decoding a glyph body: over a limit is 413,
// anything else 400.
func badBody(err error) *service.Error {
	var le *wire.LimitError
	if errors.As(err, &le) {
		return &service.Error{Kind: service.KindTooLarge, Message: "request body: " + err.Error(), Err: err}
	}
	var se *service.Error
	if errors.As(err, &se) {
		return se
	}
	return &service.Error{Kind: service.KindInvalid, Message: "bad request body: " + err.Error(), Err: err}
}

// minLimit returns the smaller of a wire limit (zero meaning def,
// negative none) and the handler's own.
func minLimit(wireLimit, def, own int64) int64 {
	switch {
	case wireLimit == 0:
		wireLimit = def
	case wireLimit < 0:
		return own
	}
	return min(wireLimit, own)
}

func tooLarge(n int64) *service.Error {
	return &service.Error{Kind: service.KindTooLarge, Message: fmt.Sprintf("request body over %d bytes", n)}
}

func readError(err error) *service.Error {
	return &service.Error{Kind: service.KindInvalid, Message: "reading the request body: " + err.Error(), Err: err}
}

// quoteShort quotes a string from the request for an error message,
// cutting it when long.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:61] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// requestBody is the body of a request with an envelope that has one.
type requestBody struct {
	raw      io.ReadCloser
	limited  *limitReader
	dec      *wire.Decoder // the form envelope's decoder, from Handler.decoders
	args     any           // what the form envelope's body decoded to
	extra    any           // a second message after it: an error
	blob     bool          // the blob envelope: the function reads the body
	reserved int64         // bytes taken from the decode budget
}

// blame replaces err by the client's fault when reading the body failed
// because of the client: over the limit (413), or a broken body such as
// corrupt gzip or a connection that went away (400). A function that
// reads a blob sees such failures as read errors and may report them as
// anything; this is where they get their right status back.
func (b *requestBody) blame(err error) error {
	if b == nil || b.limited == nil {
		return err
	}
	switch {
	case b.limited.over:
		return tooLarge(b.limited.max)
	case b.limited.err != nil:
		return readError(b.limited.err)
	}
	return err
}

// getDecoder returns a decoder of form bodies reading r, from the pool
// when it has one.
func (h *Handler) getDecoder(r io.Reader) *wire.Decoder {
	if dec, ok := h.decoders.Get().(*wire.Decoder); ok {
		dec.Reset(r)
		return dec
	}
	lim := h.cfg.limits
	lim.MaxMessageBytes = minLimit(lim.MaxMessageBytes, wire.DefaultLimits().MaxMessageBytes, h.cfg.maxRequestBytes)
	lim.MaxBlobBytes = minLimit(lim.MaxBlobBytes, wire.DefaultLimits().MaxBlobBytes, h.cfg.maxBlobBytes)
	return wire.NewDecoderConfig(r, wire.DecodeConfig{Limits: lim})
}

// closeBody releases what the request decoded (spooled blobs) and
// returns the decoder to the pool. Of a blob body, it discards a bounded
// rest the function did not read, so the connection can be reused, and
// closes it before the handler returns: in full duplex mode, net/http
// would otherwise drain it after the handler and race its own read of
// the next request (golang/go#68560).
func (h *Handler) closeBody(b *requestBody) {
	if b.reserved > 0 {
		h.budget.release(b.reserved)
		b.reserved = 0
	}
	if b.dec != nil {
		// Reset releases the blobs of the message (a function that kept
		// one gets errors reading it) and forgets the request's reader.
		b.dec.Reset(nil)
		h.decoders.Put(b.dec)
		b.dec = nil
	}
	if b.blob {
		if !b.limited.over && b.limited.err == nil {
			io.Copy(io.Discard, io.LimitReader(b.raw, 1<<20))
		}
		b.raw.Close()
	}
}

// limitReader reads at most n bytes from r and fails with a [service.KindTooLarge]
// error when there are more. It records why reading stopped early.
type limitReader struct {
	r    io.Reader
	n    int64 // bytes left
	max  int64
	over bool  // there were more than max bytes
	err  error // the first read error other than io.EOF
}

// reset makes l read at most max bytes from r, and returns it.
func (l *limitReader) reset(r io.Reader, max int64) *limitReader {
	*l = limitReader{r: r, n: max, max: max}
	return l
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, tooLarge(l.max)
	}
	if l.n <= 0 {
		// Probe for one more byte: exactly max bytes is fine.
		var b [1]byte
		k, err := l.r.Read(b[:])
		if k > 0 {
			l.over = true
			return 0, tooLarge(l.max)
		}
		return 0, l.note(err)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, l.note(err)
}

func (l *limitReader) note(err error) error {
	if err != nil && err != io.EOF && l.err == nil {
		l.err = err
	}
	return err
}

// TimeoutHeader is the request header that carries a call's deadline: the
// milliseconds the caller had left when it sent the request, a decimal
// integer. The handler serves the call with a context that ends then.
const TimeoutHeader = "Glyph-Timeout"

// maxTimeout bounds the deadline a request may ask for: more is no
// deadline at all.
const maxTimeout = 1<<31 - 1 // milliseconds, about 24 days

// Peer describes the client of r as interceptors see it
// ([intercept.Call.Peer]) and as [intercept.PeerFromContext] finds it in
// the context of the functions the handler calls: transport "http", the
// remote address, and the TLS state (r.TLS), whose VerifiedChains hold
// the client's certificate under mutual TLS.
func Peer(r *http.Request) intercept.Peer {
	return intercept.Peer{Transport: intercept.TransportHTTP, Addr: r.RemoteAddr, TLS: r.TLS}
}

// callContext returns the request's context with its [Peer] and the
// deadline its Glyph-Timeout header asks for (the milliseconds the caller
// had left), or a [service.KindInvalid] error when the header is not a
// number of milliseconds.
func callContext(r *http.Request) (context.Context, context.CancelFunc, error) {
	ctx := intercept.WithPeer(r.Context(), Peer(r))
	v := r.Header.Get(TimeoutHeader)
	if v == "" {
		return ctx, func() {}, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms < 0 {
		return nil, nil, &service.Error{Kind: service.KindInvalid, Message: "bad " + TimeoutHeader + " header " + strconv.Quote(v) + ": want milliseconds"}
	}
	if ms > maxTimeout {
		return ctx, func() {}, nil
	}
	c, cancel := context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
	return c, cancel, nil
}
