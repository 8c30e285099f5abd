package record

import (
	"crypto/subtle"
	"fmt"
)

// A Successor record names the identity that replaces its owner (key
// rotation). It is signed by the owner's identity key, never by a device.
type Successor struct {
	Kind  Kind    `glyph:"kind"`
	Suite int     `glyph:"suite"`
	Owner Address `glyph:"owner"`
	Next  Address `glyph:"next"`
	Signature

	raw []byte
}

// Bytes returns the successor record's canonical encoding.
func (s *Successor) Bytes() []byte { return s.raw }

// ParseSuccessor decodes a successor record and checks its signature by
// the key it names as signer; [Successor.Check] checks that key is the
// old identity's.
func ParseSuccessor(data []byte) (*Successor, error) {
	s := new(Successor)
	if err := decodeCanonical(data, s); err != nil {
		return nil, err
	}
	if err := checkHead(s.Kind, s.Suite, KindSuccessor); err != nil {
		return nil, err
	}
	if err := s.Owner.check(); err != nil {
		return nil, err
	}
	if err := s.Next.check(); err != nil {
		return nil, err
	}
	if err := verify(KindSuccessor, s, &s.Signature); err != nil {
		return nil, err
	}
	s.raw = data
	return s, nil
}

// Check checks that the old identity signed s and that s names next.
func (s *Successor) Check(old, next *Identity) error {
	if err := s.checkOwner(old); err != nil {
		return err
	}
	if !s.Next.Equal(next.fp) {
		return fmt.Errorf("%w: successor record names %s, not %s", ErrUnauthorised, s.Next, next.fp)
	}
	return nil
}

// checkOwner checks that old's identity key signed s.
func (s *Successor) checkOwner(old *Identity) error {
	if !s.Owner.Equal(old.fp) || subtle.ConstantTimeCompare(s.Signer, old.Sign) != 1 {
		return fmt.Errorf("%w: successor record not signed by %s", ErrUnauthorised, old.fp)
	}
	return nil
}

// Succeed signs a [Successor] record, by which this identity names next
// as the identity that replaces it (key rotation).
func (k *Keys) Succeed(next *Identity) (*Successor, error) {
	s := &Successor{Kind: KindSuccessor, Suite: Suite1, Owner: k.Identity.fp, Next: next.fp}
	raw, err := sign(KindSuccessor, s, &s.Signature, k.sign)
	if err != nil {
		return nil, err
	}
	return ParseSuccessor(raw)
}
