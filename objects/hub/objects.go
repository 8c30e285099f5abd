package hub

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// MaxState bounds an object's state as the daemon handles it in memory.
const MaxState = 64 << 20

// object is an object the account owns or reads.
type object struct {
	id    record.Address
	entry *objectEntry // in the account state; guarded by Hub.mu

	mu     sync.Mutex // guards head and loaded
	head   *record.Frame
	loaded bool

	qmu     sync.Mutex // guards queue and writing
	queue   []*pushReq // pushes waiting for a writer
	writing bool       // a push is writing the queue
}

// Info describes an object.
type Info struct {
	ID      record.Address
	Dynamic bool
	API     string
	Owner   record.Address
	Counter uint64 // a dynamic object's newest frame
	Epoch   uint64 // the newest key's epoch
	Readers []record.Address
	App     string // the application a private object belongs to
	Held    bool
	Deleted bool
}

// obj returns the object with id, or a KindNotFound error.
func (h *Hub) obj(id record.Address) (*object, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.keys == nil {
		return nil, service.Errorf(service.KindNotFound, "%v", ErrNoAccount)
	}
	o := h.objs[id]
	if o == nil {
		return nil, service.Errorf(service.KindNotFound, "no object %s", id)
	}
	return o, nil
}

func (h *Hub) infoLocked(o *object) Info {
	e := o.entry
	in := Info{ID: o.id, Dynamic: e.Dynamic, API: e.API, App: e.App, Held: len(e.Hold) > 0, Deleted: e.Deleted}
	in.Owner, _ = addrOf(e.Owner)
	if n := len(e.Keys); n > 0 {
		in.Epoch = e.Keys[n-1].Epoch
	}
	for _, r := range e.Readers {
		if a, err := addrOf(r.Identity); err == nil && len(r.Share) > 0 {
			in.Readers = append(in.Readers, a)
		}
	}
	return in
}

// loadHead finds the newest frame of a dynamic object that the store
// holds, once.
func (h *Hub) loadHead(ctx context.Context, o *object) error {
	if o.loaded || !o.entry.Dynamic {
		return nil
	}
	m, err := h.st.Head(ctx, o.id.Bytes())
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Not here yet (a new device, or an object shared while the store
		// lagged): from a remote, when one answers.
		f, err := h.fetchHead(ctx, o)
		if err != nil {
			h.log.Debug("no frame of the object yet", "object", o.id, "err", err)
			return nil
		}
		o.head, o.loaded = f, true
		return nil
	case errors.Is(err, store.ErrDebound):
		o.loaded = true
		return nil
	case err != nil:
		return err
	}
	f, err := h.readFrame(ctx, m.Addr)
	if err != nil {
		return err
	}
	o.head, o.loaded = f, true
	return nil
}

func (h *Hub) readFrame(ctx context.Context, addr store.Addr) (*record.Frame, error) {
	_, body, err := h.st.Get(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, 1<<20))
	if err != nil {
		return nil, err
	}
	return record.ParseFrame(data)
}

// target returns the container holding o's current state.
func (o *object) target() (record.Address, bool) {
	if !o.entry.Dynamic {
		return o.id, true
	}
	if o.head == nil {
		return record.Address{}, false
	}
	return o.head.Target, true
}

// content opens o's current state from the store. The caller holds o.mu
// or owns o alone.
func (h *Hub) content(ctx context.Context, o *object) ([]byte, error) {
	t, ok := o.target()
	if !ok {
		return nil, service.Errorf(service.KindNotFound, "object %s has no state here yet", o.id)
	}
	_, body, err := h.st.Get(ctx, t.Bytes())
	if errors.Is(err, store.ErrNotFound) {
		if err := h.fetchContainer(ctx, t, o.entry.Owner); err != nil {
			return nil, err
		}
		_, body, err = h.st.Get(ctx, t.Bytes())
	}
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var buf bytes.Buffer
	if _, err := record.Open(&limitWriter{w: &buf, n: MaxState}, body, t, toKeys(o.entry.Keys)...); err != nil {
		return nil, service.Errorf(service.KindPermissionDenied, "object %s: %v", o.id, err)
	}
	return buf.Bytes(), nil
}

// limitWriter fails a write past n bytes.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, service.Errorf(service.KindTooLarge, "state over %d bytes", MaxState)
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// sealed is a container ready to store.
type sealed struct {
	addr record.Address
	data []byte
}

func seal(state []byte, key record.EpochKey) (sealed, error) {
	if len(state) > MaxState {
		return sealed{}, service.Errorf(service.KindTooLarge, "state of %d bytes, over %d", len(state), MaxState)
	}
	var buf bytes.Buffer
	addr, err := record.Seal(&buf, bytes.NewReader(state), key)
	return sealed{addr, buf.Bytes()}, err
}

// Items of records for the store, with the metadata a remote would
// extract from them.

func (s sealed) item(owner record.Address) store.Item {
	return store.Item{Meta: store.Meta{Addr: s.addr.Bytes(), Kind: store.KindContainer, Owner: owner.Bytes(), Size: int64(len(s.data))}, Body: bytes.NewReader(s.data)}
}

func frameItem(f *record.Frame) store.Item {
	h := f.Hash()
	m := store.Meta{Addr: h.Bytes(), Kind: store.KindFrame, Owner: f.Owner.Bytes(), Object: f.ID.Bytes(), Counter: f.Counter,
		Targets: []store.Addr{f.Target.Bytes()}, Size: int64(len(f.Bytes()))}
	if f.Prev != nil {
		m.Prev = f.Prev.Bytes()
	}
	return store.Item{Meta: m, Body: bytes.NewReader(f.Bytes())}
}

func bindingItem(b *record.Binding, recipient []byte) store.Item {
	m := store.Meta{Addr: b.Address().Bytes(), Owner: b.Owner.Bytes(), Object: b.Target.Bytes(), Size: int64(len(b.Bytes()))}
	if b.Kind == record.KindDebinding {
		m.Kind, m.Recipient = store.KindDebinding, recipient
	} else {
		m.Kind, m.Targets = store.KindBinding, []store.Addr{b.Target.Bytes()}
	}
	return store.Item{Meta: m, Body: bytes.NewReader(b.Bytes())}
}

func shareItem(sh *record.Share) store.Item {
	return store.Item{Meta: store.Meta{Addr: sh.Address().Bytes(), Kind: store.KindShare, Owner: sh.Owner.Bytes(),
		Recipient: sh.Recipient.Bytes(), Size: int64(len(sh.Bytes()))}, Body: bytes.NewReader(sh.Bytes())}
}

// New makes an object owned by the account with state as its first
// state and returns its id: a dynamic object's stable id, or a static
// object's container address. app names the application that makes it
// (empty for none); private makes the object that application's only,
// never shared nor shown to others. The object is durable when New
// returns; the share handlers of its API id hear of a public one.
func (h *Hub) New(ctx context.Context, api string, state []byte, dynamic, private bool, app string) (record.Address, error) {
	id, err := h.newObject(ctx, api, state, dynamic, private, app)
	if err == nil && !private {
		me, _ := h.Whoami()
		h.emit(Event{Kind: EventShare, Object: id, API: api, Owner: me, From: me, Origin: app})
	}
	return id, err
}

func (h *Hub) newObject(ctx context.Context, api string, state []byte, dynamic, private bool, app string) (record.Address, error) {
	if private && app == "" {
		return record.Address{}, service.Errorf(service.KindInvalid, "a private object belongs to an application")
	}
	if !private {
		app = ""
	}
	if api == "" || len(api) > 255 {
		return record.Address{}, service.Errorf(service.KindInvalid, "an API id is 1 to 255 bytes")
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	keys, signer := h.keys, h.signer
	h.mu.Unlock()
	if keys == nil {
		return record.Address{}, service.Errorf(service.KindNotFound, "%v", ErrNoAccount)
	}
	key := record.NewEpochKey(0)
	c, err := seal(state, key)
	if err != nil {
		return record.Address{}, err
	}
	me := keys.Fingerprint()
	items := []store.Item{c.item(me)}
	e := &objectEntry{Dynamic: dynamic, API: api, Owner: me.Bytes(), Keys: []keyEntry{fromKey(key)}, App: app}
	o := &object{entry: e, loaded: true}
	if dynamic {
		f, err := record.NewDynamic(signer, c.addr, time.Time{})
		if err != nil {
			return record.Address{}, err
		}
		o.id, o.head = f.ID, f
		items = append(items, frameItem(f))
	} else {
		b, err := record.NewBinding(signer, record.KindBinding, c.addr, time.Now())
		if err != nil {
			return record.Address{}, err
		}
		o.id = c.addr
		e.Binding = b.Address().Bytes()
		items = append(items, bindingItem(b, nil))
	}
	e.ID = o.id.Bytes()
	h.mu.Lock()
	if old := h.objs[o.id]; old != nil {
		// Two static objects of the same state and key cannot happen: the
		// key is random.
		h.mu.Unlock()
		return o.id, nil
	}
	h.objs[o.id] = o
	h.state.Objects = append(h.state.Objects, e)
	h.notifyChangedLocked()
	h.mu.Unlock()
	if err := h.commitLocked(ctx, items); err != nil {
		return record.Address{}, err
	}
	return o.id, nil
}

// Push makes state the new state of the dynamic object id, which the
// account owns; it is durable when Push returns, and reaches the remotes
// and the object's readers from the outbox. origin names the application
// that pushes, for the events other applications get.
func (h *Hub) Push(ctx context.Context, id record.Address, state []byte, origin string) (uint64, error) {
	o, err := h.obj(id)
	if err != nil {
		return 0, err
	}
	h.mu.Lock()
	signer, me := h.signer, h.keys.Fingerprint()
	e := o.entry
	owned, dynamic, deleted := sameAddr(e.Owner, me), e.Dynamic, e.Deleted
	keys := toKeys(e.Keys)
	api := e.API
	h.mu.Unlock()
	switch {
	case !dynamic:
		return 0, service.Errorf(service.KindConflict, "object %s is static: it never changes", id)
	case !owned:
		return 0, service.Errorf(service.KindPermissionDenied, "object %s belongs to another identity: only its owner pushes", id)
	case deleted:
		return 0, service.Errorf(service.KindNotFound, "object %s was deleted", id)
	}
	c, err := seal(state, keys[len(keys)-1])
	if err != nil {
		return 0, err
	}
	req := &pushReq{ctx: ctx, c: c, done: make(chan struct{})}
	o.qmu.Lock()
	o.queue = append(o.queue, req)
	lead := !o.writing
	o.writing = true
	o.qmu.Unlock()
	if lead {
		h.writePushes(o, signer, me)
	}
	<-req.done
	if req.err != nil {
		return 0, req.err
	}
	h.emit(Event{Kind: EventUpdate, Object: id, API: api, Owner: me, Counter: req.counter, Origin: origin})
	return req.counter, nil
}

// A pushReq is one push waiting for its frame and its commit.
type pushReq struct {
	ctx     context.Context
	c       sealed
	counter uint64
	err     error
	done    chan struct{}
}

// writePushes writes the pushes queued on o until none is left: those
// that queued while a commit was syncing are chained and stored with one
// commit, so that an application with several pushes in flight waits
// for one sync instead of one each. The push that found no writer
// running writes for the others.
func (h *Hub) writePushes(o *object, signer *record.Signer, me record.Address) {
	for {
		o.qmu.Lock()
		batch := o.queue
		o.queue = nil
		if len(batch) == 0 {
			o.writing = false
			o.qmu.Unlock()
			return
		}
		o.qmu.Unlock()
		o.mu.Lock()
		err := h.loadHead(batch[0].ctx, o)
		if err == nil && o.head == nil {
			err = service.Errorf(service.KindNotFound, "object %s has no frame here", o.id)
		}
		var items []store.Item
		var reqs []*pushReq
		var frames []*record.Frame
		head := o.head
		for _, r := range batch {
			// Every request is answered: failed ones here, the others
			// after the commit.
			if err == nil && r.ctx.Err() == nil {
				f, ferr := head.Next(signer, r.c.addr, time.Time{})
				if ferr == nil {
					items = append(items, r.c.item(me), frameItem(f))
					r.counter, head = f.Counter, f
					reqs, frames = append(reqs, r), append(frames, f)
					continue
				}
				r.err = ferr
			} else if err != nil {
				r.err = err
			} else {
				r.err = r.ctx.Err()
			}
			close(r.done)
		}
		if len(items) > 0 {
			// The store's context is the daemon's: a caller that gives up
			// leaves its push to be written with the others.
			puts, werr := h.st.PutAll(h.ctx, items)
			// A push is done when both its records are stored; those
			// after a refused record are not.
			stored := len(reqs)
			if werr != nil {
				stored = len(puts) / 2
			}
			for _, r := range reqs[stored:] {
				r.err = werr
			}
			if stored > 0 {
				o.head = frames[stored-1]
			}
			for _, f := range frames[:stored] {
				h.written.add(f.Hash())
			}
			for i, r := range reqs[:stored] {
				h.recent.add(r.c.addr.Bytes(), store.KindContainer, r.c.data)
				h.recent.add(frames[i].Hash().Bytes(), store.KindFrame, frames[i].Bytes())
			}
		}
		o.mu.Unlock()
		for _, r := range reqs {
			close(r.done)
		}
	}
}

// State returns the current state of the object id and what the daemon
// knows of it: KindNotFound once its owner deleted it, unless this
// account holds it ([Hub.Hold]).
func (h *Hub) State(ctx context.Context, id record.Address) ([]byte, Info, error) {
	o, err := h.obj(id)
	if err != nil {
		return nil, Info{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := h.loadHead(ctx, o); err != nil {
		return nil, Info{}, err
	}
	h.mu.Lock()
	in := h.infoLocked(o)
	h.mu.Unlock()
	if o.head != nil {
		in.Counter = o.head.Counter
	}
	if in.Deleted && !in.Held {
		return nil, in, service.Errorf(service.KindNotFound, "object %s was deleted", id)
	}
	// A held object keeps the state it had when its owner deleted it.
	data, err := h.content(ctx, o)
	return data, in, err
}

// Objects returns what the daemon knows of every object of the account.
func (h *Hub) Objects() []Info {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Info
	for _, o := range h.objs {
		out = append(out, h.infoLocked(o))
	}
	return out
}

// commitLocked stores items with the account object's next frame, in one
// durable commit. The caller holds writeMu and has changed h.state.
func (h *Hub) commitLocked(ctx context.Context, items []store.Item) error {
	h.mu.Lock()
	data, err := wire.Marshal(h.state)
	so, signer, me := h.stateObj, h.signer, h.keys.Fingerprint()
	keys := toKeys(so.entry.Keys)
	h.mu.Unlock()
	if err != nil {
		return err
	}
	c, err := seal(data, keys[len(keys)-1])
	if err != nil {
		return err
	}
	so.mu.Lock()
	defer so.mu.Unlock()
	var f *record.Frame
	if so.head == nil {
		f, err = record.NewDynamic(signer, c.addr, time.Time{})
	} else {
		f, err = so.head.Next(signer, c.addr, time.Time{})
	}
	if err != nil {
		return err
	}
	items = append(items, c.item(me), frameItem(f))
	if _, err := h.st.PutAll(ctx, items); err != nil {
		return err
	}
	so.head, so.loaded = f, true
	return nil
}
