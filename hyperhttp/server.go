package hyperhttp

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// Timeouts of the servers NewServer makes.
const (
	// DefaultReadHeaderTimeout bounds the time a client takes to send a
	// request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout closes a keep-alive connection idle this long.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes bounds a request's headers.
	DefaultMaxHeaderBytes = 64 << 10
)

// NewServer returns an *http.Server for h at addr with the timeouts a
// server facing the network needs, which the zero http.Server lacks: a
// client has [DefaultReadHeaderTimeout] to send its headers, an idle
// keep-alive connection is closed after [DefaultIdleTimeout], and headers
// are bounded by [DefaultMaxHeaderBytes]. Request bodies are left to the
// [Handler], which requires a minimum rate of them (see [WithMinBodyRate])
// rather than a ReadTimeout, which would cut large uploads short. There
// is no WriteTimeout: streamed answers and WebSocket peers last as long as
// they need; a peer connection has its own keepalive.
//
// Change the fields before serving for other values.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
	}
}

// The minimum body rate of a Handler without WithMinBodyRate: 32 KiB for
// every 30 s spent waiting for the body, about 1 KiB/s.
const (
	defaultMinBodyBytes  = 32 << 10
	defaultMinBodyWindow = 30 * time.Second
)

// rateReader reads a request body and fails a client that sends it too
// slowly: each read has a read deadline of what is left of the window,
// and every n bytes received start a new window. Only time spent waiting
// in Read counts, so a function that reads the body slowly, by its own
// choice, is never cut off.
type rateReader struct {
	r       io.ReadCloser
	conn    readDeadliner
	n       int64         // bytes per window
	window  time.Duration //
	got     int64         // bytes since the window started
	waited  time.Duration // time spent in Read since the window started
	expired bool
}

func (r *rateReader) Read(p []byte) (int, error) {
	left := r.window - r.waited
	if left <= 0 {
		r.expired = true
		return 0, errBodyTooSlow
	}
	start := time.Now()
	if err := r.conn.SetReadDeadline(start.Add(left)); err != nil {
		r.window = 1<<63 - 1 // it cannot take deadlines after all
	}
	k, err := r.r.Read(p)
	r.waited += time.Since(start)
	r.got += int64(k)
	if r.got >= r.n {
		r.got, r.waited = 0, 0
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		r.expired = true
		err = errBodyTooSlow
	}
	return k, err
}

// readDeadliner is what net/http's ResponseWriters offer to set the read
// deadline of their request's connection (the method that
// http.ResponseController calls; asserting it directly costs no
// allocation). A writer without it, such as a test recorder, gets no
// minimum body rate.
type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

// errBodyTooSlow is the read error of a body that came too slowly.
var errBodyTooSlow = errors.New("the request body came too slowly")

func (r *rateReader) Close() error { return r.r.Close() }
