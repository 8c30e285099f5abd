package record

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
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
