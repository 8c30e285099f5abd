package hub

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/remote"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/service"
)

// maxBatchBytes bounds the records of one publish call the outbox makes,
// under the remote's default limit; larger containers are uploaded in
// chunks.
const maxBatchBytes = 3 << 20

// link keeps the daemon in step with one remote: one goroutine drains
// the outbox to it, another follows its changes.
type link struct {
	h   *Hub
	cfg RemoteConfig

	mu      sync.Mutex // guards c, started, lastErr
	c       *remote.Client
	started bool
	lastErr error
}

func newLink(h *Hub, rc RemoteConfig) *link { return &link{h: h, cfg: rc} }

func (l *link) clientOptions() []remote.ClientOption {
	if l.cfg.Name != "" {
		return []remote.ClientOption{remote.WithServerName(l.cfg.Name)}
	}
	return nil
}

// client returns the link's client, logged in as the account's device.
func (l *link) client(ctx context.Context) (*remote.Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c != nil {
		return l.c, nil
	}
	l.h.mu.Lock()
	keys, signer := l.h.keys, l.h.signer
	l.h.mu.Unlock()
	if keys == nil {
		return nil, service.Errorf(service.KindNotFound, "%v", ErrNoAccount)
	}
	c, err := remote.Dial(ctx, l.cfg.URL, keys.Identity, signer, l.clientOptions()...)
	if err != nil {
		return nil, err
	}
	l.c = c
	return c, nil
}

func (l *link) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c != nil {
		l.c.Close()
		l.c = nil
	}
}

func (l *link) setErr(err error) {
	l.mu.Lock()
	l.lastErr = err
	l.mu.Unlock()
}

// startLinks starts every link that has not started.
func (h *Hub) startLinks() {
	for _, l := range h.links {
		l.mu.Lock()
		start := !l.started
		l.started = true
		l.mu.Unlock()
		if start {
			h.wg.Add(2)
			go l.drainLoop()
			go l.followLoop()
		}
	}
}

// backoff waits before attempt n (from 0) to reach a remote again:
// doubling from the first wait up to the longest, with jitter.
func (h *Hub) backoff(ctx context.Context, n int) {
	d := h.backoffMin << min(n, 20)
	if d > h.backoffMax || d <= 0 {
		d = h.backoffMax
	}
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// transient reports whether a failed publish or read should be tried
// again later rather than given up: the remote was not reached or is
// busy, or an identity is over its quota.
func transient(err error) bool {
	if err == nil {
		return false
	}
	switch remote.ReasonOf(err) {
	case "":
		k := service.KindOf(err)
		return k != service.KindInvalid && k != service.KindPermissionDenied && k != service.KindNotFound
	case remote.ReasonOverloaded, remote.ReasonUnauthenticated, remote.ReasonQuota, remote.ReasonChallenge:
		return true
	}
	return false
}

// drainLoop publishes the outbox to the link's remote until the daemon
// closes.
func (l *link) drainLoop() {
	defer l.h.wg.Done()
	ctx := l.h.ctx
	fails := 0
	for ctx.Err() == nil {
		upTo, err := l.drainOnce(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.setErr(err)
			l.h.log.Warn("outbox: remote unreachable", "remote", l.cfg.URL, "err", err)
			if service.KindOf(err) == service.KindUnauthenticated {
				l.close()
			}
			l.h.backoff(ctx, fails)
			fails++
			continue
		}
		l.setErr(nil)
		fails = 0
		changed := l.h.objectsChanged()
		wctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-changed:
				cancel()
			case <-wctx.Done():
			}
		}()
		l.h.st.Wait(wctx, upTo)
		cancel()
	}
}

// drainOnce publishes what the outbox holds past the link's cursor and
// returns the local cursor it drained to.
func (l *link) drainOnce(ctx context.Context) (uint64, error) {
	cur, err := l.h.st.Cursor(ctx)
	if err != nil {
		return 0, err
	}
	since := l.h.cursors.get(l.cfg.URL).Drained
	if since >= cur {
		return cur, nil
	}
	ids, me := l.h.outboxIDs()
	metas, upTo, err := changesOf(ctx, l.h.st, ids, since, cur)
	if err != nil {
		return 0, err
	}
	metas = slices.DeleteFunc(metas, func(m store.Meta) bool { return !bytes.Equal(m.Owner, me[:]) })
	l.h.log.Debug("outbox: draining", "remote", l.cfg.URL, "since", since, "to", upTo, "records", len(metas))
	if len(metas) > 0 {
		c, err := l.client(ctx)
		if err != nil {
			return 0, err
		}
		if err := l.publish(ctx, c, metas); err != nil {
			return 0, err
		}
	}
	l.h.cursors.update(l.cfg.URL, func(c *cursors) { c.Drained = upTo })
	return upTo, nil
}

// changesOf returns the entries of st's log after since, up to upTo,
// whose object or address is one of ids, in order, and the cursor up to
// which the answer is complete.
func changesOf(ctx context.Context, st store.Store, ids []store.Addr, since, upTo uint64) ([]store.Meta, uint64, error) {
	var all []store.Meta
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), store.MaxQueryObjects)]
		ids = ids[len(chunk):]
		ms, err := st.Changes(ctx, store.Query{Objects: chunk, Since: since, Limit: store.MaxQueryLimit})
		if err != nil {
			return nil, 0, err
		}
		if len(ms) == store.MaxQueryLimit {
			upTo = min(upTo, ms[len(ms)-1].Seq)
		}
		all = append(all, ms...)
	}
	slices.SortFunc(all, func(a, b store.Meta) int { return cmp.Compare(a.Seq, b.Seq) })
	all = slices.CompactFunc(all, func(a, b store.Meta) bool { return a.Seq == b.Seq })
	all = slices.DeleteFunc(all, func(m store.Meta) bool { return m.Seq > upTo })
	return all, upTo, nil
}

// group is what one outbox entry publishes: the record, after the small
// containers it keeps alive; a large container is uploaded on its own.
type group struct {
	meta    store.Meta
	records [][]byte
	large   *store.Meta
	size    int
}

// publish publishes the outbox entries metas to c, in batches; a record
// the remote refuses for good is logged and skipped, a transient failure
// ends the call.
func (l *link) publish(ctx context.Context, c *remote.Client, metas []store.Meta) error {
	var batch []group
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := l.publishBatch(ctx, c, batch)
		batch, size = batch[:0], 0
		return err
	}
	for _, m := range metas {
		g, err := l.group(ctx, m)
		if err != nil {
			return err
		}
		if len(g.records) == 0 && g.large == nil {
			continue
		}
		if g.large != nil {
			if err := flush(); err != nil {
				return err
			}
			if err := l.publishLarge(ctx, c, g); err != nil {
				return err
			}
			continue
		}
		n := 0
		for _, b := range batch {
			n += len(b.records)
		}
		if n+len(g.records) > remote.MaxPublishRecords || size+g.size > maxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, g)
		size += g.size
	}
	return flush()
}

// group reads the records of one outbox entry from the store.
func (l *link) group(ctx context.Context, m store.Meta) (group, error) {
	g := group{meta: m}
	if m.Kind == store.KindFrame || m.Kind == store.KindBinding {
		for _, t := range m.Targets {
			if rec, ok := l.h.recent.get(t); ok {
				if rec.kind == store.KindContainer {
					g.records = append(g.records, rec.data)
					g.size += len(rec.data)
				}
				continue
			}
			tm, err := l.h.st.Stat(ctx, t)
			if errors.Is(err, store.ErrNotFound) {
				continue // a hold of an object whose container is elsewhere
			}
			if err != nil {
				return g, err
			}
			if tm.Kind != store.KindContainer {
				continue
			}
			if tm.Size > maxBatchBytes/2 {
				g.large = &tm
				continue
			}
			b, err := l.h.readRecord(ctx, t)
			if errors.Is(err, store.ErrNotFound) {
				continue // collected since: the remote has it, or needs it no more
			}
			if err != nil {
				return g, err
			}
			g.records = append(g.records, b)
			g.size += len(b)
		}
	}
	if rec, ok := l.h.recent.get(m.Addr); ok {
		g.records = append(g.records, rec.data)
		g.size += len(rec.data)
		return g, nil
	}
	b, err := l.h.readRecord(ctx, m.Addr)
	if errors.Is(err, store.ErrNotFound) {
		// Collected since it was listed (a frame a newer one replaced):
		// nothing to publish, and the outbox must not stop on it.
		l.h.log.Debug("outbox: a record was collected before it was published", "record", m.Addr)
		return group{meta: m}, nil
	}
	if err != nil {
		return g, err
	}
	g.records = append(g.records, b)
	g.size += len(b)
	return g, nil
}

func (l *link) publishBatch(ctx context.Context, c *remote.Client, batch []group) error {
	var all [][]byte
	for _, g := range batch {
		all = append(all, g.records...)
	}
	_, err := c.Publish(ctx, all...)
	if err == nil {
		for _, g := range batch {
			l.h.published(g.meta, nil)
		}
		return nil
	}
	if transient(err) {
		return err
	}
	// Find the refused records group by group; those the remote took are
	// answered as existing.
	for _, g := range batch {
		_, err := c.Publish(ctx, g.records...)
		if err != nil {
			if transient(err) {
				return err
			}
			l.h.log.Error("outbox: the remote refused a record; it is skipped", "remote", l.cfg.URL, "kind", g.meta.Kind, "record", g.meta.Addr, "err", err)
		}
		l.h.published(g.meta, err)
	}
	return nil
}

// published reports what became of a share the outbox published: an
// [EventShared] once the first remote took it, an [EventShareFailed] when
// a remote refused it for good. Other records report nothing.
func (h *Hub) published(m store.Meta, err error) {
	if m.Kind != store.KindShare {
		return
	}
	h.mu.Lock()
	if h.reported == nil {
		h.reported = map[string]bool{}
	}
	if h.reported[string(m.Addr)] {
		h.mu.Unlock()
		return
	}
	h.reported[string(m.Addr)] = true
	var ev *Event
	for _, o := range h.objs {
		for _, r := range o.entry.Readers {
			if bytes.Equal(r.Share, m.Addr) {
				ev = &Event{Kind: EventShared, Object: o.id, API: o.entry.API}
				ev.Owner, _ = addrOf(o.entry.Owner)
				ev.To, _ = addrOf(r.Identity)
			}
		}
	}
	h.mu.Unlock()
	if ev == nil {
		return // a share to a login identity, or one replaced since
	}
	if err != nil {
		ev.Kind, ev.Err = EventShareFailed, err.Error()
	}
	h.emit(*ev)
}

func (l *link) publishLarge(ctx context.Context, c *remote.Client, g group) error {
	_, body, err := l.h.st.Get(ctx, g.large.Addr)
	if err != nil {
		return err
	}
	defer body.Close()
	addr, err := addrOf(g.large.Addr)
	if err != nil {
		return err
	}
	_, err = c.PublishContainer(ctx, addr, g.large.Size, body, g.records...)
	if err != nil && !transient(err) {
		l.h.log.Error("outbox: the remote refused a record; it is skipped", "remote", l.cfg.URL, "kind", g.meta.Kind, "record", g.meta.Addr, "err", err)
		return nil
	}
	return err
}

// readRecord returns a record's bytes from the store.
func (h *Hub) readRecord(ctx context.Context, addr store.Addr) ([]byte, error) {
	_, body, err := h.st.Get(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(body)
	return buf.Bytes(), err
}

// outboxIDs returns what selects the account's records in the log: its
// objects' ids, its bindings, holds and shares, and the account object's.
func (h *Hub) outboxIDs() ([]store.Addr, record.Address) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.keys == nil {
		return nil, record.Address{}
	}
	ids := []store.Addr{h.stateObj.id.Bytes()}
	ids = append(ids, toAddrs(h.state.LoginShares)...)
	ids = append(ids, toAddrs(h.state.Retired)...)
	for _, o := range h.objs {
		ids = append(ids, o.id.Bytes())
		for _, r := range o.entry.Readers {
			if len(r.Share) > 0 {
				ids = append(ids, r.Share)
			}
		}
		ids = append(ids, toAddrs(o.entry.Old)...)
		for _, b := range [][]byte{o.entry.Binding, o.entry.Hold, o.entry.Share} {
			if len(b) > 0 {
				ids = append(ids, b)
			}
		}
	}
	return ids, h.keys.Fingerprint()
}

// followIDs returns the objects whose changes the daemon follows: the
// account object and every object not deleted.
func (h *Hub) followIDs() []record.Address {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.keys == nil {
		return nil
	}
	ids := []record.Address{h.stateObj.id}
	for _, o := range h.objs {
		e := o.entry
		unshared := len(e.Share) == 0 && !sameAddr(e.Owner, h.keys.Fingerprint())
		if (!e.Deleted || len(e.Hold) > 0) && !unshared {
			ids = append(ids, o.id)
		}
	}
	if len(ids) > store.MaxQueryObjects {
		h.log.Warn("following only the first objects", "objects", len(ids), "followed", store.MaxQueryObjects)
		ids = ids[:store.MaxQueryObjects]
	}
	return ids
}

func toAddrs(bs [][]byte) []store.Addr {
	out := make([]store.Addr, len(bs))
	for i, b := range bs {
		out[i] = b
	}
	return out
}

// Drained waits until every configured remote has every record the store
// held when Drained was called, or ctx ends. With no remotes it returns
// at once.
func (h *Hub) Drained(ctx context.Context) error {
	cur, err := h.st.Cursor(ctx)
	if err != nil {
		return err
	}
	for _, l := range h.links {
		for h.cursors.get(l.cfg.URL).Drained < cur {
			t := time.NewTimer(5 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
	return nil
}

// RemoteStatus says how the daemon stands with one remote.
type RemoteStatus struct {
	URL     string
	Pending uint64 // local log entries not yet drained (an upper bound)
	Seen    uint64 // the remote's cursor the daemon has read to
	Err     error  // the last failure, nil once the remote answers again
}

// Remotes returns the status of every configured remote.
func (h *Hub) Remotes(ctx context.Context) []RemoteStatus {
	cur, _ := h.st.Cursor(ctx)
	var out []RemoteStatus
	for _, l := range h.links {
		c := h.cursors.get(l.cfg.URL)
		l.mu.Lock()
		err := l.lastErr
		l.mu.Unlock()
		rs := RemoteStatus{URL: l.cfg.URL, Seen: c.Seen, Err: err}
		if cur > c.Drained {
			rs.Pending = cur - c.Drained
		}
		out = append(out, rs)
	}
	return out
}
