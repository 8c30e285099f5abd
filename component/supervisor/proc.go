package supervisor

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/deploy"
	"github.com/glyph-ipc/glyph/service"
)

// proc is one replica of a process and the loop that keeps it running.
type proc struct {
	s       *Supervisor
	name    string // "Storage/1", or "Storage" when it has one replica
	spec    *deploy.Process
	replica int
	sockets []*sockets
	nats    []string // the URLs of the components it serves on NATS
	routes  string   // its routing table, as JSON

	firstReady chan struct{} // closed when it is ready the first time
	fatal      chan struct{} // closed when it becomes FATAL
	stop       chan struct{} // closed to stop it for good
	done       chan struct{} // closed when its loop has returned
	kick       chan string   // a reason to kill the child (health, restart)
	readyOnce  sync.Once
	fatalOnce  sync.Once
	stopOnce   sync.Once

	mu       sync.Mutex // guards the fields below
	state    State
	message  string
	cmd      *exec.Cmd
	secretW  *os.File // the write end of the child's secret pipe
	ready    bool
	restarts int
	started  time.Time
	exit     int
}

func newProc(s *Supervisor, dp *deploy.Process, replica int) *proc {
	name := dp.Name
	if dp.Replicas > 1 {
		name = fmt.Sprintf("%s/%d", dp.Name, replica)
	}
	s.logs.add(name)
	return &proc{s: s, name: name, spec: dp, replica: replica, state: StateStarting,
		firstReady: make(chan struct{}), fatal: make(chan struct{}), stop: make(chan struct{}),
		done: make(chan struct{}), kick: make(chan string, 1)}
}

func (p *proc) serves(comp string) bool {
	return slices.ContainsFunc(p.spec.Components, func(c *deploy.Component) bool { return c.Name == comp })
}

func (p *proc) uses(comp string) bool {
	return slices.ContainsFunc(p.spec.Components, func(c *deploy.Component) bool { return slices.Contains(c.Uses, comp) })
}

// fingerprint sums up everything that makes the replica what it is: when
// it is the same after a reload, the running replica is kept.
func (p *proc) fingerprint() string {
	var keys []string
	for _, l := range p.sockets {
		keys = append(keys, l.key+" "+l.url)
	}
	b, _ := json.Marshal(struct {
		Components []*deploy.Component
		Replicas   int
		Sockets    []string
		Routes     string
	}{p.spec.Components, p.spec.Replicas, keys, p.routes})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (p *proc) setState(st State, msg string) {
	p.mu.Lock()
	p.state, p.message = st, msg
	p.mu.Unlock()
}

func (p *proc) status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{Name: p.name, State: p.state, Ready: p.ready, Restarts: p.restarts, ExitStatus: p.exit, Message: p.message}
	for _, c := range p.spec.Components {
		st.Components = append(st.Components, c.Name)
	}
	for _, l := range p.sockets {
		st.Addresses = append(st.Addresses, l.url)
	}
	st.Addresses = append(st.Addresses, p.nats...)
	if p.cmd != nil && p.cmd.Process != nil && (p.state == StateStarting || p.state == StateRunning || p.state == StateStopping) {
		st.Pid = p.cmd.Process.Pid
		st.Uptime = time.Since(p.started).Round(time.Millisecond)
	}
	if p.state == StateFatal || p.state == StateExited {
		for _, l := range p.s.logs.last(p.name, 10) {
			st.LastLog = append(st.LastLog, l.Text)
		}
	}
	return st
}

// child is one run of the replica's binary.
type child struct {
	cmd    *exec.Cmd
	ready  chan struct{} // closed when it wrote READY
	exited chan struct{} // closed when it exited; err holds Wait's error
	err    error
}

// spawn starts the binary with its environment and descriptors.
func (p *proc) spawn() (*child, error) {
	m := p.spec.Main()
	bin := m.Binary
	if !filepath.IsAbs(bin) && strings.ContainsRune(bin, filepath.Separator) {
		bin = filepath.Join(p.s.cfg.baseDir, bin)
	}
	cmd := exec.Command(bin, m.Args...)
	cmd.Dir = p.s.cfg.baseDir
	if m.Dir != "" {
		cmd.Dir = m.Dir
		if !filepath.IsAbs(m.Dir) {
			cmd.Dir = filepath.Join(p.s.cfg.baseDir, m.Dir)
		}
	}
	var names []string
	for _, l := range p.sockets {
		cmd.ExtraFiles = append(cmd.ExtraFiles, l.file)
		names = append(names, l.comp)
	}
	ps, err := newPipes()
	if err != nil {
		return nil, err
	}
	n := len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, ps.secretR, ps.readyW)
	cmd.Stdout, cmd.Stderr = ps.outW, ps.errW
	cmd.SysProcAttr = sysProcAttr()
	cmd.Env = p.environ(n, names)
	// The first line is in the pipe before the child runs: it never
	// waits for its secret.
	if _, err := ps.secretW.WriteString(p.s.keyring.Line()); err != nil {
		ps.closeAll()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		ps.closeAll()
		return nil, err
	}
	ps.closeChildEnds()
	c := &child{cmd: cmd, ready: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		defer ps.readyR.Close()
		line, _ := bufio.NewReader(io.LimitReader(ps.readyR, 64)).ReadString('\n')
		if line == "READY\n" {
			close(c.ready)
		}
	}()
	var copied sync.WaitGroup
	copied.Go(func() { p.s.logs.copy(p.name, "stdout", ps.outR); ps.outR.Close() })
	copied.Go(func() { p.s.logs.copy(p.name, "stderr", ps.errR); ps.errR.Close() })
	go func() {
		c.err = cmd.Wait()
		// The child's own children may hold the output open: wait a
		// little for its last lines, not for them.
		waitTimeout(&copied, 200*time.Millisecond)
		close(c.exited)
	}()
	secretW := ps.secretW
	p.mu.Lock()
	p.cmd, p.secretW, p.started, p.ready = cmd, secretW, time.Now(), false
	p.mu.Unlock()
	return c, nil
}

// pipes are a child's: the secret, readiness, stdout and stderr.
type pipes struct {
	secretR, secretW, readyR, readyW, outR, outW, errR, errW *os.File
}

func newPipes() (*pipes, error) {
	ps := &pipes{}
	for _, pair := range [][2]**os.File{{&ps.secretR, &ps.secretW}, {&ps.readyR, &ps.readyW}, {&ps.outR, &ps.outW}, {&ps.errR, &ps.errW}} {
		r, w, err := os.Pipe()
		if err != nil {
			ps.closeAll()
			return nil, err
		}
		*pair[0], *pair[1] = r, w
	}
	return ps, nil
}

// closeChildEnds closes, in the supervisor, the ends the child holds.
func (ps *pipes) closeChildEnds() {
	for _, f := range []*os.File{ps.secretR, ps.readyW, ps.outW, ps.errW} {
		f.Close()
	}
}

func (ps *pipes) closeAll() {
	for _, f := range []*os.File{ps.secretR, ps.secretW, ps.readyR, ps.readyW, ps.outR, ps.outW, ps.errR, ps.errW} {
		if f != nil {
			f.Close()
		}
	}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(d):
	}
}

// environ is the child's environment: the supervisor's own without
// variables of the protocol, the component's, then the protocol's.
func (p *proc) environ(nSockets int, names []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "GLYPH_") && !strings.HasPrefix(k, "LISTEN_") {
			env = append(env, kv)
		}
	}
	m := p.spec.Main()
	for _, k := range slices.Sorted(mapsKeys(m.Env)) {
		env = append(env, k+"="+m.Env[k])
	}
	var serve, public []string
	for _, c := range p.spec.Components {
		serve = append(serve, c.Name)
	}
	for _, c := range p.s.deployment().Components {
		if c.Public {
			public = append(public, c.Name)
		}
	}
	env = append(env,
		component.ServeEnv+"="+strings.Join(serve, ","),
		component.RoutesEnv+"="+p.routes,
		component.SecretFDEnv+"="+strconv.Itoa(3+nSockets),
		component.ReadyFDEnv+"="+strconv.Itoa(4+nSockets),
		component.ControlEnv+"="+filepath.Join(p.s.cfg.runDir, ControlSocket),
		component.PublicEnv+"="+strings.Join(public, ","),
	)
	if u := p.s.deployment().NATS; u != "" {
		env = append(env, component.NATSEnv+"="+u)
	}
	if nSockets > 0 {
		env = append(env, "LISTEN_FDS="+strconv.Itoa(nSockets), "LISTEN_FDNAMES="+strings.Join(names, ":"))
	}
	return env
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// sendSecret writes a keyring line to the running child. A child that
// does not read its pipe (stopped, say) and lets it fill up does not
// hold the supervisor up for more than a second: it misses the line,
// and its health checks will replace it.
func (p *proc) sendSecret(line string) {
	p.mu.Lock()
	w := p.secretW
	p.mu.Unlock()
	if w != nil {
		w.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := w.WriteString(line); err != nil {
			p.s.logger.Warn("could not hand out the new secret", "process", p.name, "err", err)
		}
	}
}

// loop runs the replica until it is stopped, or until its policy or its
// start limit says it stays down.
func (p *proc) loop() {
	done := p.doneCh()
	defer close(done)
	r := p.spec.Main().Restart
	var starts []time.Time
	failures := 0
	for {
		select {
		case <-p.stop:
			p.setState(StateExited, "stopped")
			return
		default:
		}
		now := time.Now()
		starts = slices.DeleteFunc(starts, func(t time.Time) bool { return now.Sub(t) > r.Window })
		starts = append(starts, now)
		p.setState(StateStarting, "")
		exitErr, stopped := p.runOnce(r.Stable, func() { failures = 0 })
		if stopped {
			return
		}
		code := exitCode(exitErr)
		p.mu.Lock()
		p.exit, p.ready = code, false
		p.mu.Unlock()
		msg := describeExit(exitErr)
		switch {
		case r.Policy == deploy.RestartNever, r.Policy == deploy.RestartOnFailure && code == 0:
			p.setState(StateExited, msg)
			p.s.logger.Info("exited", "process", p.name, "status", msg)
			p.closeListeners()
			return
		case len(starts) >= r.Limit:
			p.setState(StateFatal, fmt.Sprintf("%s; started %d times within %s", msg, len(starts), r.Window))
			p.s.logger.Error("FATAL: too many restarts", "process", p.name, "status", msg, "starts", len(starts), "window", r.Window)
			p.closeListeners()
			p.mu.Lock()
			fatal := p.fatal
			p.mu.Unlock()
			p.fatalOnce.Do(func() { close(fatal) })
			return
		}
		failures++
		delay := backoff(r.Backoff, r.MaxBackoff, failures)
		p.setState(StateBackoff, fmt.Sprintf("%s; restarting in %s", msg, delay.Round(time.Millisecond)))
		p.s.logger.Warn("exited, restarting", "process", p.name, "status", msg, "in", delay.Round(time.Millisecond))
		select {
		case <-p.stop:
			p.setState(StateExited, "stopped")
			return
		case <-p.kick: // restarted by hand: no more waiting
		case <-time.After(delay):
		}
		p.mu.Lock()
		p.restarts++
		p.mu.Unlock()
	}
}

// backoff is the wait before restart number n (1 first): base doubled
// n-1 times, at most limit, less up to half of it at random (jitter), so
// that replicas that crashed together do not come back in step.
func backoff(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d/2 + rand.N(d/2+1)
}

// runOnce starts the child and waits for it to exit, handling readiness,
// the stable period, health checks and stop requests. stopped says the
// replica was stopped (and the loop must end).
func (p *proc) runOnce(stable time.Duration, onRunning func()) (exitErr error, stopped bool) {
	c, err := p.spawn()
	if err != nil {
		return err, false
	}
	readyBy := time.NewTimer(p.s.cfg.readyBy)
	defer readyBy.Stop()
	var stableC <-chan time.Time
	var healthStop func()
	defer func() {
		if healthStop != nil {
			healthStop()
		}
		p.mu.Lock()
		if p.secretW != nil {
			p.secretW.Close()
			p.secretW = nil
		}
		p.mu.Unlock()
	}()
	ready := c.ready
	for {
		select {
		case <-ready:
			ready = nil
			readyBy.Stop()
			p.mu.Lock()
			p.ready = true
			p.mu.Unlock()
			p.readyOnce.Do(func() { close(p.firstReady) })
			st := time.NewTimer(stable)
			defer st.Stop()
			stableC = st.C
			healthStop = p.watchHealth()
		case <-stableC:
			stableC = nil
			p.setState(StateRunning, "")
			onRunning()
		case <-readyBy.C:
			p.s.logger.Error("not ready in time, killing it", "process", p.name, "after", p.s.cfg.readyBy)
			killGroup(c.cmd)
		case why := <-p.kick:
			p.s.logger.Warn("killing it", "process", p.name, "why", why)
			killGroup(c.cmd)
		case <-c.exited:
			return c.err, false
		case <-p.stop:
			p.terminate(c)
			p.setState(StateExited, "stopped")
			return nil, true
		}
	}
}

// terminate stops a child: SIGTERM to its group, SIGKILL after the stop
// timeout.
func (p *proc) terminate(c *child) {
	p.setState(StateStopping, "")
	termGroup(c.cmd)
	t := time.NewTimer(p.spec.Main().Restart.StopTimeout)
	defer t.Stop()
	select {
	case <-c.exited:
	case <-t.C:
		p.s.logger.Warn("did not stop in time, killing it", "process", p.name)
		killGroup(c.cmd)
		<-c.exited
	}
}

// stopAndWait stops the replica for good and waits for its loop to end
// (SIGKILL when ctx ends first).
func (p *proc) stopAndWait(ctx context.Context) {
	p.stopOnce.Do(func() { close(p.stop) })
	done := p.doneCh()
	select {
	case <-done:
	case <-ctx.Done():
		p.mu.Lock()
		cmd := p.cmd
		p.mu.Unlock()
		if cmd != nil {
			killGroup(cmd)
		}
		<-done
	}
}

// wasReady reports whether the replica has been ready once.
func (p *proc) wasReady() bool {
	select {
	case <-p.firstReady:
		return true
	default:
		return false
	}
}

// doneCh and fatalCh return the channels of the current loop (a restart
// by hand makes new ones).
func (p *proc) doneCh() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

func (p *proc) fatalCh() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fatal
}

// restart kills the running child (the loop starts it again at once,
// as after a crash but without backoff), or, when the loop has ended
// (FATAL, EXITED), runs a new loop with a fresh start limit.
func (p *proc) restart(ctx context.Context) error {
	select {
	case <-p.doneCh():
	default:
		p.mu.Lock()
		st := p.state
		p.mu.Unlock()
		switch st {
		case StateStarting, StateRunning, StateBackoff:
			// Kill the child, or end the backoff's wait.
			select {
			case p.kick <- "restart requested":
			default:
			}
			return nil
		case StateFatal, StateExited:
			// The loop is ending: wait for it.
			select {
			case <-p.doneCh():
			case <-ctx.Done():
				return ctx.Err()
			}
		default:
			return &service.Error{Kind: service.KindConflict, Message: fmt.Sprintf("%s is %s; restart it once it is up", p.name, st)}
		}
	}
	select {
	case <-p.stop:
		return &service.Error{Kind: service.KindConflict, Message: p.name + " is being stopped"}
	default:
	}
	if err := p.reopenListeners(); err != nil {
		return err
	}
	p.mu.Lock()
	p.restarts++
	p.mu.Unlock()
	p.mu.Lock()
	p.done = make(chan struct{})
	p.fatalOnce = sync.Once{}
	p.fatal = make(chan struct{})
	p.mu.Unlock()
	p.s.wg.Go(p.loop)
	return nil
}

// closeListeners closes the replica's sockets while it stays down, so
// that callers are refused (and go elsewhere) instead of waiting.
func (p *proc) closeListeners() {
	for _, l := range p.sockets {
		l.close()
	}
}

// reopenListeners listens again at the same addresses.
func (p *proc) reopenListeners() error {
	for i, l := range p.sockets {
		if err := l.reopen(); err != nil {
			return &service.Error{Kind: service.KindUnavailable, Message: fmt.Sprintf("%s: listening again at %s: %v", p.name, l.url, err)}
		}
		p.sockets[i] = l
	}
	return nil
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func describeExit(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit status 0"
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + unix.SignalName(ws.Signal())
		}
		return ee.Error()
	}
	return err.Error()
}
