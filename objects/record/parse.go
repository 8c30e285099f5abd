package record

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// Info is what a record shows about itself once [Parse] has checked it:
// what a persistence server needs to store, index and relay it without
// being able to read it. Fields that do not apply to the record's kind are
// zero.
type Info struct {
	Kind Kind
	// Address is the address of the record's bytes: a container's
	// address, an identity's fingerprint, a frame's hash.
	Address Address
	// Owner is the fingerprint of the identity that signed the record (or
	// whose device did): a device's, successor's, frame's, binding's,
	// hold's or debinding's owner, a share's sender.
	Owner Address
	// Signer is the Ed25519 key that signed the record.
	Signer ed25519.PublicKey
	// ID, Counter and Prev place a frame in its object's chain; Prev is
	// zero for frame 0.
	ID      Address
	Counter uint64
	Prev    Address
	// Targets are the addresses the record keeps alive (a binding's,
	// hold's and frame's target) or deletes (a debinding's).
	Targets []Address
	// Recipient is a share's recipient.
	Recipient Address
	// Successor is the identity a successor record names.
	Successor Address
	// Expires is when a frame or a device record stops being valid; zero
	// when it does not.
	Expires time.Time
	// Size is the number of bytes of the record.
	Size int64

	// Record is the parsed record: *Identity, *Device, *Successor, *Frame,
	// *Binding or *Share; nil for a container.
	Record any
}

// CheckOwner checks that owner, or a device owner authorised, signed the
// record, that the authorisation and the record are valid at now, and, for
// an identity, that it is owner. It is the check a persistence server makes
// once it has found the owner's identity by [Info.Owner].
func (in *Info) CheckOwner(owner *Identity, now time.Time) error {
	switch r := in.Record.(type) {
	case *Identity:
		if !r.fp.Equal(owner.fp) {
			return fmt.Errorf("%w: identity %s, not %s", ErrUnauthorised, r.fp, owner.fp)
		}
		return nil
	case *Device:
		return r.CheckOwner(owner, now)
	case *Successor:
		return r.checkOwner(owner)
	case *Frame:
		return r.Check(owner, now)
	case *Binding:
		return r.CheckOwner(owner, now)
	case *Share:
		return r.CheckOwner(owner, now)
	}
	return fmt.Errorf("%w: a %s has no owner", ErrUnauthorised, in.Kind)
}

// containerPrefix starts every container: its first key is "content",
// which no other record has.
var containerPrefix = []byte("Du7:content;")

// kindOnly is the start of every record, decoded to choose its parser.
type kindOnly struct {
	Kind Kind `glyph:"kind"`
}

// Parse decodes any record from data and checks everything it shows on its
// own: canonical form, kind, suite, sizes, signatures (with their domain
// prefixes), a frame's id, a device record nested in it; for a container
// its header and the sizes of its segments (its content is ciphertext
// only its readers can check). It returns the record's [Info]. Whether the
// signer speaks for the owner is [Info.CheckOwner]'s question, and how a
// frame follows another is [CheckNext]'s.
func Parse(data []byte) (*Info, error) {
	var k kindOnly
	if bytes.HasPrefix(data, containerPrefix) {
		return ParseContainer(bytes.NewReader(data))
	}
	if len(data) > maxRecordBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(data), maxRecordBytes)
	}
	if err := wire.UnmarshalConfig(data, &k, wire.DecodeConfig{Limits: recordLimits, SpoolThreshold: -1}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	in := &Info{Kind: k.Kind, Address: Sum(data), Size: int64(len(data))}
	switch k.Kind {
	case KindIdentity:
		r, err := ParseIdentity(data)
		if err != nil {
			return nil, err
		}
		in.Record, in.Owner, in.Signer = r, r.fp, r.Sign
	case KindDevice:
		r, err := ParseDevice(data)
		if err != nil {
			return nil, err
		}
		in.Record, in.Owner, in.Signer, in.Expires = r, r.Owner, r.Signer, deref(r.Expires)
	case KindSuccessor:
		r, err := ParseSuccessor(data)
		if err != nil {
			return nil, err
		}
		in.Record, in.Owner, in.Signer, in.Successor = r, r.Owner, r.Signer, r.Next
	case KindFrame:
		r, err := ParseFrame(data)
		if err != nil {
			return nil, err
		}
		in.Record, in.Owner, in.Signer = r, r.Owner, r.Signer
		in.ID, in.Counter, in.Targets, in.Expires = r.ID, r.Counter, []Address{r.Target}, deref(r.Expires)
		if r.Prev != nil {
			in.Prev = *r.Prev
		}
	case KindBinding, KindHold, KindDebinding:
		r, err := ParseBinding(data)
		if err != nil {
			return nil, err
		}
		in.Record, in.Owner, in.Signer, in.Targets = r, r.Owner, r.Signer, []Address{r.Target}
	case KindShare:
		r, err := ParseShare(data)
		if err != nil {
			return nil, err
		}
		in.Record, in.Owner, in.Signer, in.Recipient = r, r.Owner, r.Signer, r.Recipient
	case KindContainer:
		return ParseContainer(bytes.NewReader(data))
	default:
		return nil, fmt.Errorf("%w: unknown kind %q", ErrMalformed, k.Kind)
	}
	return in, nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
