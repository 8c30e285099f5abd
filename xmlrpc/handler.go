package xmlrpc

import (
	"context"
	"errors"
	"github.com/glyph-ipc/glyph/intercept"
	"log/slog"
	"net/http"
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
	DefaultMaxBlobBytes    = rpcmap.DefaultMaxBlobBytes    // a blob in a result, before base64
	DefaultReadTimeout     = rpcmap.DefaultReadTimeout
)

// An Option configures a [Handler].
type Option func(*config)

type config = rpcmap.HandlerConfig

// WithMaxRequestBytes bounds a request body (default
// [DefaultMaxRequestBytes]); a larger one is answered 413 with a fault.
func WithMaxRequestBytes(n int64) Option { return func(c *config) { c.MaxRequestBytes = n } }

// WithMaxBlobBytes bounds a blob that a result holds, which is read into
// memory and sent as base64 (default [DefaultMaxBlobBytes]); a larger
// one is a too_large fault.
func WithMaxBlobBytes(n int64) Option { return func(c *config) { c.MaxBlobBytes = n } }

// WithLimits bounds the nesting of arrays and structs (MaxDepth), the
// params, array items and struct members (MaxItems) and the bytes of a
// string (MaxStringBytes) of a request; zero fields take wire's defaults,
// negative ones mean no limit.
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

// Handler serves a [service.Service] as XML-RPC over HTTP: POST a
// methodCall, get a methodResponse with the result or a fault (spec.md
// beside this file states the mapping). It also answers the
// introspection methods system.listMethods, system.methodHelp and
// system.methodSignature, and system.multicall. A Handler is safe for
// concurrent use.
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
	h := &Handler{srv: rpcmap.NewServer(svc, "XML-RPC", cfg.MaxBlobBytes), cfg: cfg, lim: limitsOf(cfg.Limits)}
	h.http = rpcmap.HTTPServer{Transport: "XML-RPC", PeerTransport: intercept.TransportXMLRPC, ContentType: contentType,
		MaxRequestBytes: cfg.MaxRequestBytes, ReadTimeout: cfg.ReadTimeout, BadBodyStatus: http.StatusOK,
		Answer: h.answer, Fail: faultFor}
	return h
}

var contentType = []string{"text/xml; charset=utf-8"}

// ServeHTTP implements http.Handler. Only POST is served (405
// otherwise); the body is read whatever its content type. The answer is
// 200 with a methodResponse, which holds a fault when the call failed, or
// 413 with a fault for a body over the limit. No request makes it panic.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.http.ServeHTTP(w, r) }

// answer decodes a methodCall, makes it and appends the methodResponse.
func (h *Handler) answer(r *http.Request, body []byte, b []byte) []byte {
	ctx, cancel, err := rpcmap.Deadline(r.Context(), r.Header)
	defer cancel()
	if err != nil {
		return appendFault(b, CodeInvalidRequest, errMessage(err))
	}
	method, params, err := newDecoder(body, h.lim).call()
	if err != nil {
		code := CodeInvalidRequest
		switch {
		case service.KindOf(err) == service.KindTooLarge:
			code = CodeForKind(service.KindTooLarge)
		case errors.Is(err, errNotXML):
			code = CodeParseError
		}
		return appendFault(b, code, errMessage(err))
	}
	v, err := h.call(ctx, method, params, r.Header)
	if err != nil {
		rpcmap.LogFailure(ctx, h.cfg.Logger, "XML-RPC", method, err)
		return faultFor(b, err)
	}
	start := len(b)
	out, err := appendResponse(b, v)
	if err != nil {
		return faultFor(b[:start], err)
	}
	return out
}

// call makes a call: an introspection method, a multicall, or one of
// the service's.
func (h *Handler) call(ctx context.Context, method string, params []any, header http.Header) (any, error) {
	if method == "system.multicall" {
		return h.multicall(ctx, params, header)
	}
	if fn, ok := introspection[method]; ok {
		t, err := h.srv.Table(ctx)
		if err != nil {
			return nil, err
		}
		return fn(t, params)
	}
	return h.srv.Serve(ctx, &rpcmap.Call{Method: method, Positional: params, Header: header})
}

// faultFor appends the fault for an error of the service or of this
// package.
func faultFor(b []byte, err error) []byte {
	code, msg := faultCode(err)
	return appendFault(b, code, msg)
}

// faultCode returns the fault code and string for an error of the service or
// of this package.
func faultCode(err error) (int, string) {
	f := rpcmap.FailureOf(err)
	if f.Logref != "" {
		f.Message += " (logref " + f.Logref + ")"
	}
	return f.Code, f.Message
}

// multicall makes the calls of system.multicall's one parameter, an array
// of structs {methodName, params}, in order, and answers an array with,
// for each, an array of its one result or its fault's struct. A multicall
// within a multicall is a fault of its own.
func (h *Handler) multicall(ctx context.Context, params []any, header http.Header) (any, error) {
	calls, ok := oneArray(params)
	if !ok {
		return nil, paramsError("system.multicall", "takes one parameter, an array of structs {methodName, params}")
	}
	out := make([]any, len(calls))
	for i, c := range calls {
		v, err := h.oneOfMulticall(ctx, c, header)
		if err != nil {
			code, msg := faultCode(err)
			out[i] = wire.NewOrderedDict("faultCode", int64(code), "faultString", msg)
			continue
		}
		out[i] = []any{v}
	}
	return out, nil
}

func oneArray(params []any) ([]any, bool) {
	if len(params) != 1 {
		return nil, false
	}
	l, ok := params[0].([]any)
	return l, ok
}

func (h *Handler) oneOfMulticall(ctx context.Context, c any, header http.Header) (any, error) {
	m, ok := c.(*wire.OrderedDict)
	if !ok {
		return nil, paramsError("system.multicall", "a call that is not a struct {methodName, params}")
	}
	name, _ := m.Get("methodName")
	method, ok := name.(string)
	if !ok {
		return nil, paramsError("system.multicall", "a call without a string methodName")
	}
	var params []any
	if p, ok := m.Get("params"); ok {
		if params, ok = p.([]any); !ok {
			return nil, paramsError("system.multicall", "a call whose params are not an array")
		}
	}
	if method == "system.multicall" {
		return nil, paramsError("system.multicall", "a multicall within a multicall")
	}
	return h.call(ctx, method, params, header)
}
