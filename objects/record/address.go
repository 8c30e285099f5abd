package record

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
)

// AddressSize is the length of an [Address]: one algorithm tag byte and a
// SHA-256 digest.
const AddressSize = 1 + sha256.Size

// TagSHA256 is the algorithm tag of an [Address] whose digest is SHA-256,
// the only one suite 1 uses. Tag 0 is never valid, so a zero Address means
// "none".
const TagSHA256 byte = 0x01

// An Address names a record by the hash of its bytes: a container's address,
// an identity's fingerprint, a frame's hash, a dynamic object's id. On the
// wire it is a 33-byte bytearray: the tag, then the digest.
type Address [AddressSize]byte

// Sum returns the SHA-256 address of data.
func Sum(data []byte) Address {
	var a Address
	a[0] = TagSHA256
	d := sha256.Sum256(data)
	copy(a[1:], d[:])
	return a
}

// sumHash returns the address whose digest h has computed.
func sumHash(h hash.Hash) Address {
	var a Address
	a[0] = TagSHA256
	h.Sum(a[1:1])
	return a
}

// IsZero reports whether a is the zero Address, which names nothing.
func (a Address) IsZero() bool { return a == Address{} }

// Equal reports whether a and b are the same address, in constant time.
func (a Address) Equal(b Address) bool { return subtle.ConstantTimeCompare(a[:], b[:]) == 1 }

// String returns the text form of a: the 33 bytes in unpadded base64url
// (44 characters, starting with "A" for SHA-256).
func (a Address) String() string { return base64.RawURLEncoding.EncodeToString(a[:]) }

// ParseAddress parses the text form [Address.String] writes.
func ParseAddress(s string) (Address, error) {
	var a Address
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != AddressSize {
		return a, fmt.Errorf("%w: address %q is not 33 bytes of base64url", ErrMalformed, s)
	}
	copy(a[:], b)
	if err := a.check(); err != nil {
		return Address{}, err
	}
	return a, nil
}

// check reports an address whose tag is not one this package knows.
func (a Address) check() error {
	if a[0] != TagSHA256 {
		return fmt.Errorf("%w: address tag %#02x", ErrSuite, a[0])
	}
	return nil
}

// Bytes returns the address's 33 bytes.
func (a Address) Bytes() []byte { return a[:] }
