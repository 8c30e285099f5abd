package pgstore

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/internal/storeimpl"
)

// Put stores a record; see [store.Store.Put]. Its transaction takes, in
// this order (the same in every transaction, so none deadlock): the
// shared GC lock, the advisory locks of the record's address and object,
// then after reading the body the owner's usage row, and last the log's
// counter row.
func (s *Store) Put(ctx context.Context, m store.Meta, body io.Reader) (store.Put, error) {
	const op = "store.Put"
	if err := s.check(op); err != nil {
		return store.Put{}, err
	}
	if err := m.Check(); err != nil {
		return store.Put{}, err
	}
	if m.Size > s.set.MaxSize {
		return store.Put{}, store.Errorf(op, store.ErrTooLarge, "record %s of %d bytes, over %d", m.Addr, m.Size, s.set.MaxSize)
	}
	if seq, ok, err := seqOf(ctx, s.pool, m.Addr); err != nil || ok {
		return store.Put{Seq: seq, Existed: ok}, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.Put{}, err
	}
	defer tx.Rollback(ctx)
	keys := []int64{lockKey(m.Addr)}
	if len(m.Object) > 0 {
		keys = append(keys, lockKey(m.Object))
	}
	slices.Sort(keys)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1, $2)", lockSpace, lockGC); err != nil {
		return store.Put{}, err
	}
	for _, k := range slices.Compact(keys) {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", k); err != nil {
			return store.Put{}, err
		}
	}
	if seq, ok, err := seqOf(ctx, tx, m.Addr); err != nil || ok {
		return store.Put{Seq: seq, Existed: ok}, err
	}
	if err := s.checkPut(ctx, tx, m); err != nil {
		return store.Put{}, err
	}
	b := storeimpl.NewBody(body, m.Addr, m.Size)
	var inline []byte
	if m.Size <= s.set.InlineLimit {
		inline = make([]byte, m.Size)
		if _, err := io.ReadFull(b, inline); err != nil {
			return store.Put{}, bodyErr(m, err)
		}
		if _, err := b.Read(nil); err != io.EOF {
			return store.Put{}, bodyErr(m, err)
		}
	} else if err := writeChunks(ctx, tx, m, b); err != nil {
		return store.Put{}, err
	}
	// The owner's usage row is locked only now, after the body is in:
	// the owner's other Puts wait for this one's commit, not its upload.
	if err := s.checkQuota(ctx, tx, m, "FOR UPDATE"); err != nil {
		return store.Put{}, err
	}
	seq, err := s.insert(ctx, tx, m, inline, b.Sum())
	if err != nil {
		return store.Put{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Put{}, err
	}
	s.notify.Notify()
	return store.Put{Seq: seq}, nil
}

// checkPut makes the checks that need the database: tombstones, the head,
// and the quota without a lock (to refuse early what cannot fit).
func (s *Store) checkPut(ctx context.Context, tx pgx.Tx, m store.Meta) error {
	const op = "store.Put"
	if debound, err := isDebound(ctx, tx, m.Addr); err != nil {
		return err
	} else if debound {
		return store.Errorf(op, store.ErrDebound, "%s %s was deleted", m.Kind, m.Addr)
	}
	if m.Kind == store.KindFrame {
		if debound, err := isDebound(ctx, tx, m.Object); err != nil {
			return err
		} else if debound {
			return store.Errorf(op, store.ErrDebound, "object %s was deleted", m.Object)
		}
		var h storeimpl.Head
		var counter int64
		var head *storeimpl.Head
		err := tx.QueryRow(ctx, "SELECT frame, counter FROM heads WHERE object = $1", []byte(m.Object)).Scan((*[]byte)(&h.Frame), &counter)
		switch {
		case err == nil:
			h.Counter = uint64(counter)
			head = &h
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if err := storeimpl.CheckFrame(head, m); err != nil {
			return err
		}
	}
	return s.checkQuota(ctx, tx, m, "")
}

// checkQuota checks the owner's quota; with lock "FOR UPDATE", it locks
// the owner's usage row (creating it) until the transaction ends, so that
// concurrent Puts of one owner cannot both pass.
func (s *Store) checkQuota(ctx context.Context, tx pgx.Tx, m store.Meta, lock string) error {
	q := s.set.DefaultQuota
	err := tx.QueryRow(ctx, "SELECT bytes, records FROM quotas WHERE owner = $1", []byte(m.Owner)).Scan(&q.Bytes, &q.Records)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if q == (store.Quota{}) && lock == "" {
		return nil
	}
	if lock != "" {
		if _, err := tx.Exec(ctx, "INSERT INTO usage VALUES ($1, 0, 0) ON CONFLICT DO NOTHING", []byte(m.Owner)); err != nil {
			return err
		}
	}
	var u store.Usage
	err = tx.QueryRow(ctx, "SELECT bytes, records FROM usage WHERE owner = $1 "+lock, []byte(m.Owner)).Scan(&u.Bytes, &u.Records)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	return storeimpl.CheckQuota(q, u, m)
}

// writeChunks streams the body into rows of chunks of at most chunkSize.
func writeChunks(ctx context.Context, tx pgx.Tx, m store.Meta, b *storeimpl.Body) error {
	buf := make([]byte, chunkSize)
	for n := 0; ; n++ {
		k, err := io.ReadFull(b, buf)
		if k > 0 {
			if _, err := tx.Exec(ctx, "INSERT INTO chunks (addr, n, data) VALUES ($1, $2, $3)", []byte(m.Addr), n, buf[:k]); err != nil {
				return err
			}
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return nil
		case err != nil:
			return bodyErr(m, err)
		}
	}
}

// insert writes the record's rows: the owner's usage, the head, the next
// sequence number, the record and its edges, and the notification.
func (s *Store) insert(ctx context.Context, tx pgx.Tx, m store.Meta, inline, sum []byte) (uint64, error) {
	if _, err := tx.Exec(ctx, "UPDATE usage SET bytes = bytes + $2, records = records + 1 WHERE owner = $1", []byte(m.Owner), m.Size); err != nil {
		return 0, err
	}
	if m.Kind == store.KindFrame {
		if _, err := tx.Exec(ctx, `INSERT INTO heads (object, frame, counter) VALUES ($1, $2, $3)
			ON CONFLICT (object) DO UPDATE SET frame = excluded.frame, counter = excluded.counter`,
			[]byte(m.Object), []byte(m.Addr), int64(m.Counter)); err != nil {
			return 0, err
		}
	}
	// The counter row stays locked until commit: the next writer's
	// number waits for this one's commit, so numbers become visible in
	// order.
	var seq int64
	if err := tx.QueryRow(ctx, "UPDATE log SET seq = seq + 1 WHERE id = 1 RETURNING seq").Scan(&seq); err != nil {
		return 0, err
	}
	var bodyCol []byte
	if inline != nil {
		bodyCol = inline
	}
	_, err := tx.Exec(ctx, `INSERT INTO records
		(seq, addr, kind, owner, object, counter, prev, targets, recipient, size, stored, sha, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		seq, []byte(m.Addr), int16(m.Kind), []byte(m.Owner), nullable(m.Object), int64(m.Counter), nullable(m.Prev),
		nullableBytes(targetsCol(m.Targets)), nullable(m.Recipient), m.Size, s.set.Clock().UnixNano(), sum, bodyCol)
	if err != nil {
		return 0, err
	}
	for _, t := range m.Targets {
		if _, err := tx.Exec(ctx, "INSERT INTO edges (src, target, seq) VALUES ($1, $2, $3)", []byte(m.Addr), []byte(t), seq); err != nil {
			return 0, err
		}
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", channel, strconv.FormatInt(seq, 10)); err != nil {
		return 0, err
	}
	return uint64(seq), nil
}

func bodyErr(m store.Meta, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return store.Errorf("store.Put", store.ErrInvalid, "record %s: body shorter than its size %d", m.Addr, m.Size)
	}
	return err
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func seqOf(ctx context.Context, q querier, addr store.Addr) (uint64, bool, error) {
	var seq int64
	err := q.QueryRow(ctx, "SELECT seq FROM records WHERE addr = $1", []byte(addr)).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return uint64(seq), true, nil
}

func isDebound(ctx context.Context, q querier, addr store.Addr) (bool, error) {
	var found bool
	err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM records WHERE kind = $1 AND object = $2)", int16(store.KindDebinding), []byte(addr)).Scan(&found)
	return found, err
}

func targetsCol(t []store.Addr) []byte {
	if len(t) == 0 {
		return nil
	}
	return storeimpl.EncodeTargets(t)
}

// nullable stores an empty address as NULL, so that partial indexes skip it.
func nullable(a store.Addr) []byte {
	if len(a) == 0 {
		return nil
	}
	return a
}

func nullableBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
