package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/service"
)

// Published says what publish did with one record.
type Published struct {
	Address []byte `glyph:"address"` // the record's address
	Seq     uint64 `glyph:"seq"`     // its place in the remote's change log
	Existed bool   `glyph:"existed"` // the remote had it already; nothing changed
}

// publish verifies records and stores them, in order, after the
// containers of the uploads it names (spec.md).
func (s *Server) publish(ctx context.Context, session string, records [][]byte, uploads []string) ([]Published, error) {
	who, err := s.session(session)
	if err != nil {
		return nil, err
	}
	if len(records) == 0 || len(records)+len(uploads) > MaxPublishRecords {
		return nil, fail(ReasonMalformed, fmt.Sprintf("publish takes 1 to %d records and uploads, not %d records and %d uploads", MaxPublishRecords, len(records), len(uploads)), nil)
	}
	total := 0
	for _, r := range records {
		total += len(r)
	}
	if total > s.cfg.maxPublishBytes {
		return nil, fail(ReasonTooLarge, fmt.Sprintf("%d bytes of records, more than %d; upload a large container in chunks", total, s.cfg.maxPublishBytes), nil)
	}
	rinfos, err := parseAll(records)
	if err != nil {
		return nil, err
	}
	ups, infos, err := s.takeUploads(who, uploads)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, u := range ups {
			// An upload ends once its container is stored, by this
			// call or another.
			if _, err := s.st.Stat(ctx, u.addr.Bytes()); err == nil {
				s.dropUpload(u)
			}
			u.mu.Unlock()
		}
	}()
	infos = append(infos, rinfos...)
	nu := len(ups)
	// The uploads' containers come first, each read from its file.
	body := func(i int) io.Reader {
		if i < nu {
			return io.NewSectionReader(ups[i].f, 0, ups[i].size)
		}
		return bytes.NewReader(records[i-nu])
	}
	pos := func(i int, err error) error {
		if i < nu {
			return atUpload(i, err)
		}
		return at(i-nu, err)
	}
	if err := checkBound(infos, pos); err != nil {
		return nil, err
	}
	// With a Batcher the records are verified first, against the store
	// and the records before them, and stored with one commit; without
	// one, or with a debinding (which may delete what the call stored
	// before it), each is stored before the next is verified.
	b, batch := s.st.(store.Batcher)
	for _, in := range infos {
		batch = batch && in.Kind != record.KindDebinding
	}
	pend := &pending{containers: map[record.Address]bool{}, frames: map[record.Address]*record.Frame{}}
	metas := make([]*store.Meta, len(infos))
	out := make([]Published, len(infos))
	for i, in := range infos {
		m, existed, err := s.verify(ctx, who, in, pend)
		if err != nil {
			if batch {
				// Those before it are stored, as without a Batcher.
				if _, perr := s.putAll(ctx, b, body, infos, metas[:i], out, pos); perr != nil {
					return nil, perr
				}
			}
			return nil, pos(i, err)
		}
		switch {
		case existed != nil:
			out[i] = *existed
		case batch:
			metas[i] = &m
		default:
			if out[i], err = s.putRecord(ctx, m, body(i)); err != nil {
				return nil, pos(i, err)
			}
			s.stored(in)
		}
	}
	if batch {
		return s.putAll(ctx, b, body, infos, metas, out, pos)
	}
	return out, nil
}

// putAll stores the records that metas holds with one commit.
func (s *Server) putAll(ctx context.Context, b store.Batcher, body func(int) io.Reader, infos []*record.Info, metas []*store.Meta, out []Published, pos func(int, error) error) ([]Published, error) {
	var items []store.Item
	var index []int // the record of each item
	for i, m := range metas {
		if m != nil {
			items = append(items, store.Item{Meta: *m, Body: body(i)})
			index = append(index, i)
		}
	}
	if len(items) == 0 {
		return out, nil
	}
	puts, err := b.PutAll(ctx, items)
	for k, p := range puts {
		i := index[k]
		out[i] = Published{Address: metas[i].Addr, Seq: p.Seq, Existed: p.Existed}
		s.stored(infos[i])
	}
	if err != nil {
		if len(puts) < len(index) {
			return nil, pos(index[len(puts)], storeError(err))
		}
		return nil, storeError(err)
	}
	return out, nil
}

// stored notes a record the store took: a frame becomes its object's
// head.
func (s *Server) stored(in *record.Info) {
	if f, ok := in.Record.(*record.Frame); ok {
		s.heads.put(f.ID, f)
		s.moved.Notify()
	}
}

// pending is what the records before one in a publish call bring, which
// the store may not have yet: containers, and the newest frame of each
// object.
type pending struct {
	containers map[record.Address]bool
	frames     map[record.Address]*record.Frame
}

// parseAll parses records, on every CPU when there are several: checking
// their signatures is most of what publishing costs the server.
func parseAll(records [][]byte) ([]*record.Info, error) {
	infos := make([]*record.Info, len(records))
	errs := make([]error, len(records))
	workers := min(runtime.GOMAXPROCS(0), len(records))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(records); i = int(next.Add(1) - 1) {
				infos[i], errs[i] = record.Parse(records[i])
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, at(i, recordError(err))
		}
	}
	return infos, nil
}

// at says in err's message which record of a call it is about.
func at(i int, err error) error { return atItem("record", i, err) }

// atUpload says in err's message which upload of a call it is about.
func atUpload(i int, err error) error { return atItem("upload", i, err) }

func atItem(what string, i int, err error) error {
	var se *service.Error
	if !errors.As(err, &se) || se.Message == "" {
		return err
	}
	reason, rest, ok := bytes.Cut([]byte(se.Message), []byte(": "))
	if !ok {
		return err
	}
	e := *se
	e.Message = fmt.Sprintf("%s: %s %d: %s", reason, what, i, rest)
	return &e
}

// checkBound checks that every container of a call is kept alive by a
// frame, binding or hold later in the same call: a container that nothing
// binds would only wait to be collected. pos names the i-th in errors.
func checkBound(infos []*record.Info, pos func(int, error) error) error {
	for i, in := range infos {
		if in.Kind != record.KindContainer {
			continue
		}
		bound := false
		for _, later := range infos[i+1:] {
			switch later.Kind {
			case record.KindFrame, record.KindBinding, record.KindHold:
				for _, t := range later.Targets {
					bound = bound || t == in.Address
				}
			}
		}
		if !bound {
			return pos(i, fail(ReasonUnbound, fmt.Sprintf("container %s comes without a frame, binding or hold after it in the same call", in.Address), nil))
		}
	}
	return nil
}

// verify checks one record against what the store holds and what the
// records before it in the call bring (pend, which it updates), as the
// identity who. It returns the record's metadata to store, or what
// publishing it again answers when the remote has it already.
func (s *Server) verify(ctx context.Context, who record.Address, in *record.Info, pend *pending) (store.Meta, *Published, error) {
	m := store.Meta{Addr: in.Address.Bytes(), Owner: in.Owner.Bytes(), Size: in.Size}
	switch in.Kind {
	case record.KindContainer:
		// A container is ciphertext without an owner: it is charged to
		// whoever publishes it.
		m.Kind, m.Owner = store.KindContainer, who.Bytes()
		pend.containers[in.Address] = true
		return m, nil, nil
	case record.KindIdentity:
		if in.Address != who {
			return m, nil, fail(ReasonUnauthorised, fmt.Sprintf("identity %s is not the session's %s; an identity is published by logging in", in.Address, who), nil)
		}
		m.Kind = store.KindIdentity
		return m, nil, nil
	case record.KindDevice, record.KindSuccessor:
		return m, nil, fail(ReasonUnsupported, fmt.Sprintf("the remote does not keep %s records", in.Kind), nil)
	}
	if in.Owner != who {
		return m, nil, fail(ReasonUnauthorised, fmt.Sprintf("the %s is signed for %s, the session is %s's", in.Kind, in.Owner, who), nil)
	}
	owner, err := s.identity(ctx, in.Owner)
	if err != nil {
		return m, nil, err
	}
	if err := in.CheckOwner(owner, s.now()); err != nil {
		return m, nil, recordError(err)
	}
	switch in.Kind {
	case record.KindFrame:
		return s.verifyFrame(ctx, in, owner, m, pend)
	case record.KindBinding:
		if err := s.needContainer(ctx, in.Targets[0], pend); err != nil {
			return m, nil, err
		}
		m.Kind, m.Object, m.Targets = store.KindBinding, in.Targets[0].Bytes(), []store.Addr{in.Targets[0].Bytes()}
	case record.KindHold:
		if err := s.needObject(ctx, in.Targets[0], pend); err != nil {
			return m, nil, err
		}
		m.Kind, m.Object, m.Targets = store.KindBinding, in.Targets[0].Bytes(), []store.Addr{in.Targets[0].Bytes()}
	case record.KindDebinding:
		return s.verifyDebinding(ctx, in, m)
	case record.KindShare:
		m.Kind, m.Recipient = store.KindShare, in.Recipient.Bytes()
	default:
		return m, nil, fail(ReasonUnsupported, fmt.Sprintf("the remote does not keep %s records", in.Kind), nil)
	}
	return m, nil, nil
}

// GapWait is how long a frame that comes ahead of its predecessor waits
// for it before it is refused as a gap: a writer may keep several publish
// calls in flight, and the later call may be verified while the earlier
// one is still being stored (spec.md).
const GapWait = 250 * time.Millisecond

// verifyFrame checks a frame against its object's head (checkFrame); a
// frame ahead of the head waits up to GapWait for the head to move, as
// an earlier call of its writer stores its frames, and is checked again.
func (s *Server) verifyFrame(ctx context.Context, in *record.Info, owner *record.Identity, m store.Meta, pend *pending) (store.Meta, *Published, error) {
	out, existed, err := s.checkFrame(ctx, in, owner, m, pend)
	if ReasonOf(err) != ReasonGap {
		return out, existed, err
	}
	deadline := time.NewTimer(GapWait)
	defer deadline.Stop()
	for {
		moved := s.moved.C() // taken before the check, so that no move is missed
		if out, existed, err = s.checkFrame(ctx, in, owner, m, pend); ReasonOf(err) != ReasonGap {
			return out, existed, err
		}
		select {
		case <-moved:
		case <-deadline.C:
			return out, existed, err
		case <-ctx.Done():
			return out, existed, err
		}
	}
}

// checkFrame checks a frame against its object's head: the frame before
// it in the call, or the store's.
func (s *Server) checkFrame(ctx context.Context, in *record.Info, owner *record.Identity, m store.Meta, pend *pending) (store.Meta, *Published, error) {
	f := in.Record.(*record.Frame)
	prev, inCall := pend.frames[f.ID]
	if !inCall {
		prev, _ = s.heads.get(f.ID)
	}
	// A frame that follows the frame before it in the call, or the head
	// this server stored last, needs nothing from the store: if another
	// server has moved the head since, the store's compare-and-swap (on
	// the counter and the previous frame) refuses it still. Any other
	// frame is checked against the store's head, which says why.
	followsPrev := prev != nil && record.CheckNext(prev, f, owner, s.now()) == nil
	if inCall && !followsPrev {
		return m, nil, recordError(record.CheckNext(prev, f, owner, s.now()))
	}
	if !followsPrev {
		head, err := s.st.Head(ctx, f.ID.Bytes())
		switch {
		case errors.Is(err, store.ErrNotFound):
			if f.Counter != 0 {
				return m, nil, fail(ReasonGap, fmt.Sprintf("frame %d of %s, of which the remote has no frame", f.Counter, f.ID), err)
			}
		case err != nil:
			return m, nil, storeError(err)
		case bytes.Equal(head.Addr, m.Addr):
			pend.frames[f.ID] = f
			return m, &Published{Address: m.Addr, Seq: head.Seq, Existed: true}, nil
		default:
			prev, err := s.headFrame(ctx, f.ID, head)
			if err != nil {
				return m, nil, err
			}
			if err := record.CheckNext(prev, f, owner, s.now()); err != nil {
				return m, nil, recordError(err)
			}
		}
	}
	if err := s.needContainer(ctx, f.Target, pend); err != nil {
		return m, nil, err
	}
	pend.frames[f.ID] = f
	m.Kind, m.Object, m.Counter = store.KindFrame, f.ID.Bytes(), f.Counter
	m.Targets = []store.Addr{f.Target.Bytes()}
	if f.Prev != nil {
		m.Prev = f.Prev.Bytes()
	}
	return m, nil, nil
}

// verifyDebinding checks that a debinding's owner owns what it deletes
// (or, for a share, receives it).
func (s *Server) verifyDebinding(ctx context.Context, in *record.Info, m store.Meta) (store.Meta, *Published, error) {
	if old, err := s.st.Stat(ctx, m.Addr); err == nil {
		return m, &Published{Address: m.Addr, Seq: old.Seq, Existed: true}, nil
	}
	target := in.Targets[0]
	m.Kind, m.Object = store.KindDebinding, target.Bytes()
	t, err := s.st.Stat(ctx, target.Bytes())
	if errors.Is(err, store.ErrNotFound) {
		t, err = s.st.Head(ctx, target.Bytes())
		if errors.Is(err, store.ErrNotFound) {
			return m, nil, fail(ReasonMissingTarget, fmt.Sprintf("the remote has no record or object %s to delete", target), err)
		}
	}
	if err != nil {
		return m, nil, storeError(err)
	}
	switch t.Kind {
	case store.KindFrame, store.KindBinding, store.KindDebinding:
		if !bytes.Equal(t.Owner, m.Owner) {
			return m, nil, fail(ReasonUnauthorised, fmt.Sprintf("%s belongs to another identity", target), nil)
		}
	case store.KindShare:
		if !bytes.Equal(t.Owner, m.Owner) && !bytes.Equal(t.Recipient, m.Owner) {
			return m, nil, fail(ReasonUnauthorised, fmt.Sprintf("share %s is neither from nor to %s", target, in.Owner), nil)
		}
		m.Recipient = t.Recipient
	default:
		return m, nil, fail(ReasonMalformed, fmt.Sprintf("a debinding deletes a binding, hold, debinding, share or dynamic object, not a %s", t.Kind), nil)
	}
	return m, nil, nil
}

// needContainer checks that the call or the store has the container at a.
func (s *Server) needContainer(ctx context.Context, a record.Address, pend *pending) error {
	if pend.containers[a] {
		return nil
	}
	m, err := s.st.Stat(ctx, a.Bytes())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(ReasonMissingTarget, fmt.Sprintf("the remote has no container %s; publish it first, in the same call", a), err)
	case err != nil:
		return storeError(err)
	case m.Kind != store.KindContainer:
		return fail(ReasonMalformed, fmt.Sprintf("%s is a %s, not a container", a, m.Kind), nil)
	}
	return nil
}

// needObject checks that the call or the store has the container or
// dynamic object a, for a hold.
func (s *Server) needObject(ctx context.Context, a record.Address, pend *pending) error {
	if pend.containers[a] || pend.frames[a] != nil {
		return nil
	}
	m, err := s.st.Stat(ctx, a.Bytes())
	if err == nil {
		if m.Kind != store.KindContainer {
			return fail(ReasonMalformed, fmt.Sprintf("a hold keeps a container or a dynamic object, not a %s", m.Kind), nil)
		}
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return storeError(err)
	}
	_, err = s.st.Head(ctx, a.Bytes())
	if errors.Is(err, store.ErrNotFound) {
		return fail(ReasonMissingTarget, fmt.Sprintf("the remote has no container or object %s", a), err)
	}
	if err != nil {
		return storeError(err)
	}
	return nil
}

// identity returns the stored identity whose fingerprint is fp.
func (s *Server) identity(ctx context.Context, fp record.Address) (*record.Identity, error) {
	if id, ok := s.ids.get(fp); ok {
		return id, nil
	}
	data, err := s.read(ctx, fp.Bytes())
	if errors.Is(err, store.ErrNotFound) {
		return nil, fail(ReasonUnknownOwner, fmt.Sprintf("identity %s has not logged in to this remote", fp), err)
	}
	if err != nil {
		return nil, storeError(err)
	}
	id, err := record.ParseIdentity(data)
	if err != nil {
		return nil, fmt.Errorf("remote: stored identity %s: %w", fp, err)
	}
	s.ids.put(fp, id)
	return id, nil
}

// headFrame returns the parsed frame that head names.
func (s *Server) headFrame(ctx context.Context, id record.Address, head store.Meta) (*record.Frame, error) {
	if f, ok := s.heads.get(id); ok && bytes.Equal(head.Addr, f.Hash().Bytes()) {
		return f, nil
	}
	data, err := s.read(ctx, head.Addr)
	if err != nil {
		return nil, storeError(err)
	}
	f, err := record.ParseFrame(data)
	if err != nil {
		return nil, fmt.Errorf("remote: stored frame %x: %w", []byte(head.Addr), err)
	}
	s.heads.put(id, f)
	return f, nil
}

// read returns the bytes of a stored record of at most the publish limit.
func (s *Server) read(ctx context.Context, a store.Addr) ([]byte, error) {
	m, body, err := s.st.Get(ctx, a)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if m.Size > int64(s.cfg.maxPublishBytes) {
		return nil, fail(ReasonTooLarge, fmt.Sprintf("record %s is %d bytes, more than %d; read it in chunks", a, m.Size, s.cfg.maxPublishBytes), nil)
	}
	data := make([]byte, m.Size)
	if _, err := io.ReadFull(body, data); err != nil {
		return nil, err
	}
	return data, nil
}

// putRecord stores a verified record.
func (s *Server) putRecord(ctx context.Context, m store.Meta, body io.Reader) (Published, error) {
	p, err := s.st.Put(ctx, m, body)
	if err != nil {
		return Published{}, storeError(err)
	}
	return Published{Address: m.Addr, Seq: p.Seq, Existed: p.Existed}, nil
}
