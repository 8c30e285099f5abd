package record_test

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
)

func TestProof(t *testing.T) {
	alice, bob := keys(t, 1), keys(t, 2)
	devPub, devKey, _ := ed25519.GenerateKey(nil)
	dev := must[*record.Device](t)(alice.AuthoriseDevice(devPub, "laptop", t0.Add(time.Hour)))
	devSigner := must[*record.Signer](t)(record.DeviceSigner(dev, devKey))
	msg := []byte("challenge")

	aliceSig := must[[]byte](t)(alice.Signer().SignProof("remote-login", msg))
	devSig := must[[]byte](t)(devSigner.SignProof("remote-login", msg))
	if alice.Signer().Device() != nil || devSigner.Device() != dev {
		t.Fatal("Signer.Device does not say which device signs")
	}

	tests := []struct {
		name    string
		purpose string
		msg     []byte
		sig     []byte
		owner   *record.Identity
		device  *record.Device
		now     time.Time
		want    error
	}{
		{"identity key", "remote-login", msg, aliceSig, alice.Identity, nil, t0, nil},
		{"device key", "remote-login", msg, devSig, alice.Identity, dev, t0, nil},
		{"other purpose", "other", msg, aliceSig, alice.Identity, nil, t0, record.ErrUnauthorised},
		{"other message", "remote-login", []byte("challengf"), aliceSig, alice.Identity, nil, t0, record.ErrUnauthorised},
		{"other identity", "remote-login", msg, aliceSig, bob.Identity, nil, t0, record.ErrUnauthorised},
		{"device's proof without its record", "remote-login", msg, devSig, alice.Identity, nil, t0, record.ErrUnauthorised},
		{"device of another identity", "remote-login", msg, devSig, bob.Identity, dev, t0, record.ErrUnauthorised},
		{"device expired", "remote-login", msg, devSig, alice.Identity, dev, t0.Add(time.Hour), record.ErrExpired},
		{"short signature", "remote-login", msg, aliceSig[:10], alice.Identity, nil, t0, record.ErrMalformed},
		{"empty purpose", "", msg, aliceSig, alice.Identity, nil, t0, record.ErrMalformed},
		{"purpose with NUL", "remote\x00login", msg, aliceSig, alice.Identity, nil, t0, record.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := record.CheckProof(tt.purpose, tt.msg, tt.sig, tt.owner, tt.device, tt.now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CheckProof = %v, want %v", err, tt.want)
			}
		})
	}
}

// The signed bytes are those spec.md section 10 states.
func TestProofSpec(t *testing.T) {
	alice := keys(t, 1)
	sig := must[[]byte](t)(alice.Signer().SignProof("remote-login", []byte("msg")))
	want := []byte("glyph-objects:proof:remote-login\x00msg")
	if !ed25519.Verify(alice.Identity.Sign, want, sig) {
		t.Fatal("the proof does not sign the bytes spec.md states")
	}
}
