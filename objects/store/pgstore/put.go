package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/internal/storeimpl"
)

// Put stores a record; see [store.Store.Put]. Its transaction takes, in
// this order (the same in every transaction, so none deadlock): the
// shared GC lock, the advisory locks of the record's address and object,
// then after reading the body the owner's usage row (when a quota
// applies), and last the log's counter row. Its statements go in two
// batches, two round trips: BEGIN with the locks and the checks, then the
// inserts with COMMIT.
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
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return store.Put{}, err
	}
	// A connection that a failed rollback leaves in a transaction is
	// closed by Release, not reused.
	defer c.Release()
	committed := false
	defer func() {
		if !committed {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			c.Exec(rctx, "ROLLBACK")
			cancel()
		}
	}()
	st, err := s.state(ctx, c, m, func(b *pgx.Batch) int { return queueBegin(b, lockKeys(m)) })
	if err != nil {
		return store.Put{}, err
	}
	if st.existed {
		return store.Put{Seq: st.seq, Existed: true}, nil
	}
	if err := st.check(m); err != nil {
		return store.Put{}, err
	}
	inline, sum, err := s.writeBody(ctx, c, m, body)
	if err != nil {
		return store.Put{}, err
	}
	if st.quota != (store.Quota{}) {
		// The owner's usage row is locked only now, after the body is
		// in: the owner's other Puts wait for this one's commit, not its
		// upload.
		if err := lockQuota(ctx, c, m, st.quota); err != nil {
			return store.Put{}, err
		}
	}
	seq, err := s.insert(ctx, c, m, inline, sum, true)
	if err != nil {
		return store.Put{}, err
	}
	committed = true
	s.notify.Notify()
	return store.Put{Seq: seq}, nil
}

// writeBody reads a record's body, checking its size and hashing it: a
// small one is returned to be stored inline, a larger one is written in
// chunks. It returns the body's SHA-256.
func (s *Store) writeBody(ctx context.Context, c conn, m store.Meta, body io.Reader) (inline, sum []byte, err error) {
	b := storeimpl.NewBody(body, m.Addr, m.Size)
	if m.Size <= s.set.InlineLimit {
		inline = make([]byte, m.Size)
		if _, err := io.ReadFull(b, inline); err != nil {
			return nil, nil, bodyErr(m, err)
		}
		if _, err := b.Read(nil); err != io.EOF {
			return nil, nil, bodyErr(m, err)
		}
	} else if err := writeChunks(ctx, c, m, b); err != nil {
		return nil, nil, err
	}
	return inline, b.Sum(), nil
}

// conn is what Put's steps send statements through.
type conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// putState is what the database says about a record about to be put.
type putState struct {
	existed       bool
	seq           uint64
	debound       bool // the record's address
	objectDebound bool // a frame's object
	head          *storeimpl.Head
	quota         store.Quota
	usage         store.Usage
}

// lockKeys returns the advisory lock keys of records, sorted, once each.
func lockKeys(ms ...store.Meta) []int64 {
	var keys []int64
	for _, m := range ms {
		keys = append(keys, lockKey(m.Addr))
		if len(m.Object) > 0 {
			keys = append(keys, lockKey(m.Object))
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// queueBegin queues BEGIN and the locks of a transaction putting records
// with keys: the shared GC lock, then the advisory locks in order.
func queueBegin(batch *pgx.Batch, keys []int64) int {
	batch.Queue("BEGIN")
	batch.Queue("SELECT pg_advisory_xact_lock_shared($1, $2)", lockSpace, lockGC)
	for _, k := range keys {
		batch.Queue("SELECT pg_advisory_xact_lock($1)", k)
	}
	return 2 + len(keys)
}

// state reads the putState, in one batch, after the statements that pre
// queues (which returns how many): BEGIN and the locks for Put.
func (s *Store) state(ctx context.Context, c conn, m store.Meta, pre func(*pgx.Batch) int) (putState, error) {
	frame := m.Kind == store.KindFrame
	var batch pgx.Batch
	queued := pre(&batch)
	batch.Queue("SELECT seq FROM records WHERE addr = $1", []byte(m.Addr))
	batch.Queue(deboundQuery, []byte(m.Addr))
	if frame {
		batch.Queue(deboundQuery, []byte(m.Object))
		batch.Queue("SELECT frame, counter FROM heads WHERE object = $1", []byte(m.Object))
	}
	batch.Queue("SELECT bytes, records FROM quotas WHERE owner = $1", []byte(m.Owner))
	batch.Queue("SELECT bytes, records FROM usage WHERE owner = $1", []byte(m.Owner))
	br := c.SendBatch(ctx, &batch)
	defer br.Close()

	var st putState
	for range queued {
		if _, err := br.Exec(); err != nil {
			return st, err
		}
	}
	var seq int64
	switch err := br.QueryRow().Scan(&seq); {
	case err == nil:
		return putState{existed: true, seq: uint64(seq)}, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return st, err
	}
	if err := br.QueryRow().Scan(&st.debound); err != nil {
		return st, err
	}
	if frame {
		if err := br.QueryRow().Scan(&st.objectDebound); err != nil {
			return st, err
		}
		var h storeimpl.Head
		var counter int64
		switch err := br.QueryRow().Scan((*[]byte)(&h.Frame), &counter); {
		case err == nil:
			h.Counter = uint64(counter)
			st.head = &h
		case !errors.Is(err, pgx.ErrNoRows):
			return st, err
		}
	}
	st.quota = s.set.DefaultQuota
	if err := br.QueryRow().Scan(&st.quota.Bytes, &st.quota.Records); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, err
	}
	if err := br.QueryRow().Scan(&st.usage.Bytes, &st.usage.Records); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, err
	}
	return st, br.Close()
}

// check applies the rules to a record that is not stored yet: tombstones,
// the head, the quota (without a lock, to refuse early what cannot fit).
func (st putState) check(m store.Meta) error {
	const op = "store.Put"
	if st.debound {
		return store.Errorf(op, store.ErrDebound, "%s %s was deleted", m.Kind, m.Addr)
	}
	if m.Kind == store.KindFrame {
		if st.objectDebound {
			return store.Errorf(op, store.ErrDebound, "object %s was deleted", m.Object)
		}
		if err := storeimpl.CheckFrame(st.head, m); err != nil {
			return err
		}
	}
	return storeimpl.CheckQuota(st.quota, st.usage, m)
}

// lockQuota locks the owner's usage row (creating it) until the
// transaction ends, so that concurrent Puts of one owner cannot both
// pass, and checks the quota q against it.
func lockQuota(ctx context.Context, c conn, m store.Meta, q store.Quota) error {
	var batch pgx.Batch
	batch.Queue("INSERT INTO usage VALUES ($1, 0, 0) ON CONFLICT DO NOTHING", []byte(m.Owner))
	batch.Queue("SELECT bytes, records FROM usage WHERE owner = $1 FOR UPDATE", []byte(m.Owner))
	br := c.SendBatch(ctx, &batch)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return err
	}
	var u store.Usage
	if err := br.QueryRow().Scan(&u.Bytes, &u.Records); err != nil {
		return err
	}
	if err := br.Close(); err != nil {
		return err
	}
	return storeimpl.CheckQuota(q, u, m)
}

// writeChunks streams the body into rows of chunks of at most chunkSize.
func writeChunks(ctx context.Context, c conn, m store.Meta, b *storeimpl.Body) error {
	buf := make([]byte, chunkSize)
	for n := 0; ; n++ {
		k, err := io.ReadFull(b, buf)
		if k > 0 {
			if _, err := c.Exec(ctx, "INSERT INTO chunks (addr, n, data) VALUES ($1, $2, $3)", []byte(m.Addr), n, buf[:k]); err != nil {
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

// insertRecord takes the next sequence number, inserts the record and its
// edges and sends the notification. The counter row stays locked until
// commit: the next writer's number waits for this one's commit, so
// numbers become visible in order.
const insertRecord = `WITH s AS (UPDATE log SET seq = seq + 1 WHERE id = 1 RETURNING seq),
r AS (INSERT INTO records (seq, addr, kind, owner, object, counter, prev, targets, recipient, size, stored, sha, body)
	SELECT s.seq, $1::bytea, $2::smallint, $3::bytea, $4::bytea, $5::bigint, $6::bytea, $7::bytea, $8::bytea,
		$9::bigint, $10::bigint, $11::bytea, $12::bytea FROM s RETURNING seq),
e AS (INSERT INTO edges (src, target, seq) SELECT $1::bytea, t, r.seq FROM r, unnest($13::bytea[]) AS t)
SELECT r.seq, pg_notify('` + channel + `', r.seq::text) FROM r`

// insert writes the record's rows, and with commit commits, in one batch:
// the owner's usage, the head, insertRecord, COMMIT.
func (s *Store) insert(ctx context.Context, c conn, m store.Meta, inline, sum []byte, commit bool) (uint64, error) {
	var batch pgx.Batch
	batch.Queue(`INSERT INTO usage VALUES ($1, $2, 1)
		ON CONFLICT (owner) DO UPDATE SET bytes = usage.bytes + excluded.bytes, records = usage.records + 1`,
		[]byte(m.Owner), m.Size)
	frame := m.Kind == store.KindFrame
	if frame {
		batch.Queue(`INSERT INTO heads (object, frame, counter) VALUES ($1, $2, $3)
			ON CONFLICT (object) DO UPDATE SET frame = excluded.frame, counter = excluded.counter`,
			[]byte(m.Object), []byte(m.Addr), int64(m.Counter))
	}
	targets := make([][]byte, len(m.Targets))
	for i, t := range m.Targets {
		targets[i] = t
	}
	batch.Queue(insertRecord, []byte(m.Addr), int16(m.Kind), []byte(m.Owner), nullable(m.Object), int64(m.Counter),
		nullable(m.Prev), nullableBytes(targetsCol(m.Targets)), nullable(m.Recipient), m.Size, s.set.Clock().UnixNano(),
		sum, inline, targets)
	if commit {
		batch.Queue("COMMIT")
	}
	br := c.SendBatch(ctx, &batch)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return 0, err
	}
	if frame {
		if _, err := br.Exec(); err != nil {
			return 0, err
		}
	}
	var seq int64
	var notified string
	if err := br.QueryRow().Scan(&seq, &notified); err != nil {
		return 0, err
	}
	if commit {
		if err := checkCommit(br.Exec()); err != nil {
			return 0, err
		}
	}
	return uint64(seq), br.Close()
}

// checkCommit checks the answer to COMMIT: that of a transaction that
// failed reports ROLLBACK, not an error.
func checkCommit(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.String() != "COMMIT" {
		return fmt.Errorf("COMMIT answered %q", tag)
	}
	return nil
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

const deboundQuery = "SELECT EXISTS (SELECT 1 FROM records WHERE kind = 5 AND object = $1)"

func isDebound(ctx context.Context, q querier, addr store.Addr) (bool, error) {
	var found bool
	err := q.QueryRow(ctx, deboundQuery, []byte(addr)).Scan(&found)
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
