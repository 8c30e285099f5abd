package record

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"time"
)

// A proof is a signature by an identity (or a device it authorised) over
// a message that is not a record, such as a server's login challenge.
// Its signed bytes start with a prefix that no record's can (spec.md
// section 10), so a proof never verifies as a record nor a record as a
// proof, and with a purpose, so a proof for one use never serves another.

// maxPurpose bounds a proof's purpose.
const maxPurpose = 64

// proofMessage returns what a proof for purpose over msg signs.
func proofMessage(purpose string, msg []byte) ([]byte, error) {
	if purpose == "" || len(purpose) > maxPurpose || strings.IndexByte(purpose, 0) >= 0 {
		return nil, fmt.Errorf("%w: a proof's purpose is 1 to %d bytes without NUL", ErrMalformed, maxPurpose)
	}
	b := make([]byte, 0, len("glyph-objects:proof:")+len(purpose)+1+len(msg))
	b = append(b, "glyph-objects:proof:"...)
	b = append(b, purpose...)
	b = append(b, 0)
	return append(b, msg...), nil
}

// Device returns the device record s signs with, or nil when s signs with
// the identity's own key. A proof from s is checked with it.
func (s *Signer) Device() *Device { return s.device }

// SignProof signs msg for purpose (a short name of its use, such as
// "remote-login") as s and returns the 64-byte signature. [CheckProof]
// checks it, given s's identity and [Signer.Device].
func (s *Signer) SignProof(purpose string, msg []byte) ([]byte, error) {
	m, err := proofMessage(purpose, msg)
	if err != nil {
		return nil, err
	}
	return ed25519.Sign(s.key, m), nil
}

// CheckProof checks that sig is a proof for purpose over msg made by
// owner's identity key or, when device is not nil, by the key of device,
// (as [ParseDevice] returned it, its own signature checked) which owner
// must have authorised and which must be valid at now. It
// returns an error wrapping ErrUnauthorised when sig is not such a proof,
// ErrExpired when the device's authorisation has ended, ErrMalformed for
// a purpose or signature of the wrong size.
func CheckProof(purpose string, msg, sig []byte, owner *Identity, device *Device, now time.Time) error {
	m, err := proofMessage(purpose, msg)
	if err != nil {
		return err
	}
	if len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: a proof is %d bytes, not %d", ErrMalformed, ed25519.SignatureSize, len(sig))
	}
	key := owner.Sign
	if device != nil {
		if err := device.CheckOwner(owner, now); err != nil {
			return err
		}
		key = device.Key
	}
	if !ed25519.Verify(key, m, sig) {
		return fmt.Errorf("%w: the proof is not signed by %s", ErrUnauthorised, owner.fp)
	}
	return nil
}
