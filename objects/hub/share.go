package hub

import (
	"context"
	"errors"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/service"
)

// owned returns the object id, which the account must own.
func (h *Hub) owned(id record.Address, op string) (*object, *record.Signer, record.Address, error) {
	o, err := h.obj(id)
	if err != nil {
		return nil, nil, record.Address{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	me := h.keys.Fingerprint()
	if !sameAddr(o.entry.Owner, me) {
		return nil, nil, me, service.Errorf(service.KindPermissionDenied, "%s: object %s belongs to another identity", op, id)
	}
	if o.entry.Deleted {
		return nil, nil, me, service.Errorf(service.KindNotFound, "%s: object %s was deleted", op, id)
	}
	return o, h.signer, me, nil
}

// recipient finds the identity fp on the remotes (an identity is there
// once it has logged in to one).
func (h *Hub) recipient(ctx context.Context, fp record.Address) (*record.Identity, error) {
	h.mu.Lock()
	id := h.idents[fp]
	h.mu.Unlock()
	if id != nil {
		return id, nil
	}
	errs := []error{service.Errorf(service.KindNotFound, "identity %s is on no remote", fp)}
	for _, l := range h.links {
		c, err := l.client(ctx)
		if err == nil {
			if id, err = h.identity(ctx, c, fp); err == nil {
				return id, nil
			}
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// Share gives the identity to read access to the object id, which the
// account owns: a share envelope with the object's newest key goes to its
// mailbox through the outbox, and every later state reaches it. A private
// object is not shared.
func (h *Hub) Share(ctx context.Context, id, to record.Address) error {
	o, signer, me, err := h.owned(id, "share")
	if err != nil {
		return err
	}
	if to == me {
		return service.Errorf(service.KindInvalid, "share: %s is this account", to)
	}
	h.mu.Lock()
	private, api := o.entry.App != "", o.entry.API
	h.mu.Unlock()
	if private {
		return service.Errorf(service.KindPermissionDenied, "share: object %s is private to its application", id)
	}
	rid, err := h.recipient(ctx, to)
	if err != nil {
		return err
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	keys := toKeys(o.entry.Keys)
	h.mu.Unlock()
	key := keys[len(keys)-1]
	sh, err := record.NewShare(signer, rid, &record.Grant{Target: id, API: api, Epoch: key.Epoch, Key: key.Key}, time.Now())
	if err != nil {
		return err
	}
	h.mu.Lock()
	e := o.entry
	found := false
	for i := range e.Readers {
		if sameAddr(e.Readers[i].Identity, to) {
			if len(e.Readers[i].Share) > 0 {
				e.Old = append(e.Old, e.Readers[i].Share)
			}
			e.Readers[i].Share, found = sh.Address().Bytes(), true
		}
	}
	if !found {
		e.Readers = append(e.Readers, readerEntry{Identity: to.Bytes(), Share: sh.Address().Bytes()})
	}
	h.notifyChangedLocked()
	h.mu.Unlock()
	return h.commitLocked(ctx, []store.Item{shareItem(sh)})
}

// Unshare takes read access to the object id away from the identity
// from: its share is deleted and, for a dynamic object, a new epoch
// starts whose key goes to the other readers only, so from's daemon can
// open no later state.
func (h *Hub) Unshare(ctx context.Context, id, from record.Address) error {
	o, signer, _, err := h.owned(id, "unshare")
	if err != nil {
		return err
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	e := o.entry
	var gone []byte
	var stay []record.Address
	for _, r := range e.Readers {
		a, _ := addrOf(r.Identity)
		switch {
		case sameAddr(r.Identity, from) && len(r.Share) > 0:
			gone = r.Share
		case len(r.Share) > 0:
			stay = append(stay, a)
		}
	}
	keys := toKeys(e.Keys)
	dynamic, api := e.Dynamic, e.API
	h.mu.Unlock()
	if gone == nil {
		return service.Errorf(service.KindNotFound, "unshare: object %s is not shared with %s", id, from)
	}
	goneAddr, _ := addrOf(gone)
	d, err := record.NewBinding(signer, record.KindDebinding, goneAddr, time.Now())
	if err != nil {
		return err
	}
	items := []store.Item{bindingItem(d, from.Bytes())}
	shares := map[record.Address][]byte{}
	var next record.EpochKey
	if dynamic {
		next = keys[len(keys)-1].Next()
		for _, r := range stay {
			rid, err := h.recipient(ctx, r)
			if err != nil {
				return err
			}
			sh, err := record.NewShare(signer, rid, &record.Grant{Target: id, API: api, Epoch: next.Epoch, Key: next.Key}, time.Now())
			if err != nil {
				return err
			}
			items = append(items, shareItem(sh))
			shares[r] = sh.Address().Bytes()
		}
	}
	h.mu.Lock()
	if dynamic {
		e.Keys = append(e.Keys, fromKey(next))
	}
	e.Old = append(e.Old, gone)
	for i := range e.Readers {
		r := &e.Readers[i]
		a, _ := addrOf(r.Identity)
		switch {
		case sameAddr(r.Identity, from):
			r.Share = nil
		case shares[a] != nil:
			e.Old = append(e.Old, r.Share)
			r.Share = shares[a]
		}
	}
	h.notifyChangedLocked()
	h.mu.Unlock()
	return h.commitLocked(ctx, items)
}

// Delete deletes the object id, which the account owns, everywhere: a
// debinding of a dynamic object (or of a static object's binding) reaches
// the remotes and every reader's daemon, which reports it. What others
// hold ([Hub.Hold]) stays readable for them.
func (h *Hub) Delete(ctx context.Context, id record.Address) error {
	o, signer, _, err := h.owned(id, "delete")
	if err != nil {
		return err
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	target := id
	if !o.entry.Dynamic {
		target, _ = addrOf(o.entry.Binding)
	}
	api := o.entry.API
	h.mu.Unlock()
	d, err := record.NewBinding(signer, record.KindDebinding, target, time.Now())
	if err != nil {
		return err
	}
	h.mu.Lock()
	o.entry.Deleted = true
	o.entry.Old = append(o.entry.Old, d.Address().Bytes())
	h.notifyChangedLocked()
	h.mu.Unlock()
	if err := h.commitLocked(ctx, []store.Item{bindingItem(d, nil)}); err != nil {
		return err
	}
	me, _ := h.Whoami()
	h.emit(Event{Kind: EventDelete, Object: id, API: api, Owner: me, Origin: "local"})
	return nil
}

// Hold keeps someone else's object id alive for this account even after
// its owner deletes it: a hold record on the remotes keeps its newest
// state, which stays readable here.
func (h *Hub) Hold(ctx context.Context, id record.Address) error {
	o, err := h.obj(id)
	if err != nil {
		return err
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	signer := h.signer
	held := len(o.entry.Hold) > 0
	h.mu.Unlock()
	if held {
		return nil
	}
	b, err := record.NewBinding(signer, record.KindHold, id, time.Now())
	if err != nil {
		return err
	}
	h.mu.Lock()
	o.entry.Hold = b.Address().Bytes()
	h.notifyChangedLocked()
	h.mu.Unlock()
	return h.commitLocked(ctx, []store.Item{bindingItem(b, nil)})
}

// Freeze makes a static snapshot of the dynamic object id's current
// state and returns its address: the current container, bound by this
// account, readable with the same key by everyone who reads the object.
func (h *Hub) Freeze(ctx context.Context, id record.Address) (record.Address, error) {
	o, err := h.obj(id)
	if err != nil {
		return record.Address{}, err
	}
	o.mu.Lock()
	err = h.loadHead(ctx, o)
	t, ok := o.target()
	o.mu.Unlock()
	if err != nil {
		return record.Address{}, err
	}
	h.mu.Lock()
	e := *o.entry
	signer, me := h.signer, h.keys.Fingerprint()
	h.mu.Unlock()
	if !e.Dynamic {
		return id, nil
	}
	if !ok {
		return record.Address{}, service.Errorf(service.KindNotFound, "freeze: object %s has no state here", id)
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	b, err := record.NewBinding(signer, record.KindBinding, t, time.Now())
	if err != nil {
		return record.Address{}, err
	}
	ne := &objectEntry{ID: t.Bytes(), API: e.API, Owner: me.Bytes(), Keys: e.Keys, Binding: b.Address().Bytes()}
	h.mu.Lock()
	if h.objs[t] == nil {
		h.objs[t] = &object{id: t, entry: ne, loaded: true}
		h.state.Objects = append(h.state.Objects, ne)
	}
	h.notifyChangedLocked()
	h.mu.Unlock()
	if err := h.ensureContainer(ctx, t, e.Owner); err != nil {
		return record.Address{}, err
	}
	return t, h.commitLocked(ctx, []store.Item{bindingItem(b, nil)})
}

// ensureContainer makes sure the store holds the container t.
func (h *Hub) ensureContainer(ctx context.Context, t record.Address, owner []byte) error {
	if _, err := h.st.Stat(ctx, t.Bytes()); err == nil {
		return nil
	}
	return h.fetchContainer(ctx, t, owner)
}

// Discard stops tracking the object id on this account: nothing is
// published, and its changes are no longer followed or reported. What
// the account wrote of it before still reaches the remotes.
func (h *Hub) Discard(ctx context.Context, id record.Address) error {
	o, err := h.obj(id)
	if err != nil {
		return err
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	if e := o.entry; sameAddr(e.Owner, h.keys.Fingerprint()) || len(e.Hold) > 0 {
		h.state.Retired = append(h.state.Retired, e.ID)
		for _, r := range e.Readers {
			if len(r.Share) > 0 {
				h.state.Retired = append(h.state.Retired, r.Share)
			}
		}
		h.state.Retired = append(h.state.Retired, e.Old...)
		for _, b := range [][]byte{e.Binding, e.Hold} {
			if len(b) > 0 {
				h.state.Retired = append(h.state.Retired, b)
			}
		}
	}
	delete(h.objs, id)
	for i, e := range h.state.Objects {
		if sameAddr(e.ID, id) {
			h.state.Objects = append(h.state.Objects[:i], h.state.Objects[i+1:]...)
			break
		}
	}
	h.notifyChangedLocked()
	h.mu.Unlock()
	return h.commitLocked(ctx, nil)
}

// Sync asks the remotes for the newest frame of the object id at once,
// instead of waiting for it to be pushed.
func (h *Hub) Sync(ctx context.Context, id record.Address) error {
	o, err := h.obj(id)
	if err != nil {
		return err
	}
	h.mu.Lock()
	dynamic := o.entry.Dynamic
	h.mu.Unlock()
	if !dynamic || len(h.links) == 0 {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	f, err := h.fetchHead(ctx, o)
	if err != nil {
		return err
	}
	if o.head == nil || f.Counter > o.head.Counter {
		o.head, o.loaded = f, true
	}
	return nil
}
