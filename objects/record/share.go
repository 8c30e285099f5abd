package record

import (
	"bytes"
	"crypto/hpke"
	"fmt"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// maxAPIBytes bounds a [Grant]'s API id.
const maxAPIBytes = 256

// maxSealedBytes bounds a share's sealed grant: the X-Wing encapsulation
// (1120 bytes), the encoded grant and the AEAD tag.
const maxSealedBytes = 1120 + 512 + 16

// A Grant is what a [Share] carries to its recipient: the key of one epoch
// of an object, the object it opens (a dynamic object's id or a
// container's address) and the application schema id (API id) it is
// shared for.
type Grant struct {
	Target Address       `glyph:"target"`
	API    string        `glyph:"api"`
	Epoch  uint64        `glyph:"epoch"`
	Key    [KeySize]byte `glyph:"key"`
}

// EpochKey returns the content key the grant carries.
func (g *Grant) EpochKey() EpochKey { return EpochKey{Epoch: g.Epoch, Key: g.Key} }

// A Share is a share envelope: a [Grant] encrypted to one recipient's KEM
// key (HPKE, X-Wing, HKDF-SHA256, ChaCha20-Poly1305) and signed by the
// sender (the owner of the record) or an authorised device of the sender.
type Share struct {
	Kind      Kind      `glyph:"kind"`
	Suite     int       `glyph:"suite"`
	Recipient Address   `glyph:"recipient"`
	Sealed    []byte    `glyph:"sealed"`
	Created   time.Time `glyph:"created"`
	Authority

	raw  []byte
	addr Address
}

// Bytes returns the share's canonical encoding.
func (sh *Share) Bytes() []byte { return sh.raw }

// Address returns the address of the share's bytes.
func (sh *Share) Address() Address { return sh.addr }

// hpkeSuite returns suite 1's HPKE algorithms.
func hpkeSuite() (hpke.KEM, hpke.KDF, hpke.AEAD) {
	return hpke.MLKEM768X25519(), hpke.HKDFSHA256(), hpke.ChaCha20Poly1305()
}

// shareInfo is the HPKE info of a share from sender to recipient.
func shareInfo(sender, recipient Address) []byte {
	info := domain(KindShare)
	info = append(info, sender[:]...)
	return append(info, recipient[:]...)
}

// NewShare encrypts g to the recipient to and signs the envelope as s.
func NewShare(s *Signer, to *Identity, g *Grant, created time.Time) (*Share, error) {
	if len(g.API) > maxAPIBytes {
		return nil, fmt.Errorf("record: API id of %d bytes, more than %d", len(g.API), maxAPIBytes)
	}
	if err := g.Target.check(); err != nil {
		return nil, err
	}
	plain, err := wire.Marshal(g)
	if err != nil {
		return nil, err
	}
	kem, kdf, aead := hpkeSuite()
	pk, err := kem.NewPublicKey(to.KEM)
	if err != nil {
		return nil, err
	}
	sealed, err := hpke.Seal(pk, kdf, aead, shareInfo(s.owner, to.fp), plain)
	if err != nil {
		return nil, err
	}
	sh := &Share{Kind: KindShare, Suite: Suite1, Recipient: to.fp, Sealed: sealed, Created: utc(created)}
	raw, err := signAs(KindShare, sh, &sh.Authority, s)
	if err != nil {
		return nil, err
	}
	return ParseShare(raw)
}

// ParseShare decodes a share envelope and checks its signature by the key
// it names ([Share.CheckOwner] checks the sender).
func ParseShare(data []byte) (*Share, error) {
	sh := new(Share)
	if err := decodeCanonical(data, sh); err != nil {
		return nil, err
	}
	if err := checkHead(sh.Kind, sh.Suite, KindShare); err != nil {
		return nil, err
	}
	if err := sh.Recipient.check(); err != nil {
		return nil, err
	}
	if len(sh.Sealed) > maxSealedBytes {
		return nil, fmt.Errorf("%w: sealed grant of %d bytes", ErrMalformed, len(sh.Sealed))
	}
	if err := sh.checkSigned(KindShare, sh); err != nil {
		return nil, err
	}
	sh.raw = data
	sh.addr = Sum(data)
	return sh, nil
}

// grantLimits bound the decoding of a grant.
var grantLimits = wire.Limits{
	MaxMessageBytes:  1 << 10,
	MaxDepth:         2,
	MaxItems:         8,
	MaxStringBytes:   maxAPIBytes,
	MaxIntegerDigits: 20,
	MaxBlobs:         1,
	MaxBlobBytes:     1,
}

// OpenShare checks that sender, or a device sender authorised, signed sh
// and that the authorisation is valid at now, then decrypts the grant
// with k's KEM key. A share for another recipient fails with [ErrNoKey],
// one that does not decrypt with [ErrTampered].
func (k *Keys) OpenShare(sh *Share, sender *Identity, now time.Time) (*Grant, error) {
	if !sh.Recipient.Equal(k.Identity.fp) {
		return nil, fmt.Errorf("%w: share for %s, not %s", ErrNoKey, sh.Recipient, k.Identity.fp)
	}
	if err := sh.CheckOwner(sender, now); err != nil {
		return nil, err
	}
	_, kdf, aead := hpkeSuite()
	plain, err := hpke.Open(k.kem, kdf, aead, shareInfo(sh.Owner, sh.Recipient), sh.Sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: share does not decrypt", ErrTampered)
	}
	return decodeGrant(plain)
}

// decodeGrant decodes a share's decrypted grant.
func decodeGrant(plain []byte) (*Grant, error) {
	if len(plain) > int(grantLimits.MaxMessageBytes) {
		return nil, fmt.Errorf("%w: grant of %d bytes", ErrMalformed, len(plain))
	}
	g := new(Grant)
	if err := wire.UnmarshalConfig(plain, g, wire.DecodeConfig{Limits: grantLimits, SpoolThreshold: -1}); err != nil {
		return nil, fmt.Errorf("%w: grant: %v", ErrMalformed, err)
	}
	if again, err := wire.Marshal(g); err != nil || !bytes.Equal(again, plain) {
		return nil, fmt.Errorf("%w: grant not in canonical form", ErrMalformed)
	}
	if err := g.Target.check(); err != nil {
		return nil, err
	}
	return g, nil
}
