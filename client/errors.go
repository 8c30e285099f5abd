package client

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/glyph-ipc/glyph/hyper"
)

// StatusError is the cause of an error the server answered with a 4xx or
// 5xx status. The client returns it wrapped in a *[service.Error] whose
// Kind follows the status ([service.KindForStatus]) and whose Message and
// Logref come from the error body, so
//
//	var se *client.StatusError
//	if errors.As(err, &se) { ... se.StatusCode ... }
//
// finds it. StatusCode, IsClientError and IsServerError are shortcuts.
type StatusError struct {
	Method     string // the method the link or form asked for
	URL        string // the URL that answered, after redirects
	StatusCode int
	// Body is the error extension the response carried; zero when it
	// carried none.
	Body hyper.Error
}

// Error returns the method, URL and status, e.g. "POST http://h/f: 400 Bad
// Request".
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// StatusCode returns the HTTP status of the response err reports, or 0
// when err did not come from a response (a network failure, a call
// rejected before it was sent).
func StatusCode(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}

// IsClientError reports whether err is a 4xx answer: the request was
// wrong (bad arguments, no such method, ...).
func IsClientError(err error) bool {
	s := StatusCode(err)
	return s >= 400 && s < 500
}

// IsServerError reports whether err is a 5xx answer: the server failed
// (a bug, a panic, an unavailable dependency).
func IsServerError(err error) bool {
	return StatusCode(err) >= 500
}
