package rpcmap

import (
	"bytes"
	"context"
	"fmt"
	"github.com/glyph-ipc/glyph/intercept"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// HTTPServer is the HTTP side that the handlers of JSON-RPC and XML-RPC
// share: POST only, a request body bounded in size and in the time to
// read it, buffers kept between requests, and a panic of the transport's
// code answered as an internal error instead of crashing the server.
type HTTPServer struct {
	Transport       string   // "JSON-RPC", in the answer to another method than POST
	PeerTransport   string   // "jsonrpc": [intercept.Peer.Transport], in the calls' contexts
	ContentType     []string // of every answer
	MaxRequestBytes int64
	ReadTimeout     time.Duration
	// BadBodyStatus is the status of the answer to a body that cannot be
	// read; one over MaxRequestBytes is 413.
	BadBodyStatus int
	// Answer appends the answer to a request's body to b; none is 204 No
	// Content.
	Answer func(r *http.Request, body, b []byte) []byte
	// Fail appends to b the answer to a request that fails before Answer
	// is called, or whose Answer panicked.
	Fail func(b []byte, err error) []byte
}

// Buffers for request bodies and for answers, kept between requests.
var (
	bodies  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	answers = sync.Pool{New: func() any { return new([]byte) }}
)

// maxKept is the largest buffer kept for the next request.
const maxKept = 1 << 20

// ServeHTTP answers one request.
func (h *HTTPServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			// A bug of the transport: answered, never a crashed server.
			h.send(w, http.StatusInternalServerError, h.Fail(nil, &service.Error{Kind: service.KindInternal}))
		}
	}()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, h.Transport+" calls are POSTed", http.StatusMethodNotAllowed)
		return
	}
	in := bodies.Get().(*bytes.Buffer)
	defer func() {
		if in.Cap() <= maxKept {
			bodies.Put(in)
		}
	}()
	in.Reset()
	out := answers.Get().(*[]byte)
	b := (*out)[:0]
	defer func() {
		if cap(b) <= maxKept {
			*out = b[:0] // keep what it grew to
			answers.Put(out)
		}
	}()
	if err := h.readBody(w, r, in); err != nil {
		status := h.BadBodyStatus
		if service.KindOf(err) == service.KindTooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		b = h.Fail(b, err)
		h.send(w, status, b)
		return
	}
	// The call's bytes (a body of one call: see WithSizes), counted once
	// the answer is written.
	sizes := new(intercept.Sizes)
	sizes.AddIn(int64(in.Len()))
	defer sizes.End()
	// Who is calling, for the interceptors and the functions.
	ctx := intercept.WithPeer(r.Context(), intercept.Peer{Transport: h.PeerTransport, Addr: r.RemoteAddr, TLS: r.TLS})
	r = r.WithContext(WithSizes(ctx, sizes))
	b = h.Answer(r, in.Bytes(), b)
	if len(b) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	sizes.AddOut(int64(len(b)))
	h.send(w, http.StatusOK, b)
}

type sizesKey struct{}

// WithSizes returns ctx carrying the [intercept.Sizes] that [Server.Serve]
// gives its calls (service.Request.Sizes): HTTPServer's, which counts the
// request body and the answer. An Answer whose body holds many calls (a
// JSON-RPC batch) passes nil, since their bytes cannot be told apart.
func WithSizes(ctx context.Context, s *intercept.Sizes) context.Context {
	return context.WithValue(ctx, sizesKey{}, s)
}

func (h *HTTPServer) send(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = h.ContentType
	w.WriteHeader(status)
	w.Write(body)
}

// readBody reads the request body into buf, bounded in size and time.
func (h *HTTPServer) readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) error {
	// net/http's ResponseWriters set their connection's read deadline;
	// asserting the method directly costs no allocation, unlike
	// http.ResponseController.
	if rd, ok := w.(readDeadliner); ok && rd.SetReadDeadline(time.Now().Add(h.ReadTimeout)) == nil {
		defer rd.SetReadDeadline(time.Time{})
	}
	if r.ContentLength > h.MaxRequestBytes {
		return TooLarge("a request body of %d bytes, more than %d", r.ContentLength, h.MaxRequestBytes)
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1)
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, h.MaxRequestBytes+1))
	switch {
	case err != nil:
		return &service.Error{Kind: service.KindInvalid, Message: "reading the request body failed", Err: err}
	case int64(buf.Len()) > h.MaxRequestBytes:
		return TooLarge("a request body of more than %d bytes", h.MaxRequestBytes)
	}
	return nil
}

// readDeadliner is what net/http's ResponseWriters offer to set the read
// deadline of their request's connection.
type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

// TooLarge is a [service.KindTooLarge] error with a formatted message.
func TooLarge(format string, args ...any) error {
	return &service.Error{Kind: service.KindTooLarge, Message: fmt.Sprintf(format, args...)}
}
