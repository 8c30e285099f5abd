package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/internal/searchapp/search"
	"github.com/glyph-ipc/glyph/service"
)

// TestDeployments runs the example as glyph run runs it, with the glyph
// binary and the example's, from the deployment files of this directory:
// over Unix sockets (deploy.yaml) and with Storage behind a NATS server
// (deploy-nats.yaml). The front answers every caller of the tour as the
// one-process deployment does: the transcript is the same.
func TestDeployments(t *testing.T) {
	bins := buildBinaries(t)
	for _, tt := range []struct {
		file string
		nats bool // Storage is behind a NATS server the test runs
	}{
		{"deploy.yaml", false},
		{"deploy-nats.yaml", true},
	} {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			// Free ports instead of the fixed ones a person would use.
			yaml := replaceOnce(t, string(b), "address: 127.0.0.1:8080", "address: 127.0.0.1:0")
			var ns *server.Server
			if tt.nats {
				ns = runNATS(t)
				yaml = replaceOnce(t, yaml, "nats: nats://127.0.0.1:4222", "nats: "+ns.ClientURL())
			}
			d := runDeployment(t, bins, yaml)
			var out strings.Builder
			if err := tour(context.Background(), d.front, &out); err != nil {
				t.Fatalf("%v\nglyph run's output:\n%s", err, d.output())
			}
			if out.String() != transcript {
				t.Errorf("the transcript is\n%s\nwant (as in one process)\n%s", out.String(), transcript)
			}
			// Only the front takes calls from outside: Search's socket
			// refuses a caller without the deployment's secret.
			if err := callDirect(d.status, "Search"); service.KindOf(err) != service.KindUnauthenticated {
				t.Errorf("RunQuery on Search's own socket, without the secret: %v, want unauthenticated", err)
			}
			if ns != nil {
				// Both Storage replicas and Search are connected, and
				// Search's calls went through the server.
				if n := ns.NumClients(); n != 3 {
					t.Errorf("the NATS server has %d clients, want 3 (Storage twice and Search)", n)
				}
				if v, err := ns.Varz(nil); err != nil || v.InMsgs < int64(len(callers)) {
					t.Errorf("the NATS server got %d messages (%v), want a call to Storage per RunQuery at least (%d)", v.InMsgs, err, len(callers))
				}
				for _, st := range []string{"Storage/0", "Storage/1"} {
					if !regexp.MustCompile(`(?m)^` + st + `\s.*\s` + regexp.QuoteMeta(ns.ClientURL()) + `/glyph/Storage$`).MatchString(d.status) {
						t.Errorf("glyph status does not show %s on the NATS server:\n%s", st, d.status)
					}
				}
			} else {
				for _, st := range []string{"Storage/0", "Storage/1"} {
					if !regexp.MustCompile(`(?m)^` + st + `\s.*\sunix://\S+/Storage-[01]\.sock$`).MatchString(d.status) {
						t.Errorf("glyph status does not show %s on a Unix socket:\n%s", st, d.status)
					}
				}
			}
			d.stop(t)
		})
	}
}

// callDirect calls RunQuery at the address glyph status shows for
// process name, as an outsider would: without the deployment's secret.
func callDirect(status, name string) error {
	m := regexp.MustCompile(`(?m)^` + name + `\s.*\s(unix://\S+)$`).FindStringSubmatch(status)
	if m == nil {
		return fmt.Errorf("no Unix socket for %s in glyph status:\n%s", name, status)
	}
	r, err := component.NewRouter(component.WithRoutes(component.Routes{"Search": {Providers: []string{m[1]}}}))
	if err != nil {
		return err
	}
	defer r.Close()
	ctx := context.Background()
	s, err := component.Dial[search.Search](ctx, r)
	if err != nil {
		return err
	}
	_, err = s.RunQuery(ctx, query, maxResults)
	return err
}

// binaries are the glyph command and the example, built for a test.
type binaries struct {
	glyph, search string
}

// buildBinaries builds glyph and the example into a fresh directory.
func buildBinaries(t *testing.T) binaries {
	t.Helper()
	dir := t.TempDir()
	b := binaries{glyph: filepath.Join(dir, "glyph"), search: filepath.Join(dir, "search")}
	for _, c := range [][2]string{{b.glyph, "../../cmd/glyph"}, {b.search, "."}} {
		if out, err := exec.Command("go", "build", "-o", c[0], c[1]).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", c[1], err, out)
		}
	}
	return b
}

// deployment is a glyph run of a deployment file.
type deployment struct {
	dir    string // the file's directory, glyph run's working directory
	cmd    *exec.Cmd
	lines  chan string
	seen   []string
	front  string // the front's URL
	status string // glyph status once all was ready
	glyph  string
}

// runDeployment writes yaml as deploy.yaml into a fresh directory with the
// example's binary at bin/search (where the file names it), runs glyph
// run deploy.yaml there until the test ends, and waits until all is ready.
func runDeployment(t *testing.T, bins binaries, yaml string) *deployment {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bins.search, filepath.Join(dir, "bin", "search")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "deploy.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	// The run directory holds Unix sockets, whose paths must be short.
	runDir, err := os.MkdirTemp("", "g")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runDir) })
	t.Setenv("XDG_RUNTIME_DIR", runDir)

	d := &deployment{dir: dir, lines: make(chan string, 1000), glyph: bins.glyph}
	d.cmd = exec.Command(bins.glyph, "run", "deploy.yaml")
	d.cmd.Dir = dir
	out, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stderr = d.cmd.Stdout
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			d.cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
		close(d.lines)
	}()
	if !d.waitLine(`msg="all ready" processes=4`, 30*time.Second) {
		t.Fatalf("glyph run never got all ready; its output:\n%s", d.output())
	}
	status := d.glyphOK(t, "status", "--file", "deploy.yaml")
	d.status = status
	m := regexp.MustCompile(`(?m)^front\s.*\s(http://127\.0\.0\.1:[0-9]+/)$`).FindStringSubmatch(status)
	if m == nil {
		t.Fatalf("no front's address in glyph status:\n%s", status)
	}
	d.front = m[1]
	for _, p := range []string{"Storage/0", "Storage/1", "Search", "front"} {
		if !regexp.MustCompile(`(?m)^` + p + `\s.*\s(RUNNING|STARTING)\s`).MatchString(status) {
			t.Errorf("glyph status does not show %s up:\n%s", p, status)
		}
	}
	return d
}

// waitLine reads glyph run's output until a line holds want.
func (d *deployment) waitLine(want string, within time.Duration) bool {
	timeout := time.After(within)
	for {
		select {
		case l, ok := <-d.lines:
			if !ok {
				return false
			}
			d.seen = append(d.seen, l)
			if strings.Contains(l, want) {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// output is what glyph run printed so far.
func (d *deployment) output() string {
	for {
		select {
		case l, ok := <-d.lines:
			if !ok {
				return strings.Join(d.seen, "\n")
			}
			d.seen = append(d.seen, l)
		default:
			return strings.Join(d.seen, "\n")
		}
	}
}

// glyphOK runs glyph with args in the deployment's directory and returns
// its output; it must succeed.
func (d *deployment) glyphOK(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(d.glyph, args...)
	cmd.Dir = d.dir
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("glyph %s: %v %s", strings.Join(args, " "), err, msg)
	}
	return string(out)
}

// stop ends glyph run with SIGTERM: it stops every process and exits 0.
func (d *deployment) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("glyph run after SIGTERM: %v\n%s", err, d.output())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("glyph run still runs 30s after SIGTERM\n%s", d.output())
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("%q is %d times in the file, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// runNATS runs a NATS server on a free loopback port until the test
// ends.
func runNATS(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}
