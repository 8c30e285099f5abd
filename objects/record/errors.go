package record

import "errors"

// The errors every check returns wrap one of these values, so callers test
// them with [errors.Is]; the wrapping message says what was found.
var (
	// ErrMalformed: the bytes are not a record (not a glyph value, a field
	// missing or of the wrong type or size, not in canonical form, past a
	// decoding limit).
	ErrMalformed = errors.New("record: malformed")
	// ErrSuite: the record names a suite, or an address a tag, that this
	// package does not implement.
	ErrSuite = errors.New("record: unsupported suite")
	// ErrTampered: a signature, an address or an authentication tag does not
	// match the bytes.
	ErrTampered = errors.New("record: tampered")
	// ErrTruncated: a container's content ends before its last segment.
	ErrTruncated = errors.New("record: truncated")
	// ErrReplayed: a frame is not newer than the frame it is checked
	// against (an old counter, or the same frame again).
	ErrReplayed = errors.New("record: replayed")
	// ErrForked: a frame has the counter of another frame, or follows a
	// frame other than the one it is checked against.
	ErrForked = errors.New("record: forked")
	// ErrGap: a frame's counter skips frames the check has not seen.
	ErrGap = errors.New("record: frames missing")
	// ErrUnauthorised: a record is signed by a key that neither is the
	// owner's nor belongs to a device the owner authorised, or names another
	// owner or object than expected.
	ErrUnauthorised = errors.New("record: unauthorised signer")
	// ErrExpired: a frame's or a device's validity has ended.
	ErrExpired = errors.New("record: expired")
	// ErrNoKey: no key given can open the container or the share.
	ErrNoKey = errors.New("record: no key")
)
