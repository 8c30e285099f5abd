package record

import (
	"crypto/ed25519"
	"crypto/subtle"
	"fmt"
	"time"
)

// A Signer signs records for an owner identity, with the identity's own
// key ([Keys.Signer]) or with the key of a device it authorised
// ([DeviceSigner]).
type Signer struct {
	owner  Address
	key    ed25519.PrivateKey
	device *Device
}

// DeviceSigner returns a [Signer] that signs with a device's private key
// for the identity that authorised it in cert.
func DeviceSigner(cert *Device, key ed25519.PrivateKey) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize || subtle.ConstantTimeCompare(key.Public().(ed25519.PublicKey), cert.Key) != 1 {
		return nil, fmt.Errorf("record: the device key does not match the device record")
	}
	return &Signer{owner: cert.Owner, key: key, device: cert}, nil
}

// Owner returns the fingerprint of the identity the signer signs for.
func (s *Signer) Owner() Address { return s.owner }

// A Device record authorises a device's Ed25519 key to sign for its owner
// identity until it expires. It is signed by the owner's identity key.
// Records signed by the device carry the Device record, so they verify
// against the owner's [Identity] alone.
type Device struct {
	Kind    Kind              `glyph:"kind"`
	Suite   int               `glyph:"suite"`
	Owner   Address           `glyph:"owner"`
	Key     ed25519.PublicKey `glyph:"key"`
	Name    string            `glyph:"name"`
	Expires *time.Time        `glyph:"expires"`
	Signature

	raw []byte
}

// maxNameBytes bounds a device's name.
const maxNameBytes = 256

// Bytes returns the device record's canonical encoding.
func (d *Device) Bytes() []byte { return d.raw }

// ParseDevice decodes a device record and checks its signature by the key
// it names as signer; [Device.CheckOwner] checks that key is the owner's.
func ParseDevice(data []byte) (*Device, error) {
	d := new(Device)
	if err := decodeCanonical(data, d); err != nil {
		return nil, err
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	d.raw = data
	return d, nil
}

// check checks a decoded device record, alone or nested in another record.
func (d *Device) check() error {
	if err := checkHead(d.Kind, d.Suite, KindDevice); err != nil {
		return err
	}
	if err := d.Owner.check(); err != nil {
		return err
	}
	if len(d.Key) != ed25519.PublicKeySize || len(d.Name) > maxNameBytes {
		return fmt.Errorf("%w: device key or name of the wrong size", ErrMalformed)
	}
	return verify(KindDevice, d, &d.Signature)
}

// CheckOwner checks that owner signed the device record and that it is
// valid at now.
func (d *Device) CheckOwner(owner *Identity, now time.Time) error {
	if !d.Owner.Equal(owner.fp) || subtle.ConstantTimeCompare(d.Signer, owner.Sign) != 1 {
		return fmt.Errorf("%w: device record not signed by %s", ErrUnauthorised, owner.fp)
	}
	if expired(d.Expires, now) {
		return fmt.Errorf("%w: device %q expired at %s", ErrExpired, d.Name, d.Expires.Format(time.RFC3339))
	}
	return nil
}

// AuthoriseDevice signs a [Device] record that lets the Ed25519 key
// devKey sign frames, bindings, debindings and shares for the identity
// until expires (the zero time: no end). name is a label for people.
func (k *Keys) AuthoriseDevice(devKey ed25519.PublicKey, name string, expires time.Time) (*Device, error) {
	if len(devKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("record: device key is %d bytes", len(devKey))
	}
	d := &Device{
		Kind:    KindDevice,
		Suite:   Suite1,
		Owner:   k.Identity.fp,
		Key:     devKey,
		Name:    name,
		Expires: utcPtr(expires),
	}
	raw, err := sign(KindDevice, d, &d.Signature, k.sign)
	if err != nil {
		return nil, err
	}
	return ParseDevice(raw)
}
