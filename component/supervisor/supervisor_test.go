package supervisor_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/deploy"
	"github.com/glyph-ipc/glyph/component/supervisor"
)

const echoAndRelay = `
version: 1
components:
  Echo:
    binary: BINARY
    replicas: 2
    restart: {backoff: 10ms, stable: 50ms}
  Relay:
    binary: BINARY
    transport: tcp
    uses: [Echo]
    public: true
    restart: {backoff: 10ms, stable: 50ms}
`

func TestRunAndCall(t *testing.T) {
	s, out := start(t, echoAndRelay)
	r := router(t, s, s.Keyring(), map[string]component.Route{"Relay": {}})
	var relay struct {
		Relay func(ctx context.Context, s string) (string, error)
	}
	ctx := context.Background()
	if err := r.Bind(ctx, "Relay", &relay); err != nil {
		t.Fatal(err)
	}
	got, err := relay.Relay(ctx, "hi")
	if err != nil || got != "relayed hi" {
		t.Fatalf("Relay = %q, %v", got, err)
	}
	sts := s.Status()
	if len(sts) != 3 || sts[0].Name != "Echo/0" || sts[1].Name != "Echo/1" || sts[2].Name != "Relay" {
		t.Fatalf("status %+v", sts)
	}
	for _, st := range sts {
		if !st.Ready || st.Pid == 0 || len(st.Addresses) != 1 {
			t.Errorf("%s: %+v", st.Name, st)
		}
	}
	waitFor(t, 2*time.Second, "every process RUNNING", func() bool {
		for _, st := range s.Status() {
			if st.State != supervisor.StateRunning {
				return false
			}
		}
		return true
	})
	// slog's JSON lines pass through, with the process first.
	waitFor(t, 2*time.Second, "the children's log lines", func() bool {
		return strings.Contains(out.String(), `{"process":"Relay","level":"INFO","msg":"serving","parts":["Relay"],"public":["Relay"]}`)
	})
}

// A group's components run in one process, which calls between them in
// process.
func TestGroup(t *testing.T) {
	s, _ := start(t, `
version: 1
components:
  Echo: {binary: BINARY}
  Relay: {binary: BINARY, uses: [Echo], transport: tcp}
groups:
  both: {components: [Echo, Relay], replicas: 2}
`)
	sts := s.Status()
	if len(sts) != 2 || sts[0].Name != "both/0" || strings.Join(sts[0].Components, ",") != "Echo,Relay" || len(sts[0].Addresses) != 2 {
		t.Fatalf("status %+v", sts)
	}
	r := router(t, s, s.Keyring(), map[string]component.Route{"Relay": {}})
	var relay struct {
		Relay func(ctx context.Context, s string) (string, error)
	}
	if err := r.Bind(context.Background(), "Relay", &relay); err != nil {
		t.Fatal(err)
	}
	if got, err := relay.Relay(context.Background(), "in process"); err != nil || got != "relayed in process" {
		t.Fatalf("Relay = %q, %v", got, err)
	}
	// A component's lines are its process's.
	waitFor(t, 5*time.Second, "Relay's lines, those of both/0 and both/1", func() bool {
		past, _, stop := s.Logs("Relay")
		stop()
		seen := map[string]bool{}
		for _, l := range past {
			seen[l.Process] = true
		}
		return len(seen) == 2 && seen["both/0"] && seen["both/1"]
	})
}

// The run directory and the control socket are the owner's alone, and
// the control API answers over it.
func TestControlSocket(t *testing.T) {
	s, _ := start(t, echoAndRelay)
	fi, err := os.Stat(s.RunDir())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("run directory mode %v", fi.Mode().Perm())
	}
	sock := filepath.Join(s.RunDir(), supervisor.ControlSocket)
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket: %v %v", fi.Mode(), err)
	}
	ctx := context.Background()
	idx, err := client.New().Get(ctx, "unix://"+sock)
	if err != nil {
		t.Fatal(err)
	}
	link, err := idx.Get("status")
	if err != nil {
		t.Fatal(err)
	}
	res, err := link.Call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sts []supervisor.Status
	if err := res.Decode(&sts); err != nil {
		t.Fatal(err)
	}
	if len(sts) != 3 || sts[2].Name != "Relay" || sts[2].Pid == 0 || sts[2].Uptime <= 0 {
		t.Fatalf("status over the socket: %+v", sts)
	}
	// A second supervisor of the same run directory is refused.
	d, file := deployment(t, echoAndRelay)
	s2, err := supervisor.New(d, file, supervisor.WithRunDir(s.RunDir()), supervisor.WithOutput(io.Discard, false))
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(ctx); err == nil || !strings.Contains(err.Error(), "another supervisor serves") {
		t.Fatalf("a second supervisor: %v", err)
	}
}

// A binary and a file named relative to the current directory: the
// binary is found beside the file, never looked up in PATH.
func TestRelativeBinary(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(testcomp, filepath.Join(dir, "testcomp")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "deploy.yaml"), []byte("version: 1\ncomponents:\n  Echo: {binary: ./testcomp}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	d, err := deploy.Read("deploy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := supervisor.New(d, "deploy.yaml", supervisor.WithOutput(io.Discard, false), supervisor.WithRunDir(shortDir(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
}
