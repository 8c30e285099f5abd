package record

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// Suite1 is the only suite this package implements: SHA-256 addresses,
// Ed25519 signatures, HPKE with X-Wing (ML-KEM-768 + X25519), HKDF-SHA256
// and ChaCha20-Poly1305 for shares, XChaCha20-Poly1305 for content. Every
// record carries its suite, so a later suite can replace this one.
const Suite1 = 1

// A Kind names a record type; it is the record's "kind" entry.
type Kind string

// The kinds of record.
const (
	KindIdentity  Kind = "identity"  // an identity document ([Identity])
	KindDevice    Kind = "device"    // a device key authorised by an identity ([Device])
	KindSuccessor Kind = "successor" // an identity naming its successor ([Successor])
	KindContainer Kind = "container" // encrypted content, a static object
	KindFrame     Kind = "frame"     // one state of a dynamic object ([Frame])
	KindBinding   Kind = "binding"   // keeps a static object alive ([Binding])
	KindHold      Kind = "hold"      // a third party keeps an object alive ([Binding])
	KindDebinding Kind = "debinding" // deletes a binding, hold or dynamic object ([Binding])
	KindShare     Kind = "share"     // an object's key for one recipient ([Share])
)

// domain returns the prefix signed before a record of kind k, so that a
// signature over one kind of record never verifies as another kind.
func domain(k Kind) []byte { return []byte("glyph-objects:" + string(k) + "\x00") }

// maxRecordBytes bounds every record but containers, whose content streams.
// The largest is a share from a device (about 2.2 KiB).
const maxRecordBytes = 8 << 10

// recordLimits bound the decoding of every record but a container's
// content: records are small dicts of fixed shape, at most two deep (a
// device nested in a frame).
var recordLimits = wire.Limits{
	MaxMessageBytes:  maxRecordBytes,
	MaxDepth:         4,
	MaxItems:         16,
	MaxStringBytes:   4 << 10,
	MaxIntegerDigits: 20,
	MaxBlobs:         1,
	MaxBlobBytes:     1,
}

// decodeCanonical decodes data into v and checks that data is exactly the
// canonical encoding of v: no unknown, missing or misspelt entries, no
// whitespace, canonical order. Two records with the same content therefore
// always have the same bytes and the same address.
func decodeCanonical(data []byte, v any) error {
	if len(data) > maxRecordBytes {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(data), maxRecordBytes)
	}
	if err := wire.UnmarshalConfig(data, v, wire.DecodeConfig{Limits: recordLimits, SpoolThreshold: -1}); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	again, err := wire.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("%w: not in canonical form", ErrMalformed)
	}
	return nil
}

// checkHead checks the kind and suite every record starts with.
func checkHead(got Kind, suite int, want ...Kind) error {
	if suite != Suite1 {
		return fmt.Errorf("%w: suite %d", ErrSuite, suite)
	}
	for _, k := range want {
		if got == k {
			return nil
		}
	}
	return fmt.Errorf("%w: kind %q where %q was expected", ErrMalformed, got, want[0])
}

// Signature is the end of every signed record: the public key that signed
// it and the Ed25519 signature over the record's domain prefix and the
// canonical encoding of the record without its "sig" entry (spec.md).
type Signature struct {
	Signer ed25519.PublicKey `glyph:"signer"`
	Sig    []byte            `glyph:"sig,omitempty"`
}

// sign signs rec, whose embedded Signature is s, with key, and returns the
// record's bytes.
func sign(k Kind, rec any, s *Signature, key ed25519.PrivateKey) ([]byte, error) {
	s.Signer = key.Public().(ed25519.PublicKey)
	s.Sig = nil
	unsigned, err := wire.Marshal(rec)
	if err != nil {
		return nil, err
	}
	s.Sig = ed25519.Sign(key, append(domain(k), unsigned...))
	return wire.Marshal(rec)
}

// verify checks the signature of rec, whose embedded Signature is s.
func verify(k Kind, rec any, s *Signature) error {
	if len(s.Signer) != ed25519.PublicKeySize || len(s.Sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: signer or signature of the wrong size", ErrMalformed)
	}
	sig := s.Sig
	s.Sig = nil
	unsigned, err := wire.Marshal(rec)
	s.Sig = sig
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	msg := append(domain(k), unsigned...)
	if k != KindDevice {
		if !ed25519.Verify(s.Signer, msg, sig) {
			return fmt.Errorf("%w: %s signature does not verify", ErrTampered, k)
		}
		return nil
	}
	key := sigKey(msg, s.Signer, sig)
	if verifiedDevices.has(key) {
		return nil
	}
	if !ed25519.Verify(s.Signer, msg, sig) {
		return fmt.Errorf("%w: %s signature does not verify", ErrTampered, k)
	}
	verifiedDevices.add(key)
	return nil
}

// utc returns t as the wire keeps it: UTC, truncated to microseconds.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// utcPtr is utc for an optional time; the zero time means none.
func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

// expired reports whether an optional validity has ended at now.
func expired(expires *time.Time, now time.Time) bool {
	return expires != nil && !now.Before(*expires)
}
