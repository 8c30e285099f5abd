package hub_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/glyph-ipc/glyph/objects/hub"
)

func readSpec(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func specBlock(t *testing.T, name string) string {
	t.Helper()
	m := regexp.MustCompile("(?s)```" + name + "\n(.*?)\n```").FindStringSubmatch(readSpec(t))
	if m == nil {
		t.Fatalf("spec.md has no %s block", name)
	}
	return m[1]
}

// The login vector of spec.md section 2, with the RFC 9106 parameters.
func TestSpecLoginIdentity(t *testing.T) {
	salt := sha256.Sum256([]byte("glyph-hub-login\x00alice"))
	if got := hex.EncodeToString(salt[:]); got != specBlock(t, "login-salt") {
		t.Fatalf("salt %s", got)
	}
	hub.WithRFCArgon(func() {
		id, err := hub.LoginIdentity("alice", "correct horse battery staple")
		if err != nil {
			t.Fatal(err)
		}
		if got := id.Fingerprint().String(); got != specBlock(t, "login-fingerprint") {
			t.Fatalf("login fingerprint %s, spec.md says %s", got, specBlock(t, "login-fingerprint"))
		}
	})
}

// The functions of spec.md section 5 are the service's.
func TestSpecFunctions(t *testing.T) {
	h := openHub(t, config(t))
	if _, err := h.Create(ctxT(t), "spec", "spec password"); err != nil {
		t.Fatal(err)
	}
	url := serve(t, h)
	a := connect(t, url, "spec")
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z]+)\\(").FindAllStringSubmatch(readSpec(t), -1) {
		documented = append(documented, m[1])
	}
	for _, m := range regexp.MustCompile("(?m)^\\| `[a-z]+\\([^`]*\\)`, `([a-z]+)\\(").FindAllStringSubmatch(readSpec(t), -1) {
		documented = append(documented, m[1])
	}
	for _, m := range regexp.MustCompile("`(hold|discard|delete)\\(token, id\\)`").FindAllStringSubmatch(readSpec(t), -1) {
		documented = append(documented, m[1])
	}
	slices.Sort(documented)
	documented = slices.Compact(documented)
	served := a.index.Names()
	slices.Sort(served)
	var fns []string
	for _, n := range served {
		if _, err := a.index.Get(n); err == nil {
			fns = append(fns, n)
		}
	}
	if len(fns) < 15 || !slices.Equal(fns, documented) {
		t.Fatalf("served %v\nspec.md %v", fns, documented)
	}
}
