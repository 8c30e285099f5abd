package hypernats

import (
	"context"
	"errors"
	"fmt"
	"github.com/glyph-ipc/glyph/intercept"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// The headers of the protocol (spec.md).
const (
	headerContentType = "Content-Type"
	headerTimeout     = "Glyph-Timeout"       // request: the call's deadline, in milliseconds from now
	headerWindow      = "Glyph-Stream-Window" // request: stream the result, granting this many items
	headerStream      = "Glyph-Stream"        // stream message: "item" or "end"; flow message: "cancel"
	headerSeq         = "Glyph-Seq"           // stream message: its number, from 1
	headerFlow        = "Glyph-Flow"          // first stream message: where to send credit
	headerCredit      = "Glyph-Credit"        // flow message: more items the caller takes
)

// Defaults of the server's options.
const (
	DefaultPrefix            = "glyph"
	DefaultServiceName       = "glyph"
	DefaultVersion           = "0.0.0"
	DefaultMaxConcurrent     = 1024
	DefaultMaxWindow         = 256
	DefaultStreamIdleTimeout = 30 * time.Second
)

// An Option configures [NewServer].
type Option func(*config)

type config struct {
	prefix, queue, name, version, description string
	maxConcurrent, maxWindow                  int
	idle                                      time.Duration
	inline                                    bool
	limits                                    wire.Limits
	logger                                    *slog.Logger
	authorize                                 func(ctx context.Context, header map[string][]string, target string) error
}

// WithPrefix sets the subject prefix the methods are served under
// (default [DefaultPrefix]): method "hello" is on "<prefix>.hello".
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithQueueGroup sets the queue group of the method subscriptions
// (default micro's "q"), so that the replicas serving one prefix share
// the calls: each call reaches one of them.
func WithQueueGroup(q string) Option { return func(c *config) { c.queue = q } }

// WithServiceName sets the micro service's name (default
// [DefaultServiceName]), as `nats micro list` shows it: ASCII letters,
// digits, "-" and "_".
func WithServiceName(name string) Option { return func(c *config) { c.name = name } }

// WithVersion sets the micro service's semantic version (default
// [DefaultVersion]).
func WithVersion(v string) Option { return func(c *config) { c.version = v } }

// WithDescription sets the micro service's description.
func WithDescription(d string) Option { return func(c *config) { c.description = d } }

// WithMaxConcurrent bounds the calls served at once (default
// [DefaultMaxConcurrent]); further calls wait in the server's queue of
// 64 Ki calls, beyond which the connection drops them (nats.go reports
// a slow consumer). One worker per processor serves the queued calls;
// a call that runs longer than a few milliseconds, or waits, makes the
// server start more, up to this bound, so that the calls behind it do
// not wait for it.
func WithMaxConcurrent(n int) Option { return func(c *config) { c.maxConcurrent = n } }

// WithMaxWindow bounds the items of a streamed result sent ahead of the
// caller's credit (default [DefaultMaxWindow]), whatever window the caller
// asks for.
func WithMaxWindow(n int) Option { return func(c *config) { c.maxWindow = n } }

// WithStreamIdleTimeout sets how long a streamed result waits for credit
// from a caller that stopped taking items before it ends the stream
// (default [DefaultStreamIdleTimeout]).
func WithStreamIdleTimeout(d time.Duration) Option { return func(c *config) { c.idle = d } }

// WithLimits bounds the decoding of payloads, as [wire.Limits.Resolved]
// reads them (zero fields take [wire.DefaultLimits]); a payload is also
// bounded by the NATS server's max_payload.
func WithLimits(l wire.Limits) Option { return func(c *config) { c.limits = l } }

// WithInlineCalls serves each call in the goroutine of micro's
// subscription of its method, as NATS micro handlers run, instead of on
// the server's workers: calls to one method then run one at a time on
// this server, each waiting for those before it. It suits methods that
// return quickly and never wait for a call to the same method (which
// would wait for itself until its deadline); bench/README.md compares
// it with the workers. Calls that stream their results run on
// goroutines of their own.
func WithInlineCalls() Option { return func(c *config) { c.inline = true } }

// WithLogger sets where the server logs (default, and for nil,
// slog.Default as it is when a line is logged).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithAuthorize makes the server check every call's headers with
// authorize before anything else: a non-nil error (a *[service.Error]
// chooses its kind, such as [service.KindUnauthenticated]) is the reply,
// and the service is not called. target is the method's path
// ("Search/run_query"). Package component/secret's CheckHeader is one.
func WithAuthorize(authorize func(ctx context.Context, header map[string][]string, target string) error) Option {
	return func(c *config) { c.authorize = authorize }
}

// Server serves a [service.Service] on NATS subjects as a micro service.
// Make one with [NewServer]; stop it with [Server.Shutdown].
type Server struct {
	nc        *nats.Conn
	svc       *service.Service
	cfg       config
	micro     micro.Service
	eps       []*served
	subs      []*nats.Subscription // the methods' subscriptions besides micro's
	bySubject map[string]*served
	calls     chan *nats.Msg // calls for the workers
	sem       chan struct{}  // one token per worker
	epoch     time.Time      // when the server started: lastDone counts from it
	lastDone  atomic.Int64   // when a worker last finished a call
	flows     *flows
	ctx       context.Context // ends when the server shuts down
	values    context.Context // ctx without its cancelation, for deadlineCtx
	cancel    context.CancelFunc

	mu     sync.Mutex // guards closed and wg's Add
	closed bool
	wg     sync.WaitGroup // calls being served
}

// served is an endpoint as the server serves it.
type served struct {
	*rpcmap.Method
	subject string
	name    string // the micro endpoint's name
	stat    *endpointStats
}

// NewServer serves svc on nc: it lists the service's callables (its
// index and the resources it links to, see the package doc), registers
// a micro service with one endpoint per callable, on subject
// "<prefix>.<method>" in the queue group, and answers calls until
// [Server.Shutdown] or until nc closes. ctx bounds the listing.
func NewServer(ctx context.Context, nc *nats.Conn, svc *service.Service, opts ...Option) (*Server, error) {
	cfg := config{prefix: DefaultPrefix, queue: micro.DefaultQueueGroup, name: DefaultServiceName, version: DefaultVersion,
		maxConcurrent: DefaultMaxConcurrent, maxWindow: DefaultMaxWindow, idle: DefaultStreamIdleTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.limits = cfg.limits.Resolved()
	if cfg.prefix == "" || strings.ContainsAny(cfg.prefix, "*> \t\r\n") || strings.HasPrefix(cfg.prefix, ".") || strings.HasSuffix(cfg.prefix, ".") {
		return nil, fmt.Errorf("hypernats: bad subject prefix %q", cfg.prefix)
	}
	if cfg.maxConcurrent < 1 || cfg.maxWindow < 1 || cfg.idle <= 0 {
		return nil, errors.New("hypernats: WithMaxConcurrent, WithMaxWindow and WithStreamIdleTimeout need positive values")
	}
	eps, err := discover(ctx, svc)
	if err != nil {
		return nil, err
	}
	s := &Server{nc: nc, svc: svc, cfg: cfg, sem: make(chan struct{}, cfg.maxConcurrent), calls: make(chan *nats.Msg, maxQueued), epoch: time.Now()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.values = context.WithoutCancel(s.ctx)
	if s.flows, err = newFlows(nc, cfg.maxWindow); err != nil {
		return nil, err
	}
	ms, err := micro.AddService(nc, micro.Config{
		Name: cfg.name, Version: cfg.version, Description: cfg.description, QueueGroup: cfg.queue,
		Metadata: map[string]string{
			"glyph.prefix": cfg.prefix,
			"glyph.codecs": MediaTypeGlyph + " " + MediaTypeJSON,
		},
		StatsHandler: s.stats,
		ErrorHandler: func(_ micro.Service, e *micro.NATSError) {
			s.log().Warn("hypernats: subscription error", slog.String("subject", e.Subject), slog.String("error", e.Description))
		},
	})
	if err != nil {
		s.flows.close()
		return nil, fmt.Errorf("hypernats: %w", err)
	}
	s.micro = ms
	taken := map[string]bool{}
	for _, e := range eps {
		s.eps = append(s.eps, &served{Method: e, subject: cfg.prefix + "." + e.Name, name: endpointName(e.Name, taken), stat: &endpointStats{}})
	}
	for _, ep := range s.eps {
		err := ms.AddEndpoint(ep.name, micro.HandlerFunc(func(r micro.Request) { s.dispatch(ep, r) }),
			micro.WithEndpointSubject(ep.subject), micro.WithEndpointMetadata(metadata(ep.Method)))
		if err != nil {
			ms.Stop()
			s.flows.close()
			return nil, fmt.Errorf("hypernats: serving %s: %w", ep.subject, err)
		}
	}
	if err := s.subscribe(); err != nil {
		s.stop()
		return nil, err
	}
	// Once NewServer returns, the NATS server has the subscriptions.
	fctx, cancel := ctx, context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		fctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	}
	defer cancel()
	if err := nc.FlushWithContext(fctx); err != nil {
		s.stop()
		return nil, fmt.Errorf("hypernats: %w", err)
	}
	return s, nil
}

func (s *Server) log() *slog.Logger {
	if s.cfg.logger != nil {
		return s.cfg.logger
	}
	return slog.Default()
}

// Subjects returns the subjects the server serves, one per method, in
// the order of the methods' names.
func (s *Server) Subjects() []string {
	out := make([]string, len(s.eps))
	for i, e := range s.eps {
		out[i] = e.subject
	}
	return out
}

// Micro returns the micro service, for its Info and Stats.
func (s *Server) Micro() micro.Service { return s.micro }

// Shutdown stops taking calls (draining the subscriptions, so that calls
// already delivered are served) and waits for the calls being served to
// end, or for ctx to end: then their contexts are canceled, and Shutdown
// returns ctx's error once they have returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	var err error
	if !already {
		err = s.unsubscribe()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel()
		<-done
		if err == nil {
			err = ctx.Err()
		}
	}
	s.cancel()
	s.flows.close()
	return err
}

// subsPerMethod is how many subscriptions in the queue group a method
// has besides micro's: the NATS server spreads the calls over them, and
// those that reach these go to a worker straight from the connection's
// reader, with no goroutine between them. One serves best: three made
// calls at concurrency 64 about a tenth slower, seven slower still
// (bench/README.md has the figures).
const subsPerMethod = 1

// maxQueued bounds the calls waiting for a worker; the NATS connection
// drops further calls to this server (a slow consumer) when it is full.
const maxQueued = 64 << 10

// subscribe adds, unless calls run inline, the subscriptions of each
// method whose calls go to the workers directly.
func (s *Server) subscribe() error {
	if s.cfg.inline {
		return nil
	}
	s.bySubject = make(map[string]*served, len(s.eps))
	for _, ep := range s.eps {
		s.bySubject[ep.subject] = ep
	}
	for _, ep := range s.eps {
		for range subsPerMethod {
			sub, err := s.nc.ChanQueueSubscribe(ep.subject, s.cfg.queue, s.calls)
			if err != nil {
				return fmt.Errorf("hypernats: serving %s: %w", ep.subject, err)
			}
			s.subs = append(s.subs, sub)
		}
	}
	s.startWorkers()
	return nil
}

// unsubscribe stops taking calls: it drains micro's subscriptions and
// the others.
func (s *Server) unsubscribe() error {
	err := s.micro.Stop()
	for _, sub := range s.subs {
		if e := sub.Drain(); e != nil && err == nil && !errors.Is(e, nats.ErrConnectionClosed) {
			err = e
		}
	}
	return err
}

// stop undoes a NewServer that failed.
func (s *Server) stop() {
	s.unsubscribe()
	s.cancel()
	s.flows.close()
}

// dispatch runs in the goroutine of micro's subscription of the method:
// it serves the call there with WithInlineCalls (unless it streams), or
// else queues it for the workers as the other subscriptions do.
func (s *Server) dispatch(ep *served, r micro.Request) {
	if s.cfg.inline && r.Headers().Get(headerWindow) == "" {
		if s.begin() {
			s.serve(ep, r.Reply(), nats.Header(r.Headers()), r.Data())
			s.wg.Done()
		}
		return
	}
	m := &nats.Msg{Subject: ep.subject, Reply: r.Reply(), Header: nats.Header(r.Headers()), Data: r.Data()}
	if s.cfg.inline {
		// A stream: on a goroutine of its own, as with workers.
		if s.begin() {
			go func() { s.serve(ep, m.Reply, m.Header, m.Data); s.wg.Done() }()
		}
		return
	}
	select {
	case s.calls <- m:
	case <-s.ctx.Done():
	}
}

// begin counts a call about to be served, unless the server is shutting
// down: then it reports false, and the call goes unanswered.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// stallAfter is how long a call runs before its worker checks whether
// the queue has stalled, and then again as often while it runs.
const stallAfter = 10 * time.Millisecond

// startWorkers starts the first workers, one per processor, which run
// until the server shuts down: while calls are short, they take the
// queued calls one after the other, without a goroutine woken per call.
func (s *Server) startWorkers() {
	for range min(runtime.GOMAXPROCS(0), s.cfg.maxConcurrent) {
		s.sem <- struct{}{}
		go s.work()
	}
}

// stalled runs while a worker's call has run for stallAfter. Unless a
// worker finished a call meanwhile (then the queue moves, and the call
// holds up no other), it starts a worker for each queued call, while
// fewer than WithMaxConcurrent run, so that calls queued behind calls
// that wait (for another call to this server, say) do not wait for
// them. Calls that are slow only because the processors are busy thus
// start no workers, which would make things slower still.
func (s *Server) stalled() {
	if time.Since(s.epoch)-time.Duration(s.lastDone.Load()) < stallAfter {
		return
	}
	for range len(s.calls) {
		select {
		case s.sem <- struct{}{}:
			go s.workWhileQueued()
		default:
			return
		}
	}
}

// work serves queued calls until the server shuts down. Workers, unlike
// a goroutine per call, keep their grown stacks from call to call.
func (s *Server) work() { s.serveCalls(s.nextCall) }

// workWhileQueued serves queued calls until it finds none.
func (s *Server) workWhileQueued() { s.serveCalls(s.queuedCall) }

// serveCalls is a worker: it serves the calls next returns until nil.
func (s *Server) serveCalls(next func() *nats.Msg) {
	defer func() { <-s.sem }()
	stall := s.newStallTimer()
	for m := next(); m != nil; m = next() {
		s.serveQueued(m, stall)
	}
}

// nextCall waits for a queued call; nil once the server shuts down.
func (s *Server) nextCall() *nats.Msg {
	select {
	case m := <-s.calls:
		return m
	case <-s.ctx.Done():
		return nil
	}
}

// queuedCall returns a queued call, or nil when there is none.
func (s *Server) queuedCall() *nats.Msg {
	select {
	case m := <-s.calls:
		return m
	default:
		return nil
	}
}

// stallTimer calls stalled every stallAfter while its worker's call
// runs.
type stallTimer struct {
	t       atomic.Pointer[time.Timer]
	running atomic.Bool
}

func (s *Server) newStallTimer() *stallTimer {
	st := &stallTimer{}
	st.t.Store(time.AfterFunc(time.Hour, func() {
		if st.running.Load() {
			s.stalled()
			st.t.Load().Reset(stallAfter)
		}
	}))
	st.t.Load().Stop()
	return st
}

// serveQueued serves a queued call.
func (s *Server) serveQueued(m *nats.Msg, stall *stallTimer) {
	ep := s.bySubject[m.Subject]
	if ep == nil || !s.begin() {
		return
	}
	stall.running.Store(true)
	stall.t.Load().Reset(stallAfter)
	s.serve(ep, m.Reply, m.Header, m.Data)
	stall.running.Store(false)
	stall.t.Load().Stop()
	s.lastDone.Store(int64(time.Since(s.epoch)))
	s.wg.Done()
}

// natsPeer is the caller of every call as interceptors see it: a NATS
// client, whose address the broker does not pass on.
var natsPeer = intercept.Peer{Transport: intercept.TransportNATS}

// serve answers one call, whose reply goes to reply.
func (s *Server) serve(ep *served, reply string, hdr nats.Header, data []byte) {
	start := time.Now()
	ep.stat.started()
	// The call's bytes: the data of its messages, both ways.
	sizes := new(intercept.Sizes)
	sizes.AddIn(int64(len(data)))
	defer sizes.End()
	codec, err := codecOf(hdr.Get(headerContentType))
	if err == nil && s.cfg.authorize != nil {
		err = s.cfg.authorize(s.ctx, hdr, ep.Path)
	}
	window := 0
	var ctx context.Context = s.ctx
	var dl *deadlineCtx
	if err == nil {
		window, err = streamWindow(hdr.Get(headerWindow), s.cfg.maxWindow)
	}
	if err == nil {
		ctx, dl, err = s.callContext(hdr)
	}
	defer dl.cancel()
	var res *service.Result
	if err == nil {
		ctx = intercept.WithPeer(ctx, natsPeer)
		req := &service.Request{Method: ep.HTTPMethod, Root: "/", Path: ep.Path, Header: hdr, Sizes: sizes}
		req.Callback = noCallbacks
		if err = bindArgs(req, codec, data, ep.Method, s.cfg.limits); err == nil {
			res, err = s.svc.Serve(ctx, req)
		}
	}
	if err == nil {
		res, err = s.follow(ctx, res, hdr)
	}
	// The reply, sent once the call is counted: a body, or a message with
	// headers.
	var body []byte
	var buf *[]byte // body's buffer, from bufs
	var out *nats.Msg
	unary := window == 0
	switch {
	case err != nil:
	case !unary:
		err = s.sendStream(ctx, ep, reply, codec, window, res.Value, sizes)
	default:
		buf = bufs.Get().(*[]byte)
		body, err = s.encodeResult((*buf)[:0], ep.Name, codec, res.Value)
	}
	if err != nil {
		e := logFailure(ctx, s.log(), ep.subject, err)
		ep.stat.failed(e)
		out = errorMsg(reply, codec, e, nil)
	}
	ep.stat.served(time.Since(start))
	if reply == "" || (out == nil && !unary) {
		return
	}
	if out != nil {
		if err = s.nc.PublishMsg(out); err == nil {
			sizes.AddOut(int64(len(out.Data)))
		}
	} else {
		if err = s.nc.Publish(reply, body); err == nil {
			sizes.AddOut(int64(len(body)))
		}
		freeBuf(buf, body)
	}
	if err != nil {
		s.log().Warn("hypernats: cannot send the reply", slog.String("subject", ep.subject), slog.String("error", err.Error()))
	}
}

// bufs are buffers for encoding replies: nats.go copies a message's data
// while publishing it, so a reply's buffer serves again once it is sent.
var bufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBuf bounds the buffers kept in bufs.
const maxPooledBuf = 64 << 10

// freeBuf returns buf to bufs, keeping the memory of the body encoded in
// it.
func freeBuf(buf *[]byte, body []byte) {
	if cap(body) > maxPooledBuf {
		return
	}
	*buf = body[:0]
	bufs.Put(buf)
}

// noCallbacks resolves a callback argument: they do not travel over NATS.
func noCallbacks(any) (service.CallbackFunc, error) {
	return nil, &service.Error{Kind: service.KindUnsupported, Message: "callback arguments do not travel over nats"}
}

// encodeResult encodes a reply: a streamed result sent whole is its
// items as one list, encoded item by item so that the items never take
// more memory than a message may carry.
func (s *Server) encodeResult(dst []byte, op string, codec Codec, v any) ([]byte, error) {
	limit := s.nc.MaxPayload()
	st, ok := v.(service.Stream)
	if !ok {
		return appendValue(dst, op, codec, v, limit)
	}
	return encodeWhole(op, codec, st, limit)
}

// encodeWhole encodes a streamed result as one list of at most limit
// bytes (a function of its own: the loop over the stream costs
// allocations that encoding a value need not pay).
func encodeWhole(op string, codec Codec, st service.Stream, limit int64) ([]byte, error) {
	open, sep, end := "L", "", ";"
	if codec == CodecJSON {
		open, sep, end = "[", ",", "]"
	}
	b := []byte(open)
	n := 0
	for it, err := range st {
		if err != nil {
			return nil, err
		}
		if n > 0 {
			b = append(b, sep...)
		}
		item, err := encodeValue(op, codec, it, limit-int64(len(b)+len(end)))
		if err != nil {
			if service.KindOf(err) == service.KindTooLarge {
				err = &service.Error{Op: op, Kind: service.KindTooLarge, Message: fmt.Sprintf("the streamed result is over the %d bytes a message may carry: call it as a stream", limit)}
			}
			return nil, err
		}
		b = append(b, item...)
		n++
	}
	return append(b, end...), nil
}

// errorMsg is an error reply: the micro error headers, and the error in
// the body. extra headers (a stream's end) are added.
func errorMsg(reply string, codec Codec, e *service.Error, extra nats.Header) *nats.Msg {
	h := nats.Header{
		micro.ErrorHeader:     []string{e.Hyper().Message},
		micro.ErrorCodeHeader: []string{strconv.Itoa(e.Kind.HTTPStatus())},
	}
	for k, v := range extra {
		h[k] = v
	}
	return &nats.Msg{Subject: reply, Header: h, Data: encodeError(codec, e)}
}

// maxServiceRedirects bounds the See Other answers followed for one call.
const maxServiceRedirects = 10

// follow turns a Result into the value to send: See Other is followed
// with GET (one to another host becomes a link to it), Created is a link
// to the new resource, NoContent nil.
func (s *Server) follow(ctx context.Context, res *service.Result, hdr nats.Header) (*service.Result, error) {
	for range maxServiceRedirects {
		switch res.Status {
		case service.StatusNoContent:
			return &service.Result{}, nil
		case service.StatusCreated:
			return &service.Result{Value: hyper.Link{URL: res.Location}}, nil
		case service.StatusSeeOther:
			u, err := url.Parse(res.Location)
			if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
				return &service.Result{Value: hyper.Link{URL: res.Location}}, nil
			}
			next, err := s.svc.Serve(ctx, &service.Request{Method: "GET", Root: "/", Path: u.Path[1:], Query: u.RawQuery, Header: hdr, FollowUp: true})
			if err != nil {
				return nil, err
			}
			res = next
			continue
		}
		return res, nil
	}
	return nil, &service.Error{Kind: service.KindInternal, Message: fmt.Sprintf("more than %d redirects", maxServiceRedirects)}
}

// callHeader returns the headers of a call that its context carries
// ([peer.Header]): all but those of the protocol (Content-Type and the
// Glyph- and Nats- headers), each with its first value.
func callHeader(h nats.Header) map[string]string {
	var out map[string]string
	for k, v := range h {
		if len(v) == 0 || k == headerContentType || strings.HasPrefix(k, "Glyph-") || strings.HasPrefix(k, "Nats-") {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(h))
		}
		out[k] = v[0]
	}
	return out
}

// callContext returns the context of a call: the server's, with the
// call's headers ([peer.Header]) and the deadline of its Glyph-Timeout
// header, if it has one (dl, to cancel once the call is over).
func (s *Server) callContext(hdr nats.Header) (ctx context.Context, dl *deadlineCtx, err error) {
	h := hdr.Get(headerTimeout)
	if h == "" {
		return peer.WithHeader(s.ctx, callHeader(hdr)), nil, nil
	}
	ms, err := strconv.ParseInt(h, 10, 64)
	if err != nil || ms < 0 || ms > int64(24*time.Hour/time.Millisecond) {
		return s.ctx, nil, &service.Error{Kind: service.KindInvalid, Message: fmt.Sprintf("bad %s header %q: milliseconds, at most a day", headerTimeout, short(h))}
	}
	dl = withDeadline(peer.WithHeader(s.values, callHeader(hdr)), s.ctx, time.Now().Add(time.Duration(ms)*time.Millisecond))
	return dl, dl, nil
}

// streamWindow reads a Glyph-Stream-Window header: 0 without one, else
// the window, at most max.
func streamWindow(h string, max int) (int, error) {
	if h == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 1 {
		return 0, &service.Error{Kind: service.KindInvalid, Message: fmt.Sprintf("bad %s header %q: a positive number of items", headerWindow, short(h))}
	}
	return min(n, max), nil
}
