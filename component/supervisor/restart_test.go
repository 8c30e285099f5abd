package supervisor_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/secret"
	"github.com/glyph-ipc/glyph/component/supervisor"
	"github.com/glyph-ipc/glyph/service"
)

func bindEcho(t *testing.T, r *component.Router) *echoStub {
	t.Helper()
	var e echoStub
	if err := r.Bind(context.Background(), "Echo", &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

func kill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// A replica killed is restarted, and calls meanwhile fail over to the
// other replica (route fail: over, methods retry-safe).
func TestKilledReplicaFailover(t *testing.T) {
	s, out := start(t, `
version: 1
components:
  Echo:
    binary: BINARY
    replicas: 2
    route: {fail: over}
    restart: {backoff: 20ms, stable: 50ms}
`)
	e := bindEcho(t, router(t, s, s.Keyring(), map[string]component.Route{"Echo": {Fail: component.FailOver}}))
	ctx := context.Background()
	before := status(t, s, "Echo/0")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls, failed int
	var firstErr error
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := e.Echo(ctx, "x"); err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
			}
			calls++
		}
	})
	time.Sleep(50 * time.Millisecond)
	kill(t, before.Pid)
	waitFor(t, 5*time.Second, "Echo/0 restarted and ready", func() bool {
		st := status(t, s, "Echo/0")
		return st.Restarts == 1 && st.Ready && st.Pid != before.Pid && st.Pid != 0
	})
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed > 0 || calls < 10 {
		t.Fatalf("%d of %d calls failed (first: %v)", failed, calls, firstErr)
	}
	// Both replicas answer again.
	seen := map[int]bool{}
	for range 20 {
		pid, err := e.Pid(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen[pid] = true
	}
	if len(seen) != 2 || seen[before.Pid] {
		t.Fatalf("pids answering %v (the killed one was %d)", seen, before.Pid)
	}
	if !strings.Contains(out.String(), `msg="exited, restarting" process=Echo/0 status="killed by SIGKILL" in=`) {
		t.Fatalf("the log does not tell:\n%s", out)
	}
}

// With fail: fast, a call in flight on a replica that dies fails at
// once with a retryable error instead of waiting; the replica comes back.
func TestKilledReplicaFailFast(t *testing.T) {
	s, _ := start(t, `
version: 1
components:
  Echo:
    binary: BINARY
    route: {fail: fast}
    restart: {backoff: 20ms}
`)
	e := bindEcho(t, router(t, s, s.Keyring(), map[string]component.Route{"Echo": {Fail: component.FailFast}}))
	ctx := context.Background()
	pid := status(t, s, "Echo").Pid
	done := make(chan error, 1)
	start := time.Now()
	go func() { _, err := e.Sleep(ctx, 10_000); done <- err }()
	time.Sleep(100 * time.Millisecond)
	kill(t, pid)
	select {
	case err := <-done:
		if service.KindOf(err) != service.KindUnavailable {
			t.Fatalf("the call in flight: %v (kind %v), want unavailable", err, service.KindOf(err))
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the call in flight still waits %s after its replica died", time.Since(start))
	}
	waitFor(t, 5*time.Second, "Echo restarted", func() bool {
		st := status(t, s, "Echo")
		return st.Ready && st.Pid != pid && st.Restarts == 1
	})
	waitFor(t, 5*time.Second, "calls answered again", func() bool {
		_, err := e.Echo(ctx, "x")
		return err == nil
	})
}

// A process that keeps crashing is FATAL after its start limit, with its
// last lines in its status, and its socket closed.
func TestCrashLoopFatal(t *testing.T) {
	s, _, err := startErr(t, `
version: 1
components:
  Echo:
    binary: BINARY
    env: {TESTCOMP_CRASH: "3"}
    restart: {backoff: 5ms, max_backoff: 20ms, limit: 3}
`)
	if err == nil || !strings.Contains(err.Error(), "Echo is FATAL") {
		t.Fatalf("Start: %v, want Echo FATAL", err)
	}
	st := status(t, s, "Echo")
	if st.State != supervisor.StateFatal || st.Restarts != 2 || st.ExitStatus != 3 || st.Pid != 0 {
		t.Fatalf("status %+v", st)
	}
	// The last run's three lines, stdout's and stderr's in either order.
	if n := len(st.LastLog); n < 3 || !slices.Equal(slices.Sorted(slices.Values(st.LastLog[n-3:])), []string{"crash line 1", "crash line 2", "starting"}) {
		t.Fatalf("last lines %q", st.LastLog)
	}
	if !strings.Contains(st.Message, "exit status 3; started 3 times") {
		t.Fatalf("message %q", st.Message)
	}
	// Restarted by hand, it gets a fresh start limit (and fails again).
	if err := s.Restart(context.Background(), "Echo"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "FATAL again", func() bool {
		st := status(t, s, "Echo")
		return st.State == supervisor.StateFatal && st.Restarts == 5
	})
}

// A process that is alive but answers nothing is killed after its
// health checks fail, and restarted.
func TestHealthCheckRestartsFrozen(t *testing.T) {
	s, out := start(t, `
version: 1
components:
  Echo:
    binary: BINARY
    restart: {backoff: 10ms}
    health: {interval: 50ms, timeout: 100ms, failures: 2}
`)
	e := bindEcho(t, router(t, s, s.Keyring(), map[string]component.Route{"Echo": {}}))
	pid := status(t, s, "Echo").Pid
	if err := e.Freeze(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the frozen process replaced", func() bool {
		st := status(t, s, "Echo")
		return st.Ready && st.Pid != pid && st.Restarts == 1
	})
	if !strings.Contains(out.String(), "no answer to 2 health checks in a row") {
		t.Fatalf("the log does not say why:\n%s", out)
	}
}

// alive reports whether pid is a process that has not exited (a zombie
// has).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	// "pid (comm) S ...": the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// The supervisor killed with SIGKILL leaves no child behind.
func TestSupervisorKilledLeavesNoChild(t *testing.T) {
	_, file := deployment(t, echoAndRelay)
	cmd := exec.Command(testcomp, "supervise", file)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+shortDir(t))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("the supervisor did not get ready")
	}
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "ready" {
		t.Fatalf("the supervisor said %q", line)
	}
	var pids []int
	for _, p := range f[1:] {
		pid, _ := strconv.Atoi(p)
		if !alive(pid) {
			t.Fatalf("child %d is not running", pid)
		}
		pids = append(pids, pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	waitFor(t, 5*time.Second, "every child gone", func() bool {
		for _, pid := range pids {
			if alive(pid) {
				return false
			}
		}
		return true
	})
}

func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "g")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Shutdown stops dependants first, and leaves nothing running.
func TestShutdownOrder(t *testing.T) {
	s, out := start(t, echoAndRelay)
	var pids []int
	for _, st := range s.Status() {
		pids = append(pids, st.Pid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("child %d still runs", pid)
		}
	}
	text := out.String()
	relay := strings.Index(text, "Relay  | stopped")
	echo0, echo1 := strings.Index(text, "Echo/0 | stopped"), strings.Index(text, "Echo/1 | stopped")
	if relay < 0 || echo0 < 0 || echo1 < 0 || relay > echo0 || relay > echo1 {
		t.Fatalf("stopped in the wrong order (Relay at %d, Echo at %d, %d):\n%s", relay, echo0, echo1, text)
	}
	for _, st := range s.Status() {
		if st.State != supervisor.StateExited {
			t.Errorf("%s is %s", st.Name, st.State)
		}
	}
}

// A changed deployment file restarts what changed and keeps the rest.
func TestReload(t *testing.T) {
	s, _ := start(t, echoAndRelay)
	before := map[string]int{}
	for _, st := range s.Status() {
		before[st.Name] = st.Pid
	}
	d, _ := deployment(t, echoAndRelay+"    env: {CHANGED: \"1\"}\n")
	if err := s.Reload(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	after := map[string]int{}
	for _, st := range s.Status() {
		after[st.Name] = st.Pid
	}
	if after["Echo/0"] != before["Echo/0"] || after["Echo/1"] != before["Echo/1"] {
		t.Errorf("Echo was restarted: %v → %v", before, after)
	}
	if after["Relay"] == before["Relay"] || after["Relay"] == 0 {
		t.Errorf("Relay was not restarted: %v → %v", before, after)
	}
	r := router(t, s, s.Keyring(), map[string]component.Route{"Relay": {}})
	var relay struct {
		Relay func(ctx context.Context, s string) (string, error)
	}
	if err := r.Bind(context.Background(), "Relay", &relay); err != nil {
		t.Fatal(err)
	}
	if got, err := relay.Relay(context.Background(), "again"); err != nil || got != "relayed again" {
		t.Fatalf("Relay = %q, %v", got, err)
	}
}

// A child whose secret pipe ends (its supervisor gone, whatever the way)
// exits, without any signal.
func TestChildExitsWhenSecretPipeEnds(t *testing.T) {
	secretR, secretW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testcomp)
	cmd.Env = append(os.Environ(), "GLYPH_SERVE=Echo", "GLYPH_ROUTES={}", "GLYPH_SECRET_FD=3", "GLYPH_READY_FD=4")
	cmd.ExtraFiles = []*os.File{secretR, readyW}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if _, err := secretW.WriteString(secret.NewKeyring(secret.NewKey()).Line()); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	secretR.Close()
	readyW.Close()
	line, err := bufio.NewReader(readyR).ReadString('\n')
	if line != "READY\n" {
		t.Fatalf("the child said %q (%v):\n%s", line, err, out.String())
	}
	secretW.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the child still runs after its secret pipe ended:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// Run keeps running what can run when a process never gets ready: one
// FATAL process does not stop the deployment.
func TestRunSurvivesFatal(t *testing.T) {
	d, file := deployment(t, `
version: 1
components:
  Echo: {binary: BINARY}
  Relay:
    binary: BINARY
    uses: [Echo]
    env: {TESTCOMP_CRASH: "2"}
    restart: {backoff: 5ms, limit: 2}
`)
	run := shortDir(t)
	s, err := supervisor.New(d, file, supervisor.WithOutput(io.Discard, false), supervisor.WithRunDir(run))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, 10*time.Second, "Relay FATAL and Echo ready", func() bool {
		sts := s.Status()
		return len(sts) == 2 && sts[0].Ready && sts[1].State == supervisor.StateFatal
	})
	select {
	case err := <-done:
		t.Fatalf("Run returned %v while Echo runs", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// A child that ignores SIGTERM is killed after its stop timeout.
func TestShutdownKillsAfterTimeout(t *testing.T) {
	s, out := start(t, `
version: 1
components:
  Echo:
    binary: BINARY
    env: {TESTCOMP_IGNORE_TERM: "1"}
    restart: {stop_timeout: 200ms}
`)
	pid := status(t, s, "Echo").Pid
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	begin := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatal("the child still runs")
	}
	if took := time.Since(begin); took < 200*time.Millisecond {
		t.Fatalf("stopped in %s, before its stop timeout: SIGTERM was not ignored", took)
	}
	if !strings.Contains(out.String(), `msg="did not stop in time, killing it" process=Echo`) {
		t.Fatalf("the log does not say:\n%s", out)
	}
}
