package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/glyph-ipc/glyph/hyper"
)

// Kind classifies an error so that every transport reports it the same
// way. Values are stable on the wire: new kinds are only ever appended.
type Kind uint8

// The kinds of error. Their numbers never change.
const (
	Other            Kind = iota // unclassified; reported as an internal error
	Invalid                      // bad arguments or request: 400
	NotFound                     // no such function, class, method or instance: 404
	MethodNotAllowed             // e.g. GET on a form that needs POST: 405
	Conflict                     // the state changed underneath: 409
	TooLarge                     // request body over a limit: 413
	Unsupported                  // unsupported media type or envelope: 415
	Unauthenticated              // 401
	PermissionDenied             // 403
	Canceled                     // the caller went away: 499
	DeadlineExceeded             // 504
	Unavailable                  // try again later: 503
	Internal                     // a bug or a panic on the server: 500
	Unimplemented                // 501
	Overloaded                   // too much at once, back off and retry: 503
	BadFrame                     // a peer sent a malformed protocol frame: 400
)

var kindNames = [...]string{
	Other:            "other",
	Invalid:          "invalid",
	NotFound:         "not_found",
	MethodNotAllowed: "method_not_allowed",
	Conflict:         "conflict",
	TooLarge:         "too_large",
	Unsupported:      "unsupported",
	Unauthenticated:  "unauthenticated",
	PermissionDenied: "permission_denied",
	Canceled:         "canceled",
	DeadlineExceeded: "deadline_exceeded",
	Unavailable:      "unavailable",
	Internal:         "internal",
	Unimplemented:    "unimplemented",
	Overloaded:       "overloaded",
	BadFrame:         "bad_frame",
}

// String returns the kind's stable name, such as "not_found".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

var kindStatus = [...]int{
	Other:            http.StatusInternalServerError,
	Invalid:          http.StatusBadRequest,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	Conflict:         http.StatusConflict,
	TooLarge:         http.StatusRequestEntityTooLarge,
	Unsupported:      http.StatusUnsupportedMediaType,
	Unauthenticated:  http.StatusUnauthorized,
	PermissionDenied: http.StatusForbidden,
	Canceled:         499, // client closed request, as nginx logs it
	DeadlineExceeded: http.StatusGatewayTimeout,
	Unavailable:      http.StatusServiceUnavailable,
	Internal:         http.StatusInternalServerError,
	Unimplemented:    http.StatusNotImplemented,
	Overloaded:       http.StatusServiceUnavailable,
	BadFrame:         http.StatusBadRequest,
}

// HTTPStatus returns the HTTP status code for the kind: 400 for Invalid,
// 404 for NotFound, and so on (see the constants); 500 for Other,
// Internal and kinds this version does not know.
func (k Kind) HTTPStatus() int {
	if int(k) < len(kindStatus) {
		return kindStatus[k]
	}
	return http.StatusInternalServerError
}

// KindForStatus maps an HTTP status back to a kind, for clients: the kind
// whose HTTPStatus it is, or else Internal for other 5xx, Invalid for
// other 4xx, and Other for the rest.
func KindForStatus(status int) Kind {
	for k, s := range kindStatus {
		if s == status && Kind(k) != Other {
			return Kind(k)
		}
	}
	switch {
	case status >= 500:
		return Internal
	case status >= 400:
		return Invalid
	}
	return Other
}

// Error is glyph's one error type. It survives the wire: transports send
// its kind (as an HTTP status or a code), operation, message and logref,
// and clients rebuild it. Go code that a Service calls returns an *Error
// (from Errorf, or a literal) to choose the kind its caller sees; Serve
// reports any other error as Internal.
type Error struct {
	Op   string // the operation, e.g. "hello" or "User.message"
	Kind Kind   // what went wrong, which says the HTTP status
	// Message is for the caller. Serve sets it to the text of an error
	// that Go code returned (so that text must be fit for callers), and
	// to only "internal error" for a recovered panic.
	Message string
	Logref  string // correlates the reply with the server's log
	Err     error  // the underlying cause, kept on this side of the wire
}

// Error returns "op: message (logref L)": the message, or the cause's text
// when there is none, or the kind's name; op and the logref when set.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	if e.Logref != "" {
		msg += " (logref " + e.Logref + ")"
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err: its own for an *Error, Canceled or
// DeadlineExceeded for context errors, Other otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) && e.Kind != Other {
		return e.Kind
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	return Other
}

// asError turns any error returned by user code or the service layer
// into an *Error with an operation, a kind and, for server-side failures,
// a logref. An *Error anywhere in err's chain is kept (copied) with its
// kind; Other becomes Internal. Context errors become Canceled and
// DeadlineExceeded; anything else is Internal with err's text.
func asError(op string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		if c.Op == "" {
			c.Op = op
		}
		if c.Kind == Other || c.Kind == Internal {
			c.Kind = Internal
			if c.Logref == "" {
				c.Logref = newLogref()
			}
		}
		return &c
	}
	k := KindOf(err)
	out := &Error{Op: op, Kind: k, Err: err}
	switch k {
	case Canceled, DeadlineExceeded:
		out.Message = k.String()
	default:
		// Errors from user code are reported as internal errors with
		// their message: the function chose to return it. Panics are
		// handled separately and never show their value.
		out.Kind = Internal
		out.Message = err.Error()
		out.Logref = newLogref()
	}
	return out
}

// hyperError returns the error extension that reports e to a caller: its
// logref, and "op: message" where an Internal error without a message
// says only "internal error".
func hyperError(e *Error) hyper.Error { return e.Hyper() }

// Hyper returns the hyperglyph error extension for e, as transports send
// it: the message prefixed by the operation, the logref, and the kind's
// HTTP status as the code. This is the one place errors become bodies.
func (e *Error) Hyper() hyper.Error {
	msg := e.Message
	switch {
	case msg != "":
	case e.Kind == Internal || e.Kind == Other:
		msg = "internal error"
	default:
		msg = e.Kind.String()
	}
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	return hyper.Error{Logref: e.Logref, Message: msg, Code: int64(e.Kind.HTTPStatus())}
}

func newLogref() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
