//go:build unix

package main

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoDeployTranscript is what glyph demo deploy --once prints, with what
// changes from run to run written as upper-case words: the file's path
// (FILE), the run directory (RUN), the front's port (FRONT), durations
// (T), pids (PID) and uptimes (UP); table columns are one space apart,
// and a state of STARTING or RUNNING, which depends on the machine's
// speed, is UP.
const demoDeployTranscript = `== A deployment: one application in processes of their own ==

The search example (examples/search) as separate processes: Storage twice,
Search, and the front, the one port open to the outside. Its deployment file,
examples/search/deploy.yaml, without comments:

  version: 1
  components:
    Storage:
      binary: ./bin/search
      replicas: 2
      route: {fail: over}
      restart: {backoff: 50ms}
    Search:
      binary: ./bin/search
      uses: [Storage]
      public: true
    front:
      binary: ./bin/search
      transport: http
      address: 127.0.0.1:8080
      uses: [Search]

This glyph is the binary here, for it holds the example's components too
(glyph example-search); the front listens at 127.0.0.1:0. As glyph run
does, the supervisor starts each process once those it uses are ready.

» glyph run FILE
  all 4 processes ready in T

» glyph status --file FILE
PROCESS COMPONENTS STATE PID RESTARTS UPTIME ADDRESS
Storage/0 Storage UP PID 0 UP unix://RUN/Storage-0.sock
Storage/1 Storage UP PID 0 UP unix://RUN/Storage-1.sock
Search Search UP PID 0 UP unix://RUN/Search-0.sock
front front UP PID 0 UP http://FRONT/
  # STARTING: ready, and RUNNING once up for the stable period (1s)

» search = the Search interface bound to the front at http://FRONT/
» search.RunQuery("red fruit", 3)
  {results: [t1 apple, t2 cherry, t4 tomato]}
  # the front forwards it to Search, which asks a Storage replica for candidates

» kill -9 PID   # Storage/0
» search.RunQuery("red fruit", 3), 5 times at once
  {results: [t1 apple, t2 cherry, t4 tomato]} each time
  # Search's route to Storage (fail: over) turns to Storage/1 while Storage/0 is down

The supervisor restarted Storage/0 at once (restart: {backoff: 50ms}): pid PID,
ready T after the kill, on the same socket.

» glyph status --file FILE
PROCESS COMPONENTS STATE PID RESTARTS UPTIME ADDRESS
Storage/0 Storage UP PID 1 UP unix://RUN/Storage-0.sock
Storage/1 Storage UP PID 0 UP unix://RUN/Storage-1.sock
Search Search UP PID 0 UP unix://RUN/Search-0.sock
front front UP PID 0 UP http://FRONT/

» search.RunQuery("red fruit", 3)
  {results: [t1 apple, t2 cherry, t4 tomato]}

`

// TestDemoDeploy runs glyph demo deploy --once (the binary: its processes
// are that binary too) and checks its transcript, that the pids it shows
// tell the story it tells, and that nothing of it is left afterwards.
func TestDemoDeploy(t *testing.T) {
	bin := buildGlyph(t)
	runDir, err := os.MkdirTemp("", "g")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(runDir)
	cmd := exec.Command(bin, "demo", "deploy", "--once")
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("glyph demo deploy --once: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the demo took %v", d)
	}
	out := stdout.String()
	got, pids := normalizeDemoDeploy(t, out)
	if got != demoDeployTranscript {
		t.Errorf("the transcript, normalized, is\n%s\nwant\n%s\nas printed:\n%s", got, demoDeployTranscript, out)
	}
	if len(pids) != 10 { // 4 in each table, the killed one, the new one
		t.Fatalf("pids %v, want 10", pids)
	}
	before, killed, after, restarted := pids[0:4], pids[4], pids[6:10], pids[5]
	if killed != before[0] || restarted != after[0] || restarted == killed {
		t.Errorf("killed %s (Storage/0 was %s), restarted as %s (Storage/0 is then %s)", killed, before[0], restarted, after[0])
	}
	if !slices.Equal(before[1:], after[1:]) {
		t.Errorf("the other processes changed: %v, then %v", before[1:], after[1:])
	}
	// The supervisor logged the kill on stderr, where the processes'
	// output goes too.
	if !strings.Contains(stderr.String(), "process=Storage/0") {
		t.Errorf("stderr does not show Storage/0's restart:\n%s", stderr.String())
	}
	// Nothing is left: no process, no front, no file.
	for _, pid := range append(before, restarted) {
		if alive(t, pid) {
			t.Errorf("process %s is still alive after the demo", pid)
		}
	}
	front := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/`).FindString(out)
	if resp, err := http.Get(front); err == nil {
		resp.Body.Close()
		t.Errorf("the front still answers at %s", front)
	}
	file := regexp.MustCompile(`\S*/glyph-demo[0-9]+/deploy\.yaml`).FindString(out)
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the demo's deployment file %s is left: %v", file, err)
	}
}

// normalizeDemoDeploy writes the parts of the transcript that change
// from run to run as demoDeployTranscript does, and returns the pids it
// found, in order.
func normalizeDemoDeploy(t *testing.T, out string) (string, []string) {
	t.Helper()
	for _, r := range []struct{ re, with string }{
		{`\S*/glyph-demo[0-9]+/deploy\.yaml`, "FILE"},
		{`unix://\S+/`, "unix://RUN/"},
		{`http://127\.0\.0\.1:[0-9]+/`, "http://FRONT/"},
		{`ready in [0-9.]+(µs|ms|s)`, "ready in T"},
		{`ready [0-9.]+(µs|ms|s) after`, "ready T after"},
	} {
		out = regexp.MustCompile(r.re).ReplaceAllString(out, r.with)
	}
	var pids []string
	pid := regexp.MustCompile(`(kill -9 |pid )([0-9]+)`)
	row := regexp.MustCompile(`^(PROCESS|Storage/[01]|Search|front) `)
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if row.MatchString(l) {
			f := strings.Fields(l)
			if f[0] != "PROCESS" && len(f) == 7 {
				pids = append(pids, f[3])
				f[3], f[5] = "PID", "UP"
				if f[2] == "STARTING" || f[2] == "RUNNING" {
					f[2] = "UP"
				}
			}
			lines[i] = strings.Join(f, " ")
			continue
		}
		if m := pid.FindStringSubmatch(l); m != nil {
			pids = append(pids, m[2])
			lines[i] = pid.ReplaceAllString(l, "${1}PID")
		}
	}
	return strings.Join(lines, "\n"), pids
}

func alive(t *testing.T, pid string) bool {
	t.Helper()
	n, err := strconv.Atoi(pid)
	if err != nil {
		t.Fatalf("pid %q: %v", pid, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(n, 0) == nil {
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestDemoDeployFile: the deployment glyph demo deploy runs is
// examples/search/deploy.yaml, whose comments it leaves out.
func TestDemoDeployFile(t *testing.T) {
	b, err := os.ReadFile("../../examples/search/deploy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for l := range strings.SplitSeq(string(b), "\n") {
		if !strings.HasPrefix(l, "#") && (l != "" || len(kept) > 0) {
			kept = append(kept, l)
		}
	}
	if got := strings.Join(kept, "\n"); got != demoDeployYAML {
		t.Errorf("examples/search/deploy.yaml without comments is\n%s\nglyph demo deploy runs\n%s", got, demoDeployYAML)
	}
}

// TestExampleSearchNeedsSupervisor: the hidden command that makes glyph
// the binary of the demo's processes refuses to run without a supervisor.
func TestExampleSearchNeedsSupervisor(t *testing.T) {
	t.Setenv("GLYPH_SERVE", "")
	os.Unsetenv("GLYPH_SERVE")
	_, stderr, code := glyph(t, "", exampleSearchCommand)
	if code != exitFailure || !strings.Contains(stderr, "$GLYPH_SERVE is not set") {
		t.Errorf("glyph %s without a supervisor: exit %d, stderr %q", exampleSearchCommand, code, stderr)
	}
}
