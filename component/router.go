package component

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// Router is the routing client: it maps interface names to providers
// through a routing table ([Routes]), and binds callers to them
// ([Router.Bind], [Dial]). Each call goes to a provider that is up,
// chosen by the route's balance; a provider whose connection fails is
// marked down and probed in the background until it answers again (and
// its interface is checked again) before it gets calls. The table may be
// replaced while calls run ([Router.SetRoutes]). A Router is safe for
// concurrent use; Close stops its probes and closes its providers.
type Router struct {
	probeMin, probeMax time.Duration
	given              map[string]Provider                   // WithProvider
	wrap               func(url string, p Provider) Provider // WithCallHeaderFunc, WithInterceptors

	ctx    context.Context // ends on Close: stops the probes
	cancel context.CancelFunc
	wg     sync.WaitGroup // the probes

	mu     sync.Mutex       // guards the fields below
	routes Routes           // the current table
	conns  map[string]*conn // by provider URL
	slots  map[string]*slot // by interface name
	closed bool
}

// RouterOption configures a [Router].
type RouterOption func(*Router)

// WithRoutes sets the router's first routing table.
func WithRoutes(rs Routes) RouterOption {
	return func(r *Router) { r.routes = rs }
}

// WithProvider makes the router use p for the provider URL rawURL
// instead of dialling it by its scheme: a client built with options (see
// [NewClientProvider]), or a transport whose provider needs more than a
// URL. The router closes p when it closes.
func WithProvider(rawURL string, p Provider) RouterOption {
	return func(r *Router) { r.given[rawURL] = p }
}

// WithProbeInterval sets how often a provider that is down is probed:
// first after min, then twice as long each time up to max (default 50ms
// to 2s).
func WithProbeInterval(min, max time.Duration) RouterOption {
	return func(r *Router) { r.probeMin, r.probeMax = min, max }
}

// NewRouter returns a router configured by opts. It fails when the table
// of WithRoutes does not pass [Routes.Check].
func NewRouter(opts ...RouterOption) (*Router, error) {
	r := &Router{probeMin: 50 * time.Millisecond, probeMax: 2 * time.Second,
		given: map[string]Provider{}, conns: map[string]*conn{}, slots: map[string]*slot{}}
	for _, o := range opts {
		o(r)
	}
	if r.probeMin <= 0 {
		r.probeMin = time.Millisecond
	}
	if r.probeMax < r.probeMin {
		r.probeMax = r.probeMin
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	rs := r.routes
	r.routes = nil
	if err := r.SetRoutes(rs); err != nil {
		r.cancel()
		return nil, err
	}
	return r, nil
}

// Routes returns a copy of the current routing table.
func (r *Router) Routes() Routes {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.routes)
}

// SetRoutes replaces the routing table. Calls already under way finish
// where they are; later ones use the new table. Providers that stay keep
// their connections and health; new ones are described, and checked
// against each binding, before their first call; providers no longer
// listed take no new calls, and are closed once the calls in flight on
// them end (after 30 seconds at most). Bindings to an interface that the new table drops
// fail their calls with a [service.KindNotFound] error until a table
// routes it again.
func (r *Router) SetRoutes(rs Routes) error {
	if err := rs.Check(); err != nil {
		return err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return &service.Error{Op: "component.Router", Kind: service.KindUnavailable, Message: "the router is closed"}
	}
	old := r.conns
	conns := map[string]*conn{}
	for name, rt := range rs {
		cs := make([]*conn, len(rt.Providers))
		for i, u := range rt.Providers {
			c := conns[u]
			if c == nil {
				c = old[u]
			}
			if c == nil {
				c = &conn{r: r, url: u, p: r.given[u]}
				if c.p != nil && r.wrap != nil {
					c.p = r.wrap(u, c.p)
				}
			}
			conns[u] = c
			c.addIface(name)
			cs[i] = c
		}
		r.slotLocked(name).cur.Store(newRoute(rt, cs))
	}
	for name, s := range r.slots {
		if _, ok := rs[name]; !ok {
			s.cur.Store(nil)
		}
	}
	var gone []*conn
	for u, c := range old {
		if conns[u] == nil {
			gone = append(gone, c)
		}
	}
	r.conns, r.routes = conns, maps.Clone(rs)
	r.wg.Add(len(gone))
	r.mu.Unlock()
	for _, c := range gone {
		go func() {
			defer r.wg.Done()
			c.closeWhenIdle(r.ctx)
		}()
	}
	return nil
}

// slotLocked returns the slot of an interface, made on first use.
func (r *Router) slotLocked(name string) *slot {
	s := r.slots[name]
	if s == nil {
		s = &slot{name: name}
		r.slots[name] = s
	}
	return s
}

func (r *Router) slot(name string) *slot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.slotLocked(name)
}

// Close stops the probes and closes every provider. Calls made after it
// fail with [service.KindUnavailable].
func (r *Router) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	conns := r.conns
	r.conns = map[string]*conn{}
	for _, s := range r.slots {
		s.cur.Store(nil)
	}
	r.mu.Unlock()
	r.cancel()
	var errs []error
	for _, c := range conns {
		errs = append(errs, c.close())
	}
	r.wg.Wait()
	return errors.Join(errs...)
}

// slot holds the current route of one interface.
type slot struct {
	name string
	cur  atomic.Pointer[route]
}

// route is one interface's entry of the table, with its providers.
type route struct {
	cfg    Route
	conns  []*conn
	hashes []uint64 // each provider's hash, for BalanceKey
	rr     atomic.Uint64
	budget retryBudget
}

func newRoute(cfg Route, conns []*conn) *route {
	if cfg.Balance == "" {
		cfg.Balance = BalanceRoundRobin
	}
	if cfg.Fail == "" {
		cfg.Fail = FailOver
	}
	if cfg.Retries == 0 {
		cfg.Retries = 2
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = Duration(10 * time.Millisecond)
	}
	rt := &route{cfg: cfg, conns: conns, hashes: make([]uint64, len(conns))}
	for i, c := range conns {
		rt.hashes[i] = hashString(c.url)
	}
	rt.budget.init()
	return rt
}

// conn is one provider URL: its provider, its health and what it
// serves. Routes that list the same URL share it.
type conn struct {
	r   *Router
	url string

	down    atomic.Bool  // failed to connect; probed until it answers
	gen     atomic.Int64 // counts the times it came (back) up: checks older than it are stale
	pending atomic.Int64 // calls in flight
	descs   atomic.Pointer[map[string]*Interface]

	mu      sync.Mutex // guards p, ifaces, closed
	p       Provider   // nil until dialled
	ifaces  map[string]bool
	closed  bool
	dialErr error // a permanent failure to make the provider (a bad URL, an unknown scheme)
}

func (c *conn) addIface(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ifaces == nil {
		c.ifaces = map[string]bool{}
	}
	c.ifaces[name] = true
}

// provider returns the provider, made on first use.
func (c *conn) provider(ctx context.Context) (Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, Unreachable(&service.Error{Kind: service.KindUnavailable, Message: "provider " + c.url + " was removed from the routes"}, true)
	case c.p != nil:
		return c.p, nil
	case c.dialErr != nil:
		return nil, c.dialErr
	}
	p, err := DialProvider(ctx, c.url)
	if err != nil {
		c.dialErr = err
		return nil, err
	}
	if c.r.wrap != nil {
		p = c.r.wrap(c.url, p)
	}
	c.p = p
	return p, nil
}

// drainTimeout bounds how long a provider dropped from the routes waits
// for its calls in flight before it is closed.
const drainTimeout = 30 * time.Second

// closeWhenIdle closes a provider dropped from the routes once no call is
// in flight on it, or after drainTimeout, or when the router closes.
func (c *conn) closeWhenIdle(ctx context.Context) {
	c.mu.Lock()
	c.closed = true // no new calls: provider() refuses them
	c.mu.Unlock()
	deadline := time.Now().Add(drainTimeout)
	for c.pending.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	c.close()
}

func (c *conn) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.p == nil {
		return nil
	}
	return c.p.Close()
}

// desc returns what the provider last said of iface (nil for a provider
// that cannot describe it), and whether it said anything yet.
func (c *conn) desc(iface string) (*Interface, bool) {
	if m := c.descs.Load(); m != nil {
		in, ok := (*m)[iface]
		return in, ok
	}
	return nil, false
}

// describe asks the provider for iface and keeps the answer. A failure to
// reach it marks it down.
func (c *conn) describe(ctx context.Context, iface string) (*Interface, error) {
	p, err := c.provider(ctx)
	if err != nil {
		return nil, err
	}
	in, err := p.Describe(ctx, iface)
	if err != nil {
		if u, _ := IsUnreachable(err); u {
			c.markDown()
		}
		return nil, err
	}
	c.setDesc(iface, in)
	return in, nil
}

func (c *conn) setDesc(iface string, in *Interface) {
	for {
		old := c.descs.Load()
		m := map[string]*Interface{}
		if old != nil {
			maps.Copy(m, *old)
		}
		m[iface] = in
		if c.descs.CompareAndSwap(old, &m) {
			return
		}
	}
}

// markDown marks the provider down and starts probing it, unless it is
// down already.
func (c *conn) markDown() {
	if !c.down.CompareAndSwap(false, true) {
		return
	}
	r := c.r
	r.mu.Lock()
	closed := r.closed
	if !closed {
		r.wg.Add(1)
	}
	r.mu.Unlock()
	if closed {
		return
	}
	go c.probe()
}

// probe describes every interface the provider serves, waiting longer
// after each failure, until they all answer: then the provider is up
// again, and every binding checks it anew before calling it.
func (c *conn) probe() {
	r := c.r
	defer r.wg.Done()
	wait := r.probeMin
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-time.After(wait):
		}
		c.mu.Lock()
		closed := c.closed
		ifaces := make([]string, 0, len(c.ifaces))
		for n := range c.ifaces {
			ifaces = append(ifaces, n)
		}
		c.mu.Unlock()
		if closed {
			return
		}
		if c.probeOnce(ifaces) {
			c.gen.Add(1)
			c.down.Store(false)
			return
		}
		wait = min(2*wait, r.probeMax)
	}
}

// probeOnce describes each interface; it reports whether the provider
// answered for them all (an answer that is an error, such as "no such
// interface", is an answer: the binding's check reports it).
func (c *conn) probeOnce(ifaces []string) bool {
	p, err := c.provider(c.r.ctx)
	if err != nil {
		return false
	}
	for _, n := range ifaces {
		ctx, cancel := context.WithTimeout(c.r.ctx, max(c.r.probeMax, time.Second))
		in, err := p.Describe(ctx, n)
		cancel()
		if err != nil {
			if u, _ := IsUnreachable(err); u || service.KindOf(err) == service.KindCanceled || service.KindOf(err) == service.KindDeadlineExceeded {
				return false
			}
			continue
		}
		c.setDesc(n, in)
	}
	return true
}

// String names the provider in errors.
func (c *conn) String() string { return fmt.Sprintf("provider %s", c.url) }
