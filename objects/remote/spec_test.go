package remote_test

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
)

// escape writes b as spec.md does: printable ASCII but space and
// backslash as itself, every other byte as \xNN.
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

func readSpec(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The login message of spec.md section 1, byte for byte.
func TestSpecLoginMessage(t *testing.T) {
	m := regexp.MustCompile("(?s)```login\n(.*?)\n```").FindStringSubmatch(readSpec(t))
	if m == nil {
		t.Fatal("spec.md has no login block")
	}
	alice, err := record.KeysFromSeed(bytes.Repeat([]byte{1}, record.SeedSize), time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	got := escape(remote.LoginMessage("remote.example:443", bytes.Repeat([]byte{0xab}, remote.NonceSize), alice.Fingerprint()))
	if got != m[1] {
		t.Fatalf("LoginMessage =\n%s\nspec.md says\n%s", got, m[1])
	}
}

// The table of reasons in spec.md section 5 is the one the code answers
// with: every reason, with its kind.
func TestSpecReasons(t *testing.T) {
	rows := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ([a-z_]+) \\|").FindAllStringSubmatch(readSpec(t), -1)
	all := []remote.Reason{remote.ReasonMalformed, remote.ReasonUnsupported, remote.ReasonTampered, remote.ReasonUnknownOwner,
		remote.ReasonUnauthorised, remote.ReasonExpired, remote.ReasonReplayed, remote.ReasonForked, remote.ReasonGap,
		remote.ReasonUnbound, remote.ReasonMissingTarget, remote.ReasonDeleted, remote.ReasonNotFound, remote.ReasonQuota,
		remote.ReasonTooLarge, remote.ReasonUnauthenticated, remote.ReasonChallenge, remote.ReasonOverloaded,
		remote.ReasonOffset, remote.ReasonIncomplete}
	if len(rows) != len(all) {
		t.Fatalf("spec.md lists %d reasons, the code has %d", len(rows), len(all))
	}
	for i, row := range rows {
		if r := all[i]; string(r) != row[1] || r.Kind().String() != row[2] {
			t.Errorf("spec.md row %d: %s %s; the code: %s %s", i, row[1], row[2], r, r.Kind())
		}
	}
}

// The upload id of spec.md section 2, byte for byte, as a server answers
// it.
func TestSpecUploadID(t *testing.T) {
	m := regexp.MustCompile("(?s)```upload-id\n(.*?)\n```").FindStringSubmatch(readSpec(t))
	if m == nil {
		t.Fatal("spec.md has no upload-id block")
	}
	alice, err := record.KeysFromSeed(bytes.Repeat([]byte{1}, record.SeedSize), time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	r := startRemote(t, nil, nil, remote.WithSessionKey(bytes.Repeat([]byte{1}, 32)))
	c := dial(t, r.httpURL, alice)
	addr := append([]byte{record.TagSHA256}, bytes.Repeat([]byte{0xcd}, 32)...)
	up, err := rawClient(t, r.httpURL).Upload(bg, c.Session().Token, addr, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != m[1] {
		t.Fatalf("upload id = %s, spec.md says %s", up.ID, m[1])
	}
}
