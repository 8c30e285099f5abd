package hub

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/service"
)

// followLoop follows the remote's changes of the account's objects and
// mailbox from the link's cursor until the daemon closes; a new set of
// objects restarts the subscription from where it stood.
func (l *link) followLoop() {
	defer l.h.wg.Done()
	ctx := l.h.ctx
	fails := 0
	for ctx.Err() == nil {
		c, err := l.client(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.setErr(err)
			l.h.log.Warn("follow: remote unreachable", "remote", l.cfg.URL, "err", err)
			l.h.backoff(ctx, fails)
			fails++
			continue
		}
		changed := l.h.objectsChanged()
		sub := remote.Subscription{Objects: l.h.followIDs(), Mailbox: true, Since: l.h.cursors.get(l.cfg.URL).Seen}
		sctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-changed:
				cancel()
			case <-sctx.Done():
			}
		}()
		for ch, err := range c.Subscribe(sctx, sub) {
			if err != nil {
				if sctx.Err() == nil {
					l.setErr(err)
					l.h.log.Warn("follow: subscription failed", "remote", l.cfg.URL, "err", err)
					l.h.backoff(ctx, fails)
					fails++
				}
				break
			}
			fails = 0
			// A change handled may change the set of objects, which ends
			// the subscription: it is handled to its end all the same.
			if err := l.handle(ctx, c, ch); err != nil {
				if ctx.Err() != nil {
					break
				}
				l.h.log.Warn("follow: a change is ignored", "remote", l.cfg.URL, "kind", ch.Kind, "seq", ch.Seq, "err", err)
			}
			l.h.cursors.update(l.cfg.URL, func(c *cursors) { c.Seen = max(c.Seen, ch.Seq) })
		}
		cancel()
	}
}

// handle takes one change from the remote.
func (l *link) handle(ctx context.Context, c *remote.Client, ch remote.Change) error {
	l.h.log.Debug("follow: change", "remote", l.cfg.URL, "kind", ch.Kind, "seq", ch.Seq)
	data := ch.Record
	if len(data) == 0 {
		a, err := addrOf(ch.Address)
		if err != nil {
			return err
		}
		if data, err = c.Get(ctx, a); err != nil {
			return err
		}
	}
	switch record.Kind(ch.Kind) {
	case record.KindFrame:
		return l.h.receiveFrame(ctx, c, data)
	case record.KindShare:
		return l.h.receiveShare(ctx, c, data)
	case record.KindDebinding:
		return l.h.receiveDebinding(ctx, c, data)
	}
	return nil
}

// identity returns the identity fp, from the daemon's cache or the remote.
func (h *Hub) identity(ctx context.Context, c *remote.Client, fp record.Address) (*record.Identity, error) {
	h.mu.Lock()
	id := h.idents[fp]
	h.mu.Unlock()
	if id != nil {
		return id, nil
	}
	id, err := fetchIdentity(ctx, c, fp)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.idents[fp] = id
	h.mu.Unlock()
	return id, nil
}

// receiveFrame takes a frame of a followed object: a newer one is
// checked, stored with its content, and reported.
func (h *Hub) receiveFrame(ctx context.Context, c *remote.Client, data []byte) error {
	if h.written.has(record.Sum(data)) {
		return nil // this daemon's own push, back from the remote
	}
	f, err := record.ParseFrame(data)
	if err != nil {
		return err
	}
	h.mu.Lock()
	o := h.objs[f.ID]
	so := h.stateObj
	h.mu.Unlock()
	if o == nil && so != nil && so.id == f.ID {
		o = so
	}
	if o == nil {
		return nil
	}
	h.mu.Lock()
	unshared := len(o.entry.Share) == 0 && !sameAddr(o.entry.Owner, h.keys.Fingerprint())
	h.mu.Unlock()
	if unshared && o != so {
		return nil // the owner stopped sharing: what follows is sealed for others
	}
	if !sameAddr(o.entry.Owner, f.Owner) {
		return service.Errorf(service.KindPermissionDenied, "frame of %s signed for %s, not its owner", f.ID, f.Owner)
	}
	o.mu.Lock()
	if err := h.loadHead(ctx, o); err != nil {
		o.mu.Unlock()
		return err
	}
	if o.head != nil && f.Counter <= o.head.Counter {
		o.mu.Unlock()
		return nil // this daemon's own push, or one it has
	}
	o.mu.Unlock()
	owner, err := h.identity(ctx, c, f.Owner)
	if err != nil {
		return err
	}
	if err := f.Check(owner, time.Now()); err != nil {
		return err
	}
	o.mu.Lock()
	if o.head != nil && f.Counter <= o.head.Counter {
		o.mu.Unlock()
		return nil
	}
	if err := h.storeFrame(ctx, c, f); err != nil {
		o.mu.Unlock()
		return err
	}
	o.head = f
	o.mu.Unlock()
	if o == so {
		return h.reloadState(ctx)
	}
	h.mu.Lock()
	api := o.entry.API
	h.mu.Unlock()
	h.emit(Event{Kind: EventUpdate, Object: f.ID, API: api, Owner: f.Owner, Counter: f.Counter})
	return nil
}

// storeFrame stores a checked frame and its container from c. A frame
// that does not follow the store's head (the remote collected the frames
// between) leaves the head where it is; its content is stored all the
// same.
func (h *Hub) storeFrame(ctx context.Context, c *remote.Client, f *record.Frame) error {
	cdata, err := readContainer(ctx, c, f.Target)
	if err != nil {
		return err
	}
	ci := store.Item{Meta: store.Meta{Addr: f.Target.Bytes(), Kind: store.KindContainer, Owner: f.Owner.Bytes(), Size: int64(len(cdata))}, Body: bytes.NewReader(cdata)}
	_, err = h.st.PutAll(ctx, []store.Item{ci, frameItem(f)})
	if errors.Is(err, store.ErrGap) || errors.Is(err, store.ErrFork) || errors.Is(err, store.ErrStale) {
		h.log.Debug("frame stored apart from its chain", "object", f.ID, "counter", f.Counter, "err", err)
		ci.Body = bytes.NewReader(cdata)
		_, err = h.st.Put(ctx, ci.Meta, ci.Body)
	}
	return err
}

// reloadState reads the account object again after another device
// changed it, and takes the objects that device added.
func (h *Hub) reloadState(ctx context.Context) error {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	so := h.stateObj
	h.mu.Unlock()
	so.mu.Lock()
	content, err := h.content(ctx, so)
	so.mu.Unlock()
	if err != nil {
		return err
	}
	state, err := decodeAccountState(content)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	known := map[record.Address]bool{}
	for _, e := range h.state.Objects {
		if a, err := addrOf(e.ID); err == nil {
			known[a] = true
		}
	}
	for _, e := range state.Objects {
		id, err := addrOf(e.ID)
		if err != nil || known[id] {
			continue
		}
		h.state.Objects = append(h.state.Objects, e)
		h.objs[id] = &object{id: id, entry: e}
	}
	h.state.Devices = state.Devices
	h.notifyChangedLocked()
	return nil
}

// receiveShare takes a share from the mailbox: its key is added to the
// object it opens, which the account follows from then on.
func (h *Hub) receiveShare(ctx context.Context, c *remote.Client, data []byte) error {
	sh, err := record.ParseShare(data)
	if err != nil {
		return err
	}
	h.mu.Lock()
	keys := h.keys
	h.mu.Unlock()
	if keys == nil || sh.Recipient != keys.Fingerprint() {
		return nil
	}
	sender, err := h.identity(ctx, c, sh.Owner)
	if err != nil {
		return err
	}
	g, err := keys.OpenShare(sh, sender, time.Now())
	if err != nil {
		return err
	}
	if g.API == AccountAPI {
		return nil
	}
	h.writeMu.Lock()
	h.mu.Lock()
	o := h.objs[g.Target]
	h.mu.Unlock()
	var items []store.Item
	fresh := o == nil
	if fresh {
		e := &objectEntry{ID: g.Target.Bytes(), API: g.API, Owner: sh.Owner.Bytes()}
		o = &object{id: g.Target, entry: e, loaded: true}
		tdata, err := c.Get(ctx, g.Target)
		if err == nil {
			if f, ferr := record.ParseFrame(tdata); ferr == nil {
				if f.ID != g.Target || f.Owner != sh.Owner {
					h.writeMu.Unlock()
					return service.Errorf(service.KindPermissionDenied, "a share names %s, which is not the sender's", g.Target)
				}
				if err := f.Check(sender, time.Now()); err != nil {
					h.writeMu.Unlock()
					return err
				}
				e.Dynamic = true
				if err := h.storeFrame(ctx, c, f); err != nil {
					h.writeMu.Unlock()
					return err
				}
				o.head = f
			}
		}
		if !e.Dynamic {
			cdata, err := readContainer(ctx, c, g.Target)
			if err != nil {
				h.writeMu.Unlock()
				return err
			}
			items = append(items, store.Item{Meta: store.Meta{Addr: g.Target.Bytes(), Kind: store.KindContainer, Owner: sh.Owner.Bytes(), Size: int64(len(cdata))}, Body: bytes.NewReader(cdata)})
		}
	}
	h.mu.Lock()
	e := o.entry
	if !fresh && slicesHasEpoch(e.Keys, g.Epoch) {
		// A share seen before (a change read again after a restart), or
		// one that brings no new key: nothing changes.
		h.mu.Unlock()
		h.writeMu.Unlock()
		return nil
	}
	e.Keys = append(e.Keys, fromKey(g.EpochKey()))
	e.Share = sh.Address().Bytes()
	e.Deleted = false
	if fresh {
		h.objs[o.id] = o
		h.state.Objects = append(h.state.Objects, e)
	}
	h.notifyChangedLocked()
	h.mu.Unlock()
	err = h.commitLocked(ctx, items)
	h.writeMu.Unlock()
	if err != nil {
		return err
	}
	if fresh {
		h.shareArrived(ctx, Event{Kind: EventShare, Object: o.id, API: g.API, Owner: sh.Owner, From: sh.Owner})
	}
	return nil
}

func slicesHasEpoch(ks []keyEntry, epoch uint64) bool {
	for _, k := range ks {
		if k.Epoch == epoch {
			return true
		}
	}
	return false
}

// receiveDebinding takes a deletion: of a followed object by its owner,
// or of the share that gave this account an object's key (an unshare).
func (h *Hub) receiveDebinding(ctx context.Context, c *remote.Client, data []byte) error {
	b, err := record.ParseBinding(data)
	if err != nil || b.Kind != record.KindDebinding {
		return err
	}
	owner, err := h.identity(ctx, c, b.Owner)
	if err != nil {
		return err
	}
	if err := b.CheckOwner(owner, time.Now()); err != nil {
		return err
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	var hit *object
	kind := EventDelete
	if o := h.objs[b.Target]; o != nil && sameAddr(o.entry.Owner, b.Owner) && !o.entry.Deleted {
		hit = o
		o.entry.Deleted = true
	} else {
		for _, o := range h.objs {
			if sameAddr(o.entry.Share, b.Target) && sameAddr(o.entry.Owner, b.Owner) {
				hit, kind = o, EventUnshare
				o.entry.Share = nil
				break
			}
		}
	}
	if hit == nil {
		h.mu.Unlock()
		return nil
	}
	api := hit.entry.API
	h.notifyChangedLocked()
	h.mu.Unlock()
	if err := h.commitLocked(ctx, nil); err != nil {
		return err
	}
	h.emit(Event{Kind: kind, Object: hit.id, API: api, Owner: b.Owner})
	return nil
}

// fetchContainer copies the container t from the first remote that has
// it into the store.
func (h *Hub) fetchContainer(ctx context.Context, t record.Address, owner []byte) error {
	var errs []error
	for _, l := range h.links {
		c, err := l.client(ctx)
		if err == nil {
			var data []byte
			if data, err = readContainer(ctx, c, t); err == nil {
				_, err = h.st.Put(ctx, store.Meta{Addr: t.Bytes(), Kind: store.KindContainer, Owner: owner, Size: int64(len(data))}, bytes.NewReader(data))
				if err == nil {
					return nil
				}
			}
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return service.Errorf(service.KindNotFound, "container %s is not stored here and no remote is configured", t)
	}
	return errors.Join(errs...)
}

// fetchHead copies the newest frame of the dynamic object o, and its
// content, from the first remote that has it into the store.
func (h *Hub) fetchHead(ctx context.Context, o *object) (*record.Frame, error) {
	errs := []error{service.Errorf(service.KindNotFound, "no remote has object %s", o.id)}
	owner, err := addrOf(o.entry.Owner)
	if err != nil {
		return nil, err
	}
	for _, l := range h.links {
		c, err := l.client(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		data, err := c.Get(ctx, o.id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, err := record.ParseFrame(data)
		if err != nil {
			return nil, err
		}
		id, err := h.identity(ctx, c, owner)
		if err != nil {
			return nil, err
		}
		if f.ID != o.id || f.Owner != owner {
			return nil, service.Errorf(service.KindPermissionDenied, "the remote answered another object than %s", o.id)
		}
		if err := f.Check(id, time.Now()); err != nil {
			return nil, err
		}
		if err := h.storeFrame(ctx, c, f); err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, errors.Join(errs...)
}

// recentSet remembers the addresses of the last frames this daemon
// wrote, so that their echoes from the remotes cost a hash instead of a
// signature check.
type recentSet struct {
	mu   sync.Mutex // guards all
	set  map[record.Address]struct{}
	ring []record.Address
	next int
}

const recentFrames = 4096

func (r *recentSet) add(a record.Address) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil {
		r.set, r.ring = map[record.Address]struct{}{}, make([]record.Address, recentFrames)
	}
	delete(r.set, r.ring[r.next])
	r.ring[r.next] = a
	r.set[a] = struct{}{}
	r.next = (r.next + 1) % recentFrames
}

func (r *recentSet) has(a record.Address) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.set[a]
	return ok
}
