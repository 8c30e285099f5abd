package record

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// kemPublicKeySize is the size of an X-Wing (MLKEM768-X25519) public key.
const kemPublicKeySize = 1216

// SeedSize is the size of the secret a [Keys] is made from: a 32-byte
// Ed25519 seed, then a 32-byte X-Wing private key seed.
const SeedSize = 64

// An Identity is a signed identity document: the Ed25519 key that signs for
// the identity and the HPKE X-Wing public key that others encrypt shares to,
// self-signed by the Ed25519 key. Its [Identity.Fingerprint], the address
// of its bytes, is the identity's name everywhere else (owners, senders,
// recipients).
//
// Records returned by this package are read-only: a changed field no
// longer matches [Identity.Bytes].
type Identity struct {
	Kind    Kind              `glyph:"kind"`
	Suite   int               `glyph:"suite"`
	Sign    ed25519.PublicKey `glyph:"sign"`
	KEM     []byte            `glyph:"kem"`
	Created time.Time         `glyph:"created"`
	Sig     []byte            `glyph:"sig,omitempty"`

	raw []byte
	fp  Address
}

// Bytes returns the identity's canonical encoding.
func (id *Identity) Bytes() []byte { return id.raw }

// Fingerprint returns the address of the identity's bytes.
func (id *Identity) Fingerprint() Address { return id.fp }

// ParseIdentity decodes an identity document and checks its self-signature.
func ParseIdentity(data []byte) (*Identity, error) {
	id := new(Identity)
	if err := decodeCanonical(data, id); err != nil {
		return nil, err
	}
	if err := checkHead(id.Kind, id.Suite, KindIdentity); err != nil {
		return nil, err
	}
	if len(id.Sign) != ed25519.PublicKeySize || len(id.KEM) != kemPublicKeySize || len(id.Sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: identity key or signature of the wrong size", ErrMalformed)
	}
	if _, err := hpke.MLKEM768X25519().NewPublicKey(id.KEM); err != nil {
		return nil, fmt.Errorf("%w: identity KEM key: %v", ErrMalformed, err)
	}
	sig := id.Sig
	id.Sig = nil
	unsigned, err := wire.Marshal(id)
	id.Sig = sig
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !ed25519.Verify(id.Sign, append(domain(KindIdentity), unsigned...), sig) {
		return nil, fmt.Errorf("%w: identity signature does not verify", ErrTampered)
	}
	id.raw = data
	id.fp = Sum(data)
	return id, nil
}

// Keys are the secret half of an identity: its signing key and its KEM
// private key, with the [Identity] they sign.
type Keys struct {
	// Identity is the public identity document of these keys.
	Identity *Identity

	seed [SeedSize]byte
	sign ed25519.PrivateKey
	kem  hpke.PrivateKey
}

// NewKeys makes a new identity with random keys, created at created.
func NewKeys(created time.Time) (*Keys, error) {
	seed := make([]byte, SeedSize)
	rand.Read(seed)
	return KeysFromSeed(seed, created)
}

// KeysFromSeed remakes the identity whose [Keys.Seed] is seed. The same
// seed and creation time give the same identity, byte for byte.
func KeysFromSeed(seed []byte, created time.Time) (*Keys, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("record: identity seed is %d bytes, not %d", len(seed), SeedSize)
	}
	k := &Keys{sign: ed25519.NewKeyFromSeed(seed[:32])}
	copy(k.seed[:], seed)
	kem, err := hpke.MLKEM768X25519().NewPrivateKey(seed[32:])
	if err != nil {
		return nil, err
	}
	k.kem = kem
	id := &Identity{
		Kind:    KindIdentity,
		Suite:   Suite1,
		Sign:    k.sign.Public().(ed25519.PublicKey),
		KEM:     kem.PublicKey().Bytes(),
		Created: utc(created),
	}
	raw, err := signSelf(id, k.sign)
	if err != nil {
		return nil, err
	}
	if id, err = ParseIdentity(raw); err != nil {
		return nil, err
	}
	k.Identity = id
	return k, nil
}

// signSelf signs an identity document with its own key.
func signSelf(id *Identity, key ed25519.PrivateKey) ([]byte, error) {
	unsigned, err := wire.Marshal(id)
	if err != nil {
		return nil, err
	}
	id.Sig = ed25519.Sign(key, append(domain(KindIdentity), unsigned...))
	return wire.Marshal(id)
}

// Seed returns the secret the keys are made from ([KeysFromSeed]). Keep
// it as secret as the keys themselves.
func (k *Keys) Seed() []byte { return append([]byte(nil), k.seed[:]...) }

// Fingerprint returns the fingerprint of the keys' identity.
func (k *Keys) Fingerprint() Address { return k.Identity.fp }

// Signer returns a [Signer] that signs records as the identity itself.
func (k *Keys) Signer() *Signer { return &Signer{owner: k.Identity.fp, key: k.sign} }

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
