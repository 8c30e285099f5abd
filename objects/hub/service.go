package hub

import (
	"context"
	"iter"
	"slices"
	"sync"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/service"
)

// ObjectView is an object as the daemon's service answers it.
type ObjectView struct {
	ID      string   `glyph:"id"`
	API     string   `glyph:"api"`
	Owner   string   `glyph:"owner"`
	Dynamic bool     `glyph:"dynamic"`
	Counter uint64   `glyph:"counter"` // a dynamic object's newest frame
	Epoch   uint64   `glyph:"epoch"`   // the newest key's epoch
	Readers []string `glyph:"readers"` // owner only: who reads it
	Private bool     `glyph:"private"`
	Held    bool     `glyph:"held"`
	Deleted bool     `glyph:"deleted"`
	State   []byte   `glyph:"state"`
}

// EventView is an [Event] as watch streams it.
type EventView struct {
	Kind    string `glyph:"kind"` // "ready", "update", "delete", "share", "unshare", "shared" or "share_failed"
	ID      string `glyph:"id"`
	API     string `glyph:"api"`
	Owner   string `glyph:"owner"`
	From    string `glyph:"from"` // a share's sender
	Counter uint64 `glyph:"counter"`
	To      string `glyph:"to"`    // the recipient of a share the account made
	Error   string `glyph:"error"` // why it failed
}

// Registration is what register answers.
type Registration struct {
	Token   string `glyph:"token"`   // the token to present from now on
	App     string `glyph:"app"`     // the application's public id
	Name    string `glyph:"name"`    // its name
	Startup string `glyph:"startup"` // its startup object; "" when none
}

// NewArgs are the inputs of new.
type NewArgs struct {
	Token   string `glyph:"token"`
	API     string `glyph:"api"`
	State   []byte `glyph:"state,optional"`
	Dynamic bool   `glyph:"dynamic,optional"`
	Private bool   `glyph:"private,optional"`
}

// WatchArgs are the inputs of watch.
type WatchArgs struct {
	Token   string   `glyph:"token"`
	Objects []string `glyph:"objects,optional"` // objects whose updates, deletions and unshares to report
	APIs    []string `glyph:"apis,optional"`    // API ids whose shares (and objects' changes) to report
}

// MaxWatchBuffer bounds the events a slow watcher may lag behind; beyond
// it the watch ends with KindOverloaded and the application watches again.
const MaxWatchBuffer = 4096

// apiService is the daemon's service for applications.
type apiService struct {
	h *Hub
	// register: whether a caller may register a new application (true
	// on the Unix socket, whose peers are the user's own processes).
	registerNew bool
}

// Service returns the daemon's glyph service for applications, the one
// [Hub.Serve] serves: register, whoami, new, get, push, sync, share,
// unshare, freeze, hold, discard, delete, objects, startup and watch.
// Every function but register takes an application token first.
func (h *Hub) Service() *service.Service { return h.newService(true) }

func (h *Hub) newService(registerNew bool) *service.Service {
	s := &apiService{h: h, registerNew: registerNew}
	svc := service.New(service.WithName("glyph-hub"), service.WithLogger(h.log))
	svc.MustFunc("register", s.register, service.Args("token", "name"), service.Default("token", ""), service.Default("name", ""))
	svc.MustFunc("whoami", s.whoami, service.Args("token"))
	svc.MustFunc("new", s.new)
	svc.MustFunc("get", s.get, service.Args("token", "id"))
	svc.MustFunc("sync", s.sync, service.Args("token", "id"))
	svc.MustFunc("push", s.push, service.Args("token", "id", "state"))
	svc.MustFunc("share", s.share, service.Args("token", "id", "to"))
	svc.MustFunc("unshare", s.unshare, service.Args("token", "id", "from"))
	svc.MustFunc("freeze", s.freeze, service.Args("token", "id"))
	svc.MustFunc("hold", s.hold, service.Args("token", "id"))
	svc.MustFunc("discard", s.discard, service.Args("token", "id"))
	svc.MustFunc("delete", s.delete, service.Args("token", "id"))
	svc.MustFunc("objects", s.objects, service.Args("token"))
	svc.MustFunc("startup", s.startup, service.Args("token", "id"), service.Default("id", ""))
	svc.MustFunc("watch", s.watch)
	return svc
}

func (s *apiService) register(ctx context.Context, token, name string) (Registration, error) {
	if token != "" {
		app, err := s.h.App(token)
		if err != nil {
			return Registration{}, err
		}
		return registration(token, app), nil
	}
	if !s.registerNew {
		return Registration{}, service.Errorf(service.KindPermissionDenied, "register a new application on the daemon's socket, not here")
	}
	token, app, err := s.h.Register(ctx, name)
	if err != nil {
		return Registration{}, err
	}
	return registration(token, app), nil
}

func registration(token string, app App) Registration {
	r := Registration{Token: token, App: app.ID, Name: app.Name}
	if !app.Startup.IsZero() {
		r.Startup = app.Startup.String()
	}
	return r
}

func (s *apiService) whoami(token string) (string, error) {
	if _, err := s.h.App(token); err != nil {
		return "", err
	}
	fp, err := s.h.Whoami()
	if err != nil {
		return "", err
	}
	return fp.String(), nil
}

// object checks the token and that its application may see the object.
func (s *apiService) object(token, id string) (App, record.Address, error) {
	app, err := s.h.App(token)
	if err != nil {
		return app, record.Address{}, err
	}
	a, err := record.ParseAddress(id)
	if err != nil {
		return app, a, service.Errorf(service.KindInvalid, "object id %q: %v", id, err)
	}
	o, err := s.h.obj(a)
	if err != nil {
		return app, a, err
	}
	s.h.mu.Lock()
	private := o.entry.App
	s.h.mu.Unlock()
	if private != "" && private != app.ID {
		return app, a, service.Errorf(service.KindNotFound, "no object %s", a) // private to another application
	}
	return app, a, nil
}

func (s *apiService) new(ctx context.Context, a NewArgs) (string, error) {
	app, err := s.h.App(a.Token)
	if err != nil {
		return "", err
	}
	id, err := s.h.New(ctx, a.API, a.State, a.Dynamic, a.Private, app.ID)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

func (s *apiService) get(ctx context.Context, token, id string) (ObjectView, error) {
	_, a, err := s.object(token, id)
	if err != nil {
		return ObjectView{}, err
	}
	state, in, err := s.h.State(ctx, a)
	if err != nil {
		return ObjectView{}, err
	}
	v := view(in)
	v.State = state
	return v, nil
}

func (s *apiService) sync(ctx context.Context, token, id string) (ObjectView, error) {
	_, a, err := s.object(token, id)
	if err != nil {
		return ObjectView{}, err
	}
	if err := s.h.Sync(ctx, a); err != nil {
		return ObjectView{}, err
	}
	return s.get(ctx, token, id)
}

func view(in Info) ObjectView {
	v := ObjectView{ID: in.ID.String(), API: in.API, Owner: in.Owner.String(), Dynamic: in.Dynamic, Counter: in.Counter,
		Epoch: in.Epoch, Private: in.App != "", Held: in.Held, Deleted: in.Deleted, Readers: []string{}}
	for _, r := range in.Readers {
		v.Readers = append(v.Readers, r.String())
	}
	return v
}

func (s *apiService) push(ctx context.Context, token, id string, state []byte) (uint64, error) {
	app, a, err := s.object(token, id)
	if err != nil {
		return 0, err
	}
	return s.h.Push(ctx, a, state, app.ID)
}

func (s *apiService) share(ctx context.Context, token, id, to string) (bool, error) {
	_, a, err := s.object(token, id)
	if err != nil {
		return false, err
	}
	fp, err := record.ParseAddress(to)
	if err != nil {
		return false, service.Errorf(service.KindInvalid, "recipient %q: %v", to, err)
	}
	return true, s.h.Share(ctx, a, fp)
}

func (s *apiService) unshare(ctx context.Context, token, id, from string) (bool, error) {
	_, a, err := s.object(token, id)
	if err != nil {
		return false, err
	}
	fp, err := record.ParseAddress(from)
	if err != nil {
		return false, service.Errorf(service.KindInvalid, "reader %q: %v", from, err)
	}
	return true, s.h.Unshare(ctx, a, fp)
}

func (s *apiService) freeze(ctx context.Context, token, id string) (string, error) {
	_, a, err := s.object(token, id)
	if err != nil {
		return "", err
	}
	f, err := s.h.Freeze(ctx, a)
	return f.String(), err
}

func (s *apiService) hold(ctx context.Context, token, id string) (bool, error) {
	_, a, err := s.object(token, id)
	if err != nil {
		return false, err
	}
	return true, s.h.Hold(ctx, a)
}

func (s *apiService) discard(ctx context.Context, token, id string) (bool, error) {
	_, a, err := s.object(token, id)
	if err != nil {
		return false, err
	}
	return true, s.h.Discard(ctx, a)
}

func (s *apiService) delete(ctx context.Context, token, id string) (bool, error) {
	_, a, err := s.object(token, id)
	if err != nil {
		return false, err
	}
	return true, s.h.Delete(ctx, a)
}

func (s *apiService) objects(token string) ([]ObjectView, error) {
	app, err := s.h.App(token)
	if err != nil {
		return nil, err
	}
	out := []ObjectView{}
	for _, in := range s.h.Objects() {
		if in.App == "" || in.App == app.ID {
			out = append(out, view(in))
		}
	}
	slices.SortFunc(out, func(a, b ObjectView) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out, nil
}

func (s *apiService) startup(ctx context.Context, token, id string) (bool, error) {
	app, err := s.h.App(token)
	if err != nil {
		return false, err
	}
	var a record.Address
	if id != "" {
		if _, a, err = s.object(token, id); err != nil {
			return false, err
		}
	}
	return true, s.h.SetStartup(ctx, app.ID, a)
}

// watch streams the events of the objects and API ids named: first an
// event of kind "ready" once the watch is registered, then the shares of
// those API ids kept while no application handled them, then changes from
// upstream and from other applications (never the caller's own) and new
// shares as they come.
func (s *apiService) watch(ctx context.Context, a WatchArgs) (iter.Seq2[EventView, error], error) {
	app, err := s.h.App(a.Token)
	if err != nil {
		return nil, err
	}
	objects := map[record.Address]bool{}
	for _, id := range a.Objects {
		_, addr, err := s.object(a.Token, id)
		if err != nil {
			return nil, err
		}
		objects[addr] = true
	}
	apis := map[string]bool{}
	var pending []Event
	var releases []func()
	for _, api := range a.APIs {
		if apis[api] {
			continue
		}
		apis[api] = true
		p, release, err := s.h.HandleShares(ctx, api)
		if err != nil {
			for _, r := range releases {
				r()
			}
			return nil, err
		}
		pending = append(pending, p...)
		releases = append(releases, release)
	}
	ch := make(chan Event, MaxWatchBuffer)
	overflow := make(chan struct{})
	var full sync.Once
	cancel := s.h.Watch(func(ev Event) {
		if ev.Origin == app.ID || !(objects[ev.Object] || apis[ev.API]) {
			return
		}
		if !s.visible(app, ev.Object) {
			return
		}
		select {
		case ch <- ev:
		default:
			full.Do(func() { close(overflow) })
		}
	})
	return func(yield func(EventView, error) bool) {
		defer cancel()
		defer func() {
			for _, r := range releases {
				r()
			}
		}()
		if !yield(EventView{Kind: "ready"}, nil) {
			return
		}
		for _, ev := range pending {
			if !yield(eventView(ev), nil) {
				return
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-ch:
				if !yield(eventView(ev), nil) {
					return
				}
			case <-overflow:
				yield(EventView{}, service.Errorf(service.KindOverloaded, "watch: over %d events behind; watch again", MaxWatchBuffer))
				return
			}
		}
	}, nil
}

// visible reports whether app may see the object id.
func (s *apiService) visible(app App, id record.Address) bool {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	o := s.h.objs[id]
	return o == nil || o.entry.App == "" || o.entry.App == app.ID
}

func eventView(ev Event) EventView {
	v := EventView{Kind: ev.Kind.String(), ID: ev.Object.String(), API: ev.API, Counter: ev.Counter}
	if !ev.Owner.IsZero() {
		v.Owner = ev.Owner.String()
	}
	if !ev.From.IsZero() {
		v.From = ev.From.String()
	}
	if !ev.To.IsZero() {
		v.To, v.Error = ev.To.String(), ev.Err
	}
	return v
}
