package supervisor

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/component/deploy"
)

// TestSpecExample checks spec.md's example environment byte for byte.
func TestSpecExample(t *testing.T) {
	b, err := os.ReadFile("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), "```yaml\n")
	file, rest, _ := strings.Cut(rest, "```")
	_, rest, _ = strings.Cut(rest, "```text\n")
	want, _, _ := strings.Cut(rest, "```")

	run, err := os.MkdirTemp("", "g")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(run)
	d, err := deploy.Parse("deploy.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(d, filepath.Join(run, "deploy.yaml"), WithRunDir(run), WithOutput(io.Discard, false))
	if err != nil {
		t.Fatal(err)
	}
	procs, err := s.plan(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, p := range procs {
			p.closeListeners()
		}
	}()
	var search *proc
	for _, p := range procs {
		if p.name == "Search" {
			search = p
		}
	}
	var names []string
	for _, l := range search.sockets {
		names = append(names, l.comp)
	}
	var got strings.Builder
	for _, kv := range search.environ(len(search.sockets), names) {
		k, _, _ := strings.Cut(kv, "=")
		if os.Getenv(k) != "" && !strings.HasPrefix(k, "GLYPH_") && !strings.HasPrefix(k, "LISTEN_") {
			continue // the supervisor's own
		}
		got.WriteString(strings.ReplaceAll(kv, run, "RUN") + "\n")
	}
	if got.String() != want {
		t.Fatalf("the environment is\n%s\nspec.md says\n%s", got.String(), want)
	}
}
