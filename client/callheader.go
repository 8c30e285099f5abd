package client

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// TimeoutHeader is the HTTP header that carries a call's deadline, as the
// milliseconds left when the request was sent: hyperhttp.TimeoutHeader,
// which package hyperhttp applies to the call's context. Peers carry
// deadlines in their own envelope.
const TimeoutHeader = "Glyph-Timeout"

type callHeaderKey struct{}

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

// CallHeader returns the headers ctx carries for calls ([WithCallHeader]),
// or nil. The result must not be changed.
func CallHeader(ctx context.Context) http.Header {
	h, _ := ctx.Value(callHeaderKey{}).(http.Header)
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
