package record_test

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.txt from the fixed keys")

const vectorsFile = "vectors.txt"

// vectorLines makes every vector of spec.md from fixed seeds, a fixed time
// and a deterministic random stream, as "name value" lines.
func vectorLines(t *testing.T) []string {
	cryptotest.SetGlobalRandom(t, 1)
	var lines []string
	add := func(name string, b []byte) { lines = append(lines, name+" "+hex.EncodeToString(b)) }
	addr := func(name string, a record.Address) { lines = append(lines, name+" "+a.String()) }

	alice, bob := keys(t, 1), keys(t, 2)
	add("alice.seed", alice.Seed())
	add("alice.identity", alice.Identity.Bytes())
	addr("alice.fingerprint", alice.Fingerprint())
	add("bob.seed", bob.Seed())
	add("bob.identity", bob.Identity.Bytes())
	addr("bob.fingerprint", bob.Fingerprint())

	devKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	add("device.seed", devKey.Seed())
	device := must[*record.Device](t)(alice.AuthoriseDevice(devKey.Public().(ed25519.PublicKey), "laptop", t0.Add(24*time.Hour)))
	add("device", device.Bytes())
	devSigner := must[*record.Signer](t)(record.DeviceSigner(device, devKey))
	add("successor", must[*record.Successor](t)(alice.Succeed(bob.Identity)).Bytes())

	key := record.EpochKey{Epoch: 0, Key: [record.KeySize]byte(bytes.Repeat([]byte{0x42}, record.KeySize))}
	add("epoch0.key", key.Key[:])
	small := []byte("hello, glyph")
	add("small.plain", small)
	smallC, smallA := seal(t, small, key, 256)
	add("small.container", smallC)
	addr("small.address", smallA)
	multi := pattern(600)
	add("multi.plain", multi)
	multiC, multiA := seal(t, multi, key, 256)
	add("multi.container", multiC)
	addr("multi.address", multiA)

	frame0 := must[*record.Frame](t)(record.NewDynamic(alice.Signer(), smallA, time.Time{}))
	add("frame0", frame0.Bytes())
	addr("frame0.id", frame0.ID)
	addr("frame0.hash", frame0.Hash())
	frame1 := must[*record.Frame](t)(frame0.Next(alice.Signer(), multiA, t0.Add(time.Hour)))
	add("frame1", frame1.Bytes())
	addr("frame1.hash", frame1.Hash())
	frame2 := must[*record.Frame](t)(frame1.Next(devSigner, smallA, time.Time{}))
	add("frame2", frame2.Bytes())

	binding := must[*record.Binding](t)(record.NewBinding(alice.Signer(), record.KindBinding, smallA, t0))
	add("binding", binding.Bytes())
	addr("binding.address", binding.Address())
	add("hold", must[*record.Binding](t)(record.NewBinding(bob.Signer(), record.KindHold, frame0.ID, t0)).Bytes())
	add("debinding", must[*record.Binding](t)(record.NewBinding(devSigner, record.KindDebinding, binding.Address(), t0)).Bytes())

	g := &record.Grant{Target: frame0.ID, API: "notes", Epoch: key.Epoch, Key: key.Key}
	add("share", must[*record.Share](t)(record.NewShare(alice.Signer(), bob.Identity, g, t0)).Bytes())
	return lines
}

// readVectors reads testdata/vectors.txt into a map and its lines.
func readVectors(t testing.TB) (map[string]string, []string) {
	f, err := os.Open(filepath.Join("testdata", vectorsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, _ := strings.Cut(line, " ")
		m[name] = value
		lines = append(lines, line)
	}
	return m, lines
}

// TestVectors checks testdata/vectors.txt two ways: regenerated from the
// fixed keys it is the same byte for byte, and read as it is committed
// every record verifies, opens and links up as spec.md says.
func TestVectors(t *testing.T) {
	lines := vectorLines(t)
	if *update {
		text := "# Test vectors of spec.md: name, then hex bytes or a base64url address.\n" +
			"# Regenerate with: go test -run 'Vectors|Spec' -update\n" + strings.Join(lines, "\n") + "\n"
		if err := os.WriteFile(filepath.Join("testdata", vectorsFile), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, committed := readVectors(t)
	if len(committed) != len(lines) {
		t.Fatalf("%d vectors committed, %d generated (go test -update rewrites them)", len(committed), len(lines))
	}
	for i := range lines {
		if committed[i] != lines[i] {
			name, _, _ := strings.Cut(lines[i], " ")
			t.Errorf("vector %s differs from the generated one", name)
		}
	}

	b := func(name string) []byte {
		v, err := hex.DecodeString(m[name])
		if err != nil || len(v) == 0 {
			t.Fatalf("vector %s: %v", name, err)
		}
		return v
	}
	a := func(name string) record.Address {
		v, err := record.ParseAddress(m[name])
		if err != nil {
			t.Fatalf("vector %s: %v", name, err)
		}
		return v
	}
	alice, err := record.KeysFromSeed(b("alice.seed"), t0)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := record.KeysFromSeed(b("bob.seed"), t0)
	if err != nil {
		t.Fatal(err)
	}
	aliceID := must[*record.Identity](t)(record.ParseIdentity(b("alice.identity")))
	if aliceID.Fingerprint() != a("alice.fingerprint") || alice.Fingerprint() != aliceID.Fingerprint() {
		t.Fatal("alice's fingerprint")
	}
	for _, name := range []string{"device", "successor", "frame0", "frame1", "frame2", "binding", "hold", "debinding", "share"} {
		info, err := record.Parse(b(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		owner := aliceID
		if name == "hold" {
			owner = bob.Identity
		}
		if err := info.CheckOwner(owner, t0); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	frames := []*record.Frame{}
	for _, name := range []string{"frame0", "frame1", "frame2"} {
		frames = append(frames, must[*record.Frame](t)(record.ParseFrame(b(name))))
	}
	if frames[0].ID != a("frame0.id") || frames[0].Hash() != a("frame0.hash") {
		t.Fatal("frame0's id or hash")
	}
	for i := 1; i < len(frames); i++ {
		if err := record.CheckNext(frames[i-1], frames[i], aliceID, t0); err != nil {
			t.Fatalf("frame%d: %v", i, err)
		}
	}
	key := record.EpochKey{Key: [record.KeySize]byte(b("epoch0.key"))}
	for _, name := range []string{"small", "multi"} {
		got, err := open(b(name+".container"), a(name+".address"), key)
		if err != nil || !bytes.Equal(got, b(name+".plain")) {
			t.Fatalf("%s container: %q, %v", name, got, err)
		}
	}
	sh := must[*record.Share](t)(record.ParseShare(b("share")))
	g, err := bob.OpenShare(sh, aliceID, t0)
	if err != nil || g.Key != key.Key || g.Target != a("frame0.id") || g.API != "notes" {
		t.Fatalf("share: %+v, %v", g, err)
	}
}
