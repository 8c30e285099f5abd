package link

import (
	"context"
	"sync"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/objects/hub"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/service"
)

// An Object is a shared object of state type T as the application sees
// it: its id, API id, owner and the state last read or pushed. It is
// safe for concurrent use.
type Object[T any] struct {
	l     *Link
	codec Codec[T]
	id    record.Address

	mu    sync.Mutex // guards view and state
	view  hub.ObjectView
	state T
}

// A NewOption changes what [New] makes.
type NewOption func(client.Named)

// Static makes an immutable object, whose id is the hash of its content;
// by default objects are dynamic.
func Static() NewOption { return func(n client.Named) { n["dynamic"] = false } }

// Private makes the object this application's only: other applications
// of the account do not see it, and it is never shared.
func Private() NewOption { return func(n client.Named) { n["private"] = true } }

// New makes an object of API id api (an application-chosen schema id)
// with state, owned by the account, and returns it once the daemon has it
// durably.
func New[T any](ctx context.Context, l *Link, codec Codec[T], api string, state T, opts ...NewOption) (*Object[T], error) {
	data, err := codec.Encode(state)
	if err != nil {
		return nil, err
	}
	args := client.Named{"token": l.reg.Token, "api": api, "state": data, "dynamic": true}
	for _, o := range opts {
		o(args)
	}
	s, err := l.api.New(ctx, args)
	if err != nil {
		return nil, err
	}
	id, err := record.ParseAddress(s)
	if err != nil {
		return nil, err
	}
	return Get(ctx, l, codec, id)
}

// Get returns the object id with its current state, decoded by codec.
func Get[T any](ctx context.Context, l *Link, codec Codec[T], id record.Address) (*Object[T], error) {
	o := &Object[T]{l: l, codec: codec, id: id}
	v, err := l.api.Get(ctx, l.reg.Token, id.String())
	if err != nil {
		return nil, err
	}
	return o, o.take(v)
}

// take makes v the object's view and state.
func (o *Object[T]) take(v hub.ObjectView) error {
	st, err := o.codec.Decode(v.State)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	v.State = nil
	o.view, o.state = v, st
	return nil
}

// ID returns the object's id: a dynamic object's stable id, a static
// object's content address.
func (o *Object[T]) ID() record.Address { return o.id }

// State returns the state last read or pushed.
func (o *Object[T]) State() T {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state
}

// Info returns what the daemon said of the object at the last read.
func (o *Object[T]) Info() hub.ObjectView {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.view
}

// Push makes state the object's new state: only its owner pushes, and
// only a dynamic object. It returns once the daemon has it durably; it
// reaches the remotes and the readers from the daemon's outbox. Other
// applications' update callbacks run; this one's do not.
func (o *Object[T]) Push(ctx context.Context, state T) error {
	data, err := o.codec.Encode(state)
	if err != nil {
		return err
	}
	n, err := o.l.api.Push(ctx, o.l.reg.Token, o.id.String(), data)
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.state, o.view.Counter = state, n
	o.mu.Unlock()
	return nil
}

// Sync reads the newest state, asking the remotes at once.
func (o *Object[T]) Sync(ctx context.Context) error {
	v, err := o.l.api.Sync(ctx, o.l.reg.Token, o.id.String())
	if err != nil {
		return err
	}
	return o.take(v)
}

// Refresh reads the state the daemon has.
func (o *Object[T]) Refresh(ctx context.Context) error {
	v, err := o.l.api.Get(ctx, o.l.reg.Token, o.id.String())
	if err != nil {
		return err
	}
	return o.take(v)
}

// Share gives the identity to read access: its daemon gets the object
// and every later state. An error says the share could not be made (an
// unknown identity, a private object, not the owner); once Share returns
// nil the share is durable in the daemon's outbox.
func (o *Object[T]) Share(ctx context.Context, to record.Address) error {
	_, err := o.l.api.Share(ctx, o.l.reg.Token, o.id.String(), to.String())
	return err
}

// Unshare takes read access away from the identity: the object moves to
// a new key epoch that its daemon never gets.
func (o *Object[T]) Unshare(ctx context.Context, from record.Address) error {
	_, err := o.l.api.Unshare(ctx, o.l.reg.Token, o.id.String(), from.String())
	return err
}

// Freeze makes a static snapshot of the current state and returns it.
func (o *Object[T]) Freeze(ctx context.Context) (*Object[T], error) {
	s, err := o.l.api.Freeze(ctx, o.l.reg.Token, o.id.String())
	if err != nil {
		return nil, err
	}
	id, err := record.ParseAddress(s)
	if err != nil {
		return nil, err
	}
	return Get(ctx, o.l, o.codec, id)
}

// Hold keeps someone else's object alive for this account even after its
// owner deletes it.
func (o *Object[T]) Hold(ctx context.Context) error {
	_, err := o.l.api.Hold(ctx, o.l.reg.Token, o.id.String())
	return err
}

// Discard stops tracking the object on this account.
func (o *Object[T]) Discard(ctx context.Context) error {
	_, err := o.l.api.Discard(ctx, o.l.reg.Token, o.id.String())
	return err
}

// Delete deletes the object everywhere (its owner only); every reader's
// daemon hears of it.
func (o *Object[T]) Delete(ctx context.Context) error {
	_, err := o.l.api.Delete(ctx, o.l.reg.Token, o.id.String())
	return err
}

// Callbacks an object runs when it changes upstream.
type Callbacks[T any] struct {
	// Update runs after the object's state changed upstream (its owner,
	// or another application of the account, pushed), with the object
	// already holding the new state.
	Update func(*Object[T])
	// Delete runs once the owner deleted the object.
	Delete func(*Object[T])
	// Unshare runs once the owner stopped sharing the object with this
	// account.
	Unshare func(*Object[T])
	// Shared runs, for the object's owner, with the outcome of a share
	// made with [Object.Share]: a nil error once a remote has the share
	// (the recipient's daemon finds it there), or why a remote refused it.
	Shared func(o *Object[T], to record.Address, err error)
}

// Watch runs cb's callbacks, one at a time and in order, on the object's
// changes from upstream until ctx ends or the link closes; never for
// this application's own pushes. It returns once the daemon watches.
// Update runs with the newest state: when several pushes arrive while
// one callback runs, the next callback sees the last of them, once.
func (o *Object[T]) Watch(ctx context.Context, cb Callbacks[T]) error {
	events, err := o.l.watch(ctx, []string{o.id.String()}, nil)
	if err != nil {
		return err
	}
	go func() {
		// An update reads the newest state, which may already hold the
		// next updates: those are not reported again.
		last := o.Info().Counter
		for ev, err := range events {
			if err != nil {
				return
			}
			switch ev.Kind {
			case "update":
				if err := o.Refresh(ctx); err != nil {
					continue
				}
				if n := o.Info().Counter; n > last || !o.Info().Dynamic {
					last = n
					if cb.Update != nil {
						cb.Update(o)
					}
				}
			case "delete":
				o.mu.Lock()
				o.view.Deleted = true
				o.mu.Unlock()
				if cb.Delete != nil {
					cb.Delete(o)
				}
			case "unshare":
				if cb.Unshare != nil {
					cb.Unshare(o)
				}
			case "shared", "share_failed":
				if cb.Shared == nil {
					continue
				}
				to, err := record.ParseAddress(ev.To)
				if err != nil {
					continue
				}
				var serr error
				if ev.Kind == "share_failed" {
					serr = service.Errorf(service.KindPermissionDenied, "%s", ev.Error)
				}
				cb.Shared(o, to, serr)
			}
		}
	}()
	return nil
}
