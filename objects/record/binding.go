package record

import (
	"fmt"
	"time"
)

// A Binding keeps an object alive or deletes one, by its kind:
//   - [KindBinding]: the owner keeps the static object (container) at
//     Target alive;
//   - [KindHold]: an identity keeps someone else's object alive, static
//     (a container's address) or dynamic (its id), even after its owner
//     deletes it;
//   - [KindDebinding]: the owner deletes what Target names: a binding or
//     hold (by its address) or a dynamic object (by its id). A debinding
//     is a tombstone: it stays so that the deleted record is not
//     accepted again. It takes effect only when its owner also owns what
//     it deletes, which a store checks against the target's record.
//
// A dynamic object is kept alive by its own chain of frames.
type Binding struct {
	Kind    Kind      `glyph:"kind"`
	Suite   int       `glyph:"suite"`
	Target  Address   `glyph:"target"`
	Created time.Time `glyph:"created"`
	Authority

	raw  []byte
	addr Address
}

// Bytes returns the record's canonical encoding.
func (b *Binding) Bytes() []byte { return b.raw }

// Address returns the address of the record's bytes, which a debinding
// names to delete it.
func (b *Binding) Address() Address { return b.addr }

// NewBinding signs a record of kind k ([KindBinding], [KindHold] or
// [KindDebinding]) for target, as s, made at created (which makes two
// bindings of one target made at different times different records).
func NewBinding(s *Signer, k Kind, target Address, created time.Time) (*Binding, error) {
	if err := checkHead(k, Suite1, KindBinding, KindHold, KindDebinding); err != nil {
		return nil, err
	}
	if err := target.check(); err != nil {
		return nil, err
	}
	b := &Binding{Kind: k, Suite: Suite1, Target: target, Created: utc(created)}
	raw, err := signAs(k, b, &b.Authority, s)
	if err != nil {
		return nil, err
	}
	return ParseBinding(raw)
}

// ParseBinding decodes a binding, hold or debinding and checks its
// signature by the key it names ([Binding.CheckOwner] checks the owner).
func ParseBinding(data []byte) (*Binding, error) {
	b := new(Binding)
	if err := decodeCanonical(data, b); err != nil {
		return nil, err
	}
	if err := checkHead(b.Kind, b.Suite, KindBinding, KindHold, KindDebinding); err != nil {
		return nil, err
	}
	if err := b.Target.check(); err != nil {
		return nil, err
	}
	if err := b.checkSigned(b.Kind, b); err != nil {
		return nil, err
	}
	b.raw = data
	b.addr = Sum(data)
	return b, nil
}

// String names the record for messages.
func (b *Binding) String() string { return fmt.Sprintf("%s of %s", b.Kind, b.Target) }
