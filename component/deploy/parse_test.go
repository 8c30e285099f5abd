package deploy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component/deploy"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "deploy.yaml: empty file: want a mapping with components"},
		{"not a mapping", "- a\n- b\n", "deploy.yaml:1: the file: want a mapping, got a list"},
		{"no version", "components:\n  A: {binary: ./a}\n", "deploy.yaml:1: version: missing (write version: 1)"},
		{"version 2", "version: 2\ncomponents:\n  A: {binary: ./a}\n", `deploy.yaml:1: version: this is version 1 of the format, the file says "2"`},
		{"no components", "version: 1\n", "deploy.yaml:1: components: missing"},
		{"no binary", "version: 1\ncomponents:\n  A: {replicas: 2}\n", "deploy.yaml:3: component A: binary: missing"},
		{"bad name", "version: 1\ncomponents:\n  9a: {binary: ./a}\n", `deploy.yaml:3: component "9a": a name is letters, digits, _ and -, starting with a letter`},
		{"duplicate key", "version: 1\ncomponents:\n  A: {binary: ./a, binary: ./b}\n", "deploy.yaml:3: component A: binary given twice"},
		{"bad transport", "version: 1\ncomponents:\n  A:\n    binary: ./a\n    transport: carrier-pigeon\n", `deploy.yaml:5: A.transport: want unix, tcp, http or nats, got "carrier-pigeon"`},
		{"nats without server", "version: 1\ncomponents:\n  A: {binary: ./a, transport: nats}\n", "deploy.yaml:3: A.transport: nats needs the NATS server's URL (nats: at the top)"},
		{"bad address", "version: 1\ncomponents:\n  A: {binary: ./a, transport: tcp, address: localhost}\n", `deploy.yaml:3: A.address: want host:port, got "localhost"`},
		{"fixed port replicated", "version: 1\ncomponents:\n  A:\n    binary: ./a\n    transport: http\n    address: 127.0.0.1:8080\n    replicas: 2\n", "deploy.yaml:7: A.replicas: 2 processes cannot all listen on 127.0.0.1:8080 (use port 0)"},
		{"reserved env", "version: 1\ncomponents:\n  A:\n    binary: ./a\n    env: {GLYPH_SECRET: x}\n", "deploy.yaml:5: A.env: GLYPH_SECRET is set by the supervisor (GLYPH_* and LISTEN_* are reserved)"},
		{"key route without key", "version: 1\ncomponents:\n  A:\n    binary: ./a\n    route: {balance: key}\n", "deploy.yaml:5: A.route: balance key needs a key (the input that picks the provider)"},
		{"negative duration", "version: 1\ncomponents:\n  A:\n    binary: ./a\n    health: {interval: -1s}\n", "deploy.yaml:5: A.health.interval: want a positive duration, got -1s"},
		{"max below backoff", "version: 1\ncomponents:\n  A:\n    binary: ./a\n    restart: {backoff: 2s, max_backoff: 1s}\n", "deploy.yaml:5: A.restart: max_backoff 1s is less than backoff 2s"},
		{"group of one", "version: 1\ncomponents:\n  A: {binary: ./a}\ngroups:\n  g: {components: [A]}\n", "deploy.yaml:5: group g: a group colocates two or more components"},
		{"group of two binaries", "version: 1\ncomponents:\n  A: {binary: ./a}\n  B: {binary: ./b}\ngroups:\n  g:\n    components: [A, B]\n", "deploy.yaml:7: g.components: B runs ./b but A runs ./a: a group is one binary"},
		{"in two groups", "version: 1\ncomponents:\n  A: {binary: ./a}\n  B: {binary: ./a}\n  C: {binary: ./a}\ngroups:\n  g: {components: [A, B]}\n  h: {components: [B, C]}\n", "deploy.yaml:8: h.components: B is in group g already"},
		{"two documents", "version: 1\ncomponents:\n  A: {binary: ./a}\n---\nversion: 1\n", "deploy.yaml:4: one document per file"},
		{"uses itself", "version: 1\ncomponents:\n  A: {binary: ./a, uses: [A]}\n", "deploy.yaml:3: A.uses: a component does not use itself"},
		{"syntax", "version: 1\ncomponents: [\n", "deploy.yaml:2: did not find expected node content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deploy.Parse("deploy.yaml", []byte(tt.file))
			if err == nil {
				t.Fatalf("parsed; want %s", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	d, err := deploy.Parse("d.yaml", []byte("version: 1\ncomponents:\n  A: {binary: ./a}\n  B: {binary: ./b, transport: tcp, uses: [A]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := d.Component("A"), d.Component("B")
	if a.Transport != deploy.TransportUnix || a.Replicas != 1 || a.Address != "" || a.Line != 3 {
		t.Errorf("A = %+v", a)
	}
	if b.Address != "127.0.0.1:0" {
		t.Errorf("B's address is %q, want 127.0.0.1:0", b.Address)
	}
	want := deploy.Restart{Policy: deploy.RestartAlways, Backoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second,
		Limit: 5, Window: time.Minute, Stable: time.Second, StopTimeout: 5 * time.Second}
	if a.Restart != want {
		t.Errorf("restart = %+v, want %+v", a.Restart, want)
	}
	if d.Secret.Grace != time.Minute || d.Secret.Rotate != 0 {
		t.Errorf("secret = %+v", d.Secret)
	}
	var order []string
	for _, p := range d.Processes() {
		order = append(order, p.Name)
	}
	if strings.Join(order, " ") != "A B" {
		t.Errorf("start order %v", order)
	}
}

func TestParseManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ncomponents:\n")
	for i := range 30 {
		b.WriteString("  C")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(": {binary: ./c, replicas: 0}\n")
	}
	_, err := deploy.Parse("d.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("parsed")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 21 || lines[20] != "d.yaml: more problems not shown" {
		t.Fatalf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

// A billion laughs: aliases that expand exponentially are refused.
func TestParseAliasBomb(t *testing.T) {
	file := `version: 1
a: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
components: {A: {binary: ./a, args: *f}}
`
	_, err := deploy.Parse("d.yaml", []byte(file))
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\ncomponents:\n  A: {binary: ./a, uses: [B]}\n  B: {binary: ./a, transport: tcp}\ngroups:\n  g: {components: [A, B]}\n"))
	f.Add([]byte("version: 1\nnats: nats://h:4222\ncomponents:\n  S: {binary: ./s, transport: nats, route: {balance: key, key: id}}\n"))
	f.Add([]byte("a: &a [1]\nb: *a\n"))
	f.Add([]byte("version: 1\ncomponents: {A: {binary: x, restart: {policy: never}, health: {interval: 1s}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := deploy.Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		ps := d.Processes()
		n := 0
		for _, p := range ps {
			n += len(p.Components)
		}
		if n != len(d.Components) {
			t.Fatalf("%d components in processes, %d declared", n, len(d.Components))
		}
	})
}
