package remote

import (
	"errors"
	"strings"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/service"
)

// A Reason says why the remote refused a request, in a word a client can
// act on. Every error the remote answers for a reason of the client's is a
// *[service.Error] whose Kind is the reason's (below) and whose message
// starts with the reason and ": "; [ReasonOf] finds it again on the client
// side of any transport. The words are stable: new ones are only added.
type Reason string

// The reasons, with the [service.Kind] each is answered with.
const (
	ReasonMalformed       Reason = "malformed"       // KindInvalid: not a record, or a request out of bounds
	ReasonUnsupported     Reason = "unsupported"     // KindUnsupported: a suite, or a kind of record, the remote does not keep
	ReasonTampered        Reason = "tampered"        // KindInvalid: a signature or an address does not match the bytes
	ReasonUnknownOwner    Reason = "unknown_owner"   // KindNotFound: the record's owner has not logged in to this remote
	ReasonUnauthorised    Reason = "unauthorised"    // KindPermissionDenied: signed by another key, or published, read or deleted for someone else
	ReasonExpired         Reason = "expired"         // KindPermissionDenied: a frame or a device's authorisation has ended
	ReasonReplayed        Reason = "replayed"        // KindConflict: a frame not newer than the object's head
	ReasonForked          Reason = "forked"          // KindConflict: a frame with the head's counter, or not following the head
	ReasonGap             Reason = "gap"             // KindConflict: a frame skipping frames the remote has not seen
	ReasonUnbound         Reason = "unbound"         // KindInvalid: a container published without the frame or binding that keeps it
	ReasonMissingTarget   Reason = "missing_target"  // KindNotFound: a frame, binding, hold or debinding names what the remote lacks
	ReasonDeleted         Reason = "deleted"         // KindNotFound: the record or object was deleted (debound)
	ReasonNotFound        Reason = "not_found"       // KindNotFound: no such record or object
	ReasonQuota           Reason = "quota"           // KindPermissionDenied: the identity's quota is used up
	ReasonTooLarge        Reason = "too_large"       // KindTooLarge: a record or a request over the remote's limit
	ReasonUnauthenticated Reason = "unauthenticated" // KindUnauthenticated: no session, or one that is forged or expired
	ReasonChallenge       Reason = "challenge"       // KindUnauthenticated: a login with an unknown, used or expired challenge
	ReasonOverloaded      Reason = "overloaded"      // KindOverloaded: too many logins or uploads at once; retry later
	ReasonOffset          Reason = "offset"          // KindConflict: a chunk appended at another offset than the upload's end
	ReasonIncomplete      Reason = "incomplete"      // KindConflict: a publish names an upload that does not hold all its bytes
)

// reasons are the reasons with their kinds: the one table errors and
// ReasonOf read.
var reasons = map[Reason]service.Kind{
	ReasonMalformed:       service.KindInvalid,
	ReasonUnsupported:     service.KindUnsupported,
	ReasonTampered:        service.KindInvalid,
	ReasonUnknownOwner:    service.KindNotFound,
	ReasonUnauthorised:    service.KindPermissionDenied,
	ReasonExpired:         service.KindPermissionDenied,
	ReasonReplayed:        service.KindConflict,
	ReasonForked:          service.KindConflict,
	ReasonGap:             service.KindConflict,
	ReasonUnbound:         service.KindInvalid,
	ReasonMissingTarget:   service.KindNotFound,
	ReasonDeleted:         service.KindNotFound,
	ReasonNotFound:        service.KindNotFound,
	ReasonQuota:           service.KindPermissionDenied,
	ReasonTooLarge:        service.KindTooLarge,
	ReasonUnauthenticated: service.KindUnauthenticated,
	ReasonChallenge:       service.KindUnauthenticated,
	ReasonOverloaded:      service.KindOverloaded,
	ReasonOffset:          service.KindConflict,
	ReasonIncomplete:      service.KindConflict,
}

// Kind returns the [service.Kind] the remote answers r with.
func (r Reason) Kind() service.Kind {
	if k, ok := reasons[r]; ok {
		return k
	}
	return service.KindOther
}

// ReasonOf returns the reason of an error the remote answered, or "" for
// any other error (a network failure, a bug on the server). It reads the
// message, so it works on errors rebuilt from any transport.
func ReasonOf(err error) Reason {
	var se *service.Error
	if !errors.As(err, &se) {
		return ""
	}
	// The message is "<reason>: ...", perhaps behind the operation's name.
	for part := range strings.SplitSeq(se.Message, ": ") {
		if k, ok := reasons[Reason(part)]; ok && k == se.Kind {
			return Reason(part)
		}
	}
	return ""
}

// fail returns the error the remote answers for reason r, with a message
// saying what was found.
func fail(r Reason, msg string, cause error) error {
	return &service.Error{Kind: r.Kind(), Message: string(r) + ": " + msg, Err: cause}
}

// recordReason maps the errors of package record to reasons.
func recordReason(err error) Reason {
	switch {
	case errors.Is(err, record.ErrSuite):
		return ReasonUnsupported
	case errors.Is(err, record.ErrTampered):
		return ReasonTampered
	case errors.Is(err, record.ErrReplayed):
		return ReasonReplayed
	case errors.Is(err, record.ErrForked):
		return ReasonForked
	case errors.Is(err, record.ErrGap):
		return ReasonGap
	case errors.Is(err, record.ErrUnauthorised):
		return ReasonUnauthorised
	case errors.Is(err, record.ErrExpired):
		return ReasonExpired
	}
	return ReasonMalformed
}

// recordError is the remote's answer to an error of package record.
func recordError(err error) error {
	msg := err.Error()
	for _, e := range recordErrors {
		if errors.Is(err, e) {
			msg = strings.TrimPrefix(msg, e.Error()+": ")
		}
	}
	return fail(recordReason(err), msg, err)
}

// recordErrors are the errors of package record whose text a message
// repeats after the reason.
var recordErrors = []error{record.ErrMalformed, record.ErrSuite, record.ErrTampered, record.ErrTruncated,
	record.ErrReplayed, record.ErrForked, record.ErrGap, record.ErrUnauthorised, record.ErrExpired}

// storeError is the remote's answer to an error of the store: the store's
// reasons a client can act on become the remote's, anything else (the
// store failed) passes as it is.
func storeError(err error) error {
	var r Reason
	switch {
	case errors.Is(err, store.ErrFork):
		r = ReasonForked
	case errors.Is(err, store.ErrStale):
		r = ReasonReplayed
	case errors.Is(err, store.ErrGap):
		r = ReasonGap
	case errors.Is(err, store.ErrDebound):
		r = ReasonDeleted
	case errors.Is(err, store.ErrNotFound):
		r = ReasonNotFound
	case errors.Is(err, store.ErrQuota):
		r = ReasonQuota
	case errors.Is(err, store.ErrTooLarge):
		r = ReasonTooLarge
	case errors.Is(err, store.ErrInvalid):
		r = ReasonMalformed
	default:
		return err
	}
	msg := err.Error()
	var se *service.Error
	if errors.As(err, &se) && se.Message != "" {
		msg = se.Message
	}
	return fail(r, msg, err)
}
