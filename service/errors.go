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
	KindOther            Kind = iota // unclassified; reported as an internal error
	KindInvalid                      // bad arguments or request: 400
	KindNotFound                     // no such function, class, method or instance: 404
	KindMethodNotAllowed             // e.g. GET on a form that needs POST: 405
	KindConflict                     // the state changed underneath: 409
	KindTooLarge                     // request body over a limit: 413
	KindUnsupported                  // unsupported media type or envelope: 415
	KindUnauthenticated              // 401
	KindPermissionDenied             // 403
	KindCanceled                     // the caller went away: 499
	KindDeadlineExceeded             // 504
	KindUnavailable                  // try again later: 503
	KindInternal                     // a bug or a panic on the server: 500
	KindUnimplemented                // 501
	KindOverloaded                   // too much at once, back off and retry: 503
	KindBadFrame                     // a peer sent a malformed protocol frame: 400
)

var kindNames = [...]string{
	KindOther:            "other",
	KindInvalid:          "invalid",
	KindNotFound:         "not_found",
	KindMethodNotAllowed: "method_not_allowed",
	KindConflict:         "conflict",
	KindTooLarge:         "too_large",
	KindUnsupported:      "unsupported",
	KindUnauthenticated:  "unauthenticated",
	KindPermissionDenied: "permission_denied",
	KindCanceled:         "canceled",
	KindDeadlineExceeded: "deadline_exceeded",
	KindUnavailable:      "unavailable",
	KindInternal:         "internal",
	KindUnimplemented:    "unimplemented",
	KindOverloaded:       "overloaded",
	KindBadFrame:         "bad_frame",
}

// String returns the kind's stable name, such as "not_found".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

var kindStatus = [...]int{
	KindOther:            http.StatusInternalServerError,
	KindInvalid:          http.StatusBadRequest,
	KindNotFound:         http.StatusNotFound,
	KindMethodNotAllowed: http.StatusMethodNotAllowed,
	KindConflict:         http.StatusConflict,
	KindTooLarge:         http.StatusRequestEntityTooLarge,
	KindUnsupported:      http.StatusUnsupportedMediaType,
	KindUnauthenticated:  http.StatusUnauthorized,
	KindPermissionDenied: http.StatusForbidden,
	KindCanceled:         499, // client closed request, as nginx logs it
	KindDeadlineExceeded: http.StatusGatewayTimeout,
	KindUnavailable:      http.StatusServiceUnavailable,
	KindInternal:         http.StatusInternalServerError,
	KindUnimplemented:    http.StatusNotImplemented,
	KindOverloaded:       http.StatusServiceUnavailable,
	KindBadFrame:         http.StatusBadRequest,
}

// HTTPStatus returns the HTTP status code for the kind: 400 for [KindInvalid],
// 404 for [KindNotFound], and so on (see the constants); 500 for [KindOther],
// [KindInternal] and kinds this version does not know.
func (k Kind) HTTPStatus() int {
	if int(k) < len(kindStatus) {
		return kindStatus[k]
	}
	return http.StatusInternalServerError
}

// KindForStatus maps an HTTP status back to a kind, for clients: the kind
// whose HTTPStatus it is, or else [KindInternal] for other 5xx, [KindInvalid] for
// other 4xx, and [KindOther] for the rest.
func KindForStatus(status int) Kind {
	for k, s := range kindStatus {
		if s == status && Kind(k) != KindOther {
			return Kind(k)
		}
	}
	switch {
	case status >= 500:
		return KindInternal
	case status >= 400:
		return KindInvalid
	}
	return KindOther
}

// Error is glyph's one error type. It survives the wire: transports send
// its kind (as an HTTP status or a code), operation, message and logref,
// and clients rebuild it. Go code that a Service calls returns an *Error
// (from Errorf, or a literal) to choose the kind its caller sees; Serve
// reports any other error as [KindInternal].
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

// KindOf returns the kind of err: its own for an *Error, [KindCanceled] or
// [KindDeadlineExceeded] for context errors, [KindOther] otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindOther {
		return e.Kind
	}
	switch {
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return KindDeadlineExceeded
	}
	return KindOther
}

// asError turns any error returned by user code or the service layer
// into an *Error with an operation, a kind and, for server-side failures,
// a logref. An *Error anywhere in err's chain is kept (copied) with its
// kind; [KindOther] becomes [KindInternal]. Context errors become [KindCanceled] and
// [KindDeadlineExceeded]; anything else is [KindInternal] with err's text.
func asError(op string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		if c.Op == "" {
			c.Op = op
		}
		if c.Kind == KindOther || c.Kind == KindInternal {
			c.Kind = KindInternal
			if c.Logref == "" {
				c.Logref = newLogref()
			}
		}
		return &c
	}
	k := KindOf(err)
	out := &Error{Op: op, Kind: k, Err: err}
	switch k {
	case KindCanceled, KindDeadlineExceeded:
		out.Message = k.String()
	default:
		// Errors from user code are reported as internal errors with
		// their message: the function chose to return it. Panics are
		// handled separately and never show their value.
		out.Kind = KindInternal
		out.Message = err.Error()
		out.Logref = newLogref()
	}
	return out
}

// hyperError returns the error extension that reports e to a caller: its
// logref, and "op: message" where a [KindInternal] error without a message
// says only "internal error".
func hyperError(e *Error) hyper.Error { return e.Hyper() }

// Hyper returns the hyperglyph error extension for e, as transports send
// it: the message prefixed by the operation, the logref, and the kind's
// HTTP status as the code. This is the one place errors become bodies.
func (e *Error) Hyper() hyper.Error {
	msg := e.Message
	switch {
	case msg != "":
	case e.Kind == KindInternal || e.Kind == KindOther:
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
