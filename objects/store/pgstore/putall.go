package pgstore

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/glyph-ipc/glyph/objects/store"
)

// PutAll stores records in order in one transaction, with one commit;
// see [store.Batcher]. It takes Put's locks in Put's order, for all the
// records at once before any is written: the shared GC lock, the advisory
// locks of every address and object, the usage rows of every owner (each
// set sorted), and the log's counter row at the first insert. Each record
// is checked as Put checks it, against the rows of the records before it
// in the same transaction (a frame may follow a frame of the call, and
// the quota counts the call's records). The first record refused is
// rolled back to a savepoint taken before it, and the records before it
// are committed.
func (s *Store) PutAll(ctx context.Context, items []store.Item) ([]store.Put, error) {
	const op = "store.PutAll"
	if err := s.check(op); err != nil {
		return nil, err
	}
	for i, it := range items {
		err := it.Meta.Check()
		if err == nil && it.Meta.Size > s.set.MaxSize {
			err = store.Errorf("store.Put", store.ErrTooLarge, "record %s of %d bytes, over %d", it.Meta.Addr, it.Meta.Size, s.set.MaxSize)
		}
		if err != nil {
			// The items before the one refused are stored, as the
			// interface promises.
			puts, perr := s.putAll(ctx, items[:i])
			if perr != nil {
				return puts, perr
			}
			return puts, err
		}
	}
	return s.putAll(ctx, items)
}

func (s *Store) putAll(ctx context.Context, items []store.Item) ([]store.Put, error) {
	if len(items) == 0 {
		return nil, nil
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Release()
	done := false
	defer func() {
		if !done {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			c.Exec(rctx, "ROLLBACK")
			cancel()
		}
	}()
	metas := make([]store.Meta, len(items))
	var owners [][]byte
	for i, it := range items {
		metas[i] = it.Meta
		owners = append(owners, it.Meta.Owner)
	}
	slices.SortFunc(owners, func(a, b []byte) int { return slices.Compare(a, b) })
	owners = slices.CompactFunc(owners, func(a, b []byte) bool { return slices.Equal(a, b) })
	var batch pgx.Batch
	queueBegin(&batch, lockKeys(metas...))
	for _, o := range owners {
		batch.Queue("INSERT INTO usage VALUES ($1, 0, 0) ON CONFLICT DO NOTHING", o)
		batch.Queue("SELECT 1 FROM usage WHERE owner = $1 FOR UPDATE", o)
	}
	if err := c.SendBatch(ctx, &batch).Close(); err != nil {
		return nil, err
	}

	puts := make([]store.Put, 0, len(items))
	inserted := false
	for _, it := range items {
		p, err := s.putOne(ctx, c, it)
		if err != nil {
			// Keep the records before this one.
			if _, rerr := c.Exec(ctx, "ROLLBACK TO SAVEPOINT item"); rerr != nil {
				return nil, err
			}
			if cerr := checkCommit(c.Exec(ctx, "COMMIT")); cerr != nil {
				return nil, cerr
			}
			done = true
			if inserted {
				s.notify.Notify()
			}
			return puts, err
		}
		inserted = inserted || !p.Existed
		puts = append(puts, p)
	}
	if err := checkCommit(c.Exec(ctx, "COMMIT")); err != nil {
		return nil, err
	}
	done = true
	if inserted {
		s.notify.Notify()
	}
	return puts, nil
}

// putOne puts one record of PutAll's transaction, after a savepoint.
func (s *Store) putOne(ctx context.Context, c conn, it store.Item) (store.Put, error) {
	m := it.Meta
	st, err := s.state(ctx, c, m, func(b *pgx.Batch) int {
		b.Queue("SAVEPOINT item")
		return 1
	})
	if err != nil {
		return store.Put{}, err
	}
	if st.existed {
		return store.Put{Seq: st.seq, Existed: true}, nil
	}
	if err := st.check(m); err != nil {
		return store.Put{}, err
	}
	inline, sum, err := s.writeBody(ctx, c, m, it.Body)
	if err != nil {
		return store.Put{}, err
	}
	seq, err := s.insert(ctx, c, m, inline, sum, false)
	if err != nil {
		return store.Put{}, err
	}
	return store.Put{Seq: seq}, nil
}
