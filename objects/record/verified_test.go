package record_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/wire"
)

// A device record's signature is remembered once it verified, so that the
// records a device signs do not each pay for it again; what is
// remembered never lets another record through: a device record changed
// after its signature, or with another signature, is refused after the
// genuine one was seen, and before.
func TestDeviceSignatureRemembered(t *testing.T) {
	w := newWorld(t)
	genuine := w.device.Bytes()
	d := must[*record.Device](t)(record.ParseDevice(genuine))

	renamed := *d
	renamed.Name = "phone"
	resigned := *d
	resigned.Sig = bytes.Clone(d.Sig)
	resigned.Sig[0] ^= 1
	otherKey := *d
	otherKey.Key = bytes.Clone(d.Key)
	otherKey.Key[0] ^= 1
	tests := []struct {
		name   string
		device record.Device
	}{
		{"a name changed after signing", renamed},
		{"a signature changed", resigned},
		{"the device key changed", otherKey},
	}
	for _, tt := range tests {
		data := must[[]byte](t)(wire.Marshal(&tt.device))
		for round := range 2 {
			if _, err := record.ParseDevice(data); !errors.Is(err, record.ErrTampered) {
				t.Errorf("%s, round %d: ParseDevice = %v; want ErrTampered", tt.name, round, err)
			}
		}
	}
	for round := range 3 {
		if _, err := record.ParseDevice(genuine); err != nil {
			t.Fatalf("round %d: the genuine device record: %v", round, err)
		}
		f, err := record.ParseFrame(w.deviceFrame.Bytes())
		if err != nil {
			t.Fatalf("round %d: a frame the device signed: %v", round, err)
		}
		if err := f.Check(w.alice.Identity, t0); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}
