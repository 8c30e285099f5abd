package deploy_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/component/deploy"
)

// summary writes what a deployment runs, one process a line, as spec.md
// shows it.
func summary(d *deploy.Deployment) string {
	var b strings.Builder
	for _, p := range d.Processes() {
		var names []string
		for _, c := range p.Components {
			names = append(names, c.Name)
		}
		m := p.Main()
		fmt.Fprintf(&b, "%s ×%d serves %s over %s", p.Name, p.Replicas, strings.Join(names, ", "), m.Transport)
		if m.Transport == deploy.TransportTCP || m.Transport == deploy.TransportHTTP {
			fmt.Fprintf(&b, " at %s", m.Address)
		}
		if len(p.Uses) > 0 {
			fmt.Fprintf(&b, ", uses %s", strings.Join(p.Uses, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestSpecExamples parses every example of spec.md and checks what it
// gives byte for byte: the processes, or the errors.
func TestSpecExamples(t *testing.T) {
	b, err := os.ReadFile("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	rest := string(b)
	n := 0
	for {
		var file, want string
		var ok bool
		if _, rest, ok = strings.Cut(rest, "```yaml\n"); !ok {
			break
		}
		file, rest, _ = strings.Cut(rest, "```\n")
		if _, rest, ok = strings.Cut(rest, "```text\n"); !ok {
			t.Fatalf("example %d has no ```text block after its file", n+1)
		}
		want, rest, _ = strings.Cut(rest, "```\n")
		n++
		d, err := deploy.Parse("deploy.yaml", []byte(file))
		got := ""
		if err != nil {
			got = err.Error() + "\n"
		} else {
			got = summary(d)
		}
		if got != want {
			t.Errorf("example %d gives\n%s\nspec.md says\n%s", n, got, want)
		}
	}
	if n < 4 {
		t.Fatalf("spec.md has %d examples, want 4 or more", n)
	}
}
