package store

import (
	"errors"
	"fmt"

	"github.com/glyph-ipc/glyph/service"
)

// The reasons a store refuses or fails. A store returns them wrapped in a
// *[service.Error] that carries the kind named here and a message saying
// which record; test with errors.Is.
var (
	ErrInvalid  = errors.New("invalid record")           // KindInvalid
	ErrTooLarge = errors.New("record too large")         // KindTooLarge
	ErrNotFound = errors.New("no such record")           // KindNotFound
	ErrFork     = errors.New("frame forks its object")   // KindConflict
	ErrStale    = errors.New("frame older than head")    // KindConflict
	ErrGap      = errors.New("frame skips ahead")        // KindConflict
	ErrDebound  = errors.New("debound")                  // KindNotFound
	ErrQuota    = errors.New("quota exceeded")           // KindPermissionDenied
	ErrCorrupt  = errors.New("stored record is corrupt") // KindInternal
	ErrClosed   = errors.New("store closed")             // KindUnavailable
	// ErrLocked is returned by an Open whose store another process (or
	// another Open in this one) has open.
	ErrLocked = errors.New("store in use") // KindUnavailable
	// ErrSchema is returned by an Open whose store was written by a
	// newer version of this code.
	ErrSchema = errors.New("store schema too new") // KindUnsupported
)

var errKinds = map[error]service.Kind{
	ErrInvalid:  service.KindInvalid,
	ErrTooLarge: service.KindTooLarge,
	ErrNotFound: service.KindNotFound,
	ErrFork:     service.KindConflict,
	ErrStale:    service.KindConflict,
	ErrGap:      service.KindConflict,
	ErrDebound:  service.KindNotFound,
	ErrQuota:    service.KindPermissionDenied,
	ErrCorrupt:  service.KindInternal,
	ErrClosed:   service.KindUnavailable,
	ErrLocked:   service.KindUnavailable,
	ErrSchema:   service.KindUnsupported,
}

// Errorf returns a *[service.Error] for op that wraps reason (one of the
// Err values above, whose kind it takes) with the formatted message; for
// implementations of [Store].
func Errorf(op string, reason error, format string, args ...any) error {
	kind, ok := errKinds[reason]
	if !ok {
		kind = service.KindInternal
	}
	return &service.Error{Op: op, Kind: kind, Message: fmt.Sprintf(format, args...), Err: reason}
}
