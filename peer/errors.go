package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/coder/websocket"
	"github.com/glyph-ipc/glyph/service"
)

// The wire error codes: the one table that maps the `code` of an error
// reply to a service.Kind and back. Codes below 20 are gRPC's numbers for
// the same concept; codes from 20 on are glyph's own. The numbers never
// change; new ones are only appended.
var codeTable = [...]struct {
	code int
	kind service.Kind
}{
	{1, service.KindCanceled},
	{2, service.KindOther},
	{3, service.KindInvalid},
	{4, service.KindDeadlineExceeded},
	{5, service.KindNotFound}, // also "method not found"
	{7, service.KindPermissionDenied},
	{8, service.KindOverloaded}, // gRPC's RESOURCE_EXHAUSTED
	{9, service.KindConflict},   // gRPC's FAILED_PRECONDITION
	{12, service.KindUnimplemented},
	{13, service.KindInternal},
	{14, service.KindUnavailable},
	{16, service.KindUnauthenticated},
	{20, service.KindBadFrame},
	{21, service.KindMethodNotAllowed},
	{22, service.KindTooLarge},
	{23, service.KindUnsupported},
}

// ErrorCode returns the wire code of an error reply for kind: 5 for
// [service.KindNotFound], 14 for [service.KindUnavailable] and so on (see spec.md); 2 (unknown) for
// [service.KindOther] and kinds this version does not know.
func ErrorCode(kind service.Kind) int {
	for _, e := range codeTable {
		if e.kind == kind {
			return e.code
		}
	}
	return 2
}

// ErrorKind returns the kind for a wire code and whether the code is one
// of the table's. Unknown codes, such as duplex's 1000, give [service.KindOther].
func ErrorKind(code int) (service.Kind, bool) {
	for _, e := range codeTable {
		if e.code == code {
			return e.kind, true
		}
	}
	return service.KindOther, false
}

// RemoteError keeps what an error reply carried besides its kind and
// message: its code, which may be one this package does not know (such
// as the 1000 of the duplex examples), and its data. Calls set it as the
// Err of the [*service.Error] they return, so errors.As finds it.
type RemoteError struct {
	Code int
	Data any
}

// Error returns "remote error <code>".
func (e *RemoteError) Error() string { return fmt.Sprintf("remote error %d", e.Code) }

// Retryable reports whether err means the call did not run or may not
// have run for reasons that a new attempt may not meet: its kind is
// [service.KindUnavailable], as for a connection that was lost or refused, a peer that
// is going away (goaway) or shutting down, or a remote that answered
// "unavailable". The peer package never replays a call itself: a call in
// flight when its connection broke may have run, so only the caller
// knows whether retrying it is safe.
func Retryable(err error) bool {
	return err != nil && service.KindOf(err) == service.KindUnavailable
}

// errorBody turns an error returned by a handler into an error reply: the
// code of its kind, its message, and its operation and logref (if any)
// as data. A *service.Error that wraps a *RemoteError of the same kind
// (a remote's error passed on) keeps the remote's code and data instead.
// Context errors become canceled and deadline_exceeded; errors that are
// not *service.Error are internal errors with their text, as in package
// service.
func errorBody(err error) *ErrorBody {
	var se *service.Error
	if !errors.As(err, &se) {
		k := service.KindOf(err)
		switch k {
		case service.KindCanceled, service.KindDeadlineExceeded:
			return &ErrorBody{Code: ErrorCode(k), Message: k.String()}
		}
		return &ErrorBody{Code: ErrorCode(service.KindInternal), Message: err.Error()}
	}
	body := &ErrorBody{Code: ErrorCode(se.Kind), Message: se.Message}
	var re *RemoteError
	if errors.As(se.Err, &re) {
		if k, _ := ErrorKind(re.Code); k == se.Kind {
			// A relayed remote error keeps its code and data (a proxy
			// passes on what its backend said); one whose kind was
			// changed on the way takes the code of its new kind.
			body.Code, body.Data = re.Code, re.Data
		}
	}
	if body.Message == "" {
		if se.Err != nil {
			body.Message = se.Err.Error()
		} else {
			body.Message = se.Kind.String()
		}
	}
	if se.Op != "" || se.Logref != "" {
		if body.Data == nil {
			data := map[string]any{}
			if se.Op != "" {
				data["op"] = se.Op
			}
			if se.Logref != "" {
				data["logref"] = se.Logref
			}
			body.Data = data
		}
	}
	return body
}

// remoteError turns an error reply into the *service.Error a call
// returns: the kind of its code ([service.KindOther] for unknown codes), its message,
// the op and logref glyph peers put in data, and a *RemoteError as Err.
func remoteError(method string, b *ErrorBody) *service.Error {
	kind, _ := ErrorKind(b.Code)
	e := &service.Error{Op: method, Kind: kind, Message: b.Message, Err: &RemoteError{Code: b.Code, Data: b.Data}}
	if m, ok := b.Data.(map[string]any); ok {
		if op, ok := m["op"].(string); ok && op != "" {
			e.Op = op
		}
		if l, ok := m["logref"].(string); ok {
			e.Logref = l
		}
	}
	return e
}

// errorf returns a *service.Error of kind with a formatted message.
func errorf(kind service.Kind, format string, args ...any) *service.Error {
	return &service.Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// opErrorf returns a *service.Error of kind for the operation op with a
// formatted message.
func opErrorf(op string, kind service.Kind, format string, args ...any) *service.Error {
	return &service.Error{Op: op, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// wrapErr returns a *service.Error of kind with message and cause.
func wrapErr(kind service.Kind, message string, cause error) *service.Error {
	return &service.Error{Kind: kind, Message: message, Err: cause}
}

// ctxError translates a context's error (or cause) into the kind a call
// reports: [service.KindCanceled] or [service.KindDeadlineExceeded], keeping the cause.
func ctxError(op string, ctx context.Context) *service.Error {
	cause := context.Cause(ctx)
	if cause == nil {
		cause = ctx.Err()
	}
	var se *service.Error
	if errors.As(cause, &se) {
		c := *se
		if c.Op == "" {
			c.Op = op
		}
		return &c
	}
	k := service.KindOf(cause)
	if k != service.KindDeadlineExceeded {
		k = service.KindCanceled
	}
	return &service.Error{Op: op, Kind: k, Message: k.String(), Err: cause}
}

// lostError is what a pending call on a connection that ended returns:
// always [service.KindUnavailable] (retryable), with the connection's reason as cause.
func lostError(op string, reason error) *service.Error {
	msg := "connection closed"
	if reason != nil && reason != error(errClosed) {
		msg = "connection lost: " + reason.Error()
	}
	return &service.Error{Op: op, Kind: service.KindUnavailable, Message: msg, Err: reason}
}

// readError classifies an error from a transport's ReadFrame as the
// reason a connection ended.
func readError(err error) *service.Error {
	var se *service.Error
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		// Not wrapped: a lost connection must not look like io.EOF, the
		// normal end of a stream, to errors.Is.
		return errRemoteClosed
	}
	return wrapErr(service.KindUnavailable, err.Error(), err)
}

// errClosed is the reason of a connection closed by its own side.
var errClosed = errorf(service.KindUnavailable, "connection closed")

// errRemoteClosed is the reason of a connection the remote closed (EOF).
var errRemoteClosed = errorf(service.KindUnavailable, "connection closed by peer")

// closedNormally reports whether a connection's end reason is the remote
// closing it in order: a stream's EOF, a WebSocket close with status
// 1000 (normal) or 1001 (going away), or a write that found the remote
// gone (a closed pipe, a broken or reset connection).
func closedNormally(reason error) bool {
	switch {
	case errors.Is(reason, errRemoteClosed), errors.Is(reason, io.ErrClosedPipe),
		errors.Is(reason, net.ErrClosed), errors.Is(reason, syscall.EPIPE), errors.Is(reason, syscall.ECONNRESET):
		return true
	}
	var ce websocket.CloseError
	if errors.As(reason, &ce) {
		return ce.Code == websocket.StatusNormalClosure || ce.Code == websocket.StatusGoingAway
	}
	return false
}

// opError sets op on a *service.Error from the codec or the connection.
func opError(op string, err error) error {
	var se *service.Error
	if errors.As(err, &se) {
		c := *se
		if c.Op == "" {
			c.Op = op
		}
		return &c
	}
	return &service.Error{Op: op, Kind: service.KindOf(err), Message: err.Error(), Err: err}
}
