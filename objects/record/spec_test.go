package record_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/wire"
	"golang.org/x/crypto/chacha20poly1305"
)

// escape writes b as a bytes token of spec.md: printable ASCII but space
// and backslash as itself, every other byte as \xNN.
func escape(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c > ' ' && c <= '~' && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, `\x%02x`, c)
		}
	}
	return sb.String()
}

// unescape reads a bytes token of spec.md.
func unescape(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		if i+3 >= len(s) || s[i+1] != 'x' {
			return nil, fmt.Errorf("bad escape at %d", i)
		}
		v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
		if err != nil {
			return nil, err
		}
		out = append(out, byte(v))
		i += 3
	}
	return out, nil
}

// TestSpecExamples checks every line of spec.md's `records` blocks, NAME
// then the bytes of the vector NAME, against testdata/vectors.txt; with
// -update it rewrites those lines from the vectors.
func TestSpecExamples(t *testing.T) {
	vectors, _ := readVectors(t)
	text, err := os.ReadFile("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	in, seen := false, 0
	for i, line := range lines {
		switch {
		case line == "```records":
			in = true
		case in && line == "```":
			in = false
		case in && line != "":
			name, token, _ := strings.Cut(line, " ")
			want, err := hex.DecodeString(vectors[name])
			if err != nil || len(want) == 0 {
				t.Fatalf("spec.md names vector %q, which testdata/vectors.txt lacks", name)
			}
			seen++
			if *update {
				lines[i] = name + " " + escape(want)
				continue
			}
			got, err := unescape(token)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("spec.md's %s differs from the vector (go test -update rewrites it)", name)
			}
		}
	}
	if seen == 0 {
		t.Fatal("spec.md has no records block")
	}
	if *update {
		if err := os.WriteFile("spec.md", []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSignedMessageAsSpecSays checks spec.md section 3 without the
// package's code: each signed vector's signature verifies over the domain
// prefix and the record's bytes with its own sig entry cut out.
func TestSignedMessageAsSpecSays(t *testing.T) {
	vectors, _ := readVectors(t)
	for _, name := range []string{"alice.identity", "device", "successor", "frame0", "frame1", "frame2", "binding", "hold", "debinding", "share"} {
		raw, err := hex.DecodeString(vectors[name])
		if err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := wire.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		kind, sig := rec["kind"].(string), rec["sig"].([]byte)
		signer, _ := rec["signer"].([]byte)
		if kind == "identity" {
			signer = rec["sign"].([]byte)
		}
		entry := append([]byte("u3:sig;b64:"), sig...)
		entry = append(entry, ';')
		if bytes.Count(raw, entry) != 1 {
			t.Fatalf("%s: its sig entry is not there once", name)
		}
		unsigned := bytes.Replace(raw, entry, nil, 1)
		msg := append([]byte("glyph-objects:"+kind+"\x00"), unsigned...)
		if !ed25519.Verify(signer, msg, sig) {
			t.Errorf("%s: the signature does not verify as spec.md says", name)
		}
	}
}

// TestContainerAsSpecSays opens the container vectors following spec.md
// section 5 without the package's code.
func TestContainerAsSpecSays(t *testing.T) {
	vectors, _ := readVectors(t)
	key, _ := hex.DecodeString(vectors["epoch0.key"])
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"small", "multi"} {
		raw, _ := hex.DecodeString(vectors[name+".container"])
		want, _ := hex.DecodeString(vectors[name+".plain"])
		var c struct {
			Nonce   []byte     `glyph:"nonce"`
			Segment int        `glyph:"segment"`
			Content *wire.Blob `glyph:"content"`
		}
		if err := wire.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		content, _ := c.Content.Bytes()
		root, _, _ := bytes.Cut(raw, []byte("c0:"))
		header := bytes.Replace(root, []byte("u7:content;B0:Du12:content-type;u24:application/octet-stream;;;"), nil, 1)
		var got []byte
		for i := 0; len(content) > 0; i++ {
			n := min(len(content), c.Segment+16)
			var counter [8]byte
			binary.BigEndian.PutUint64(counter[:], uint64(i))
			nonce := append(append(bytes.Clone(c.Nonce), counter[1:]...), 0) // 16 + 7 + 1 bytes
			if n == len(content) {
				nonce[23] = 1 // the last segment
			}
			p, err := aead.Open(nil, nonce, content[:n], header)
			if err != nil {
				t.Fatalf("%s segment %d: %v", name, i, err)
			}
			l := binary.BigEndian.Uint32(p)
			got = append(got, p[4:4+l]...)
			content = content[n:]
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: opened %q", name, got)
		}
	}
	// Section 2: the dynamic id and the fingerprint.
	alice, _ := hex.DecodeString(vectors["alice.identity"])
	fp := append([]byte{1}, sha256Sum(alice)...)
	if record.Address(fp).String() != vectors["alice.fingerprint"] {
		t.Error("the fingerprint is not 0x01 and the SHA-256 of the identity")
	}
	frame0, _ := hex.DecodeString(vectors["frame0"])
	var f struct {
		Nonce []byte `glyph:"nonce"`
	}
	if err := wire.Unmarshal(frame0, &f); err != nil {
		t.Fatal(err)
	}
	id := append([]byte{1}, sha256Sum(append(append([]byte("glyph-objects:dynamic\x00"), fp...), f.Nonce...))...)
	if record.Address(id).String() != vectors["frame0.id"] {
		t.Error("the dynamic id is not as spec.md says")
	}
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// TestShareAsSpecSays opens the share vector following spec.md section 8
// without the package's code.
func TestShareAsSpecSays(t *testing.T) {
	vectors, _ := readVectors(t)
	seed, _ := hex.DecodeString(vectors["bob.seed"])
	raw, _ := hex.DecodeString(vectors["share"])
	var sh struct {
		Owner     []byte `glyph:"owner"`
		Recipient []byte `glyph:"recipient"`
		Sealed    []byte `glyph:"sealed"`
	}
	if err := wire.Unmarshal(raw, &sh); err != nil {
		t.Fatal(err)
	}
	kem := hpke.MLKEM768X25519()
	priv, err := kem.NewPrivateKey(seed[32:])
	if err != nil {
		t.Fatal(err)
	}
	info := append(append([]byte("glyph-objects:share\x00"), sh.Owner...), sh.Recipient...)
	plain, err := hpke.Open(priv, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), info, sh.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]any
	if err := wire.Unmarshal(plain, &g); err != nil {
		t.Fatal(err)
	}
	key, _ := hex.DecodeString(vectors["epoch0.key"])
	if g["api"] != "notes" || g["epoch"] != int64(0) || !bytes.Equal(g["key"].([]byte), key) ||
		record.Address(g["target"].([]byte)).String() != vectors["frame0.id"] {
		t.Errorf("grant %v", g)
	}
}
