package record_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/wire"
)

// vectorSeeds adds every committed vector's bytes as a seed of f.
func vectorSeeds(f *testing.F) {
	m, _ := readVectors(f)
	for _, v := range m {
		if b, err := hex.DecodeString(v); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte("D;"))
}

// fuzzNow is the time fuzzed records are checked at.
var fuzzNow = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func FuzzParse(f *testing.F) {
	vectorSeeds(f)
	alice := keys(f, 1)
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := record.Parse(data)
		if err != nil {
			return
		}
		if info.Address != record.Sum(data) {
			t.Fatal("Parse accepted a record whose address is not its bytes'")
		}
		_ = info.CheckOwner(alice.Identity, fuzzNow)
	})
}

func FuzzParseIdentity(f *testing.F) {
	vectorSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if id, err := record.ParseIdentity(data); err == nil && !bytes.Equal(id.Bytes(), data) {
			t.Fatal("identity bytes changed")
		}
	})
}

func FuzzParseDevice(f *testing.F) {
	vectorSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = record.ParseDevice(data) })
}

func FuzzParseSuccessor(f *testing.F) {
	vectorSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = record.ParseSuccessor(data) })
}

func FuzzParseFrame(f *testing.F) {
	vectorSeeds(f)
	alice := keys(f, 1)
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := record.ParseFrame(data)
		if err != nil {
			return
		}
		_ = fr.Check(alice.Identity, fuzzNow)
		_ = record.CheckNext(fr, fr, alice.Identity, fuzzNow)
	})
}

func FuzzParseBinding(f *testing.F) {
	vectorSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = record.ParseBinding(data) })
}

func FuzzParseShare(f *testing.F) {
	vectorSeeds(f)
	alice, bob := keys(f, 1), keys(f, 2)
	f.Fuzz(func(t *testing.T, data []byte) {
		sh, err := record.ParseShare(data)
		if err != nil {
			return
		}
		_, _ = bob.OpenShare(sh, alice.Identity, fuzzNow)
	})
}

func FuzzOpen(f *testing.F) {
	vectorSeeds(f)
	key := record.EpochKey{Key: [record.KeySize]byte(bytes.Repeat([]byte{0x42}, record.KeySize))}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		n, err := record.Open(&out, bytes.NewReader(data), record.Sum(data), key)
		if n != int64(out.Len()) {
			t.Fatalf("Open wrote %d bytes, said %d", out.Len(), n)
		}
		// What opens has the sizes ParseContainer checks; only its chunks
		// may differ from the canonical ones.
		_, perr := record.ParseContainer(bytes.NewReader(data))
		if err == nil && perr != nil && !errors.Is(perr, record.ErrMalformed) {
			t.Fatalf("Open accepted a container ParseContainer rejects: %v", perr)
		}
	})
}

func FuzzDecodeGrant(f *testing.F) {
	g := &record.Grant{Target: record.Sum(nil), API: "notes", Epoch: 7}
	f.Add(must[[]byte](f)(wire.Marshal(g)))
	f.Add([]byte("Du3:api;u;;"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := record.DecodeGrant(data)
		if err != nil {
			return
		}
		if again, err := wire.Marshal(g); err != nil || !bytes.Equal(again, data) {
			t.Fatal("a grant was accepted that does not re-encode to its bytes")
		}
	})
}
