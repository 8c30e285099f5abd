package jsonrpc

import (
	"context"
	"encoding/json"
	"github.com/glyph-ipc/glyph/intercept"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// TimeoutHeader is the request header in which a [Client] sends what is
// left of its context's deadline, in whole milliseconds; the [Handler]
// gives the call that deadline.
const TimeoutHeader = "Glyph-Timeout"

// Defaults of a [Handler].
const (
	DefaultMaxRequestBytes = rpcmap.DefaultMaxRequestBytes // a request body
	DefaultMaxBatch        = 100                           // requests in a batch
	DefaultMaxBlobBytes    = rpcmap.DefaultMaxBlobBytes    // a blob in a result, before base64
	DefaultReadTimeout     = rpcmap.DefaultReadTimeout
)

// An Option configures a [Handler].
type Option func(*config)

type config = rpcmap.HandlerConfig

// WithMaxRequestBytes bounds a request body (default
// [DefaultMaxRequestBytes]); a larger one is answered 413 with a
// too_large error.
func WithMaxRequestBytes(n int64) Option { return func(c *config) { c.MaxRequestBytes = n } }

// WithMaxBatch bounds the requests of a batch (default [DefaultMaxBatch]).
func WithMaxBatch(n int) Option { return func(c *config) { c.MaxBatch = n } }

// WithMaxBlobBytes bounds a blob that a result holds, which is read into
// memory and sent as base64 (default [DefaultMaxBlobBytes]); a larger
// one is a too_large error.
func WithMaxBlobBytes(n int64) Option { return func(c *config) { c.MaxBlobBytes = n } }

// WithLimits bounds the nesting (MaxDepth), the items of an array or
// object (MaxItems) and the bytes of a string (MaxStringBytes) of a
// request; zero fields take wire's defaults, negative ones mean no limit.
func WithLimits(l wire.Limits) Option { return func(c *config) { c.Limits = l } }

// WithReadTimeout bounds the time a client takes to send a request body
// (default [DefaultReadTimeout]); the body is bounded, so a fixed time is
// enough. It needs a ResponseWriter that can set read deadlines, as
// net/http's servers give.
func WithReadTimeout(d time.Duration) Option { return func(c *config) { c.ReadTimeout = d } }

// WithLogger sets where the handler logs its failed calls: at info level
// when the caller is at fault, at error level when the server is, with
// the method, the kind and the logref the caller got. Without it, or
// with nil, [slog.Default] as it is when a line is logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.Logger = l } }

// Handler serves a [service.Service] as JSON-RPC 2.0 over HTTP: POST a
// request object, or a batch of them, and get the response (spec.md
// beside this file states the mapping). A Handler is safe for concurrent
// use.
type Handler struct {
	srv  *rpcmap.Server
	cfg  config
	lim  limits
	http rpcmap.HTTPServer
}

// NewHandler returns a Handler serving svc. The service's methods are
// discovered from its index at the first request.
func NewHandler(svc *service.Service, opts ...Option) *Handler {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	cfg = cfg.WithDefaults()
	h := &Handler{srv: rpcmap.NewServer(svc, "JSON-RPC", cfg.MaxBlobBytes), cfg: cfg, lim: limitsOf(cfg.Limits, cfg.MaxBatch)}
	h.http = rpcmap.HTTPServer{Transport: "JSON-RPC", PeerTransport: intercept.TransportJSONRPC, ContentType: contentType,
		MaxRequestBytes: cfg.MaxRequestBytes, ReadTimeout: cfg.ReadTimeout, BadBodyStatus: http.StatusBadRequest,
		Answer: h.answerBody, Fail: appendFailure}
	return h
}

var contentType = []string{"application/json"}

// ServeHTTP implements http.Handler. Only POST is served (405 otherwise);
// the body is read whatever its content type. The answer is 200 with the
// response or the batch's responses, 204 when every request was a
// notification, or 413 for a body over the limit. No request makes it
// panic.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.http.ServeHTTP(w, r) }

// answerBody appends the answer to a request body.
func (h *Handler) answerBody(r *http.Request, body, b []byte) []byte {
	ctx, cancel, err := rpcmap.Deadline(r.Context(), r.Header)
	defer cancel()
	if err != nil {
		return protocolError(CodeInvalidRequest, "invalid request: "+errMessage(err)).append(b)
	}
	reqs, batch, fail := decodeBody(body, h.lim)
	if fail != nil {
		return fail.append(b)
	}
	return h.answer(ctx, reqs, batch, r.Header, b)
}

// appendFailure appends the response to a body that failed as a whole.
func appendFailure(b []byte, err error) []byte { return errorReply(nil, err).append(b) }

// answer makes the calls of a body's requests, in order, and appends the
// response, or the batch's array of responses; nothing when every
// request was a notification.
func (h *Handler) answer(ctx context.Context, reqs []request, batch bool, header http.Header, b []byte) []byte {
	start, n := len(b), 0
	if batch {
		b = append(b, '[')
		// The calls of a batch share one body: none has bytes of its own.
		ctx = rpcmap.WithSizes(ctx, nil)
	}
	for i := range reqs {
		rep := h.call(ctx, &reqs[i], header)
		if rep == nil {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = rep.append(b)
		n++
	}
	if n == 0 {
		return b[:start]
	}
	if batch {
		b = append(b, ']')
	}
	return b
}

// call makes one decoded request and returns its reply, or nil for a
// notification.
func (h *Handler) call(ctx context.Context, r *request, header http.Header) *reply {
	if r.err != nil {
		return r.err
	}
	c := rpcmap.Call{Method: r.method, Header: header}
	switch p := r.params.(type) {
	case []any:
		c.Positional = p
	case map[string]any:
		c.Named = p
	}
	v, err := h.srv.Serve(ctx, &c)
	if err != nil {
		rpcmap.LogFailure(ctx, h.cfg.Logger, "JSON-RPC", r.method, err)
	}
	if r.id == nil {
		return nil
	}
	if err != nil {
		return errorReply(r.id, err)
	}
	return &reply{id: r.id, result: v}
}

// reply is one response object: a result, or an error.
type reply struct {
	id      json.RawMessage
	result  any
	code    int // an error when not 0
	message string
	kind    service.Kind
	logref  string
}

func protocolError(code int, message string) *reply {
	return &reply{id: nullID, code: code, message: message, kind: service.KindInvalid}
}

// errorReply returns the reply for an error of the service or of this
// package; a nil id is null.
func errorReply(id json.RawMessage, err error) *reply {
	if id == nil {
		id = nullID
	}
	f := rpcmap.FailureOf(err)
	return &reply{id: id, code: f.Code, message: f.Message, kind: f.Kind, logref: f.Logref}
}

// append appends the response object.
func (rep *reply) append(b []byte) []byte {
	b = append(b, `{"jsonrpc":"2.0",`...)
	if rep.code == 0 {
		start := len(b)
		b = append(b, `"result":`...)
		out, err := rpcmap.AppendJSON(b, rep.result)
		if err == nil {
			b = append(out, `,"id":`...)
			b = append(b, rep.id...)
			return append(b, '}')
		}
		b = b[:start-len(`{"jsonrpc":"2.0",`)]
		return errorReply(rep.id, err).append(b)
	}
	b = append(b, `"error":{"code":`...)
	b = strconv.AppendInt(b, int64(rep.code), 10)
	b = append(b, `,"message":`...)
	b = rpcmap.AppendJSONString(b, rep.message)
	b = append(b, `,"data":{"kind":`...)
	b = rpcmap.AppendJSONString(b, rep.kind.String())
	if rep.logref != "" {
		b = append(b, `,"logref":`...)
		b = rpcmap.AppendJSONString(b, rep.logref)
	}
	b = append(b, `}},"id":`...)
	b = append(b, rep.id...)
	return append(b, '}')
}
