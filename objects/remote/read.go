package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
)

// maxChangeRecord bounds the records a subscription carries in full; a
// larger one comes without its bytes, for the subscriber to get.
const maxChangeRecord = 64 << 10

// maxListed bounds the records bindings and debindings answer.
const maxListed = 1000

// address checks an address argument.
func address(b []byte) (record.Address, error) {
	var a record.Address
	if len(b) != record.AddressSize || b[0] != record.TagSHA256 {
		return a, fail(ReasonMalformed, fmt.Sprintf("an address is %d bytes starting with tag %d", record.AddressSize, record.TagSHA256), nil)
	}
	return record.Address(b), nil
}

// get returns a record by its address, or a dynamic object's newest frame
// by the object's id.
func (s *Server) get(ctx context.Context, session string, addr []byte) ([]byte, error) {
	who, err := s.session(session)
	if err != nil {
		return nil, err
	}
	a, err := address(addr)
	if err != nil {
		return nil, err
	}
	m, err := s.st.Stat(ctx, a.Bytes())
	if errors.Is(err, store.ErrNotFound) {
		m, err = s.st.Head(ctx, a.Bytes())
	}
	if err != nil {
		return nil, storeError(err)
	}
	if !s.mayRead(who, m) {
		return nil, fail(ReasonUnauthorised, fmt.Sprintf("share %s is neither from nor to %s", a, who), nil)
	}
	data, err := s.read(ctx, m.Addr)
	if err != nil {
		return nil, storeError(err)
	}
	return data, nil
}

// mayRead says whether who may read the record m: anyone who knows its
// address may, but a share (or the debinding of one) only its sender and
// its recipient.
func (s *Server) mayRead(who record.Address, m store.Meta) bool {
	if len(m.Recipient) == 0 {
		return true
	}
	return bytes.Equal(m.Recipient, who[:]) || bytes.Equal(m.Owner, who[:])
}

// bindings returns the records of the bindings and holds of target that
// are not debound, oldest first.
func (s *Server) bindings(ctx context.Context, session string, target []byte) ([][]byte, error) {
	return s.list(ctx, session, target, s.st.Bindings)
}

// debindings returns the records of the debindings of target, oldest
// first.
func (s *Server) debindings(ctx context.Context, session string, target []byte) ([][]byte, error) {
	return s.list(ctx, session, target, s.st.Debindings)
}

func (s *Server) list(ctx context.Context, session string, target []byte, find func(context.Context, store.Addr) ([]store.Meta, error)) ([][]byte, error) {
	who, err := s.session(session)
	if err != nil {
		return nil, err
	}
	a, err := address(target)
	if err != nil {
		return nil, err
	}
	ms, err := find(ctx, a.Bytes())
	if err != nil {
		return nil, storeError(err)
	}
	out := make([][]byte, 0, min(len(ms), maxListed))
	for _, m := range ms {
		if len(out) == maxListed {
			break
		}
		if !s.mayRead(who, m) {
			continue
		}
		data, err := s.read(ctx, m.Addr)
		if errors.Is(err, store.ErrNotFound) {
			continue // collected meanwhile
		}
		if err != nil {
			return nil, storeError(err)
		}
		out = append(out, data)
	}
	return out, nil
}

// SubscribeArgs are the inputs of subscribe.
type SubscribeArgs struct {
	Session string   `glyph:"session"`
	Objects [][]byte `glyph:"objects,optional"` // dynamic object ids, record addresses
	Mailbox bool     `glyph:"mailbox,optional"` // the session identity's shares too
	Since   uint64   `glyph:"since,optional"`   // the cursor: changes after it
	Once    bool     `glyph:"once,optional"`    // stop once caught up instead of following
}

// A Change is one entry of the remote's change log that a subscription
// selected.
type Change struct {
	Seq     uint64 `glyph:"seq"`     // the cursor to resume after this change
	Kind    string `glyph:"kind"`    // "frame", "binding", "debinding", "share", ...
	Address []byte `glyph:"address"` // the record's address
	Object  []byte `glyph:"object"`  // the object it belongs to, if any
	// Record is the record's bytes; empty for records over 64 KiB, which
	// the subscriber gets by Address.
	Record []byte `glyph:"record"`
}

// subscribe streams the changes of the objects and of the session's
// mailbox after a cursor, then follows the log.
func (s *Server) subscribe(ctx context.Context, a SubscribeArgs) (iter.Seq2[Change, error], error) {
	who, err := s.session(a.Session)
	if err != nil {
		return nil, err
	}
	if len(a.Objects) > store.MaxQueryObjects {
		return nil, fail(ReasonMalformed, fmt.Sprintf("a subscription names at most %d objects, not %d", store.MaxQueryObjects, len(a.Objects)), nil)
	}
	q := store.Query{Since: a.Since}
	for _, o := range a.Objects {
		addr, err := address(o)
		if err != nil {
			return nil, err
		}
		q.Objects = append(q.Objects, addr.Bytes())
	}
	if a.Mailbox {
		q.Recipient = who.Bytes()
	}
	if len(q.Objects) == 0 && q.Recipient == nil {
		return nil, fail(ReasonMalformed, "a subscription names objects, the mailbox or both", nil)
	}
	return func(yield func(Change, error) bool) {
		for {
			top, err := s.st.Cursor(ctx)
			if err != nil {
				yield(Change{}, err)
				return
			}
			ms, err := s.st.Changes(ctx, q)
			if err != nil {
				yield(Change{}, err)
				return
			}
			for _, m := range ms {
				q.Since = m.Seq
				if !s.mayRead(who, m) {
					continue
				}
				c, err := s.change(ctx, m)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					yield(Change{}, err)
					return
				}
				if !yield(c, nil) {
					return
				}
			}
			if len(ms) == store.MaxQueryLimit {
				continue // more to read at once
			}
			q.Since = max(q.Since, top)
			if a.Once {
				return
			}
			if _, err := s.st.Wait(ctx, q.Since); err != nil {
				if ctx.Err() == nil {
					yield(Change{}, err)
				}
				return
			}
		}
	}, nil
}

// change returns the Change of a log entry, with the record's bytes when
// small.
func (s *Server) change(ctx context.Context, m store.Meta) (Change, error) {
	c := Change{Seq: m.Seq, Kind: m.Kind.String(), Address: m.Addr, Object: m.Object}
	if m.Size <= maxChangeRecord {
		data, err := s.read(ctx, m.Addr)
		if err != nil {
			return Change{}, err
		}
		c.Record = data
	}
	return c, nil
}
