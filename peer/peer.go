package peer

import (
	"context"
	"github.com/glyph-ipc/glyph/intercept"
	"log/slog"
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
// that arrive on every connection with one [Handler] ([WithHandler]).
//
// Each call, notification or stream it makes goes to the next of its
// connected remotes in turn (round robin over every live connection,
// dialed or accepted) and stays on that connection. Four things might
// happen to a call:
//   - A connection is up: the call goes out on it at once.
//   - None is: the call waits in a bounded queue ([WithQueue]) and goes out,
//     in the order the calls came, on the first connection that comes up;
//     it fails with ctx's error ([service.KindCanceled], [service.KindDeadlineExceeded]) if ctx ends
//     first, and at once with [service.KindOverloaded] when the queue is full.
//   - Its connection breaks before the reply: the call fails with a
//     retryable [service.KindUnavailable] error (see Retryable). A Peer never sends a
//     call again by itself, because the remote may have run it.
//   - The peer shuts down: waiting calls fail with [service.KindUnavailable].
//
// A connection that Connect or a resolver made is redialled when it
// drops, after an exponential backoff with jitter ([WithBackoff]). A Peer
// is safe for concurrent use.
type Peer struct {
	cfg        connConfig // for every connection; Handler in the interceptors
	cfgErr     error      // cfg cannot work: every operation fails with it
	dialOpts   []DialOption
	queueMax   int
	backoffMin time.Duration
	backoffMax time.Duration
	log        *slog.Logger

	interceptors []intercept.Interceptor // folded into cfg.Handler and chain
	chain        *clientChain            // nil without interceptors

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
	closing     bool  // Shutdown or Close began: no new calls or connections
	owners      owner // the last owner handed to a ConnectResolver
}

// New returns a peer configured by opts: the Options of every connection
// and the PeerOptions of the peer itself. It has no connection yet: see
// Bind, Connect and ConnectResolver.
func New(opts ...PeerOption) *Peer {
	p := &Peer{
		queueMax:   defaultQueue,
		backoffMin: defaultBackoffMin,
		backoffMax: defaultBackoffMax,
		dialers:    map[string]*dialer{},
	}
	for _, o := range opts {
		if o != nil {
			o.applyPeer(p)
		}
	}
	p.backoffMax = max(p.backoffMax, p.backoffMin)
	if p.cfg.InboundBudget == nil {
		p.cfg.InboundBudget = NewBudget(DefaultServerInboundBytes)
	}
	if p.cfg.Logger == nil {
		p.cfg.Logger = defaultLogger()
	}
	p.log = p.cfg.Logger
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
	// The connections' frame limit, unless WithDialOptions sets another.
	p.dialOpts = append([]DialOption{WithMaxFrameSize(p.cfg.MaxFrameSize)}, p.dialOpts...)
	if len(p.interceptors) > 0 {
		p.buildClientChain(p.interceptors)
	}
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
