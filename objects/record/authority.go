package record

import (
	"crypto/subtle"
	"fmt"
	"time"
)

// Authority is the end of every record that an owner identity, or a device
// it authorised, signs: frames, bindings, holds, debindings and shares. It
// names the owner, carries the [Device] record when a device signed, and
// the [Signature].
type Authority struct {
	Owner  Address `glyph:"owner"`
	Device *Device `glyph:"device"`
	Signature
}

// signAs signs rec, whose embedded Authority is a, as s.
func signAs(k Kind, rec any, a *Authority, s *Signer) ([]byte, error) {
	a.Owner = s.owner
	a.Device = s.device
	return sign(k, rec, &a.Signature, s.key)
}

// checkSigned checks what a record shows on its own: its signature by the
// key it names, and a nested device record that authorises that key for
// the same owner, signed by the key it names.
func (a *Authority) checkSigned(k Kind, rec any) error {
	if err := a.Owner.check(); err != nil {
		return err
	}
	if d := a.Device; d != nil {
		if err := d.check(); err != nil {
			return err
		}
		if !d.Owner.Equal(a.Owner) || subtle.ConstantTimeCompare(d.Key, a.Signer) != 1 {
			return fmt.Errorf("%w: the device record is for another key or owner", ErrUnauthorised)
		}
	}
	return verify(k, rec, &a.Signature)
}

// CheckOwner checks that the record was signed by owner, or by a device
// that owner authorised and whose authorisation has not expired at now.
func (a *Authority) CheckOwner(owner *Identity, now time.Time) error {
	if !a.Owner.Equal(owner.fp) {
		return fmt.Errorf("%w: owned by %s, not %s", ErrUnauthorised, a.Owner, owner.fp)
	}
	if a.Device != nil {
		return a.Device.CheckOwner(owner, now)
	}
	if subtle.ConstantTimeCompare(a.Signer, owner.Sign) != 1 {
		return fmt.Errorf("%w: not signed by %s", ErrUnauthorised, owner.fp)
	}
	return nil
}
