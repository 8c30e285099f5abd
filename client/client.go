package client

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/plain"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// MediaType is the hyperglyph media type, sent in Accept and, for glyph
// request bodies, in Content-Type.
const MediaType = "application/vnd.hyperglyph"

// accept is the default Accept header: hyperglyph, and anything else as a
// blob, so that servers send blob results as raw bodies.
const accept = MediaType + ", */*;q=0.1"

// HTTPClient is what a Client sends requests with. *http.Client
// implements it; so can a wrapper that adds authentication or tracing.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Client fetches hyperglyph pages and calls the links and forms in them.
// It is safe for concurrent use. The zero value is not usable: call New.
type Client struct {
	http         HTTPClient
	header       http.Header       // sent with every request
	callHeader   map[string]string // header without Accept, sent with every peer call
	limits       wire.Limits
	maxResponse  int64 // bound on a decompressed hyperglyph body; 0: none
	gzipRequests bool
	noOverride   bool
	cache        *cache    // nil: no conditional GETs
	decoders     sync.Pool // of *decodeSlot, for answers without blobs
	peerOpts     []peer.Option
	peers        peerState // the peer connections, one per endpoint

	interceptors []intercept.Interceptor // WithInterceptors, folded into unary and open
	unary        intercept.UnaryFunc     // nil without interceptors
	open         intercept.StreamFunc
}

// decodeSlot is a pooled decoder with the values it decodes into, so
// that decoding an answer allocates neither.
type decodeSlot struct {
	dec      *wire.Decoder
	v, extra any
}

// An Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with h instead of
// http.DefaultClient. h should follow redirects (an *http.Client does);
// the client follows a 303 it is handed itself. When h is an *http.Client
// whose Transport is an *http.Transport with a TLSClientConfig, that
// config serves the client's tls:// peer connections too (its roots, and
// its certificates for mutual TLS).
func WithHTTPClient(h HTTPClient) Option { return func(c *Client) { c.http = h } }

// WithHeader sends the header key: value with every request: every HTTP
// request, every WebSocket handshake, and every call over a peer
// connection (as a call header; values given twice for one key are
// joined with ", ", and a form's own headers win). An Accept header given
// here replaces the default one ("application/vnd.hyperglyph,
// */*;q=0.1": hyperglyph, and any other content as a blob) and is not sent
// with peer calls.
func WithHeader(key, value string) Option {
	return func(c *Client) { c.header.Add(key, value) }
}

// WithCache keeps the hyperglyph bodies of GET responses that carry an
// ETag, up to maxBytes in all (the least recently used go first; 0 or less
// means 16 MiB), and revalidates them with If-None-Match: a 304 answer
// reuses the stored body. Responses marked Cache-Control: no-store are not
// kept.
func WithCache(maxBytes int64) Option {
	return func(c *Client) {
		if maxBytes <= 0 {
			maxBytes = 16 << 20
		}
		c.cache = newCache(maxBytes)
	}
}

// WithMaxResponseBytes bounds the size of a hyperglyph response body after
// decompression, blob trailers included; a larger one fails with a
// [service.KindTooLarge] error. 0 or less means no bound beyond the decoding limits.
// Bodies of other content types stream to the caller and are not bounded.
func WithMaxResponseBytes(n int64) Option { return func(c *Client) { c.maxResponse = n } }

// WithLimits sets the limits responses are decoded with (see
// [wire.Limits]; zero fields take the defaults).
func WithLimits(l wire.Limits) Option { return func(c *Client) { c.limits = l } }

// WithGzipRequests compresses request bodies with gzip (Content-Encoding:
// gzip). Servers built on package hyperhttp accept them.
func WithGzipRequests() Option { return func(c *Client) { c.gzipRequests = true } }

// WithoutMethodOverride sends PUT, PATCH and DELETE forms with those HTTP
// methods. Without it they are sent as POST with a `Method` header, which
// every hyperglyph server understands and no proxy rejects.
func WithoutMethodOverride() Option { return func(c *Client) { c.noOverride = true } }

// New returns a Client configured by opts.
func New(opts ...Option) *Client {
	c := &Client{http: http.DefaultClient, header: http.Header{}}
	for _, o := range opts {
		o(c)
	}
	for k, vs := range c.header {
		if k == "Accept" {
			continue
		}
		if c.callHeader == nil {
			c.callHeader = map[string]string{}
		}
		c.callHeader[k] = strings.Join(vs, ", ")
	}
	c.buildChain()
	limits := c.limits
	c.decoders.New = func() any {
		return &decodeSlot{dec: wire.NewDecoderConfig(nil, wire.DecodeConfig{Limits: limits})}
	}
	return c
}

// Get fetches the page at url with GET and returns its value, with every
// URL in it resolved against the URL the page finally came from (after
// redirects). See [Value.Call] for what each response status gives.
//
// A peer URL ("ws://host:port/path", "wss://...", "tcp://host:port",
// "tls://host:port", "unix:///path/to/socket", each optionally followed by
// "#<path>") reads
// the page at that path of the service served there (the index when there
// is none) with a safe call over the client's connection to the endpoint.
func (c *Client) Get(ctx context.Context, url string) (*Value, error) {
	if c.unary != nil {
		return c.unaryCall(ctx, c.describeCall(nil, http.MethodGet, url, nil), func(ctx context.Context) (*Value, error) { return c.get(ctx, url) })
	}
	return c.get(ctx, url)
}

// get is Get below the interceptors.
func (c *Client) get(ctx context.Context, url string) (*Value, error) {
	if ep, path, ok := parsePeerURL(url); ok {
		pc, err := c.startPeer(ctx, "GET "+url, ep, path, nil, true, nil, nil)
		if err != nil {
			return nil, err
		}
		return pc.collect()
	}
	return c.do(ctx, &request{op: "GET " + url, method: http.MethodGet, url: url})
}

// request is one HTTP round trip as the client sees it, before it becomes
// an *http.Request.
type request struct {
	op          string // for errors: what was being done
	method      string // the method the form or link asks for
	url         string
	header      map[string]string // the link's or form's headers
	body        func() (io.ReadCloser, int64, error)
	bodyBytes   []byte // the body when it is in memory (so it can be sent again); body is then nil
	contentType string
	disposition string
	urlCache    *atomic.Pointer[urlString]    // the last final URL of the form's calls; nil: none
	template    *atomic.Pointer[http.Request] // the form's request without context and body; nil: none

	bodyReader bytes.Reader // reads bodyBytes
	bodyBuf    [64]byte     // holds bodyBytes when they are few
}

// Header values sent with every request, shared by all requests: their
// capacity is their length, so that appending to one copies it.
var (
	acceptHeader    = []string{accept}
	gzipHeader      = []string{"gzip"}
	mediaTypeHeader = []string{MediaType}
)

// maxRedirects bounds the 303s followed by hand, when the HTTPClient
// hands them back.
const maxRedirects = 10

func (c *Client) do(ctx context.Context, r *request) (*Value, error) {
	for range maxRedirects {
		resp, cached, err := c.send(ctx, r)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusSeeOther {
			loc, err := location(resp, r)
			drain(resp.Body)
			if err != nil {
				return nil, &service.Error{Op: r.op, Kind: service.KindInternal, Message: "bad 303 answer: " + err.Error()}
			}
			r = &request{op: "GET " + loc, method: http.MethodGet, url: loc}
			continue
		}
		v, err := c.response(r, resp, cached)
		if err != nil {
			return nil, ownDeadline(ctx, r.op, err)
		}
		return v, nil
	}
	return nil, &service.Error{Op: r.op, Kind: service.KindInternal, Message: fmt.Sprintf("more than %d redirects", maxRedirects)}
}

// send makes the HTTP request. cached is the cache entry it revalidates.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, *cacheEntry, error) {
	method := r.method
	header := make(http.Header, 4)
	if method != http.MethodGet && method != http.MethodPost && !c.noOverride {
		header.Set("Method", method)
		method = http.MethodPost
	}
	var body io.ReadCloser
	length := int64(0)
	switch {
	case r.body != nil:
		b, n, err := r.body()
		if err != nil {
			return nil, nil, err
		}
		body, length = b, n
	case r.bodyBytes != nil:
		// A NopCloser around a *bytes.Reader, which net/http knows is in
		// memory: it then sends the headers and the body in one write.
		r.bodyReader.Reset(r.bodyBytes)
		body, length = io.NopCloser(&r.bodyReader), int64(len(r.bodyBytes))
	}
	if body != nil && c.gzipRequests {
		body, length = gzipBody(body), -1
		header["Content-Encoding"] = gzipHeader
	}
	req, err := newRequest(ctx, r, method, body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, nil, &service.Error{Op: r.op, Kind: service.KindInvalid, Message: "bad request: " + err.Error(), Err: err}
	}
	if body != nil {
		req.ContentLength = length
		if b := r.bodyBytes; b != nil && !c.gzipRequests {
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		}
	}
	req.Header = header
	header["Accept"] = acceptHeader
	for k, vs := range CallHeader(ctx) {
		header[k] = append([]string(nil), vs...)
	}
	for k, vs := range c.header {
		header[k] = append([]string(nil), vs...)
	}
	if t := timeoutValue(ctx); t != "" {
		header[TimeoutHeader] = []string{t}
	}
	for k, v := range r.header {
		header.Set(k, v)
	}
	// Set by hand, so net/http does not decompress for us: response
	// decompresses gzip itself, for bodies it streams too.
	header["Accept-Encoding"] = gzipHeader
	switch r.contentType {
	case "":
	case MediaType:
		header["Content-Type"] = mediaTypeHeader
	default:
		header.Set("Content-Type", r.contentType)
	}
	if r.disposition != "" {
		header.Set("Content-Disposition", r.disposition)
	}
	var cached *cacheEntry
	if c.cache != nil && r.method == http.MethodGet {
		if cached = c.cache.get(r.url); cached != nil {
			req.Header.Set("If-None-Match", cached.etag)
		}
	}
	sizes, _ := ctx.Value(sizesKey{}).(*intercept.Sizes)
	if sizes != nil && body != nil && length < 0 {
		// A body of unknown length (gzipped) is counted as it is sent.
		req.Body = &countingBody{ReadCloser: req.Body, count: sizes.AddOut}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if body != nil {
			// net/http closes it; another HTTPClient may not.
			body.Close()
		}
		return nil, nil, transportError(ctx, r.op, err)
	}
	if sizes != nil {
		if body != nil && length > 0 {
			sizes.AddOut(length)
		}
		resp.Body = &countingBody{ReadCloser: resp.Body, count: sizes.AddIn}
	}
	return resp, cached, nil
}

// sizesKey is where send finds the [intercept.Sizes] of the call it makes
// a request for, in the context: the interceptors' Call.Sizes.
type sizesKey struct{}

// countingBody counts the bytes read through it.
type countingBody struct {
	io.ReadCloser
	count func(int64)
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.count(int64(n))
	return n, err
}

// newRequest is http.NewRequestWithContext(ctx, method, r.url, body), made
// from r's template when it has one rather than by parsing r.url again.
func newRequest(ctx context.Context, r *request, method string, body io.ReadCloser) (*http.Request, error) {
	if r.template == nil || ctx == nil {
		return http.NewRequestWithContext(ctx, method, r.url, body)
	}
	t := r.template.Load()
	if t == nil || t.Method != method {
		var err error
		if t, err = http.NewRequestWithContext(context.Background(), method, r.url, nil); err != nil {
			return nil, err
		}
		r.template.Store(t)
	}
	req := t.WithContext(ctx) // a shallow copy
	u := *t.URL               // not shared, in case an HTTPClient changes it
	req.URL = &u
	req.Header = nil // not shared either: send sets it
	if body != nil {
		req.Body = body
	}
	return req, nil
}

// ownDeadline reports a deadline_exceeded answer that came when ctx's
// own deadline had passed as ctx's error, as if the answer had not come:
// the server gave up because the deadline the request carried
// (TimeoutHeader) passed, at about the moment the caller's own did.
func ownDeadline(ctx context.Context, op string, err error) error {
	d, ok := ctx.Deadline()
	if !ok || service.KindOf(err) != service.KindDeadlineExceeded || time.Now().Before(d) {
		return err
	}
	return &service.Error{Op: op, Kind: service.KindDeadlineExceeded, Message: context.DeadlineExceeded.Error(), Err: context.DeadlineExceeded}
}

// transportError describes a request that got no answer.
func transportError(ctx context.Context, op string, err error) error {
	kind := service.KindUnavailable
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error() // the op already names the method and URL
	}
	if cerr := ctx.Err(); cerr != nil {
		kind = service.KindOf(cerr)
		msg = cerr.Error()
		if !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
	} else if k := service.KindOf(err); k == service.KindCanceled || k == service.KindDeadlineExceeded {
		kind = k
	}
	var se *service.Error
	if errors.As(err, &se) {
		// Our own failure, such as an argument that could not be
		// encoded while the body was being sent.
		return err
	}
	return &service.Error{Op: op, Kind: kind, Message: msg, Err: err}
}

// location returns the Location header of resp, resolved against the
// URL of the request it answers.
func location(resp *http.Response, r *request) (string, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", errors.New("no Location header")
	}
	return hyper.Resolve(finalURL(resp, r), loc)
}

// finalURL is the URL resp, the answer to r, came from, after redirects.
func finalURL(resp *http.Response, r *request) string {
	if resp.Request == nil || resp.Request.URL == nil {
		return r.url
	}
	u := resp.Request.URL
	if r.urlCache == nil {
		return u.String()
	}
	if last := r.urlCache.Load(); last != nil && last.u == *u {
		return last.s
	}
	s := u.String()
	r.urlCache.Store(&urlString{u: *u, s: s})
	return s
}

// drain reads a little of body, so the connection can be reused, and
// closes it.
func drain(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}

// isGlyph reports whether a Content-Type header names hyperglyph,
// ignoring parameters.
func isGlyph(contentType string) bool {
	if len(contentType) == len(MediaType) && strings.EqualFold(contentType, MediaType) {
		return true // the usual case, without parsing
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
		mt = strings.TrimSpace(mt)
	}
	return strings.EqualFold(mt, MediaType)
}

// response turns an HTTP response into a value or an error.
func (c *Client) response(r *request, resp *http.Response, cached *cacheEntry) (*Value, error) {
	base := finalURL(resp, r)
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		drain(resp.Body)
		return c.decodeBytes(r, cached.body, cached.url)
	case resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusResetContent:
		drain(resp.Body)
		return &Value{c: c, base: base}, nil
	case resp.StatusCode == http.StatusCreated:
		loc, err := location(resp, r)
		drain(resp.Body)
		if err != nil {
			return nil, &service.Error{Op: r.op, Kind: service.KindInternal, Message: "bad 201 answer: " + err.Error()}
		}
		return &Value{c: c, v: hyper.Link{URL: loc}, base: base}, nil
	case resp.StatusCode >= 400:
		return nil, c.statusError(r, resp)
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		drain(resp.Body)
		return nil, &service.Error{Op: r.op, Kind: service.KindInternal, Message: "unexpected answer " + resp.Status,
			Err: &StatusError{Method: r.method, URL: base, StatusCode: resp.StatusCode}}
	}
	body, err := decompressed(resp)
	if err != nil {
		drain(resp.Body)
		return nil, &service.Error{Op: r.op, Kind: service.KindInternal, Message: "bad response body: " + err.Error(), Err: err}
	}
	if !isGlyph(resp.Header.Get("Content-Type")) {
		// Not hyperglyph: the body is a blob the caller reads.
		ct := resp.Header.Get("Content-Type")
		if ct == "" {
			ct = "application/octet-stream"
		}
		b := wire.NewBlob(ct, body)
		b.Attrs = map[string]any{"url": base}
		return &Value{c: c, v: b, base: base}, nil
	}
	if c.cache != nil && r.method == http.MethodGet && resp.Header.Get("ETag") != "" &&
		!strings.Contains(strings.ToLower(resp.Header.Get("Cache-Control")), "no-store") {
		// Read the body to keep it, unless it is too large to.
		lr := &limitedReader{r: body, n: c.maxResponse}
		buf, err := io.ReadAll(io.LimitReader(lr, c.cache.max+1))
		if err != nil {
			body.Close()
			return nil, c.readError(r, lr, err)
		}
		if int64(len(buf)) <= c.cache.max {
			body.Close()
			c.cache.put(&cacheEntry{key: r.url, etag: resp.Header.Get("ETag"), url: base, body: buf})
			return c.decodeBytes(r, buf, base)
		}
		return c.decode(r, multiReadCloser{io.MultiReader(bytes.NewReader(buf), lr), body}, base, lr)
	}
	if c.maxResponse <= 0 {
		return c.decode(r, body, base, nil)
	}
	lr := &limitedReader{r: body, n: c.maxResponse}
	return c.decode(r, multiReadCloser{lr, body}, base, lr)
}

func (c *Client) decodeBytes(r *request, b []byte, base string) (*Value, error) {
	return c.decode(r, io.NopCloser(bytes.NewReader(b)), base, nil)
}

// decode decodes a hyperglyph body. When the value holds blobs they stream
// from body, which stays open until the value is closed; otherwise body is
// read to its end and closed.
func (c *Client) decode(r *request, body io.ReadCloser, base string, lr *limitedReader) (*Value, error) {
	slot := c.decoders.Get().(*decodeSlot)
	dec := slot.dec
	dec.Reset(body)
	err := dec.Decode(&slot.v)
	v := slot.v
	slot.v = nil
	if err != nil {
		dec.Close()
		body.Close()
		if err == io.EOF {
			return &Value{c: c, base: base}, nil // an empty body is nil
		}
		return nil, c.readError(r, lr, err)
	}
	rv := v
	if !plain.Is(v) {
		if rv, err = hyper.ResolveURLs(v, base); err != nil {
			dec.Close()
			body.Close()
			return nil, &service.Error{Op: r.op, Kind: service.KindInternal, Message: "bad URL in response: " + err.Error(), Err: err}
		}
	}
	if !holdsBlob(v) {
		err := dec.Finish()
		if err == nil {
			if e := dec.Decode(&slot.extra); e != io.EOF {
				err = errors.New("more than one value in the response body")
				if e != nil {
					err = e
				}
			}
			slot.extra = nil
		}
		body.Close()
		if err != nil {
			dec.Close()
			return nil, c.readError(r, lr, err)
		}
		// Done with body: the decoder can serve another answer.
		dec.Reset(nil)
		c.decoders.Put(slot)
		return &Value{c: c, v: rv, base: base}, nil
	}
	// The blobs stream from body through dec, which the value keeps.
	s := &stream{closers: []io.Closer{decoderCloser{dec}, body}}
	if b, ok := rv.(*wire.Blob); ok {
		// A blob on its own: closing it releases the response, as for
		// a raw blob body.
		nb := wire.NewBlob(b.ContentType, blobReadCloser{b, s})
		nb.Attrs = map[string]any{"url": base}
		for k, a := range b.Attrs {
			nb.Attrs[k] = a
		}
		return &Value{c: c, v: nb, base: base}, nil
	}
	return &Value{c: c, v: rv, base: base, stream: s}, nil
}

// readError describes a response body that could not be read or decoded.
func (c *Client) readError(r *request, lr *limitedReader, err error) error {
	var le *wire.LimitError
	switch {
	case lr != nil && lr.over:
		return &service.Error{Op: r.op, Kind: service.KindTooLarge, Message: fmt.Sprintf("response body over %d bytes", c.maxResponse), Err: err}
	case errors.As(err, &le):
		return &service.Error{Op: r.op, Kind: service.KindTooLarge, Message: "response over a limit: " + err.Error(), Err: err}
	}
	return &service.Error{Op: r.op, Kind: service.KindInternal, Message: "bad response body: " + err.Error(), Err: err}
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// statusError turns a 4xx or 5xx response into an error, with the message
// and logref of its error body when it has one.
func (c *Client) statusError(r *request, resp *http.Response) error {
	defer drain(resp.Body)
	se := &StatusError{Method: r.method, URL: finalURL(resp, r), StatusCode: resp.StatusCode}
	e := &service.Error{Kind: service.KindForStatus(resp.StatusCode), Err: se}
	var raw []byte
	if body, err := decompressed(resp); err == nil {
		raw, _ = io.ReadAll(io.LimitReader(body, maxErrorBody))
	}
	if isGlyph(resp.Header.Get("Content-Type")) {
		var v any
		if err := wire.UnmarshalConfig(raw, &v, wire.DecodeConfig{Limits: c.limits}); err == nil {
			if he, ok := v.(hyper.Error); ok {
				se.Body = he
				e.Message, e.Logref = he.Message, he.Logref
				return e
			}
		}
	}
	e.Op = r.op
	e.Message = resp.Status
	if s := strings.TrimSpace(string(raw)); s != "" && !isGlyph(resp.Header.Get("Content-Type")) {
		if len(s) > 200 {
			s = s[:200] + "..."
		}
		e.Message += ": " + s
	}
	return e
}

// decompressed returns the body of resp, gunzipped when it is gzip
// encoded. Closing it closes resp.Body.
func decompressed(resp *http.Response) (io.ReadCloser, error) {
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return resp.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, err
		}
		return multiReadCloser{zr, resp.Body}, nil
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
}

// multiReadCloser reads from one reader and closes another.
type multiReadCloser struct {
	io.Reader
	io.Closer
}

// limitedReader fails after n bytes (n <= 0: never) and remembers that
// it did.
type limitedReader struct {
	r    io.Reader
	n    int64
	read int64
	over bool
}

var errTooLarge = errors.New("response body too large")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return l.r.Read(p)
	}
	if l.read >= l.n {
		// Probe for one more byte: exactly n bytes is fine.
		var b [1]byte
		k, err := l.r.Read(b[:])
		if k > 0 {
			l.over = true
			return 0, errTooLarge
		}
		return 0, err
	}
	if rest := l.n - l.read; int64(len(p)) > rest {
		p = p[:rest]
	}
	k, err := l.r.Read(p)
	l.read += int64(k)
	return k, err
}

// gzipBody returns a reader of body compressed with gzip, compressed as
// it is read.
func gzipBody(body io.ReadCloser) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		_, err := io.Copy(zw, body)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		body.Close()
		pw.CloseWithError(err)
	}()
	return pr
}

// stream is the open response that blobs in a value read from.
type stream struct {
	once    sync.Once
	closers []io.Closer
	err     error
}

func (s *stream) Close() error {
	s.once.Do(func() {
		for _, c := range s.closers {
			if err := c.Close(); err != nil && s.err == nil {
				s.err = err
			}
		}
	})
	return s.err
}

type decoderCloser struct{ dec *wire.Decoder }

func (d decoderCloser) Close() error { return d.dec.Close() }

// blobReadCloser reads a decoded blob and closes its whole response.
type blobReadCloser struct {
	b *wire.Blob
	s *stream
}

func (b blobReadCloser) Read(p []byte) (int, error) { return b.b.Read(p) }

func (b blobReadCloser) Close() error {
	b.b.Close()
	return b.s.Close()
}

// holdsBlob reports whether a decoded value holds a blob anywhere.
func holdsBlob(v any) bool {
	switch x := v.(type) {
	case *wire.Blob:
		return true
	case []any:
		for _, it := range x {
			if holdsBlob(it) {
				return true
			}
		}
	case map[string]any:
		for _, it := range x {
			if holdsBlob(it) {
				return true
			}
		}
	case map[any]any:
		for _, it := range x {
			if holdsBlob(it) {
				return true
			}
		}
	case *wire.OrderedDict:
		for _, e := range x.Entries() {
			if holdsBlob(e.Key) || holdsBlob(e.Value) {
				return true
			}
		}
	case wire.Dict:
		for _, e := range x.Entries {
			if holdsBlob(e.Key) || holdsBlob(e.Value) {
				return true
			}
		}
	case wire.AnySet:
		for _, it := range x.Items {
			if holdsBlob(it) {
				return true
			}
		}
	case hyper.Resource:
		return holdsBlob(x.Content)
	case hyper.Link:
		return holdsBlob(x.Content)
	case hyper.Error:
		return holdsBlob(x.Content)
	case hyper.Collection:
		return holdsBlob(x.Items)
	case wire.Extension:
		return holdsBlob(x.Content) || (x.Attrs != nil && holdsBlob(x.Attrs))
	}
	return false
}
