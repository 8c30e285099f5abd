package componentgen_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/internal/componentgen"
)

// TestGeneratedFilesAreCurrent regenerates the stubs committed in this
// module and compares: a stub out of date with its generator fails here.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	for _, tt := range []struct{ dir, iface string }{
		{"testdata/shop", "Shop"},
		{"../../component/componenttest", "Echo"},
		{"../../examples/components/search", "Search"},
	} {
		got, err := componentgen.Generate(tt.dir, []string{tt.iface}, componentgen.DefaultOutput)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(tt.dir, componentgen.DefaultOutput))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s/%s is not what glyph gen writes now: run go generate there", tt.dir, componentgen.DefaultOutput)
		}
	}
}

func goTool(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no go command on PATH")
		}
		t.Skip("no go command on PATH: install Go to run the build checks of glyph gen")
	}
	return goBin
}

// TestStaleStubFailsTheBuild builds the generated stubs of testdata/shop,
// then builds them again with an interface that changed since (through
// an overlay): the build fails, and its message says to regenerate.
func TestStaleStubFailsTheBuild(t *testing.T) {
	goBin := goTool(t)
	build := func(overlay string) (string, error) {
		args := []string{"build"}
		if overlay != "" {
			args = append(args, "-overlay", overlay)
		}
		cmd := exec.Command(goBin, append(args, "./testdata/shop")...)
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := build(""); err != nil {
		t.Fatalf("the generated stubs do not build: %v\n%s", err, out)
	}
	src, err := os.ReadFile("testdata/shop/shop.go")
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), "Find(ctx context.Context, query string, limit int)", "Find(ctx context.Context, query string, limit int, sort bool)", 1)
	if changed == string(src) {
		t.Fatal("the test's interface change did not apply")
	}
	dir := t.TempDir()
	stale := filepath.Join(dir, "shop.go")
	if err := os.WriteFile(stale, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("testdata/shop/shop.go")
	if err != nil {
		t.Fatal(err)
	}
	ov, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: stale}})
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, ov, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := build(overlay)
	if err == nil {
		t.Fatal("stubs of an interface that changed still build")
	}
	for _, want := range []string{componentgen.StaleCheck, "RegenerateWithGlyphGen", "Find"} {
		if !strings.Contains(out, want) {
			t.Errorf("the build's message does not say %q:\n%s", want, out)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	dir := t.TempDir()
	src := `package p

import "context"

type Base interface{ Ping(ctx context.Context) error }
type Embeds interface{ Base }
type NoContext interface{ Ping() error }
type NoError interface{ Ping(ctx context.Context) int }
type Variadic interface{ Ping(ctx context.Context, xs ...int) error }
`
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ iface, want string }{
		{"Missing", "no interface Missing in package p"},
		{"Embeds", "Embeds embeds Base"},
		{"NoContext", "must take a context.Context first"},
		{"NoError", "must return (error) or (T, error)"},
		{"Variadic", "is variadic"},
	}
	for _, tt := range tests {
		_, err := componentgen.Generate(dir, []string{tt.iface}, componentgen.DefaultOutput)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Generate(%s) = %v, want an error saying %q", tt.iface, err, tt.want)
		}
	}
	if _, err := componentgen.Generate(dir, []string{"Base"}, componentgen.DefaultOutput); err != nil {
		t.Errorf("Generate(Base): %v", err)
	}
}
