package front

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"

	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// Name is the name a deployment gives the front among its components,
// and the name of the listener a supervisor passes down for it.
const Name = "front"

// The paths the front serves its protocols at; everything else is
// hyperglyph over HTTP, from the index at "/".
const (
	PathPeer    = "/peer"    // peers over WebSocket
	PathJSONRPC = "/jsonrpc" // JSON-RPC 2.0
	PathXMLRPC  = "/RPC2"    // XML-RPC
)

// Front serves the public methods of component interfaces on one
// http.Handler: hyperglyph over HTTP from "/", peers at [PathPeer],
// JSON-RPC at [PathJSONRPC] and XML-RPC at [PathXMLRPC]; every call is
// forwarded through a [component.Router]. It is safe for concurrent use.
type Front struct {
	svc    *service.Service
	mux    *http.ServeMux
	ifaces []string
	log    *slog.Logger

	ctx    context.Context // ends on Close: ends the peer connections
	cancel context.CancelFunc
}

// Option configures [New].
type Option func(*config)

type config struct {
	names  []string // nil: every interface of the routing table
	given  map[string]*component.Interface
	log    *slog.Logger
	drop   []string
	wsOpts []peer.WebSocketOption
}

// WithInterfaces names the interfaces the front serves the public
// methods of. Without it the front serves those of every interface in
// the router's routing table that has public methods.
func WithInterfaces(names ...string) Option {
	return func(c *config) { c.names = append(c.names, names...) }
}

// WithDescription gives the front the description of an interface whose
// providers cannot describe it (JSON-RPC, XML-RPC, NATS), such as one
// read from a service that registers it in this process: the front then
// serves in's public methods instead of asking the providers.
func WithDescription(in *component.Interface) Option {
	return func(c *config) {
		if c.given == nil {
			c.given = map[string]*component.Interface{}
		}
		c.given[in.Name] = in
	}
}

// WithLogger sets where the front and the protocols it serves log
// (default, and when l is nil, slog.Default as it is when they log).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithoutHeaders adds names to the request headers the front does not
// pass on to the components, beside those that belong to the hop
// ([DroppedHeaders]): the header of a credential valid only at the
// front, say.
func WithoutHeaders(names ...string) Option {
	return func(c *config) { c.drop = append(c.drop, names...) }
}

// WithWebSocketOptions configures the WebSocket endpoint of peers at
// [PathPeer], such as the browser origins it allows
// ([peer.WithAllowedOrigins]).
func WithWebSocketOptions(opts ...peer.WebSocketOption) Option {
	return func(c *config) { c.wsOpts = append(c.wsOpts, opts...) }
}

// DroppedHeaders are the request headers the front never passes on:
// those of the connection or the message rather than the call (RFC 9110
// 7.6.1), the protocols' own, and Glyph-Timeout, whose deadline
// travels as the call's context's instead.
var DroppedHeaders = []string{
	"Accept", "Accept-Encoding", "Connection", "Content-Encoding", "Content-Length", "Content-Type",
	"Expect", "Glyph-Timeout", "Host", "Keep-Alive", "Method", "Origin", "Proxy-Authorization",
	"Proxy-Connection", "Sec-Websocket-Extensions", "Sec-Websocket-Key", "Sec-Websocket-Protocol",
	"Sec-Websocket-Version", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "User-Agent",
}

// New returns a front that forwards through r the public methods of the
// interfaces of [WithInterfaces], or of every interface r routes. It
// learns each interface from its providers' description (see
// [component.Router.Describe]): the methods whose form says public,
// with their inputs, types, defaults and declarations, which the front's
// own forms then show. It binds to each interface through r, so that a
// provider that changes incompatibly is refused before it gets a call.
//
// New fails when a named interface is not routed, has no public method,
// cannot be described (and no [WithDescription] gives it), or when no
// provider of it can be reached. Discovered interfaces that cannot be
// described or have no public method are left out, so that their names
// do not show.
func New(ctx context.Context, r *component.Router, opts ...Option) (*Front, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	log := cfg.log
	h := headerPolicy{drop: map[string]bool{}}
	for _, n := range append(slices.Clone(DroppedHeaders), cfg.drop...) {
		h.drop[http.CanonicalHeaderKey(n)] = true
	}
	names, discovered := cfg.names, cfg.names == nil
	if discovered {
		for n := range r.Routes() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	names = slices.Compact(names)

	svcOpts := []service.Option{service.WithName("front")}
	if log != nil {
		svcOpts = append(svcOpts, service.WithLogger(log))
	}
	svc := service.New(svcOpts...)
	var served []string
	for _, name := range names {
		in, err := describe(ctx, r, name, cfg.given)
		if err != nil {
			if discovered && service.KindOf(err) == service.KindUnsupported {
				continue
			}
			return nil, err
		}
		pub := publicOnly(in)
		if len(pub.Methods) == 0 {
			if discovered {
				continue
			}
			return nil, &service.Error{Op: "front", Kind: service.KindInvalid, Message: fmt.Sprintf("interface %s has no public method (see component.Public)", name)}
		}
		ok, err := register(ctx, svc, r, pub, h, log)
		if err != nil {
			return nil, err
		}
		if ok {
			served = append(served, name)
		}
	}
	f := &Front{svc: svc, ifaces: served, log: log}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.mux = f.routes(cfg)
	return f, nil
}

// describe returns the description of the interface name: the one given,
// or its providers'.
func describe(ctx context.Context, r *component.Router, name string, given map[string]*component.Interface) (*component.Interface, error) {
	if in := given[name]; in != nil {
		return in, nil
	}
	return r.Describe(ctx, name)
}

// routes makes the mux of the front's protocols.
func (f *Front) routes(cfg config) *http.ServeMux {
	var hopts []hyperhttp.Option
	var jopts []jsonrpc.Option
	var xopts []xmlrpc.Option
	pcfg := []peer.Option{peer.WithHandler(hyperpeer.NewHandler(f.svc))}
	if f.log != nil {
		hopts = append(hopts, hyperhttp.WithLogger(f.log))
		jopts = append(jopts, jsonrpc.WithLogger(f.log))
		xopts = append(xopts, xmlrpc.WithLogger(f.log))
		pcfg = append(pcfg, peer.WithLogger(f.log))
	}
	mux := http.NewServeMux()
	mux.Handle("/", hyperhttp.NewHandler(f.svc, hopts...))
	mux.Handle(PathJSONRPC, jsonrpc.NewHandler(f.svc, jopts...))
	mux.Handle(PathXMLRPC, xmlrpc.NewHandler(f.svc, xopts...))
	mux.Handle(PathPeer, peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		c, err := peer.Server(f.ctx, fc, pcfg...)
		if err != nil {
			return
		}
		select {
		case <-c.Done():
		case <-f.ctx.Done():
			c.Close()
		}
	}, cfg.wsOpts...))
	return mux
}

// ServeHTTP implements http.Handler: the front's protocols by path.
func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Service returns the service of the front's forwarders, for a
// transport the front does not serve itself (peers over a Unix socket,
// say): it holds one object per interface served, with a form per public
// method.
func (f *Front) Service() *service.Service { return f.svc }

// Interfaces returns the names of the interfaces the front serves,
// sorted.
func (f *Front) Interfaces() []string { return slices.Clone(f.ifaces) }

// ShutdownTimeout bounds how long [Front.Serve] waits for the calls in
// flight when its context ends.
const ShutdownTimeout = 10 * time.Second

// Serve serves the front on l (a listener the caller made, or one a
// supervisor passed down) with the timeouts of [hyperhttp.NewServer],
// until ctx ends or l fails. When ctx ends it stops accepting, lets the
// HTTP calls in flight finish for up to [ShutdownTimeout] (it returns
// context.DeadlineExceeded when they do not), then closes the peer
// connections, whose calls in flight fail with a retryable
// [service.KindUnavailable] error, and returns nil. Otherwise it returns
// why l failed. It closes l, and the front: serve a front once.
func (f *Front) Serve(ctx context.Context, l net.Listener) error {
	srv := hyperhttp.NewServer("", f)
	if f.log != nil {
		srv.ErrorLog = slog.NewLogLogger(f.log.Handler(), slog.LevelWarn)
	}
	srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		f.Close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	f.Close()
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return err
}

// Close ends the front's peer connections: their calls in flight fail
// with a retryable [service.KindUnavailable] error. It does not close the
// router, which the caller made.
func (f *Front) Close() error {
	f.cancel()
	return nil
}
