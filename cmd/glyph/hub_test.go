package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hubEnv is one daemon's configuration for the glyph commands.
type hubEnv struct {
	t   *testing.T
	cfg string
}

func newHubEnv(t *testing.T, name, remote string) *hubEnv {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "glyph-hub.yaml")
	body := fmt.Sprintf("store: store\nsocket: run/hub.sock\nlog_level: warn\nremotes:\n  - url: %s\n", remote)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &hubEnv{t: t, cfg: cfg}
	e.run(name+" password\n", "hub", "create", name)
	e.run("", "hub", "start")
	t.Cleanup(func() { e.glyph("", "hub", "stop") })
	return e
}

// glyph runs the glyph command with the daemon's configuration.
func (e *hubEnv) glyph(stdin string, args ...string) (string, error) {
	cmd := exec.Command(buildGlyph(e.t), args...)
	cmd.Env = append(os.Environ(), "GLYPH_HUB_CONFIG="+e.cfg)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("glyph %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), err
}

func (e *hubEnv) run(stdin string, args ...string) string {
	e.t.Helper()
	out, err := e.glyph(stdin, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// watch starts glyph obj watch and returns its lines once it watches.
func (e *hubEnv) watch(args ...string) <-chan string {
	e.t.Helper()
	cmd := exec.Command(buildGlyph(e.t), append([]string{"obj", "watch"}, args...)...)
	cmd.Env = append(os.Environ(), "GLYPH_HUB_CONFIG="+e.cfg)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if sc.Text() == "watching" {
				close(ready)
			}
		}
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		e.t.Fatal("glyph obj watch did not start")
	}
	return lines
}

func line(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case l := <-ch:
		return l
	case <-time.After(30 * time.Second):
		t.Fatal("no line from glyph obj watch")
	}
	return ""
}

var accountLine = regexp.MustCompile(`(?m)^account: (\S+)$`)

// glyph hub and glyph obj between two daemons and a remote: create,
// start, status, new, share, watch, push, get, unshare, delete, stop.
func TestHubAndObjCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a remote and two daemons")
	}
	r := startRemoteProc(t, nil, "--store", "sqlite:"+t.TempDir(), "--log-level", "error")
	alice, bob := newHubEnv(t, "alice", r.peerURL), newHubEnv(t, "bob", r.peerURL)
	m := accountLine.FindStringSubmatch(bob.run("", "hub", "status"))
	if m == nil {
		t.Fatal("glyph hub status shows no account")
	}
	bobFP := m[1]

	shares := bob.watch("--api", "test.note")
	id := strings.TrimSpace(alice.run("", "obj", "new", "--api", "test.note", "hello"))
	alice.run("", "obj", "share", id, bobFP)
	if l := line(t, shares); !strings.HasPrefix(l, "share "+id+" test.note ") {
		t.Fatalf("bob's watch: %q", l)
	}
	if got := bob.run("", "obj", "get", id); got != "hello" {
		t.Fatalf("bob reads %q", got)
	}
	updates := bob.watch(id)
	alice.run("hello again", "obj", "push", id, "-")
	if l := line(t, updates); l != fmt.Sprintf("update %s 1 %q", id, "hello again") {
		t.Fatalf("bob's update: %q", l)
	}
	if _, err := bob.glyph("", "obj", "push", id, "mine now"); err == nil {
		t.Fatal("bob pushed alice's object")
	}
	info := alice.run("", "obj", "get", "--info", id)
	if !strings.Contains(info, "reader:  "+bobFP) {
		t.Fatalf("alice's object does not list bob: %s", info)
	}
	alice.run("", "obj", "unshare", id, bobFP)
	if l := line(t, updates); l != "unshare "+id {
		t.Fatalf("bob's watch after the unshare: %q", l)
	}
	alice.run("", "obj", "delete", id)
	if _, err := alice.glyph("", "obj", "get", id); err == nil {
		t.Fatal("a deleted object was read")
	}
	alice.run("", "hub", "stop")
	if out, err := alice.glyph("", "hub", "status"); err == nil || !strings.Contains(out, "not running") {
		t.Fatalf("status after stop: %s, %v", out, err)
	}
}
