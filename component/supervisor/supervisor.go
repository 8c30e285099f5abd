package supervisor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/deploy"
	"github.com/glyph-ipc/glyph/component/secret"
	"github.com/glyph-ipc/glyph/service"
)

// Option configures a [Supervisor].
type Option func(*config)

type config struct {
	out     io.Writer
	color   bool
	logger  *slog.Logger
	runDir  string
	baseDir string
	file    string
	readyBy time.Duration
}

// WithOutput sends the processes' lines to w, colored per process when
// color is set (a terminal); the default is os.Stdout, plain.
func WithOutput(w io.Writer, color bool) Option {
	return func(c *config) { c.out, c.color = w, color }
}

// WithLogger sets where the supervisor logs its own events (default: a
// text logger on the output, prefixed "glyph").
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRunDir sets the private directory (created with mode 0700) of
// the Unix sockets and the control socket; the default is [RunDir] of
// the deployment file.
func WithRunDir(dir string) Option { return func(c *config) { c.runDir = dir } }

// WithBaseDir sets the directory that binaries and working directories
// are relative to (default: the deployment file's directory).
func WithBaseDir(dir string) Option { return func(c *config) { c.baseDir = dir } }

// WithReadyTimeout bounds how long a process may take to report ready
// before it counts as failed to start (default 30s).
func WithReadyTimeout(d time.Duration) Option { return func(c *config) { c.readyBy = d } }

// RunDir returns the default run directory of the deployment file at
// path: under $XDG_RUNTIME_DIR (or the temporary directory), named by a
// hash of the file's absolute path, so that `glyph status` finds the
// control socket of the supervisor that runs it.
func RunDir(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	sum := sha256.Sum256([]byte(abs))
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "glyph-"+strconv.Itoa(os.Getuid()))
	}
	return filepath.Join(base, "glyph", hex.EncodeToString(sum[:6]))
}

// ControlSocket is the name of the control socket in the run directory.
const ControlSocket = "control.sock"

// Supervisor runs a deployment: it creates the listening sockets, starts
// every process in dependency order once those it uses are ready, keeps
// them running (restarts with backoff, start limits, health checks),
// multiplexes their output, rotates the secret, and stops them in order.
type Supervisor struct {
	cfg     config
	keyring *secret.Keyring
	logs    *logMux
	logger  *slog.Logger

	ctx    context.Context // ends on Shutdown: stops the process loops
	cancel context.CancelFunc
	wg     sync.WaitGroup // the process loops and the rotation

	mu    sync.Mutex // guards d and procs
	d     *deploy.Deployment
	procs []*proc // in start order
	ctl   *control
}

// New returns a supervisor of d, which must come from [deploy.Parse]
// or [deploy.Read]; file is the path it was read from (for relative
// paths and the run directory).
func New(d *deploy.Deployment, file string, opts ...Option) (*Supervisor, error) {
	cfg := config{out: os.Stdout, file: file, readyBy: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.baseDir == "" {
		cfg.baseDir = filepath.Dir(file)
	}
	// Absolute, so that "./bin/search" never becomes a name looked up
	// in PATH.
	var err error
	if cfg.baseDir, err = filepath.Abs(cfg.baseDir); err != nil {
		return nil, err
	}
	if cfg.runDir == "" {
		cfg.runDir = RunDir(file)
	}
	if err := os.MkdirAll(cfg.runDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(cfg.runDir, 0o700); err != nil {
		return nil, err
	}
	s := &Supervisor{cfg: cfg, keyring: secret.NewKeyring(secret.NewKey()), logs: newLogMux(cfg.out, cfg.color), d: d}
	s.logger = cfg.logger
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(&lineWriter{m: s.logs, name: "glyph"}, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
	}
	s.logs.add("glyph")
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// lineWriter writes the supervisor's own log lines into the mux.
type lineWriter struct {
	m    *logMux
	name string
}

func (w *lineWriter) Write(b []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimRight(string(b), "\n"), "\n") {
		w.m.write(LogLine{Process: w.name, Time: time.Now(), Stream: "stderr", Text: line})
	}
	return len(b), nil
}

// RunDir returns the supervisor's run directory.
func (s *Supervisor) RunDir() string { return s.cfg.runDir }

// Keyring returns the deployment's secret, to call its components from
// the supervisor's process (tests, the demo).
func (s *Supervisor) Keyring() *secret.Keyring { return s.keyring }

// Start creates the listeners and starts every process, each once those
// it uses are ready, and returns when all are ready: nil, or the first
// failure (a process FATAL before it was ready, ctx ended). The
// processes keep running after a failure; [Supervisor.Shutdown] stops
// them. The control socket serves from the start.
func (s *Supervisor) Start(ctx context.Context) error {
	ctl, err := s.serveControl()
	if err != nil {
		return err
	}
	s.ctl = ctl
	procs, err := s.plan(s.d, nil)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.procs = procs
	s.mu.Unlock()
	if s.d.Secret.Rotate > 0 {
		s.wg.Go(func() { s.rotateEvery(s.d.Secret.Rotate, s.d.Secret.Grace) })
	}
	return s.launch(ctx, procs)
}

// launch starts procs, each after what it uses is ready, and waits for
// all to be ready.
func (s *Supervisor) launch(ctx context.Context, procs []*proc) error {
	for _, p := range procs {
		s.wg.Go(func() {
			if s.waitDeps(p) {
				p.loop()
			} else {
				p.setState(StateExited, "not started: a process it uses never got ready")
				close(p.doneCh())
			}
		})
	}
	for _, p := range procs {
		select {
		case <-p.firstReady:
		case <-p.fatalCh():
		case <-p.doneCh():
		case <-ctx.Done():
			return fmt.Errorf("supervisor: waiting for %s to be ready: %w", p.name, ctx.Err())
		}
		if !p.wasReady() {
			st := p.status()
			return &notReadyError{fmt.Sprintf("supervisor: %s is %s before it was ready: %s", p.name, st.State, st.Message)}
		}
	}
	return nil
}

// notReadyError is Start's error when a process became FATAL before it
// was ready.
type notReadyError struct{ msg string }

func (e *notReadyError) Error() string { return e.msg }

// waitDeps waits until every process p uses is ready. It returns false
// when one of them stops trying first, or p is stopped.
func (s *Supervisor) waitDeps(p *proc) bool {
	for _, dep := range s.procsOf(p.spec.Uses) {
		p.setState(StateStarting, "waiting for "+dep.name+" to be ready")
		select {
		case <-dep.firstReady:
		case <-dep.fatalCh():
		case <-dep.doneCh():
		case <-p.stop:
			return false
		}
		if !dep.wasReady() {
			return false
		}
	}
	return true
}

// deployment returns the deployment being run.
func (s *Supervisor) deployment() *deploy.Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d
}

// procsOf returns the replicas of the named processes.
func (s *Supervisor) procsOf(names []string) []*proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*proc
	for _, p := range s.procs {
		if slices.Contains(names, p.spec.Name) {
			out = append(out, p)
		}
	}
	return out
}

// Run starts the deployment ([Supervisor.Start]) and supervises it until
// ctx ends, then shuts it down ([Supervisor.Shutdown]). A process that
// never gets ready (FATAL) does not stop the others: it is logged, and
// the supervisor keeps running what it can, for `glyph restart` or a
// reload to fix. Only a failure to start supervising (the run directory,
// the control socket, a listening socket) is returned.
func (s *Supervisor) Run(ctx context.Context) error {
	err := s.Start(ctx)
	var fatal *notReadyError
	switch {
	case err == nil:
		s.logger.Info("all ready", "processes", len(s.Status()))
		err = nil
	case errors.As(err, &fatal):
		s.logger.Error("not all ready: running what can run", "err", err)
		err = nil
	}
	if err == nil {
		<-ctx.Done()
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.stopBudget())
	defer cancel()
	if serr := s.Shutdown(sctx); err == nil {
		err = serr
	}
	return err
}

// stopBudget is how long an ordered shutdown may take at most.
func (s *Supervisor) stopBudget() time.Duration {
	s.mu.Lock()
	ps := s.d.Processes()
	s.mu.Unlock()
	var d time.Duration
	for _, p := range ps {
		d += p.Main().Restart.StopTimeout + time.Second
	}
	return d
}

// Shutdown stops every process in order, dependants first: SIGTERM to its
// process group, then SIGKILL after its stop timeout (or when ctx ends).
// Then it closes the listeners and the control socket, and the secret
// pipes, which ends any child that is left.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	procs := slices.Clone(s.procs)
	order := s.d.Processes()
	s.mu.Unlock()
	for _, dp := range slices.Backward(order) {
		var wg sync.WaitGroup
		for _, p := range procs {
			if p.spec.Name == dp.Name {
				wg.Go(func() { p.stopAndWait(ctx) })
			}
		}
		wg.Wait()
	}
	for _, p := range procs { // those of another deployment (a reload under way)
		p.stopAndWait(ctx)
		p.closeListeners()
	}
	s.cancel()
	s.wg.Wait()
	if s.ctl != nil {
		s.ctl.close()
	}
	return nil
}

// Status returns every process's status, in start order.
func (s *Supervisor) Status() []Status {
	s.mu.Lock()
	procs := slices.Clone(s.procs)
	s.mu.Unlock()
	out := make([]Status, len(procs))
	for i, p := range procs {
		out[i] = p.status()
	}
	return out
}

// Restart restarts the process named name: every replica of a process
// ("Storage"), or one ("Storage/1"), or the process serving a component.
// A FATAL or EXITED process starts again with a fresh start limit.
func (s *Supervisor) Restart(ctx context.Context, name string) error {
	var match []*proc
	s.mu.Lock()
	for _, p := range s.procs {
		if p.name == name || p.spec.Name == name || slices.ContainsFunc(p.spec.Components, func(c *deploy.Component) bool { return c.Name == name }) {
			match = append(match, p)
		}
	}
	s.mu.Unlock()
	if len(match) == 0 {
		return &service.Error{Kind: service.KindNotFound, Message: fmt.Sprintf("no process or component %q", name)}
	}
	for _, p := range match {
		if err := p.restart(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Logs returns the kept lines of a process (a replica, a process, the
// process that serves a component, or all for ""), and a channel of
// those that come after until stop is called.
func (s *Supervisor) Logs(name string) (past []LogLine, next <-chan LogLine, stop func()) {
	s.mu.Lock()
	for _, dp := range s.d.Processes() {
		if dp.Name != name && slices.ContainsFunc(dp.Components, func(c *deploy.Component) bool { return c.Name == name }) {
			name = dp.Name
		}
	}
	s.mu.Unlock()
	return s.logs.follow(name)
}

// Rotate hands out a new secret: every process gets it at once (on its
// secret pipe) and accepts the previous one for grace, then refuses it.
func (s *Supervisor) Rotate(grace time.Duration) {
	s.keyring.Rotate(secret.NewKey(), grace)
	s.mu.Lock()
	procs := slices.Clone(s.procs)
	s.mu.Unlock()
	line := s.keyring.Line()
	for _, p := range procs {
		p.sendSecret(line)
	}
	s.logger.Info("rotated the secret", "grace", grace)
}

func (s *Supervisor) rotateEvery(every, grace time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.Rotate(grace)
		}
	}
}

// plan makes the processes of d, with their listeners (reusing those of
// keep whose component, replica, transport and address are the same)
// and their routing tables.
func (s *Supervisor) plan(d *deploy.Deployment, keep []*proc) ([]*proc, error) {
	old := map[string]*sockets{}
	for _, p := range keep {
		for _, l := range p.sockets {
			old[l.key] = l
		}
	}
	var procs []*proc
	urls := map[string][]string{} // component → its providers
	fail := func(err error) ([]*proc, error) {
		for _, p := range procs {
			for _, l := range p.sockets {
				if old[l.key] != l {
					l.close()
				}
			}
		}
		return nil, err
	}
	for _, dp := range d.Processes() {
		for i := range dp.Replicas {
			p := newProc(s, dp, i)
			for _, c := range dp.Components {
				if c.Transport == deploy.TransportNATS {
					continue
				}
				key := fmt.Sprintf("%s/%d %s %s", c.Name, i, c.Transport, c.Address)
				l := old[key]
				if l == nil {
					var err error
					if l, err = s.listen(c, i, key); err != nil {
						return fail(err)
					}
				}
				p.sockets = append(p.sockets, l)
				urls[c.Name] = append(urls[c.Name], l.url)
			}
			procs = append(procs, p)
		}
		for _, c := range dp.Components {
			if c.Transport == deploy.TransportNATS {
				urls[c.Name] = []string{strings.TrimSuffix(d.NATS, "/") + "/glyph/" + c.Name}
			}
		}
	}
	for _, p := range procs {
		for _, c := range p.spec.Components {
			if c.Transport == deploy.TransportNATS {
				p.nats = append(p.nats, urls[c.Name]...)
			}
		}
		rs := component.Routes{}
		for _, c := range d.Components {
			if !p.serves(c.Name) && !p.uses(c.Name) {
				continue
			}
			rs[c.Name] = component.Route{Providers: urls[c.Name], Balance: component.Balance(c.Route.Balance),
				Key: c.Route.Key, Fail: component.FailMode(c.Route.Fail), Retries: c.Route.Retries, Backoff: component.Duration(c.Route.Backoff)}
		}
		b, err := json.Marshal(rs)
		if err != nil {
			return fail(err)
		}
		p.routes = string(b)
	}
	return procs, nil
}

// sockets is a listening socket the supervisor made for a replica of a
// component, kept across its restarts so that its address stays.
type sockets struct {
	key  string // component/replica transport address
	comp string
	l    net.Listener
	file *os.File // a duplicate of l's descriptor, passed to children
	url  string   // the provider URL callers use
	unix string   // the socket's path, removed on close
}

func (l *sockets) close() {
	l.file.Close()
	l.l.Close()
	if l.unix != "" {
		os.Remove(l.unix)
	}
}

// reopen listens again at the socket's address, after close.
func (l *sockets) reopen() error {
	network, addr := "tcp", l.l.Addr().String()
	if l.unix != "" {
		network, addr = "unix", l.unix
		os.Remove(addr)
	}
	nl, err := net.Listen(network, addr)
	if err != nil {
		return err
	}
	if ul, ok := nl.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	f, err := nl.(interface{ File() (*os.File, error) }).File()
	if err != nil {
		nl.Close()
		return err
	}
	l.l, l.file = nl, f
	return nil
}

// listen creates the listening socket of a component's replica.
func (s *Supervisor) listen(c *deploy.Component, replica int, key string) (*sockets, error) {
	l := &sockets{key: key, comp: c.Name}
	var err error
	switch c.Transport {
	case deploy.TransportUnix:
		path := c.Address
		if path == "" {
			path = filepath.Join(s.cfg.runDir, fmt.Sprintf("%s-%d.sock", c.Name, replica))
		} else if !filepath.IsAbs(path) {
			path = filepath.Join(s.cfg.baseDir, path)
		}
		os.Remove(path) // a socket left by a supervisor that died
		l.l, err = net.Listen("unix", path)
		if err == nil {
			l.l.(*net.UnixListener).SetUnlinkOnClose(false)
			l.unix, l.url = path, "unix://"+path
		}
	default:
		l.l, err = net.Listen("tcp", c.Address)
		if err == nil {
			scheme := "tcp://"
			if c.Transport == deploy.TransportHTTP {
				scheme = "http://"
			}
			l.url = scheme + l.l.Addr().String()
			if c.Transport == deploy.TransportHTTP {
				l.url += "/"
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("supervisor: %s: %w", c.Name, err)
	}
	type filer interface{ File() (*os.File, error) }
	if l.file, err = l.l.(filer).File(); err != nil {
		l.l.Close()
		return nil, fmt.Errorf("supervisor: %s: %w", c.Name, err)
	}
	return l, nil
}

// Reload applies a changed deployment: processes whose settings, routes
// or listeners changed are stopped and started again as d says, new
// ones are started, those d drops are stopped, and the others keep
// running untouched. It returns when the started ones are ready.
func (s *Supervisor) Reload(ctx context.Context, d *deploy.Deployment) error {
	s.mu.Lock()
	cur := slices.Clone(s.procs)
	s.mu.Unlock()
	next, err := s.plan(d, cur)
	if err != nil {
		return err
	}
	byName := map[string]*proc{}
	for _, p := range cur {
		byName[p.name] = p
	}
	var kept, started, stopped []*proc
	final := make([]*proc, 0, len(next))
	for _, n := range next {
		if o := byName[n.name]; o != nil && o.fingerprint() == n.fingerprint() {
			kept = append(kept, o)
			final = append(final, o)
			delete(byName, n.name)
			continue
		}
		started = append(started, n)
		final = append(final, n)
	}
	inUse := map[*sockets]bool{}
	for _, p := range final {
		for _, l := range p.sockets {
			inUse[l] = true
		}
	}
	for _, o := range cur {
		if byName[o.name] == o {
			stopped = append(stopped, o)
		}
	}
	for _, o := range slices.Backward(stopped) {
		o.stopAndWait(ctx)
		for _, l := range o.sockets {
			if !inUse[l] {
				l.close()
			}
		}
	}
	s.mu.Lock()
	s.d, s.procs = d, final
	s.mu.Unlock()
	s.logger.Info("reloaded", "kept", len(kept), "restarted or new", len(started), "stopped", len(stopped))
	return s.launch(ctx, started)
}

// ReloadFile reads the deployment file again and applies it
// ([Supervisor.Reload]).
func (s *Supervisor) ReloadFile(ctx context.Context) error {
	d, err := deploy.Read(s.cfg.file)
	if err != nil {
		return service.Errorf(service.KindInvalid, "%v", err)
	}
	return s.Reload(ctx, d)
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = errors.New("negative")
	}
	return d, err
}
