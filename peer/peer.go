package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// Defaults of a Peer.
const (
	defaultQueue        = 1024
	defaultBackoffMin   = 100 * time.Millisecond
	defaultBackoffMax   = 30 * time.Second
	defaultResolveEvery = 30 * time.Second
	// maxStartAttempts bounds how often one call moves on to another
	// connection because the one picked went down before the call could
	// be sent on it.
	maxStartAttempts = 8
)

// Peer is client and server at once, over any number of connections. It
// binds to addresses (Bind, WebSocketHandler) and accepts connections
// there, connects to addresses (Connect) or to what a resolver names
// (ConnectResolver) and keeps those connections up, and serves the calls
// that arrive on every connection with one Handler (WithHandler).
//
// Each call, notification or stream it makes goes to the next of its
// connected remotes in turn (round robin over every live connection,
// dialed or accepted) and stays on that connection. Four things might
// happen to a call:
//   - A connection is up: the call goes out on it at once.
//   - None is: the call waits in a bounded queue (WithQueue) and goes out,
//     in the order the calls came, on the first connection that comes up;
//     it fails with ctx's error ([service.KindCanceled], [service.KindDeadlineExceeded]) if ctx ends
//     first, and at once with [service.KindOverloaded] when the queue is full.
//   - Its connection breaks before the reply: the call fails with a
//     retryable [service.KindUnavailable] error (see Retryable). A Peer never sends a
//     call again by itself, because the remote may have run it.
//   - The peer shuts down: waiting calls fail with [service.KindUnavailable].
//
// A connection that Connect or a resolver made is redialled when it
// drops, after an exponential backoff with jitter (WithBackoff). A Peer
// is safe for concurrent use.
type Peer struct {
	cfg        Config // for every connection; Handler in the interceptors
	cfgErr     error  // cfg cannot work: every operation fails with it
	dialOpts   DialOptions
	queueMax   int
	backoffMin time.Duration
	backoffMax time.Duration
	log        *slog.Logger

	// Set by the options, then folded into the fields above.
	handler      Handler
	handlerSet   bool
	interceptors []Interceptor

	call   CallFunc
	notify NotifyFunc
	stream StreamFunc

	// ctx ends when Shutdown or Close begins: it stops dialing, resolving
	// and accepting. closeCtx ends with Close: it cuts short the graceful
	// shutdowns of connections a resolver dropped.
	ctx         context.Context
	cancel      context.CancelFunc
	closeCtx    context.Context
	closeCancel context.CancelFunc
	wg          sync.WaitGroup // the peer's goroutines; Add only under mu while !closing

	mu          sync.Mutex // guards the fields below
	conns       []*Conn    // the live connections, dialed and accepted
	next        int        // the round robin position in conns
	queue       []*waiter  // calls waiting for a connection, oldest first
	dispatching bool       // a goroutine is sending the queue out
	dialers     map[string]*dialer
	listeners   []Listener
	closing     bool // Shutdown or Close began: no new calls or connections
}

// An Option configures a Peer.
type Option func(*Peer)

// WithConfig sets the configuration of every connection of the peer
// (codecs, limits, keepalive, ...). Its Handler serves incoming calls
// unless WithHandler names another.
func WithConfig(cfg *Config) Option {
	return func(p *Peer) {
		if cfg != nil {
			p.cfg = *cfg
		}
	}
}

// WithHandler makes h serve the calls that arrive on every connection of
// the peer, after the interceptors' handler wrappers.
func WithHandler(h Handler) Option {
	return func(p *Peer) { p.handler, p.handlerSet = h, true }
}

// WithQueue lets up to n calls wait for a connection when there is
// none; more fail at once with [service.KindOverloaded]. With n = 0 no call waits: a
// call made without a connection fails at once with [service.KindUnavailable]. The
// default is 1024.
func WithQueue(n int) Option {
	return func(p *Peer) { p.queueMax = max(n, 0) }
}

// WithBackoff sets how long the peer waits before it redials an address
// that failed or dropped: about min the first time, twice as long after
// each failure up to max, each wait picked at random between half and
// all of that. Defaults 100ms and 30s.
func WithBackoff(min, max time.Duration) Option {
	return func(p *Peer) {
		if min > 0 {
			p.backoffMin = min
		}
		if max > 0 {
			p.backoffMax = max
		}
	}
}

// WithInterceptors adds middleware to the calls the peer makes and
// serves; the first given is the outermost. See Interceptor.
func WithInterceptors(ics ...Interceptor) Option {
	return func(p *Peer) { p.interceptors = append(p.interceptors, ics...) }
}

// WithLogger makes the peer log what happens to its connections (dialed,
// lost, refused) to l, and its connections log there too unless the
// Config names a Logger. Without it, the peer logs to [Config.Logger],
// and without that to [slog.Default] (see the package doc).
func WithLogger(l *slog.Logger) Option {
	return func(p *Peer) { p.log = l }
}

// WithDialOptions sets how Connect and ConnectResolver dial (WebSocket
// HTTP client and headers, frame limit). A zero MaxFrameSize takes the
// Config's.
func WithDialOptions(opts *DialOptions) Option {
	return func(p *Peer) {
		if opts != nil {
			p.dialOpts = *opts
		}
	}
}

// New returns a peer configured by opts. It has no connection yet: see
// Bind, Connect and ConnectResolver.
func New(opts ...Option) *Peer {
	p := &Peer{
		queueMax:   defaultQueue,
		backoffMin: defaultBackoffMin,
		backoffMax: defaultBackoffMax,
		dialers:    map[string]*dialer{},
	}
	for _, o := range opts {
		o(p)
	}
	p.backoffMax = max(p.backoffMax, p.backoffMin)
	if p.handlerSet {
		p.cfg.Handler = p.handler
	}
	if p.log == nil {
		p.log = p.cfg.Logger
		if p.log == nil {
			p.log = defaultLogger()
		}
	}
	if p.cfg.Logger == nil {
		p.cfg.Logger = p.log
	}
	if len(p.interceptors) > 0 {
		h := p.cfg.Handler
		if h == nil {
			h = HandlerFunc(notFound)
		}
		p.cfg.Handler = wrapHandler(p.interceptors, h)
	}
	if _, err := p.cfg.withDefaults(); err != nil {
		p.cfgErr = err
	}
	if p.dialOpts.MaxFrameSize == 0 {
		p.dialOpts.MaxFrameSize = p.cfg.MaxFrameSize
	}
	p.call, p.notify, p.stream = wrapClient(p.interceptors, p.rawCall, p.rawNotify, p.rawStream)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.closeCtx, p.closeCancel = context.WithCancel(context.Background())
	return p
}

// notFound answers every call "method not found", as a Conn without a
// Handler does.
func notFound(ctx context.Context, s *ServerStream) (any, error) {
	return nil, errorf(service.KindNotFound, "method not found: %s", s.Method())
}

// errPeerClosed is why a peer that is shutting down refuses things.
func errPeerClosed(op string) error {
	return &service.Error{Op: op, Kind: service.KindUnavailable, Message: "peer shut down"}
}

// refusing returns why the peer takes nothing new, or nil.
func (p *Peer) refusing(op string) error {
	if p.cfgErr != nil {
		return p.cfgErr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return errPeerClosed(op)
	}
	return nil
}

// goLocked runs f on a goroutine that Close waits for, unless the peer
// is closing. p.mu is held.
func (p *Peer) goLocked(f func()) bool {
	if p.closing {
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
	return true
}

// ---- connections ----

// Bind listens on addr ("tcp://host:port", port 0 for any; or
// "unix:///path/to/socket") and accepts connections there until the peer
// shuts down. It returns the address to dial, with the port chosen.
// ctx bounds only the start of listening.
func (p *Peer) Bind(ctx context.Context, addr string) (string, error) {
	if err := p.refusing("bind"); err != nil {
		return "", err
	}
	l, err := Listen(ctx, addr, &ListenOptions{MaxFrameSize: p.cfg.MaxFrameSize})
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	ok := p.goLocked(func() { p.acceptLoop(l) })
	if ok {
		p.listeners = append(p.listeners, l)
	}
	p.mu.Unlock()
	if !ok {
		l.Close()
		return "", errPeerClosed("bind")
	}
	return l.Addr(), nil
}

func (p *Peer) acceptLoop(l Listener) {
	failures := 0
	for {
		fc, err := l.Accept(p.ctx)
		if err != nil {
			if p.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait and go on.
			p.log.Warn("peer: accept failed", "addr", l.Addr(), "err", err)
			if !sleep(p.ctx, p.backoff(failures)) {
				return
			}
			failures++
			continue
		}
		failures = 0
		p.mu.Lock()
		ok := p.goLocked(func() { p.AcceptConn(p.ctx, fc) })
		p.mu.Unlock()
		if !ok {
			fc.Close()
			return
		}
	}
}

// WebSocketHandler returns an http.Handler that accepts WebSocket
// connections for the peer (see NewWebSocketHandler): mount it on a path
// of a ServeMux. A zero opts.MaxFrameSize takes the Config's.
func (p *Peer) WebSocketHandler(opts *WebSocketOptions) http.Handler {
	var o WebSocketOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxFrameSize == 0 {
		o.MaxFrameSize = p.cfg.MaxFrameSize
	}
	return NewWebSocketHandler(func(fc FrameConn) { p.AcceptConn(p.ctx, fc) }, &o)
}

// AcceptConn runs the accepting side's handshake on fc, as for the
// connections of Bind, and adds the connection to the peer: a
// connection the caller already has, such as Stdio for a peer started as
// a child process. ctx bounds the handshake only. The connection is not
// redialled when it ends. On error fc is closed.
func (p *Peer) AcceptConn(ctx context.Context, fc FrameConn) (*Conn, error) {
	return p.join(ctx, fc, Server, "accept")
}

// ConnectConn runs the connecting side's handshake on fc and adds the
// connection to the peer, as AcceptConn does for the accepting side.
func (p *Peer) ConnectConn(ctx context.Context, fc FrameConn) (*Conn, error) {
	return p.join(ctx, fc, Client, "connect")
}

// join runs a handshake on fc and adds the connection.
func (p *Peer) join(ctx context.Context, fc FrameConn, handshake func(context.Context, FrameConn, *Config) (*Conn, error), op string) (*Conn, error) {
	if !p.enter() {
		fc.Close()
		if p.cfgErr != nil {
			return nil, p.cfgErr
		}
		return nil, errPeerClosed(op)
	}
	defer p.wg.Done()
	c, err := handshake(ctx, fc, &p.cfg)
	if err != nil {
		p.log.Info("peer: handshake failed", "op", op, "remote", fc.RemoteAddr(), "err", err)
		return nil, err
	}
	if !p.addConn(c, nil) {
		p.drop(c)
		return nil, errPeerClosed(op)
	}
	return c, nil
}

// enter counts an operation in progress that Shutdown and Close wait
// for, unless the peer is closing; the caller calls p.wg.Done.
func (p *Peer) enter() bool {
	if p.cfgErr != nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.wg.Add(1)
	return true
}

// drop shuts down a connection the peer came too late to take: the
// remote may have started calls on it already, which finish unless the
// peer is closed.
func (p *Peer) drop(c *Conn) {
	c.Shutdown(p.closeCtx)
}

// Connect keeps a connection to addr ("tcp://host:port",
// "unix:///path", "ws://host/path", "wss://host/path"): it returns at
// once and dials in the background, and redials whenever the connection
// fails or drops, until Disconnect or Shutdown. Connecting to an address
// already connected does nothing. Connect fails only for an address it
// cannot dial at all ([service.KindInvalid]) or a peer that is shutting down.
func (p *Peer) Connect(addr string) error {
	if err := checkAddr(addr); err != nil {
		return err
	}
	if p.cfgErr != nil {
		return p.cfgErr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return errPeerClosed("connect")
	}
	p.connectLocked(addr, connectOwner{})
	return nil
}

// Disconnect stops keeping the connection of Connect to addr and shuts it
// down gracefully (see Conn.Shutdown): the calls in flight on it finish,
// no new ones go there. If ctx ends first the connection is closed at
// once and ctx's error returned. An address that a resolver also names
// stays connected for it.
func (p *Peer) Disconnect(ctx context.Context, addr string) error {
	p.mu.Lock()
	d := p.disconnectLocked(addr, connectOwner{})
	var c *Conn
	if d != nil {
		c = d.conn
	}
	p.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.Shutdown(ctx)
}

// Conns returns the live connections, dialed and accepted, in the order
// they came up.
func (p *Peer) Conns() []*Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.conns)
}

// Waiting returns how many calls wait for a connection.
func (p *Peer) Waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// checkAddr reports an address that Dial can never dial.
func checkAddr(addr string) error {
	scheme, rest, ok := strings.Cut(addr, "://")
	switch {
	case !ok:
		return errorf(service.KindInvalid, "peer address %q has no scheme (ws://, wss://, tcp://, unix://)", addr)
	case scheme != "tcp" && scheme != "unix" && scheme != "ws" && scheme != "wss":
		return errorf(service.KindInvalid, "peer address %q: unknown scheme %q", addr, scheme)
	case rest == "":
		return errorf(service.KindInvalid, "peer address %q names no host or path", addr)
	}
	return nil
}

// addConn makes c one of the peer's connections, for dialer d (nil for
// an accepted one), and sends the queue out on it. It reports false,
// leaving c to the caller to close, when the peer or the dialer stopped.
func (p *Peer) addConn(c *Conn, d *dialer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d != nil && d.ctx.Err() != nil {
		return false
	}
	if !p.goLocked(func() {
		<-c.Done()
		p.removeConn(c, d)
	}) {
		return false
	}
	p.conns = append(p.conns, c)
	if d != nil {
		d.conn = c
	}
	p.log.Debug("peer: connection up", "local", c.LocalAddr(), "remote", c.RemoteAddr())
	p.dispatchLocked()
	return true
}

func (p *Peer) removeConn(c *Conn, d *dialer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.conns, c); i >= 0 {
		p.conns = slices.Delete(p.conns, i, i+1)
		if p.next > i {
			p.next--
		}
	}
	if d != nil && d.conn == c {
		d.conn = nil
	}
}

// usable reports whether c takes new calls: it is open, not shutting
// down, and its remote is not going away.
func usable(c *Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refusingLocked("") == nil
}

// pickLocked returns the next usable connection round robin, or nil.
// p.mu is held.
func (p *Peer) pickLocked() *Conn {
	n := len(p.conns)
	for i := range n {
		j := (p.next + i) % n
		if c := p.conns[j]; usable(c) {
			p.next = (j + 1) % n
			return c
		}
	}
	return nil
}

// ---- dialing ----

// A dialer keeps a connection to one address for its owners: Connect
// and the resolvers that name the address.
type dialer struct {
	addr   string
	owners map[any]struct{}
	ctx    context.Context // ends when the last owner lets go, or the peer stops
	cancel context.CancelFunc
	conn   *Conn // the connection up now, or nil; guarded by Peer.mu
}

// connectOwner owns the dialers of Connect.
type connectOwner struct{}

// connectLocked makes owner one of addr's dialer's owners, starting the
// dialer if needed. p.mu is held and the peer is not closing.
func (p *Peer) connectLocked(addr string, owner any) {
	d := p.dialers[addr]
	if d == nil {
		d = &dialer{addr: addr, owners: map[any]struct{}{}}
		d.ctx, d.cancel = context.WithCancel(p.ctx)
		if !p.goLocked(func() { p.dialLoop(d) }) {
			d.cancel()
			return
		}
		p.dialers[addr] = d
	}
	d.owners[owner] = struct{}{}
}

// disconnectLocked removes owner from addr's dialer's owners and returns
// the dialer, stopped, when that was its last owner; else nil. p.mu is
// held.
func (p *Peer) disconnectLocked(addr string, owner any) *dialer {
	d := p.dialers[addr]
	if d == nil {
		return nil
	}
	if _, ok := d.owners[owner]; !ok {
		return nil
	}
	delete(d.owners, owner)
	if len(d.owners) > 0 {
		return nil
	}
	delete(p.dialers, addr)
	d.cancel()
	return d
}

// dialLoop keeps d's connection up until d.ctx ends.
func (p *Peer) dialLoop(d *dialer) {
	failures := 0
	for d.ctx.Err() == nil {
		fc, err := Dial(d.ctx, d.addr, &p.dialOpts)
		var c *Conn
		if err == nil {
			c, err = Client(d.ctx, fc, &p.cfg)
		}
		if err != nil {
			if d.ctx.Err() != nil {
				return
			}
			wait := p.backoff(failures)
			level := slog.LevelDebug
			if failures == 0 {
				level = slog.LevelWarn
			}
			p.log.Log(d.ctx, level, "peer: cannot connect", "addr", d.addr, "err", err, "retry_in", wait)
			failures++
			if !sleep(d.ctx, wait) {
				return
			}
			continue
		}
		if !p.addConn(c, d) {
			p.drop(c)
			return
		}
		p.log.Info("peer: connected", "addr", d.addr)
		failures = 0
		select {
		case <-c.Done():
		case <-d.ctx.Done():
			// Whoever stopped the dialer shuts the connection down.
			return
		}
		if d.ctx.Err() != nil {
			return
		}
		p.log.Warn("peer: connection lost", "addr", d.addr, "err", c.Err())
		if !sleep(d.ctx, p.backoff(failures)) {
			return
		}
		failures++
	}
}

// backoff returns the wait before the next attempt after failures
// failed ones: backoffMin doubled per failure up to backoffMax, with
// "equal jitter" (between half and all of it).
func (p *Peer) backoff(failures int) time.Duration {
	d := p.backoffMin << min(failures, 32)
	if d > p.backoffMax || d <= 0 {
		d = p.backoffMax
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d and reports true, or false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ---- resolvers ----

// ConnectResolver connects the peer "auto": to the addresses r returns,
// as Connect does for each, and keeps the connections matching them as
// they change. It resolves at once, then every interval (≤ 0 means 30s)
// and whenever a Watcher says the addresses changed, until the peer
// shuts down. Addresses that appear are dialed; the connections of
// addresses that disappear are shut down gracefully (their calls in
// flight finish). When Resolve fails the peer keeps the connections it
// has and logs the error. Resolve is given a context that ends when the
// peer shuts down, and must honour it.
func (p *Peer) ConnectResolver(r Resolver, interval time.Duration) error {
	if p.cfgErr != nil {
		return p.cfgErr
	}
	if r == nil {
		return errorf(service.KindInvalid, "peer: ConnectResolver without a resolver")
	}
	if interval <= 0 {
		interval = defaultResolveEvery
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	owner := &resolverOwner{}
	if !p.goLocked(func() { p.resolveLoop(r, interval, owner) }) {
		return errPeerClosed("connect")
	}
	return nil
}

// resolverOwner owns the dialers of one ConnectResolver. It is not
// zero-sized, so that each has an address of its own.
type resolverOwner struct{ _ byte }

func (p *Peer) resolveLoop(r Resolver, interval time.Duration, owner *resolverOwner) {
	ctx := p.ctx
	var changes <-chan struct{}
	if w, ok := r.(Watcher); ok {
		changes = w.Watch(ctx)
	}
	current := map[string]bool{}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case _, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
		}
		addrs, err := r.Resolve(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			p.log.Warn("peer: resolve failed; keeping the connections", "err", err)
		default:
			p.applyResolved(owner, current, addrs)
		}
		t.Reset(interval)
	}
}

// applyResolved connects to the addresses in addrs that current lacks,
// lets go of those in current that addrs lacks, and updates current.
func (p *Peer) applyResolved(owner *resolverOwner, current map[string]bool, addrs []string) {
	want := map[string]bool{}
	for _, a := range addrs {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if err := checkAddr(a); err != nil {
			p.log.Warn("peer: resolver gave an address that cannot be dialed", "addr", a, "err", err)
			continue
		}
		want[a] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return
	}
	for a := range want {
		if !current[a] {
			p.log.Info("peer: resolver added an address", "addr", a)
			p.connectLocked(a, owner)
			current[a] = true
		}
	}
	for a := range current {
		if want[a] {
			continue
		}
		delete(current, a)
		p.log.Info("peer: resolver removed an address", "addr", a)
		if d := p.disconnectLocked(a, owner); d != nil && d.conn != nil {
			c := d.conn
			p.goLocked(func() { c.Shutdown(p.closeCtx) })
		}
	}
}

// ---- calls ----

// A waiter is a call waiting in the queue for a connection.
type waiter struct {
	ctx    context.Context
	method string
	start  func(*Conn) error // sends the call out on a connection
	done   chan error        // start's result; capacity 1
	// queued is whether the waiter is in Peer.queue; guarded by Peer.mu.
	queued bool
}

// acquire runs start, which sends a call out, on the next usable
// connection, or when there is none on the first that comes up, after
// the calls that wait already. start must send nothing when it fails; a
// retryable failure on a connection that went down meanwhile moves the
// call on to another connection.
func (p *Peer) acquire(ctx context.Context, method string, start func(*Conn) error) error {
	if p.cfgErr != nil {
		return p.cfgErr
	}
	if ctx.Err() != nil {
		return ctxError(method, ctx)
	}
	for attempt := 0; ; attempt++ {
		p.mu.Lock()
		if p.closing {
			p.mu.Unlock()
			return errPeerClosed(method)
		}
		if len(p.queue) == 0 && !p.dispatching {
			if c := p.pickLocked(); c != nil {
				p.mu.Unlock()
				err := start(c)
				if err != nil && Retryable(err) && !usable(c) && attempt < maxStartAttempts {
					continue
				}
				return err
			}
		}
		switch {
		case p.queueMax == 0:
			p.mu.Unlock()
			return &service.Error{Op: method, Kind: service.KindUnavailable, Message: "no connection"}
		case len(p.queue) >= p.queueMax:
			p.mu.Unlock()
			return &service.Error{Op: method, Kind: service.KindOverloaded, Message: fmt.Sprintf("no connection, and %d calls wait for one already", p.queueMax)}
		}
		w := &waiter{ctx: ctx, method: method, start: start, done: make(chan error, 1), queued: true}
		p.queue = append(p.queue, w)
		p.mu.Unlock()
		select {
		case err := <-w.done:
			return err
		case <-ctx.Done():
		}
		p.mu.Lock()
		if w.queued {
			p.queue = slices.DeleteFunc(p.queue, func(x *waiter) bool { return x == w })
			w.queued = false
			p.mu.Unlock()
			return ctxError(method, ctx)
		}
		p.mu.Unlock()
		// Being sent out right now: start sees ctx ended, or has sent.
		return <-w.done
	}
}

// dispatchLocked starts sending the queue out if it waits and a
// connection can take it. p.mu is held.
func (p *Peer) dispatchLocked() {
	if len(p.queue) == 0 || p.dispatching {
		return
	}
	if p.goLocked(p.dispatch) {
		p.dispatching = true
	}
}

// dispatch sends the waiting calls out one after the other, oldest
// first, round robin over the usable connections, until the queue is
// empty or no connection is usable.
func (p *Peer) dispatch() {
	for {
		p.mu.Lock()
		var c *Conn
		if !p.closing && len(p.queue) > 0 {
			c = p.pickLocked()
		}
		if c == nil {
			p.dispatching = false
			p.mu.Unlock()
			return
		}
		w := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		w.queued = false
		p.mu.Unlock()

		err := w.start(c)
		if err != nil && Retryable(err) && !usable(c) && w.ctx.Err() == nil {
			// Nothing went out: back to the head of the queue, for the
			// next connection.
			p.mu.Lock()
			if !p.closing {
				p.queue = slices.Insert(p.queue, 0, w)
				w.queued = true
				p.mu.Unlock()
				continue
			}
			p.mu.Unlock()
		}
		w.done <- err
	}
}

// Call calls method with args on the next connected remote and returns
// its result, as Conn.Call does; see Peer for what happens without a
// connection. Call runs the interceptors' WrapCall.
func (p *Peer) Call(ctx context.Context, method string, args any, opts ...CallOption) (any, error) {
	return p.call(ctx, method, args, opts...)
}

// Notify sends a notification to the next connected remote, as
// Conn.Notify does; see Peer for what happens without a connection.
// Notify runs the interceptors' WrapNotify.
func (p *Peer) Notify(ctx context.Context, method string, args any, opts ...CallOption) error {
	return p.notify(ctx, method, args, opts...)
}

// NewStream starts a streaming call on the next connected remote, as
// Conn.NewStream does; the stream stays on that connection. See Peer for
// what happens without a connection. NewStream runs the interceptors'
// WrapStream.
func (p *Peer) NewStream(ctx context.Context, method string, opts ...CallOption) (*ClientStream, error) {
	return p.stream(ctx, method, opts...)
}

func (p *Peer) rawCall(ctx context.Context, method string, args any, opts ...CallOption) (any, error) {
	var s *ClientStream
	err := p.acquire(ctx, method, func(c *Conn) error {
		var err error
		s, err = startCall(ctx, c, method, args, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return finishCall(s)
}

func (p *Peer) rawNotify(ctx context.Context, method string, args any, opts ...CallOption) error {
	return p.acquire(ctx, method, func(c *Conn) error {
		return c.Notify(ctx, method, args, opts...)
	})
}

func (p *Peer) rawStream(ctx context.Context, method string, opts ...CallOption) (*ClientStream, error) {
	var s *ClientStream
	err := p.acquire(ctx, method, func(c *Conn) error {
		var err error
		s, err = c.NewStream(ctx, method, opts...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ---- shutting down ----

// stopLocked makes the peer take nothing new and returns what to stop:
// listeners, dialers, waiting calls and connections. p.mu is held.
func (p *Peer) stopLocked() ([]Listener, []*waiter, []*Conn) {
	p.closing = true
	p.cancel()
	ls := p.listeners
	p.listeners = nil
	for _, d := range p.dialers {
		d.cancel()
	}
	clear(p.dialers)
	ws := p.queue
	p.queue = nil
	for _, w := range ws {
		w.queued = false
	}
	return ls, ws, slices.Clone(p.conns)
}

func stopOthers(ls []Listener, ws []*waiter) {
	for _, l := range ls {
		l.Close()
	}
	for _, w := range ws {
		w.done <- errPeerClosed(w.method)
	}
}

// Shutdown shuts the peer down gracefully: it stops listening, dialing
// and resolving, fails the calls waiting for a connection with
// [service.KindUnavailable], shuts every connection down gracefully (Conn.Shutdown:
// the calls in flight both ways finish, new ones are refused) and
// returns once all is stopped. If ctx ends first it closes everything at
// once (Close) and returns ctx's error.
func (p *Peer) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	ls, ws, conns := p.stopLocked()
	p.mu.Unlock()
	stopOthers(ls, ws)
	var wg sync.WaitGroup
	errs := make([]error, len(conns))
	for i, c := range conns {
		wg.Go(func() { errs[i] = c.Shutdown(ctx) })
	}
	wg.Wait()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		p.Close()
		return ctx.Err()
	}
	p.Close()
	return errors.Join(errs...)
}

// Close closes the peer now: listeners, dialers and every connection.
// Calls in flight fail with a retryable [service.KindUnavailable] error, the handlers
// serving the remotes' calls see their context canceled. Close returns
// once the peer's goroutines have ended.
func (p *Peer) Close() error {
	p.mu.Lock()
	ls, ws, conns := p.stopLocked()
	p.mu.Unlock()
	p.closeCancel()
	stopOthers(ls, ws)
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
	return nil
}
