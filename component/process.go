package component

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/component/secret"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// The environment a supervisor gives a process (never its arguments);
// the doc of [Start] says what each holds.
const (
	ServeEnv    = "GLYPH_SERVE"     // the components to serve: "Search,Storage"
	SecretFDEnv = "GLYPH_SECRET_FD" // the read end of the secret pipe
	ReadyFDEnv  = "GLYPH_READY_FD"  // the write end of the readiness pipe
	ControlEnv  = "GLYPH_CONTROL"   // the supervisor's control socket
	PublicEnv   = "GLYPH_PUBLIC"    // the components the front exposes: "Search"
	NATSEnv     = "GLYPH_NATS_URL"  // the deployment's NATS server, when it has one
	// RoutesEnv (GLYPH_ROUTES) holds the routing table; LISTEN_FDS,
	// LISTEN_PID and LISTEN_FDNAMES the listening sockets, as systemd
	// passes them.
)

// Part is one component a binary can hold. The binary lists every part
// it has; which of them a process serves is the deployment's choice,
// made through the environment at start ([Start]). Parts are installed in
// the order the binary lists them, so a part that binds another when it
// is installed (which it then calls in process when both are served
// together) comes after it.
type Part struct {
	// Name is the component's name, that of its interface ("Search"), or
	// "front".
	Name string
	// Install registers the component's implementation on svc, the
	// process's service; r routes the calls it makes to other components,
	// in this process or not.
	Install func(ctx context.Context, svc *service.Service, r *Router) error
	// HTTP, for a part that serves its own HTTP handler rather than
	// methods on the process's service (the unified front), returns that
	// handler; its listener then serves it. p is the process being
	// started: its Router, and the components to expose ([Process.Public]).
	// A part sets Install or HTTP.
	HTTP func(ctx context.Context, p *Process) (http.Handler, error)
	// Public says the part's listener is the deployment's entry from
	// outside (the front): callers there do not hold the secret, so it
	// takes calls without a proof. Every other listener refuses them.
	Public bool
}

// StartOption configures [Start].
type StartOption func(*startConfig)

type startConfig struct {
	logger   *slog.Logger
	listen   map[string]string
	noSecret bool
	environ  func(string) (string, bool)
}

// WithLogger sets where the process logs (default slog.Default).
func WithLogger(l *slog.Logger) StartOption { return func(c *startConfig) { c.logger = l } }

// WithListen makes a process that runs without a supervisor serve part
// name at addr ("127.0.0.1:8080"), over HTTP: the front of a
// one-process deployment, say. Under a supervisor, listeners come from
// it and this is ignored.
func WithListen(name, addr string) StartOption {
	return func(c *startConfig) { c.listen[name] = addr }
}

// WithoutSecret lets the process serve without a deployment secret on
// listeners that are Unix sockets or loopback addresses (never others).
// Without it, a supervised process that got no secret refuses to start.
func WithoutSecret() StartOption { return func(c *startConfig) { c.noSecret = true } }

// Process is a running process of a deployment: the components it
// serves, on which listeners, and the router its components call with.
type Process struct {
	// Service holds the components the process serves.
	Service *service.Service
	// Router routes the calls of its components (and of the program).
	Router *Router
	// Keyring holds the deployment's secret; nil without a supervisor.
	Keyring *secret.Keyring

	serving      []string
	public       map[string]bool   // parts that are public entries (Part.Public)
	publicIfaces []string          // components the front exposes
	remote       Routes            // the routing table as the environment gave it
	local        string            // the inproc name of Service
	addrs        map[string]string // part → the URL it is served at
	supervised   bool
	logger       *slog.Logger
	unregister   func()

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	gone    chan struct{} // closed when the supervisor's pipe ends
	closers []func(context.Context) error

	mu  sync.Mutex // guards err
	err error      // why gone closed
}

// localService is the inproc name a process serves its components under.
const localService = "glyph-process"

// Start starts the process side of a deployment: it serves the parts the
// environment assigns to this process and returns when they are ready.
//
// Under a supervisor (GLYPH_SERVE is set) it reads its environment:
// GLYPH_SERVE names the parts to serve (each must be among parts);
// GLYPH_ROUTES the routing table, in which the parts served here are
// routed in process; LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES the
// listening sockets, one per part, named after it, each served with the
// protocol of its URL in the routing table (the peer protocol for unix://
// and tcp://; for http://, hyperglyph at /, JSON-RPC at /jsonrpc,
// XML-RPC at /RPC2 and peers over WebSocket at /peer); a part routed to
// a nats:// URL and given no socket is served on that NATS server.
// GLYPH_SECRET_FD is a pipe it reads the deployment's secret from, for
// its whole life: every listener refuses a call without a proof of it,
// every call the router sends carries one, and the end of the pipe (the
// supervisor gone) ends the process ([Process.Done]). Last it writes
// "READY" to the pipe GLYPH_READY_FD names.
//
// Without a supervisor it serves every part in process: calls between
// them are plain Go calls, and only the parts given an address with
// [WithListen] listen.
func Start(ctx context.Context, parts []Part, opts ...StartOption) (*Process, error) {
	cfg := startConfig{logger: slog.Default(), listen: map[string]string{}, environ: os.LookupEnv}
	for _, o := range opts {
		o(&cfg)
	}
	p := &Process{Service: service.New(service.WithLogger(cfg.logger)), addrs: map[string]string{}, public: map[string]bool{},
		logger: cfg.logger, gone: make(chan struct{})}
	byName := map[string]Part{}
	for _, pt := range parts {
		if pt.Name == "" || (pt.Install == nil) == (pt.HTTP == nil) {
			return nil, fmt.Errorf("component: part %q: set a name and one of Install or HTTP", pt.Name)
		}
		if _, dup := byName[pt.Name]; dup {
			return nil, fmt.Errorf("component: part %s listed twice", pt.Name)
		}
		byName[pt.Name] = pt
	}
	for _, pt := range parts {
		if pt.Public {
			p.public[pt.Name] = true
		}
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	serve, supervised := cfg.environ(ServeEnv)
	p.supervised = supervised
	if supervised {
		for n := range strings.SplitSeq(serve, ",") {
			if n = strings.TrimSpace(n); n == "" {
				continue
			}
			if _, known := byName[n]; !known {
				return nil, fmt.Errorf("component: $%s names %s, which this binary does not hold (it holds %s)", ServeEnv, n, strings.Join(slices.Sorted(maps.Keys(byName)), ", "))
			}
			p.serving = append(p.serving, n)
		}
	} else {
		for _, pt := range parts {
			p.serving = append(p.serving, pt.Name)
		}
	}
	if v, set := cfg.environ(PublicEnv); set {
		for n := range strings.SplitSeq(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				p.publicIfaces = append(p.publicIfaces, n)
			}
		}
	} else if !supervised {
		for _, pt := range parts {
			if !pt.Public {
				p.publicIfaces = append(p.publicIfaces, pt.Name)
			}
		}
	}
	if err := p.readSecret(cfg); err != nil {
		return nil, err
	}
	if err := p.buildRouter(cfg); err != nil {
		return nil, err
	}
	listeners, err := p.listeners(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if !ok {
			for _, l := range listeners {
				l.Close()
			}
		}
	}()
	p.unregister = ServeInProcess(p.local, p.Service)
	handlers := map[string]http.Handler{}
	// In the order the binary lists its parts: a part that calls another
	// in process when it is installed comes after it.
	for _, pt := range parts {
		n := pt.Name
		if !slices.Contains(p.serving, n) {
			continue
		}
		if pt.Install != nil {
			if err := pt.Install(ctx, p.Service, p.Router); err != nil {
				return nil, fmt.Errorf("component: installing %s: %w", n, err)
			}
			continue
		}
		h, err := pt.HTTP(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("component: starting %s: %w", n, err)
		}
		handlers[n] = h
	}
	for _, n := range p.serving {
		if l := listeners[n]; l != nil {
			if err := p.serveListener(n, l, handlers[n]); err != nil {
				return nil, err
			}
		} else if err := p.serveNATS(n); err != nil {
			return nil, err
		}
	}
	if err := p.ready(cfg); err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

// readSecret reads the first line of the secret pipe and follows the
// rest.
func (p *Process) readSecret(cfg startConfig) error {
	v, set := cfg.environ(SecretFDEnv)
	if !set {
		return nil
	}
	f, err := inheritedFile(v, "secret")
	if err != nil {
		return err
	}
	os.Unsetenv(SecretFDEnv)
	k, rd, err := secret.ReadFirst(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("component: reading the deployment secret: %w", err)
	}
	p.Keyring = k
	p.wg.Go(func() {
		defer f.Close()
		err := secret.Follow(rd, k)
		if err == io.EOF {
			err = ErrSupervisorGone
		} else {
			err = fmt.Errorf("component: the secret pipe: %w", err)
		}
		p.end(err)
	})
	return nil
}

// ErrSupervisorGone is why a supervised process's [Process.Done] closes
// when its supervisor closed the secret pipe (or died).
var ErrSupervisorGone = errors.New("component: the supervisor is gone")

func (p *Process) end(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gone:
	default:
		p.err = err
		close(p.gone)
	}
}

// Done is closed when the process should exit: its supervisor is gone
// ([Process.Err] says why).
func (p *Process) Done() <-chan struct{} { return p.gone }

// Err returns why [Process.Done] closed, or nil.
func (p *Process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func inheritedFile(v, what string) (*os.File, error) {
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("component: the %s descriptor %q is not a number from 3", what, v)
	}
	f := os.NewFile(uintptr(fd), what)
	if f == nil {
		return nil, fmt.Errorf("component: no %s descriptor %d", what, fd)
	}
	return f, nil
}

// buildRouter makes the router from $GLYPH_ROUTES, with the served parts
// routed in process.
func (p *Process) buildRouter(cfg startConfig) error {
	rs := Routes{}
	if v, set := cfg.environ(RoutesEnv); set {
		var err error
		if rs, err = ParseRoutes([]byte(v)); err != nil {
			return fmt.Errorf("%w (from $%s)", err, RoutesEnv)
		}
	}
	p.remote = maps.Clone(rs)
	opts := []RouterOption{}
	if p.Keyring != nil {
		opts = append(opts, WithCallHeaderFunc(secret.Header, p.Keyring.Proof))
	}
	p.local = fmt.Sprintf("%s-%d-%p", localService, os.Getpid(), p)
	for _, n := range p.serving {
		rt := rs[n]
		rt.Providers = []string{"inproc:" + p.local}
		rs[n] = rt
	}
	r, err := NewRouter(append(opts, WithRoutes(rs))...)
	if err != nil {
		return err
	}
	p.Router = r
	return nil
}

// listeners returns the listening sockets, by the part they serve.
func (p *Process) listeners(cfg startConfig) (map[string]net.Listener, error) {
	out := map[string]net.Listener{}
	fail := func(err error) (map[string]net.Listener, error) {
		for _, l := range out {
			l.Close()
		}
		return nil, err
	}
	if !p.supervised {
		for _, n := range slices.Sorted(maps.Keys(cfg.listen)) {
			if !slices.Contains(p.serving, n) {
				return fail(fmt.Errorf("component: WithListen names %s, which is no part", n))
			}
			l, err := net.Listen("tcp", cfg.listen[n])
			if err != nil {
				return fail(fmt.Errorf("component: %s: %w", n, err))
			}
			out[n] = l
		}
	} else if v, set := cfg.environ("LISTEN_FDS"); set {
		// systemd names the process the sockets are for; a supervisor
		// using os/exec cannot know the pid before the fork, and passes
		// none.
		if pid, set := cfg.environ("LISTEN_PID"); set && pid != strconv.Itoa(os.Getpid()) {
			return fail(fmt.Errorf("component: LISTEN_PID is %q, not this process (%d)", pid, os.Getpid()))
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1024 {
			return fail(fmt.Errorf("component: LISTEN_FDS is %q, not a count of descriptors", v))
		}
		namesVar, _ := cfg.environ("LISTEN_FDNAMES")
		names := strings.Split(namesVar, ":")
		if len(names) != n {
			return fail(fmt.Errorf("component: LISTEN_FDNAMES names %d descriptors, LISTEN_FDS says %d", len(names), n))
		}
		for _, k := range []string{"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"} {
			os.Unsetenv(k)
		}
		for i, name := range names {
			f := os.NewFile(uintptr(3+i), name)
			if f == nil {
				return fail(fmt.Errorf("component: no descriptor %d for %s", 3+i, name))
			}
			l, err := net.FileListener(f)
			f.Close()
			if err != nil {
				return fail(fmt.Errorf("component: descriptor %d (%s): %w", 3+i, name, err))
			}
			if !slices.Contains(p.serving, name) || out[name] != nil {
				l.Close()
				return fail(fmt.Errorf("component: a listening socket for %s, which this process does not serve (it serves %s)", name, strings.Join(p.serving, ", ")))
			}
			out[name] = l
		}
	}
	for n, l := range out {
		if p.Keyring == nil && !p.public[n] && (!cfg.noSecret || secret.RequireFor(l.Addr())) {
			if cfg.noSecret {
				return fail(fmt.Errorf("component: %s listens on %s, which is not loopback: it needs the deployment secret", n, l.Addr()))
			}
			return fail(fmt.Errorf("component: %s listens on %s without a deployment secret ($%s)", n, l.Addr(), SecretFDEnv))
		}
	}
	return out, nil
}

// schemeFor returns the scheme of the route's provider URL that names
// the listener's address: the protocol to serve on it.
func (p *Process) schemeFor(name string, l net.Listener) string {
	if !p.supervised {
		return "http"
	}
	addr := l.Addr().String()
	for _, pu := range p.remote[name].Providers {
		u, err := url.Parse(pu)
		if err != nil {
			continue
		}
		if u.Host == addr || u.Path == addr && u.Scheme == "unix" {
			return strings.ToLower(u.Scheme)
		}
	}
	if l.Addr().Network() == "unix" {
		return "unix"
	}
	return "tcp"
}

// serveListener serves part name on l: its own handler, or the process's
// service with the protocol its route names.
func (p *Process) serveListener(name string, l net.Listener, h http.Handler) error {
	scheme := p.schemeFor(name, l)
	guarded := p.Keyring != nil && !p.public[name]
	switch {
	case h == nil && (scheme == "unix" || scheme == "tcp"):
		var ph peer.Handler = hyperpeer.NewHandler(p.Service)
		if guarded {
			ph = secret.PeerHandler(p.Keyring, ph, p.logger)
		}
		pl := peer.NewListener(l)
		p.addrs[name] = pl.Addr()
		p.wg.Go(func() { peer.Serve(p.ctx, pl, peer.WithHandler(ph), peer.WithLogger(p.logger)) })
		return nil
	case h == nil:
		h = p.serviceMux(guarded)
	case guarded:
		h = secret.Handler(p.Keyring, h, p.logger)
	}
	srv := hyperhttp.NewServer("", h)
	srv.ErrorLog = slog.NewLogLogger(p.logger.Handler(), slog.LevelWarn)
	p.addrs[name] = "http://" + l.Addr().String() + "/"
	p.closers = append(p.closers, srv.Shutdown)
	p.wg.Go(func() { srv.Serve(l) })
	return nil
}

// serviceMux serves the process's service over HTTP: hyperglyph at /,
// JSON-RPC at /jsonrpc, XML-RPC at /RPC2 and peers at /peer.
func (p *Process) serviceMux(guarded bool) http.Handler {
	var ph peer.Handler = hyperpeer.NewHandler(p.Service)
	guard := func(h http.Handler) http.Handler { return h }
	if guarded {
		// Peers over WebSocket prove the secret with each call, in its
		// call header: the upgrade request carries none.
		ph = secret.PeerHandler(p.Keyring, ph, p.logger)
		guard = func(h http.Handler) http.Handler { return secret.Handler(p.Keyring, h, p.logger) }
	}
	mux := http.NewServeMux()
	mux.Handle("/", guard(hyperhttp.NewHandler(p.Service)))
	mux.Handle("/jsonrpc", guard(jsonrpc.NewHandler(p.Service)))
	mux.Handle("/RPC2", guard(xmlrpc.NewHandler(p.Service)))
	mux.Handle("/peer", peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		c, err := peer.Server(p.ctx, fc, peer.WithHandler(ph), peer.WithLogger(p.logger))
		if err == nil {
			<-c.Done()
		}
	}))
	return mux
}

// serveNATS serves part name on the NATS server its route names, if it
// does; a part with neither a listener nor a NATS route is served only
// in process.
func (p *Process) serveNATS(name string) error {
	var u *url.URL
	for _, pu := range p.remote[name].Providers {
		if v, err := url.Parse(pu); err == nil && v.Scheme == "nats" {
			u = v
		}
	}
	if u == nil || !p.supervised {
		return nil
	}
	if p.Keyring == nil {
		return fmt.Errorf("component: %s is served on NATS at %s without a deployment secret ($%s)", name, u.Host, SecretFDEnv)
	}
	server := url.URL{Scheme: "nats", Host: u.Host, User: u.User}
	nc, err := nats.Connect(server.String(), nats.Name("glyph "+name))
	if err != nil {
		return fmt.Errorf("component: %s: nats: %w", name, err)
	}
	opts := []hypernats.Option{hypernats.WithServiceName("glyph-" + name), hypernats.WithLogger(p.logger),
		hypernats.WithAuthorize(secret.CheckHeader(p.Keyring, p.logger, "nats"))}
	if prefix := strings.Trim(u.Path, "/"); prefix != "" {
		opts = append(opts, hypernats.WithPrefix(strings.ReplaceAll(prefix, "/", ".")))
	}
	srv, err := hypernats.NewServer(p.ctx, nc, p.Service, opts...)
	if err != nil {
		nc.Close()
		return fmt.Errorf("component: %s: %w", name, err)
	}
	p.addrs[name] = u.String()
	p.closers = append(p.closers, func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		nc.Close()
		return err
	})
	return nil
}

// ready tells the supervisor the process serves.
func (p *Process) ready(cfg startConfig) error {
	v, set := cfg.environ(ReadyFDEnv)
	if !set {
		return nil
	}
	f, err := inheritedFile(v, "ready")
	if err != nil {
		return err
	}
	os.Unsetenv(ReadyFDEnv)
	defer f.Close()
	if _, err := io.WriteString(f, "READY\n"); err != nil {
		return fmt.Errorf("component: reporting ready: %w", err)
	}
	return nil
}

// Public returns the components whose public methods the deployment
// exposes through its front ($GLYPH_PUBLIC: those the deployment file
// marks public); without a supervisor, every part that is no public
// entry itself.
func (p *Process) Public() []string { return slices.Clone(p.publicIfaces) }

// Serving returns the names of the parts the process serves.
func (p *Process) Serving() []string { return slices.Clone(p.serving) }

// Addr returns the URL part name is served at by this process ("" when
// it has no listener).
func (p *Process) Addr(name string) string { return p.addrs[name] }

// Close stops serving: listeners close; calls in flight over HTTP and
// NATS get 5 seconds to finish, while peer connections close at once
// (their callers see a retryable error and fail over); then the router
// closes.
func (p *Process) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, c := range slices.Backward(p.closers) {
		if err := c(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	p.cancel()
	if p.unregister != nil {
		p.unregister()
	}
	if p.Router != nil {
		p.Router.Close()
	}
	p.end(nil)
	return errors.Join(errs...)
}

// Run starts the process ([Start]), serves until ctx ends or the
// supervisor goes, then closes it. It returns nil when ctx ended,
// [ErrSupervisorGone] when the supervisor went.
func Run(ctx context.Context, parts []Part, opts ...StartOption) error {
	p, err := Start(ctx, parts, opts...)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-p.Done():
	}
	err = p.Err()
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	return err
}

// Main is the main function of a component binary: it runs parts ([Run])
// until SIGINT or SIGTERM, or until its supervisor goes, and exits: with
// status 0, or 1 after logging why it failed.
func Main(parts []Part, opts ...StartOption) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, parts, opts...)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
