package remote

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/notify"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// Defaults of the options.
const (
	DefaultSessionTTL      = 12 * time.Hour
	DefaultChallengeTTL    = time.Minute
	DefaultMaxPublishBytes = 4 << 20
	MaxPublishRecords      = 64 // records in one publish call
)

// Server is a persistence server: the remote's service over a store. It is
// safe for concurrent use.
type Server struct {
	st   store.Store
	name string
	cfg  config
	svc  *service.Service

	challenges challenges
	tokens     tokens
	ids        cache[*record.Identity] // identities by fingerprint, as parsed
	heads      cache[*record.Frame]    // the newest frame verified, by object id
	moved      notify.Notifier         // notified when a stored frame moves a head
	ups        uploads
	reads      reads

	peerOnce sync.Once
	peer     *peer.Peer // the peer endpoint of Handler, made on first use
}

type config struct {
	sessionKey      []byte
	sessionTTL      time.Duration
	challengeTTL    time.Duration
	maxPublishBytes int
	uploadDir       string
	uploadTTL       time.Duration
	maxUploads      int
	maxUploadBytes  int64
	now             func() time.Time
	logger          *slog.Logger
}

// An Option changes a [Server].
type Option func(*config)

// WithSessionKey signs session tokens with key (at least 32 bytes), so that
// servers given the same key (several processes in front of one database)
// accept each other's sessions. Without it each server makes a random key,
// and its sessions end when it stops.
func WithSessionKey(key []byte) Option {
	return func(c *config) { c.sessionKey = append([]byte(nil), key...) }
}

// WithSessionTTL makes sessions last d (default [DefaultSessionTTL]); a
// session of a device ends no later than the device's authorisation.
func WithSessionTTL(d time.Duration) Option { return func(c *config) { c.sessionTTL = d } }

// WithChallengeTTL gives a client d to answer a login challenge (default
// [DefaultChallengeTTL]).
func WithChallengeTTL(d time.Duration) Option { return func(c *config) { c.challengeTTL = d } }

// WithMaxPublishBytes bounds the records of one publish call, added up
// (default [DefaultMaxPublishBytes]); a container larger than that is
// uploaded in chunks ([Client.PublishContainer]).
func WithMaxPublishBytes(n int) Option { return func(c *config) { c.maxPublishBytes = n } }

// WithClock makes the server read the time from now (for tests of expiry).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLogger logs the failed calls of the service and its transports to l
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// New returns a server that keeps records in st and is known to its
// clients as name (its host and port, as clients dial it, or any name they
// are told to expect): a login proof names the server, so that it serves
// no other. The caller closes st after the server.
func New(st store.Store, name string, opts ...Option) (*Server, error) {
	cfg := config{
		sessionTTL:      DefaultSessionTTL,
		challengeTTL:    DefaultChallengeTTL,
		maxPublishBytes: DefaultMaxPublishBytes,
		uploadTTL:       DefaultUploadTTL,
		maxUploads:      DefaultMaxUploads,
		maxUploadBytes:  DefaultMaxUploadBytes,
		now:             time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case name == "" || len(name) > MaxName || strings.IndexByte(name, 0) >= 0:
		return nil, fmt.Errorf("remote: a server's name is 1 to %d bytes without NUL", MaxName)
	case cfg.sessionKey == nil:
		cfg.sessionKey = make([]byte, 32)
		rand.Read(cfg.sessionKey)
	case len(cfg.sessionKey) < 32:
		return nil, fmt.Errorf("remote: a session key is at least 32 bytes, not %d", len(cfg.sessionKey))
	}
	if cfg.sessionTTL <= 0 || cfg.challengeTTL <= 0 || cfg.maxPublishBytes <= 0 ||
		cfg.uploadTTL <= 0 || cfg.maxUploads <= 0 || cfg.maxUploadBytes <= 0 {
		return nil, fmt.Errorf("remote: durations and sizes must be positive")
	}
	s := &Server{st: st, name: name, cfg: cfg, tokens: tokens{key: cfg.sessionKey}}
	if err := s.openUploads(); err != nil {
		return nil, err
	}
	s.ids.max, s.heads.max = 1<<12, 1<<14
	s.svc = s.newService()
	return s, nil
}

func (s *Server) now() time.Time { return s.cfg.now() }

// Name returns the name the server proves logins for.
func (s *Server) Name() string { return s.name }

// newService registers the remote's functions (spec.md).
func (s *Server) newService() *service.Service {
	var opts []service.Option
	opts = append(opts, service.WithName("glyph-remote"))
	if s.cfg.logger != nil {
		opts = append(opts, service.WithLogger(s.cfg.logger))
	}
	svc := service.New(opts...)
	svc.MustFunc("challenge", s.challenge)
	svc.MustFunc("login", s.login)
	svc.MustFunc("publish", s.publish, service.Args("session", "records", "uploads"), service.Default("uploads", []string{}))
	svc.MustFunc("upload", s.beginUpload, service.Args("session", "address", "size"))
	svc.MustFunc("append", s.appendUpload, service.Args("session", "upload", "offset", "data"))
	svc.MustFunc("get", s.get, service.Args("session", "address"))
	svc.MustFunc("read", s.readChunk, service.Args("session", "address", "offset", "length"))
	svc.MustFunc("bindings", s.bindings, service.Args("session", "target"))
	svc.MustFunc("debindings", s.debindings, service.Args("session", "target"))
	svc.MustFunc("subscribe", s.subscribe)
	return svc
}

// Service returns the remote's service, to serve over any transport.
func (s *Server) Service() *service.Service { return s.svc }

// Handler returns the remote on one HTTP handler: the service over HTTP at
// "/", to peers over WebSocket at "/peer", and the probes of load balancers:
// "/healthz" answers 200 while the process serves, "/readyz" 200 when the
// store answers within a second and 503 when it does not.
func (s *Server) Handler() http.Handler {
	var hopts []hyperhttp.Option
	if s.cfg.logger != nil {
		hopts = append(hopts, hyperhttp.WithLogger(s.cfg.logger))
	}
	hopts = append(hopts, hyperhttp.WithMaxRequestBytes(int64(s.maxMessage())))
	mux := http.NewServeMux()
	mux.Handle("/", hyperhttp.NewHandler(s.svc, hopts...))
	mux.Handle("/peer", s.peerEndpoint().WebSocketHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.ready)
	return mux
}

func (s *Server) peerEndpoint() *peer.Peer {
	s.peerOnce.Do(func() {
		opts := []peer.PeerOption{
			peer.WithHandler(hyperpeer.NewHandler(s.svc)),
			peer.WithMaxFrameSize(s.maxMessage()),
		}
		s.peer = peer.New(opts...)
	})
	return s.peer
}

// maxMessage bounds a request: the largest publish call or chunk, and
// room for the rest of the call.
func (s *Server) maxMessage() int { return max(s.cfg.maxPublishBytes, MaxChunk) + 64<<10 }

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if _, err := s.st.Cursor(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "store not answering")
		return
	}
	fmt.Fprintln(w, "ready")
}

// Close closes the peer connections of [Server.Handler] (their
// subscriptions end) and its peer endpoint, which accepts no more: call
// Handler no more after it. It closes the files of open uploads, and
// removes them unless they are in a directory of [WithUploadDir]. It does
// not close the store.
func (s *Server) Close() error {
	s.closeUploads()
	s.reads.closeAll()
	s.peerOnce.Do(func() {})
	if s.peer != nil {
		return s.peer.Close()
	}
	return nil
}

// session checks a session token and returns the identity it speaks for.
func (s *Server) session(token string) (record.Address, error) {
	return s.tokens.check(token, s.now())
}

// cache is a bounded map of parsed records; when full it starts over,
// which costs only a parse.
type cache[T any] struct {
	mu  sync.Mutex // guards m
	m   map[record.Address]T
	max int
}

func (c *cache[T]) get(a record.Address) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[a]
	return v, ok
}

func (c *cache[T]) put(a record.Address, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[record.Address]T)
	}
	c.m[a] = v
}
