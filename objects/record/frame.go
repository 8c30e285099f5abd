package record

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"time"
)

// NonceSize is the size of a dynamic object's nonce and of a container's.
const NonceSize = 16

// DynamicID returns the id of the dynamic object that owner made with
// nonce: the SHA-256 address of the domain prefix "glyph-objects:dynamic"
// and a zero byte, the owner's 33 bytes and the nonce.
func DynamicID(owner Address, nonce []byte) Address {
	h := sha256.New()
	h.Write(domain("dynamic"))
	h.Write(owner[:])
	h.Write(nonce)
	return sumHash(h)
}

// A Frame is one state of a dynamic object: it names the object (its id,
// with the owner and nonce the id is made from), its place in the chain
// (a counter from 0 and the hash of the previous frame), the container it
// points to, how long it is valid, and the owner's or an authorised
// device's signature. Every frame verifies on its own; [CheckNext] checks
// one frame against the one before.
type Frame struct {
	Kind    Kind       `glyph:"kind"`
	Suite   int        `glyph:"suite"`
	ID      Address    `glyph:"id"`
	Nonce   []byte     `glyph:"nonce"`
	Counter uint64     `glyph:"counter"`
	Prev    *Address   `glyph:"prev"`
	Target  Address    `glyph:"target"`
	Expires *time.Time `glyph:"expires"`
	Authority

	raw  []byte
	hash Address
}

// Bytes returns the frame's canonical encoding.
func (f *Frame) Bytes() []byte { return f.raw }

// Hash returns the address of the frame's bytes, which the next frame
// names as its previous frame.
func (f *Frame) Hash() Address { return f.hash }

// NewDynamic makes the first frame (counter 0) of a new dynamic object
// owned by s's identity, with a random nonce, pointing to target and
// valid until expires (the zero time: no end).
func NewDynamic(s *Signer, target Address, expires time.Time) (*Frame, error) {
	nonce := make([]byte, NonceSize)
	rand.Read(nonce)
	return newFrame(s, nonce, 0, nil, target, expires)
}

// Next makes the frame that follows f: the same object, counter + 1, f's
// hash as previous frame, pointing to target and valid until expires.
// s must sign for f's owner.
func (f *Frame) Next(s *Signer, target Address, expires time.Time) (*Frame, error) {
	if !s.owner.Equal(f.Owner) {
		return nil, fmt.Errorf("%w: %s cannot sign frames of %s's object", ErrUnauthorised, s.owner, f.Owner)
	}
	prev := f.hash
	return newFrame(s, f.Nonce, f.Counter+1, &prev, target, expires)
}

func newFrame(s *Signer, nonce []byte, counter uint64, prev *Address, target Address, expires time.Time) (*Frame, error) {
	if err := target.check(); err != nil {
		return nil, err
	}
	f := &Frame{
		Kind:    KindFrame,
		Suite:   Suite1,
		ID:      DynamicID(s.owner, nonce),
		Nonce:   nonce,
		Counter: counter,
		Prev:    prev,
		Target:  target,
		Expires: utcPtr(expires),
	}
	raw, err := signAs(KindFrame, f, &f.Authority, s)
	if err != nil {
		return nil, err
	}
	// Not parsed back: that would verify the signature just made, which
	// costs a writer more than signing it (the tests parse what is made).
	f.raw, f.hash = raw, Sum(raw)
	return f, nil
}

// ParseFrame decodes a frame and checks what it shows on its own: its
// form, its id against its owner and nonce, and its signature by the key
// it names (and that key's device record, if a device signed). Whether
// that key speaks for the owner is [Frame.Check]'s question.
func ParseFrame(data []byte) (*Frame, error) {
	f := new(Frame)
	if err := decodeCanonical(data, f); err != nil {
		return nil, err
	}
	if err := checkHead(f.Kind, f.Suite, KindFrame); err != nil {
		return nil, err
	}
	if len(f.Nonce) != NonceSize {
		return nil, fmt.Errorf("%w: frame nonce of %d bytes", ErrMalformed, len(f.Nonce))
	}
	if (f.Counter == 0) != (f.Prev == nil) {
		return nil, fmt.Errorf("%w: frame %d with a previous frame %v", ErrMalformed, f.Counter, f.Prev != nil)
	}
	if f.Prev != nil {
		if err := f.Prev.check(); err != nil {
			return nil, err
		}
	}
	if err := f.Target.check(); err != nil {
		return nil, err
	}
	if err := f.checkSigned(KindFrame, f); err != nil {
		return nil, err
	}
	if !f.ID.Equal(DynamicID(f.Owner, f.Nonce)) {
		return nil, fmt.Errorf("%w: frame id is not its owner's and nonce's", ErrTampered)
	}
	f.raw = data
	f.hash = Sum(data)
	return f, nil
}

// Check checks that owner, or a device owner authorised, signed f and that
// f is still valid at now.
func (f *Frame) Check(owner *Identity, now time.Time) error {
	if err := f.CheckOwner(owner, now); err != nil {
		return err
	}
	if expired(f.Expires, now) {
		return fmt.Errorf("%w: frame %d expired at %s", ErrExpired, f.Counter, f.Expires.Format(time.RFC3339))
	}
	return nil
}

// CheckNext checks next as the frame that follows prev, the latest frame
// known of its object, and then next.Check(owner, now). Exactly one of these
// errors is wrapped when it fails:
//   - [ErrUnauthorised]: next is another object's frame, or not signed by owner
//     or an authorised device;
//   - [ErrReplayed]: next's counter is not above prev's (prev itself again
//     included);
//   - [ErrForked]: next has prev's counter but other bytes, or follows
//     another frame than prev;
//   - [ErrGap]: next's counter skips frames;
//   - [ErrExpired]: next, or the device that signed it, is no longer valid.
func CheckNext(prev, next *Frame, owner *Identity, now time.Time) error {
	switch {
	case !next.ID.Equal(prev.ID):
		return fmt.Errorf("%w: frame of object %s, not %s", ErrUnauthorised, next.ID, prev.ID)
	case next.Counter == prev.Counter && !next.hash.Equal(prev.hash):
		return fmt.Errorf("%w: two frames %d", ErrForked, next.Counter)
	case next.Counter <= prev.Counter:
		return fmt.Errorf("%w: frame %d after frame %d", ErrReplayed, next.Counter, prev.Counter)
	case next.Counter > prev.Counter+1:
		return fmt.Errorf("%w: frame %d after frame %d", ErrGap, next.Counter, prev.Counter)
	case !next.Prev.Equal(prev.hash):
		return fmt.Errorf("%w: frame %d follows another frame %d", ErrForked, next.Counter, prev.Counter)
	}
	return next.Check(owner, now)
}
