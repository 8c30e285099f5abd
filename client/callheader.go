package client

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// TimeoutHeader is the HTTP header that carries a call's deadline, as the
// milliseconds left when the request was sent: hyperhttp.TimeoutHeader,
// which package hyperhttp applies to the call's context. Peers carry
// deadlines in their own envelope.
const TimeoutHeader = "Glyph-Timeout"

type callHeaderKey struct{}

type callHeaderFuncKey struct{}

// headerFunc is a header whose value is made for each request.
type headerFunc struct {
	key   string
	value func() string
	next  *headerFunc // those ctx carried before
}

// WithCallHeader returns a copy of ctx that makes every call made with it
// send the header key: value, over HTTP as a request header and over a
// peer connection as a call header: per-call metadata such as trace
// context (traceparent) or the caller's identity. Values add to those ctx
// carries already; the client's own headers ([WithHeader]) and a form's
// headers win over them.
func WithCallHeader(ctx context.Context, key, value string) context.Context {
	h := CallHeader(ctx).Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Add(key, value)
	return context.WithValue(ctx, callHeaderKey{}, h)
}

// WithCallHeaderFunc returns a copy of ctx that makes every request of
// every call made with it send the header key with a value value makes
// for that request: for values that must be fresh each time, such as a
// proof of a shared secret that the server accepts once (package
// component/secret). One call may make several requests (a client that
// follows links reads pages first), each with its own value. It wins
// over a header of [WithCallHeader] with the same key.
func WithCallHeaderFunc(ctx context.Context, key string, value func() string) context.Context {
	prev, _ := ctx.Value(callHeaderFuncKey{}).(*headerFunc)
	return context.WithValue(ctx, callHeaderFuncKey{}, &headerFunc{key: http.CanonicalHeaderKey(key), value: value, next: prev})
}

// WithCallHeaders returns a copy of ctx whose call headers are exactly h:
// those ctx carried ([WithCallHeader], [WithCallHeaderFunc]) are dropped.
// It is how an interceptor of a layer above the client (such as package
// component's router) hands the client the headers its interceptors
// settled on. h must not be changed afterwards.
func WithCallHeaders(ctx context.Context, h http.Header) context.Context {
	ctx = context.WithValue(ctx, callHeaderKey{}, h)
	return context.WithValue(ctx, callHeaderFuncKey{}, (*headerFunc)(nil))
}

// CallHeader returns the headers ctx carries for calls ([WithCallHeader]
// and [WithCallHeaderFunc], whose values it makes anew on each call), or
// nil. Transports call it once per request. The result must not be
// changed.
//
// These are the context's share of a call's headers: with
// [WithInterceptors], a call's [intercept.Call.Header] starts as them,
// and what the request sends is that Header after the interceptors (a
// header func's value is then made once per call). An interceptor is the
// way to add a header to every call of a client; these, to every call
// made with one context.
func CallHeader(ctx context.Context) http.Header {
	h, _ := ctx.Value(callHeaderKey{}).(http.Header)
	f, _ := ctx.Value(callHeaderFuncKey{}).(*headerFunc)
	if f == nil {
		return h
	}
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	var made []string // keys set by funcs: the latest one wins
	for ; f != nil; f = f.next {
		if !slices.Contains(made, f.key) {
			h[f.key] = []string{f.value()}
			made = append(made, f.key)
		}
	}
	return h
}

// timeoutValue returns the value of TimeoutHeader for ctx's deadline, or
// "" when it has none. The milliseconds are rounded up, so that the
// server's deadline (counted from when the request arrives) falls after
// the caller's: the caller gives up first and reports its own context's
// error, as without the header. A deadline already past is sent as 0.
func timeoutValue(ctx context.Context) string {
	d, ok := ctx.Deadline()
	if !ok {
		return ""
	}
	left := time.Until(d)
	if left < 0 {
		left = 0
	}
	return strconv.FormatInt(int64((left+time.Millisecond-1)/time.Millisecond), 10)
}
