package secret_test

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component/secret"
	"github.com/glyph-ipc/glyph/service"
)

func specBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	rest := string(b)
	for {
		var ok bool
		if _, rest, ok = strings.Cut(rest, "```text\n"); !ok {
			return out
		}
		var block string
		block, rest, _ = strings.Cut(rest, "```")
		out = append(out, block)
	}
}

func exampleKeys() (k, k2 secret.Key, nonce [12]byte, at time.Time) {
	for i := range k {
		k[i] = byte(i)
		k2[i] = byte(0xff - i)
	}
	for i := range nonce {
		nonce[i] = byte(0xa0 + i)
	}
	return k, k2, nonce, time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
}

// TestSpecExamples checks spec.md's examples byte for byte, and the
// proof's MAC against the spec's definition computed here.
func TestSpecExamples(t *testing.T) {
	blocks := specBlocks(t)
	if len(blocks) != 2 {
		t.Fatalf("spec.md has %d examples, want 2", len(blocks))
	}
	k, k2, nonce, at := exampleKeys()
	proof := strings.TrimSuffix(blocks[0], "\n")
	if got := secret.ProofAt(k, at, nonce); got != proof {
		t.Fatalf("the proof is\n%s\nspec.md says\n%s", got, proof)
	}
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte("glyph-auth/1\n"))
	binary.Write(m, binary.BigEndian, uint64(at.UnixMilli()))
	m.Write(nonce[:])
	if want := base64.RawURLEncoding.EncodeToString(m.Sum(nil)); !strings.HasSuffix(proof, "."+want) {
		t.Fatalf("the spec's MAC is not HMAC-SHA256 as it defines it: want %s", want)
	}
	r := secret.NewKeyring(k)
	if err := r.CheckAt(proof, at.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}

	r.Set(k2, []secret.Accepted{{Key: k, Until: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}})
	if got := r.Line(); got != blocks[1] {
		t.Fatalf("the line is\n%s\nspec.md says\n%s", got, blocks[1])
	}
	cur, acc, err := secret.ParseLine(blocks[1])
	if err != nil || cur != k2 || len(acc) != 1 || acc[0].Key != k {
		t.Fatalf("ParseLine: %v %v %v", cur == k2, acc, err)
	}
}

func TestCheckRefuses(t *testing.T) {
	k, k2, nonce, at := exampleKeys()
	good := secret.ProofAt(k, at, nonce)
	tests := []struct {
		name  string
		proof string
		now   time.Time
		want  error
	}{
		{"missing", "", at, secret.ErrMissing},
		{"garbage", "hello", at, secret.ErrMalformed},
		{"other version", "2" + good[1:], at, secret.ErrMalformed},
		{"short mac", good[:len(good)-2], at, secret.ErrMalformed},
		{"wrong key", secret.ProofAt(k2, at, nonce), at, secret.ErrWrongKey},
		{"changed time", strings.Replace(good, "1796644800000", "1796644800001", 1), at, secret.ErrWrongKey},
		{"too old", good, at.Add(11 * time.Second), secret.ErrExpired},
		{"from the future", good, at.Add(-11 * time.Second), secret.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := secret.NewKeyring(k).CheckAt(tt.proof, tt.now)
			if !errors.Is(err, tt.want) || service.KindOf(err) != service.KindUnauthenticated {
				t.Fatalf("%v (kind %v), want %v", err, service.KindOf(err), tt.want)
			}
		})
	}
}

func TestCheckOnce(t *testing.T) {
	r := secret.NewKeyring(secret.NewKey())
	p := r.Proof()
	if err := r.Check(p); err != nil {
		t.Fatal(err)
	}
	if err := r.Check(p); !errors.Is(err, secret.ErrReplayed) {
		t.Fatalf("a replay: %v", err)
	}
	if err := r.Check(r.Proof()); err != nil {
		t.Fatalf("a fresh proof: %v", err)
	}
}

// A sender's proofs are accepted out of order within the window, once
// each; one too far below the highest is refused.
func TestReplayWindow(t *testing.T) {
	k, _, _, at := exampleKeys()
	r := secret.NewKeyring(k)
	proof := func(counter uint64) string {
		n := [12]byte{1, 2, 3, 4, 5, 6}
		for i := range 6 {
			n[11-i] = byte(counter >> (8 * i))
		}
		return secret.ProofAt(k, at, n)
	}
	steps := []struct {
		counter uint64
		want    error
	}{
		{5, nil}, {3, nil}, {3, secret.ErrReplayed}, {5, secret.ErrReplayed}, {4, nil},
		{5000, nil}, {3, secret.ErrReplayed}, {905, nil}, {4999, nil}, {4999, secret.ErrReplayed}, {905, secret.ErrReplayed},
		{904, secret.ErrReplayed}, // 4096 below the highest: too old to tell {100_000, nil}, {99_999, nil}, {5000, secret.ErrReplayed},
	}
	for i, s := range steps {
		err := r.CheckAt(proof(s.counter), at)
		if s.want == nil && err != nil || s.want != nil && !errors.Is(err, s.want) {
			t.Fatalf("step %d, counter %d: %v, want %v", i, s.counter, err, s.want)
		}
	}
	// Another sender has a window of its own.
	n := [12]byte{9, 9, 9, 9, 9, 9, 0, 0, 0, 0, 0, 3}
	if err := r.CheckAt(secret.ProofAt(k, at, n), at); err != nil {
		t.Fatal(err)
	}
}

// After a rotation both secrets are accepted for the grace period, then
// the old one is refused.
func TestRotation(t *testing.T) {
	old := secret.NewKey()
	sup := secret.NewKeyring(old)
	caller := secret.NewKeyring(old) // a caller that has not heard of the rotation
	sup.Rotate(secret.NewKey(), time.Minute)
	now := time.Now()
	if err := sup.CheckAt(caller.Proof(), now); err != nil {
		t.Fatalf("the old secret within the grace period: %v", err)
	}
	if err := sup.CheckAt(sup.Proof(), now); err != nil {
		t.Fatalf("the new secret: %v", err)
	}
	if n := len(sup.Accepted()); n != 1 {
		t.Fatalf("%d secrets accepted besides the current", n)
	}
	later := now.Add(time.Minute + time.Second)
	if err := sup.CheckAt(secret.ProofAt(old, later, [12]byte{1}), later); !errors.Is(err, secret.ErrWrongKey) {
		t.Fatalf("the old secret after the grace period: %v", err)
	}
	if err := sup.CheckAt(secret.ProofAt(sup.Current(), later, [12]byte{2}), later); err != nil {
		t.Fatalf("the new secret after the grace period: %v", err)
	}
	// The pipe carries the same state to a child.
	cur, acc, err := secret.ParseLine(sup.Line())
	if err != nil || cur != sup.Current() || len(acc) != 1 || acc[0].Key != old {
		t.Fatalf("line: %v, %d accepted", err, len(acc))
	}
}

// However often it rotates, the keyring's line fits the pipe's limit.
func TestRotationBounded(t *testing.T) {
	r := secret.NewKeyring(secret.NewKey())
	for range 100 {
		r.Rotate(secret.NewKey(), time.Hour)
	}
	if n := len(r.Accepted()); n != 15 {
		t.Fatalf("%d keys accepted", n)
	}
	if _, _, err := secret.ParseLine(r.Line()); err != nil {
		t.Fatal(err)
	}
}

func TestFollow(t *testing.T) {
	a, b := secret.NewKeyring(secret.NewKey()), secret.NewKeyring(secret.NewKey())
	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, a.Line())
		io.WriteString(pw, b.Line())
		pw.Close()
	}()
	r, rd, err := secret.ReadFirst(pr)
	if err != nil || r.Current() != a.Current() {
		t.Fatalf("first line: %v", err)
	}
	if err := secret.Follow(rd, r); err != io.EOF {
		t.Fatalf("Follow: %v, want io.EOF", err)
	}
	if r.Current() != b.Current() {
		t.Fatal("the second line was not applied")
	}
	if _, _, err := secret.ReadFirst(strings.NewReader("")); err == nil {
		t.Fatal("an empty pipe gave a keyring")
	}
	if err := secret.Follow(bufio.NewReader(strings.NewReader("glyph-secret/1 zz\n")), r); err == nil {
		t.Fatal("a bad line was taken")
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add("glyph-secret/1 " + strings.Repeat("ab", 32) + "\n")
	f.Add("glyph-secret/1 " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 32) + " 2100-01-01T00:00:00Z\n")
	f.Add("glyph-secret/1 x y")
	f.Fuzz(func(t *testing.T, line string) {
		cur, acc, err := secret.ParseLine(line)
		if err != nil {
			return
		}
		r := secret.NewKeyring(cur)
		r.Set(cur, acc)
		cur2, _, err := secret.ParseLine(r.Line())
		if err != nil || cur2 != cur {
			t.Fatalf("the line does not round-trip: %v", err)
		}
	})
}

func FuzzCheck(f *testing.F) {
	k, _, nonce, at := exampleKeys()
	f.Add(secret.ProofAt(k, at, nonce))
	f.Add("1.0.AAAAAAAAAAAAAAAA.AAAA")
	f.Add("")
	r := secret.NewKeyring(k)
	f.Fuzz(func(t *testing.T, proof string) {
		err := r.CheckAt(proof, at)
		if err != nil && service.KindOf(err) != service.KindUnauthenticated {
			t.Fatalf("kind %v", service.KindOf(err))
		}
	})
}
