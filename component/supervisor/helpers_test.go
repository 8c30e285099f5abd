package supervisor_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/deploy"
	"github.com/glyph-ipc/glyph/component/secret"
	"github.com/glyph-ipc/glyph/component/supervisor"
)

// testcomp is the path of the test component binary TestMain builds.
var testcomp string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "supervisor-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testcomp = filepath.Join(dir, "testcomp")
	out, err := exec.Command("go", "build", "-o", testcomp, "./internal/testcomp").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the test component: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// deployment writes a deployment file (with BINARY standing for the
// test component) into a fresh directory and parses it.
func deployment(t *testing.T, yaml string) (*deploy.Deployment, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "deploy.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(yaml, "BINARY", testcomp)), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := deploy.Read(file)
	if err != nil {
		t.Fatal(err)
	}
	return d, file
}

// start runs a supervisor of the deployment until the test ends.
func start(t *testing.T, yaml string, opts ...supervisor.Option) (*supervisor.Supervisor, *syncBuffer) {
	t.Helper()
	s, out, err := startErr(t, yaml, opts...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return s, out
}

func startErr(t *testing.T, yaml string, opts ...supervisor.Option) (*supervisor.Supervisor, *syncBuffer, error) {
	t.Helper()
	d, file := deployment(t, yaml)
	out := &syncBuffer{}
	// A short run directory: a socket's path has room for 107 bytes.
	run, err := os.MkdirTemp("", "glyph")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(run) })
	s, err := supervisor.New(d, file, append([]supervisor.Option{supervisor.WithOutput(out, false), supervisor.WithRunDir(run)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return s, out, s.Start(ctx)
}

// status returns the status of the named replica.
func status(t *testing.T, s *supervisor.Supervisor, name string) supervisor.Status {
	t.Helper()
	for _, st := range s.Status() {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no process %s in %+v", name, s.Status())
	return supervisor.Status{}
}

// waitFor polls cond every 10ms until it holds, failing after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// router routes to the named components as the supervisor serves them,
// with proofs from keyring (nil: none).
func router(t *testing.T, s *supervisor.Supervisor, keyring *secret.Keyring, routes map[string]component.Route) *component.Router {
	t.Helper()
	rs := component.Routes{}
	for name, rt := range routes {
		for _, st := range s.Status() {
			for i, c := range st.Components {
				if c == name && i < len(st.Addresses) {
					rt.Providers = append(rt.Providers, st.Addresses[i])
				}
			}
		}
		rs[name] = rt
	}
	opts := []component.RouterOption{component.WithRoutes(rs), component.WithProbeInterval(5*time.Millisecond, 50*time.Millisecond)}
	if keyring != nil {
		opts = append(opts, component.WithCallHeaderFunc(secret.Header, keyring.Proof))
	}
	r, err := component.NewRouter(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// echoStub binds the test component's Echo.
type echoStub struct {
	Echo   func(ctx context.Context, s string) (string, error)
	Pid    func(ctx context.Context) (int, error)
	Sleep  func(ctx context.Context, ms int) (int, error)
	Freeze func(ctx context.Context) error
}
