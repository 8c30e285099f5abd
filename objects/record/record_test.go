package record_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
)

// world is a set of records of every kind, made from fixed keys.
type world struct {
	alice, bob, carol *record.Keys
	device            *record.Device
	deviceSigner      *record.Signer
	frame0, frame1    *record.Frame
	deviceFrame       *record.Frame // frame 2, signed by alice's device
	binding, hold     *record.Binding
	debinding         *record.Binding
	share             *record.Share
	successor         *record.Successor
	grant             *record.Grant
}

func newWorld(t testing.TB) *world {
	w := &world{alice: keys(t, 1), bob: keys(t, 2), carol: keys(t, 3)}
	devKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	w.device = must[*record.Device](t)(w.alice.AuthoriseDevice(devKey.Public().(ed25519.PublicKey), "laptop", t0.Add(24*time.Hour)))
	w.deviceSigner = must[*record.Signer](t)(record.DeviceSigner(w.device, devKey))
	target := record.Sum([]byte("a container"))
	w.frame0 = must[*record.Frame](t)(record.NewDynamic(w.alice.Signer(), target, time.Time{}))
	w.frame1 = must[*record.Frame](t)(w.frame0.Next(w.alice.Signer(), record.Sum([]byte("another")), t0.Add(time.Hour)))
	w.deviceFrame = must[*record.Frame](t)(w.frame1.Next(w.deviceSigner, record.Sum([]byte("third")), time.Time{}))
	w.binding = must[*record.Binding](t)(record.NewBinding(w.alice.Signer(), record.KindBinding, target, t0))
	w.hold = must[*record.Binding](t)(record.NewBinding(w.bob.Signer(), record.KindHold, w.frame0.ID, t0))
	w.debinding = must[*record.Binding](t)(record.NewBinding(w.deviceSigner, record.KindDebinding, w.binding.Address(), t0))
	w.grant = &record.Grant{Target: w.frame0.ID, API: "telemeter/status", Epoch: 0, Key: record.NewEpochKey(0).Key}
	w.share = must[*record.Share](t)(record.NewShare(w.alice.Signer(), w.bob.Identity, w.grant, t0))
	w.successor = must[*record.Successor](t)(w.alice.Succeed(w.carol.Identity))
	return w
}

// records returns every record of w by name, with its bytes.
func (w *world) records() []struct {
	name string
	data []byte
} {
	return []struct {
		name string
		data []byte
	}{
		{"identity", w.alice.Identity.Bytes()},
		{"device", w.device.Bytes()},
		{"successor", w.successor.Bytes()},
		{"frame0", w.frame0.Bytes()},
		{"frame1", w.frame1.Bytes()},
		{"device frame", w.deviceFrame.Bytes()},
		{"binding", w.binding.Bytes()},
		{"hold", w.hold.Bytes()},
		{"debinding", w.debinding.Bytes()},
		{"share", w.share.Bytes()},
	}
}

func TestIdentityRoundTrip(t *testing.T) {
	a := keys(t, 1)
	again := keys(t, 1)
	if !bytes.Equal(a.Identity.Bytes(), again.Identity.Bytes()) {
		t.Fatal("the same seed gave two identities")
	}
	id, err := record.ParseIdentity(a.Identity.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if id.Fingerprint() != record.Sum(a.Identity.Bytes()) || id.Fingerprint() != a.Fingerprint() {
		t.Fatal("fingerprint is not the address of the identity's bytes")
	}
	k2, err := record.KeysFromSeed(a.Seed(), t0)
	if err != nil || k2.Fingerprint() != a.Fingerprint() {
		t.Fatalf("KeysFromSeed(Seed()) = %v", err)
	}
	fresh, err := record.NewKeys(t0)
	if err != nil || fresh.Fingerprint() == a.Fingerprint() {
		t.Fatalf("NewKeys = %v", err)
	}
	if s, err := record.ParseAddress(id.Fingerprint().String()); err != nil || s != id.Fingerprint() {
		t.Fatalf("ParseAddress(String()) = %v", err)
	}
}

func TestParseReturnsInfo(t *testing.T) {
	w := newWorld(t)
	a := w.alice.Fingerprint()
	tests := []struct {
		name string
		data []byte
		want record.Info
	}{
		{"identity", w.alice.Identity.Bytes(), record.Info{Kind: record.KindIdentity, Owner: a}},
		{"device", w.device.Bytes(), record.Info{Kind: record.KindDevice, Owner: a, Expires: t0.Add(24 * time.Hour)}},
		{"successor", w.successor.Bytes(), record.Info{Kind: record.KindSuccessor, Owner: a, Successor: w.carol.Fingerprint()}},
		{"frame0", w.frame0.Bytes(), record.Info{Kind: record.KindFrame, Owner: a, ID: w.frame0.ID, Targets: []record.Address{w.frame0.Target}}},
		{"frame1", w.frame1.Bytes(), record.Info{Kind: record.KindFrame, Owner: a, ID: w.frame0.ID, Counter: 1, Prev: w.frame0.Hash(), Targets: []record.Address{w.frame1.Target}, Expires: t0.Add(time.Hour)}},
		{"binding", w.binding.Bytes(), record.Info{Kind: record.KindBinding, Owner: a, Targets: []record.Address{w.binding.Target}}},
		{"hold", w.hold.Bytes(), record.Info{Kind: record.KindHold, Owner: w.bob.Fingerprint(), Targets: []record.Address{w.frame0.ID}}},
		{"debinding", w.debinding.Bytes(), record.Info{Kind: record.KindDebinding, Owner: a, Targets: []record.Address{w.binding.Address()}}},
		{"share", w.share.Bytes(), record.Info{Kind: record.KindShare, Owner: a, Recipient: w.bob.Fingerprint()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := record.Parse(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.want.Kind || got.Owner != tt.want.Owner || got.ID != tt.want.ID ||
				got.Counter != tt.want.Counter || got.Prev != tt.want.Prev || got.Recipient != tt.want.Recipient ||
				got.Successor != tt.want.Successor || !got.Expires.Equal(tt.want.Expires) ||
				len(got.Targets) != len(tt.want.Targets) || (len(got.Targets) == 1 && got.Targets[0] != tt.want.Targets[0]) {
				t.Fatalf("Parse = %+v\nwant   %+v", got, tt.want)
			}
			if got.Address != record.Sum(tt.data) || got.Size != int64(len(tt.data)) {
				t.Fatal("wrong address or size")
			}
			owner := w.alice.Identity
			if tt.name == "hold" {
				owner = w.bob.Identity
			}
			if err := got.CheckOwner(owner, t0); err != nil {
				t.Fatalf("CheckOwner(the owner) = %v", err)
			}
			if err := got.CheckOwner(w.carol.Identity, t0); !errors.Is(err, record.ErrUnauthorised) {
				t.Fatalf("CheckOwner(another identity) = %v", err)
			}
		})
	}
}

func TestParseRejectsEveryFlippedByte(t *testing.T) {
	w := newWorld(t)
	for _, r := range w.records() {
		t.Run(r.name, func(t *testing.T) {
			for i := range r.data {
				for _, bit := range []byte{0x01, 0x80} {
					bad := bytes.Clone(r.data)
					bad[i] ^= bit
					if _, err := record.Parse(bad); err == nil {
						t.Fatalf("flipping bit %#02x of byte %d was not noticed", bit, i)
					}
				}
			}
			for n := range len(r.data) {
				if _, err := record.Parse(r.data[:n]); err == nil {
					t.Fatalf("the first %d bytes parsed", n)
				}
			}
		})
	}
}

func TestParseRejectsNonCanonical(t *testing.T) {
	w := newWorld(t)
	data := w.frame1.Bytes()
	tests := map[string][]byte{
		"leading whitespace": append([]byte(" "), data...),
		"trailing data":      append(bytes.Clone(data), "N;"...),
		"unknown kind":       bytes.Replace(data, []byte("u5:frame;"), []byte("u5:freme;"), 1),
		"other suite":        bytes.Replace(data, []byte("u5:suite;i1;"), []byte("u5:suite;i2;"), 1),
		"empty":              nil,
	}
	for name, bad := range tests {
		if _, err := record.Parse(bad); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	other := bytes.Replace(data, []byte("u5:suite;i1;"), []byte("u5:suite;i2;"), 1)
	if _, err := record.ParseFrame(other); !errors.Is(err, record.ErrSuite) {
		t.Errorf("suite 2: %v, want ErrSuite", err)
	}
}

func TestCheckNext(t *testing.T) {
	w := newWorld(t)
	a := w.alice.Signer()
	fork1 := must[*record.Frame](t)(w.frame0.Next(a, record.Sum([]byte("fork")), t0.Add(time.Hour)))
	frame2 := must[*record.Frame](t)(w.frame1.Next(a, record.Sum([]byte("2")), time.Time{}))
	frame3 := must[*record.Frame](t)(frame2.Next(a, record.Sum([]byte("3")), time.Time{}))
	other := must[*record.Frame](t)(record.NewDynamic(a, record.Sum([]byte("x")), time.Time{}))
	otherNext := must[*record.Frame](t)(other.Next(a, record.Sum([]byte("y")), time.Time{}))
	onFork := must[*record.Frame](t)(fork1.Next(a, record.Sum([]byte("z")), time.Time{}))
	forged := must[*record.Frame](t)(w.frame0.Next(record.ForgedSigner(w.alice.Fingerprint(), w.bob), record.Sum([]byte("f")), time.Time{}))
	expired := must[*record.Frame](t)(w.frame0.Next(a, record.Sum([]byte("old")), t0.Add(-time.Second)))
	tests := []struct {
		name       string
		prev, next *record.Frame
		owner      *record.Identity
		now        time.Time
		want       error
	}{
		{"next frame", w.frame0, w.frame1, w.alice.Identity, t0, nil},
		{"next frame by a device", w.frame1, w.deviceFrame, w.alice.Identity, t0, nil},
		{"the same frame again", w.frame1, w.frame1, w.alice.Identity, t0, record.ErrReplayed},
		{"an older frame", w.frame1, w.frame0, w.alice.Identity, t0, record.ErrReplayed},
		{"same counter, other content", w.frame1, fork1, w.alice.Identity, t0, record.ErrForked},
		{"follows another frame", fork1, frame2, w.alice.Identity, t0, record.ErrForked},
		{"follows a fork", w.frame1, onFork, w.alice.Identity, t0, record.ErrForked},
		{"skips a frame", w.frame1, frame3, w.alice.Identity, t0, record.ErrGap},
		{"another object", other, otherNext, w.alice.Identity, t0, nil},
		{"another object's frame", w.frame0, otherNext, w.alice.Identity, t0, record.ErrUnauthorised},
		{"checked against another owner", w.frame0, w.frame1, w.bob.Identity, t0, record.ErrUnauthorised},
		{"signed by another identity's key", w.frame0, forged, w.alice.Identity, t0, record.ErrUnauthorised},
		{"frame expired", w.frame0, expired, w.alice.Identity, t0, record.ErrExpired},
		{"frame valid until its end", w.frame0, w.frame1, w.alice.Identity, t0.Add(time.Hour - time.Microsecond), nil},
		{"frame expired at its end", w.frame0, w.frame1, w.alice.Identity, t0.Add(time.Hour), record.ErrExpired},
		{"device expired", w.frame1, w.deviceFrame, w.alice.Identity, t0.Add(48 * time.Hour), record.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := record.CheckNext(tt.prev, tt.next, tt.owner, tt.now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CheckNext = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDevices(t *testing.T) {
	w := newWorld(t)
	if err := w.device.CheckOwner(w.alice.Identity, t0); err != nil {
		t.Fatal(err)
	}
	if err := w.device.CheckOwner(w.bob.Identity, t0); !errors.Is(err, record.ErrUnauthorised) {
		t.Fatalf("alice's device checked against bob: %v", err)
	}
	// A device signs for the identity that authorised it, never for another.
	if _, err := w.frame0.Next(w.deviceSigner, w.frame0.Target, time.Time{}); err != nil {
		t.Fatal(err)
	}
	bobDev := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	cert := must[*record.Device](t)(w.bob.AuthoriseDevice(bobDev.Public().(ed25519.PublicKey), "phone", time.Time{}))
	bobSigner := must[*record.Signer](t)(record.DeviceSigner(cert, bobDev))
	if _, err := w.frame0.Next(bobSigner, w.frame0.Target, time.Time{}); !errors.Is(err, record.ErrUnauthorised) {
		t.Fatalf("bob's device signed alice's frame: %v", err)
	}
	if _, err := record.DeviceSigner(cert, ed25519.NewKeyFromSeed(make([]byte, 32))); err == nil {
		t.Fatal("DeviceSigner accepted a key the device record does not name")
	}
	// Debinding signed by alice's device checks against alice.
	if err := w.debinding.CheckOwner(w.alice.Identity, t0); err != nil {
		t.Fatal(err)
	}
}

func TestSuccessor(t *testing.T) {
	w := newWorld(t)
	if err := w.successor.Check(w.alice.Identity, w.carol.Identity); err != nil {
		t.Fatal(err)
	}
	if err := w.successor.Check(w.bob.Identity, w.carol.Identity); !errors.Is(err, record.ErrUnauthorised) {
		t.Fatalf("checked against another old identity: %v", err)
	}
	if err := w.successor.Check(w.alice.Identity, w.bob.Identity); !errors.Is(err, record.ErrUnauthorised) {
		t.Fatalf("checked against another new identity: %v", err)
	}
}

func TestShareOpensOnlyForItsRecipient(t *testing.T) {
	w := newWorld(t)
	sh := must[*record.Share](t)(record.ParseShare(w.share.Bytes()))
	g, err := w.bob.OpenShare(sh, w.alice.Identity, t0)
	if err != nil {
		t.Fatal(err)
	}
	if *g != *w.grant {
		t.Fatalf("opened %+v, shared %+v", g, w.grant)
	}
	if _, err := w.carol.OpenShare(sh, w.alice.Identity, t0); !errors.Is(err, record.ErrNoKey) {
		t.Fatalf("carol opened bob's share: %v", err)
	}
	if _, err := w.bob.OpenShare(sh, w.carol.Identity, t0); !errors.Is(err, record.ErrUnauthorised) {
		t.Fatalf("share checked against the wrong sender: %v", err)
	}
	// Carol cannot make bob's share hers: the recipient is signed, and the
	// HPKE info names sender and recipient.
	forCarol := bytes.Replace(sh.Bytes(), bob(w), w.carol.Fingerprint().Bytes(), 1)
	if _, err := record.ParseShare(forCarol); !errors.Is(err, record.ErrTampered) {
		t.Fatalf("re-addressed share: %v", err)
	}
}

func bob(w *world) []byte { return w.bob.Fingerprint().Bytes() }

func TestRemovedReaderCannotOpenTheNewEpoch(t *testing.T) {
	w := newWorld(t)
	alice := w.alice.Signer()
	epoch0 := record.NewEpochKey(0)
	c0, addr0 := seal(t, []byte("for bob and carol"), epoch0, 0)
	frame0 := must[*record.Frame](t)(record.NewDynamic(alice, addr0, time.Time{}))
	grant := func(k record.EpochKey) *record.Grant {
		return &record.Grant{Target: frame0.ID, API: "notes", Epoch: k.Epoch, Key: k.Key}
	}
	readerKeys := map[*record.Keys][]record.EpochKey{}
	shareTo := func(to *record.Keys, k record.EpochKey) {
		sh := must[*record.Share](t)(record.NewShare(alice, to.Identity, grant(k), t0))
		g := must[*record.Grant](t)(to.OpenShare(sh, w.alice.Identity, t0))
		readerKeys[to] = append(readerKeys[to], g.EpochKey())
	}
	shareTo(w.bob, epoch0)
	shareTo(w.carol, epoch0)
	for _, r := range []*record.Keys{w.bob, w.carol} {
		if _, err := open(c0, addr0, readerKeys[r]...); err != nil {
			t.Fatal(err)
		}
	}
	// Alice removes carol: a new epoch, whose key only bob gets.
	epoch1 := epoch0.Next()
	if epoch1.Epoch != 1 || epoch1.Key == epoch0.Key {
		t.Fatal("Next did not make a new key for epoch 1")
	}
	shareTo(w.bob, epoch1)
	c1, addr1 := seal(t, []byte("for bob only"), epoch1, 0)
	frame1 := must[*record.Frame](t)(frame0.Next(alice, addr1, time.Time{}))
	if err := record.CheckNext(frame0, frame1, w.alice.Identity, t0); err != nil {
		t.Fatal(err)
	}
	if got, err := open(c1, frame1.Target, readerKeys[w.bob]...); err != nil || string(got) != "for bob only" {
		t.Fatalf("bob: %q, %v", got, err)
	}
	if _, err := open(c1, frame1.Target, readerKeys[w.carol]...); !errors.Is(err, record.ErrNoKey) {
		t.Fatalf("carol opened the new epoch: %v", err)
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	w := newWorld(t)
	key := w.grant.EpochKey()
	for _, v := range []any{w.alice, key, &key, w.grant} {
		for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(format, v)
			decimal := strings.Trim(fmt.Sprint(key.Key[:8]), "[]")
			if strings.Contains(out, decimal) || strings.Contains(out, fmt.Sprintf("%x", key.Key[:4])) ||
				strings.Contains(out, strings.Trim(fmt.Sprint(w.alice.Seed()[:8]), "[]")) {
				t.Errorf("%s of %T shows a secret: %s", format, v, out)
			}
		}
	}
}

func TestConstructorsRejectBadArguments(t *testing.T) {
	w := newWorld(t)
	a := w.alice.Signer()
	target := record.Sum([]byte("x"))
	tests := []struct {
		name string
		err  error
	}{
		{"binding of kind frame", func() error { _, err := record.NewBinding(a, record.KindFrame, target, t0); return err }()},
		{"binding of the zero address", func() error { _, err := record.NewBinding(a, record.KindBinding, record.Address{}, t0); return err }()},
		{"frame of the zero address", func() error { _, err := record.NewDynamic(a, record.Address{}, time.Time{}); return err }()},
		{"share with a long API id", func() error {
			_, err := record.NewShare(a, w.bob.Identity, &record.Grant{Target: target, API: strings.Repeat("x", 257)}, t0)
			return err
		}()},
		{"share of the zero address", func() error {
			_, err := record.NewShare(a, w.bob.Identity, &record.Grant{API: "x"}, t0)
			return err
		}()},
		{"short seed", func() error { _, err := record.KeysFromSeed(make([]byte, 32), t0); return err }()},
		{"short device key", func() error { _, err := w.alice.AuthoriseDevice(make([]byte, 31), "x", time.Time{}); return err }()},
		{"address of 32 bytes", func() error { _, err := record.ParseAddress(strings.Repeat("A", 43)); return err }()},
		{"address with tag 0", func() error { _, err := record.ParseAddress(record.Address{}.String()); return err }()},
		{"address not base64url", func() error { _, err := record.ParseAddress("!" + target.String()[1:]); return err }()},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if record.Sum(nil).IsZero() || !(record.Address{}).IsZero() {
		t.Error("IsZero does not tell the zero address from others")
	}
}

// The frames NewDynamic and Next make parse as they are, signed by the
// identity or by a device, though they are not parsed back when made.
func TestMadeFramesParse(t *testing.T) {
	alice := keys(t, 1)
	devPub, devKey, _ := ed25519.GenerateKey(nil)
	dev := must[*record.Device](t)(alice.AuthoriseDevice(devPub, "laptop", time.Time{}))
	devSigner := must[*record.Signer](t)(record.DeviceSigner(dev, devKey))
	f := must[*record.Frame](t)(record.NewDynamic(alice.Signer(), record.Sum([]byte("a")), t0.Add(time.Hour)))
	for i, s := range []*record.Signer{alice.Signer(), devSigner, alice.Signer()} {
		parsed, err := record.ParseFrame(f.Bytes())
		if err != nil {
			t.Fatalf("frame %d does not parse: %v", i, err)
		}
		if parsed.Hash() != f.Hash() || parsed.Hash() != record.Sum(f.Bytes()) || parsed.Counter != f.Counter {
			t.Fatalf("frame %d parsed differs from the one made", i)
		}
		if err := parsed.Check(alice.Identity, t0); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		f = must[*record.Frame](t)(f.Next(s, record.Sum([]byte{byte(i)}), time.Time{}))
	}
}
