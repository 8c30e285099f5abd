package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunStatusLogsRestart runs a deployment with glyph run (the binary)
// and drives it with glyph status, logs, restart and run --reload.
func TestRunStatusLogsRestart(t *testing.T) {
	bin := buildGlyph(t)
	dir := t.TempDir()
	comp := filepath.Join(dir, "testcomp")
	if out, err := exec.Command("go", "build", "-o", comp, "../../component/supervisor/internal/testcomp").CombinedOutput(); err != nil {
		t.Fatalf("building the test component: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "deploy.yaml")
	write := func(extra string) {
		yaml := "version: 1\ncomponents:\n  Echo:\n    binary: ./testcomp\n    replicas: 2\n  Relay:\n    binary: ./testcomp\n    uses: [Echo]\n" + extra
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	runDir, err := os.MkdirTemp("", "g")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(runDir)
	t.Setenv("XDG_RUNTIME_DIR", runDir)

	cmd := exec.Command(bin, "run", file)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine := func(want string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("glyph run ended before %q", want)
				}
				if strings.Contains(l, want) {
					return
				}
			case <-timeout:
				t.Fatalf("glyph run never said %q", want)
			}
		}
	}
	waitLine(`msg="all ready" processes=3`)

	stdout, stderr, code := glyph(t, "", "status", "--file", file)
	if code != 0 {
		t.Fatalf("status: %d %s", code, stderr)
	}
	for _, want := range []string{"PROCESS", "Echo/0", "Echo/1", "Relay", "unix://"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, stdout)
		}
	}
	relayPid := pidOf(t, stdout, "Relay")

	stdout, stderr, code = glyph(t, "", "logs", "--file", file, "Relay")
	if code != 0 || !strings.Contains(stdout, `Relay | {"level":"INFO","msg":"serving","parts":["Relay"],"public":null}`) {
		t.Fatalf("logs: %d %s\n%s", code, stderr, stdout)
	}

	// glyph logs -f follows: it prints the new Relay's lines too.
	follow := exec.Command(bin, "logs", "-f", "--file", file, "Relay")
	followOut, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer follow.Process.Kill()
	serving := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(followOut)
		n := 0
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"msg":"serving"`) {
				n++
				if n == 2 {
					serving <- n
				}
			}
		}
	}()

	if _, stderr, code = glyph(t, "", "restart", "--file", file, "Relay"); code != 0 {
		t.Fatalf("restart: %d %s", code, stderr)
	}
	waitLine(`msg="killing it" process=Relay why="restart requested"`)
	select {
	case <-serving:
	case <-time.After(20 * time.Second):
		t.Fatal("glyph logs -f did not print the restarted Relay's lines")
	}
	follow.Process.Signal(syscall.SIGTERM)
	follow.Wait()
	waitFor(t, 10*time.Second, "Relay restarted", func() bool {
		stdout, _, _ := glyph(t, "", "status", "--file", file)
		pid := pidOf(t, stdout, "Relay")
		return pid != "-" && pid != relayPid
	})

	write("    env: {CHANGED: \"1\"}\n")
	if stdout, stderr, code = glyph(t, "", "run", "--reload", file); code != 0 || !strings.Contains(stdout, "reloaded") {
		t.Fatalf("run --reload: %d %s %s", code, stdout, stderr)
	}
	waitLine(`msg=reloaded kept=2 "restarted or new"=1 stopped=1`)

	// SIGHUP applies a changed file too.
	write("    env: {CHANGED: \"2\"}\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(`msg=reloaded kept=2 "restarted or new"=1 stopped=1`)

	if _, stderr, code = glyph(t, "", "restart", "--file", file, "Nope"); code != 1 || !strings.Contains(stderr, `no process or component "Nope"`) {
		t.Fatalf("restart Nope: %d %s", code, stderr)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("glyph run after SIGTERM: %v", err)
	}
	if _, stderr, code = glyph(t, "", "status", "--file", file); code != 1 || !strings.Contains(stderr, "no supervisor runs") {
		t.Fatalf("status after the end: %d %s", code, stderr)
	}
}

// pidOf returns the PID column of a process in glyph status's table.
func pidOf(t *testing.T, table, name string) string {
	t.Helper()
	for _, l := range strings.Split(table, "\n") {
		if f := strings.Fields(l); len(f) > 3 && f[0] == name {
			return f[3]
		}
	}
	t.Fatalf("no %s in\n%s", name, table)
	return ""
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
