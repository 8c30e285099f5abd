package link

import (
	"context"
	"iter"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/service"
)

// An Option changes how [Dial] connects.
type Option func(*config)

type config struct {
	socket string
	token  string
	name   string
}

// WithSocket connects to the daemon's socket at path instead of the one
// its configuration names ([hub.FindConfig]).
func WithSocket(path string) Option { return func(c *config) { c.socket = path } }

// WithToken presents token, which an earlier link of this application got
// ([Link.Token]), so that the daemon knows the application again: its
// private objects, its startup object.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithName names a new application (without [WithToken]).
func WithName(name string) Option { return func(c *config) { c.name = name } }

// Link is an application's connection to its local daemon. It is safe for
// concurrent use.
type Link struct {
	c     *client.Client
	index *client.Value
	reg   hub.Registration
	api   api
}

// api is the daemon's service as a link calls it.
type api struct {
	Register func(context.Context, client.Named) (hub.Registration, error)
	Whoami   func(context.Context, string) (string, error)
	New      func(context.Context, client.Named) (string, error)
	Get      func(context.Context, string, string) (hub.ObjectView, error)
	Sync     func(context.Context, string, string) (hub.ObjectView, error)
	Push     func(context.Context, string, string, []byte) (uint64, error)
	Share    func(context.Context, string, string, string) (bool, error)
	Unshare  func(context.Context, string, string, string) (bool, error)
	Freeze   func(context.Context, string, string) (string, error)
	Hold     func(context.Context, string, string) (bool, error)
	Discard  func(context.Context, string, string) (bool, error)
	Delete   func(context.Context, string, string) (bool, error)
	Startup  func(context.Context, string, string) (bool, error)
	Objects  func(context.Context, string) ([]hub.ObjectView, error)
}

// Dial connects to the local daemon, on the socket its configuration
// names unless [WithSocket] says otherwise, and registers the application
// (again, with [WithToken]).
func Dial(ctx context.Context, opts ...Option) (*Link, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.socket == "" {
		hc, err := hub.FindConfig()
		if err != nil {
			return nil, err
		}
		cfg.socket = hc.Socket
	}
	c := client.New()
	index, err := c.Get(ctx, "unix://"+cfg.socket)
	if err != nil {
		c.Close()
		return nil, err
	}
	l := &Link{c: c, index: index}
	if err := index.Bind(&l.api); err != nil {
		c.Close()
		return nil, service.Errorf(service.KindUnsupported, "%s is not a glyph hub: %v", cfg.socket, err)
	}
	args := client.Named{"name": cfg.name}
	if cfg.token != "" {
		args["token"] = cfg.token
	}
	if l.reg, err = l.api.Register(ctx, args); err != nil {
		c.Close()
		return nil, err
	}
	return l, nil
}

// Close closes the connection; callbacks stop.
func (l *Link) Close() error { return l.c.Close() }

// Token returns the application's token: keep it (it is a secret) and
// give it to [WithToken] at the next start.
func (l *Link) Token() string { return l.reg.Token }

// App returns the application's public id.
func (l *Link) App() string { return l.reg.App }

// Whoami returns the fingerprint of the account's identity, the address
// others share with.
func (l *Link) Whoami(ctx context.Context) (record.Address, error) {
	s, err := l.api.Whoami(ctx, l.reg.Token)
	if err != nil {
		return record.Address{}, err
	}
	return record.ParseAddress(s)
}

// Startup returns the application's startup object, registered at an
// earlier start with [Link.SetStartup]; false when there is none.
func (l *Link) Startup() (record.Address, bool) {
	if l.reg.Startup == "" {
		return record.Address{}, false
	}
	a, err := record.ParseAddress(l.reg.Startup)
	return a, err == nil
}

// SetStartup registers id as the application's startup object.
func (l *Link) SetStartup(ctx context.Context, id record.Address) error {
	_, err := l.api.Startup(ctx, l.reg.Token, id.String())
	if err == nil {
		l.reg.Startup = id.String()
	}
	return err
}

// Objects returns what the daemon knows of the objects this application
// may see, without their states.
func (l *Link) Objects(ctx context.Context) ([]hub.ObjectView, error) {
	return l.api.Objects(ctx, l.reg.Token)
}

// A Share is an object someone shared with the account, or that another
// application of the account made, with an API id the application
// handles.
type Share struct {
	ID   record.Address
	API  string
	From record.Address // the sender's identity
}

// HandleShares calls f with every share of objects of API id api: those
// that arrived while no application handled api first, then each as it
// arrives, until ctx ends or the link closes. f runs on one goroutine, in
// order. It returns once the daemon has the handler registered.
func (l *Link) HandleShares(ctx context.Context, api string, f func(Share)) error {
	events, err := l.watch(ctx, nil, []string{api})
	if err != nil {
		return err
	}
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			if ev.Kind != "share" || ev.API != api {
				continue
			}
			sh := Share{API: ev.API}
			sh.ID, _ = record.ParseAddress(ev.ID)
			sh.From, _ = record.ParseAddress(ev.From)
			f(sh)
		}
	}()
	return nil
}

// watch starts the daemon's watch stream; it returns once the daemon
// answered the call (the stream's first message or its end).
func (l *Link) watch(ctx context.Context, objects, apis []string) (iter.Seq2[hub.EventView, error], error) {
	fn, err := l.index.Get("watch")
	if err != nil {
		return nil, err
	}
	if objects == nil {
		objects = []string{}
	}
	if apis == nil {
		apis = []string{}
	}
	next, stop := iter.Pull2(fn.Stream(ctx, client.Named{"token": l.reg.Token, "objects": objects, "apis": apis}))
	v, err, ok := next()
	if !ok || err != nil {
		stop()
		if err == nil {
			err = service.Errorf(service.KindUnavailable, "watch ended before it was ready")
		}
		return nil, err
	}
	var ready hub.EventView
	if err := v.Decode(&ready); err != nil || ready.Kind != "ready" {
		stop()
		return nil, service.Errorf(service.KindUnsupported, "watch did not start with a ready event")
	}
	return func(yield func(hub.EventView, error) bool) {
		defer stop()
		for {
			v, err, ok := next()
			if !ok {
				return
			}
			if err != nil {
				yield(hub.EventView{}, err)
				return
			}
			var ev hub.EventView
			if err := v.Decode(&ev); err != nil {
				yield(ev, err)
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}, nil
}
