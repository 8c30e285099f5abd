package pgstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/internal/storeimpl"
)

const metaCols = "seq, addr, kind, owner, object, counter, prev, targets, recipient, size, stored"

// scanMeta reads the columns of metaCols: see [storeimpl.ScanMeta].
func scanMeta(op string, row pgx.Row, extra ...any) (store.Meta, error) {
	return storeimpl.ScanMeta(op, row.Scan, extra...)
}

// Get returns a record and its bytes; see [store.Store.Get]. A record
// kept in chunks is read one chunk at a time, each a query under ctx: the
// bytes must be read before ctx ends.
func (s *Store) Get(ctx context.Context, addr store.Addr) (store.Meta, io.ReadCloser, error) {
	const op = "store.Get"
	if err := s.check(op); err != nil {
		return store.Meta{}, nil, err
	}
	var sum, body []byte
	var inline bool
	row := s.pool.QueryRow(ctx, "SELECT "+metaCols+", sha, body IS NOT NULL, body FROM records WHERE addr = $1", []byte(addr))
	m, err := scanMeta(op, row, &sum, &inline, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Meta{}, nil, store.Errorf(op, store.ErrNotFound, "no record %s", addr)
	}
	if err != nil {
		return store.Meta{}, nil, err
	}
	if inline {
		return m, storeimpl.Verified(io.NopCloser(bytes.NewReader(body)), m.Addr, m.Size, sum), nil
	}
	return m, storeimpl.Verified(&chunkReader{ctx: ctx, s: s, addr: m.Addr}, m.Addr, m.Size, sum), nil
}

// chunkReader reads a record's chunks in order, holding one at a time.
type chunkReader struct {
	ctx  context.Context
	s    *Store
	addr store.Addr
	n    int
	buf  []byte
	done bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.done {
			return 0, io.EOF
		}
		err := c.s.pool.QueryRow(c.ctx, "SELECT data FROM chunks WHERE addr = $1 AND n = $2", []byte(c.addr), c.n).Scan(&c.buf)
		if errors.Is(err, pgx.ErrNoRows) {
			c.done = true
			return 0, io.EOF
		}
		if err != nil {
			return 0, err
		}
		c.n++
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

func (c *chunkReader) Close() error { return nil }

// Stat returns a record's metadata; see [store.Store.Stat].
func (s *Store) Stat(ctx context.Context, addr store.Addr) (store.Meta, error) {
	const op = "store.Stat"
	if err := s.check(op); err != nil {
		return store.Meta{}, err
	}
	m, err := scanMeta(op, s.pool.QueryRow(ctx, "SELECT "+metaCols+" FROM records WHERE addr = $1", []byte(addr)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Meta{}, store.Errorf(op, store.ErrNotFound, "no record %s", addr)
	}
	return m, err
}

// Head returns a dynamic object's newest frame; see [store.Store.Head].
func (s *Store) Head(ctx context.Context, object store.Addr) (store.Meta, error) {
	const op = "store.Head"
	if err := s.check(op); err != nil {
		return store.Meta{}, err
	}
	var debound bool
	m, err := scanMeta(op, s.pool.QueryRow(ctx, "SELECT "+prefixed("r.", metaCols)+
		`, EXISTS (SELECT 1 FROM records d WHERE d.kind = 5 AND d.object = $1)
		FROM heads h JOIN records r ON r.addr = h.frame WHERE h.object = $1`, []byte(object)), &debound)
	if errors.Is(err, pgx.ErrNoRows) {
		if debound, err = isDebound(ctx, s.pool, object); err != nil {
			return store.Meta{}, err
		}
		if !debound {
			return store.Meta{}, store.Errorf(op, store.ErrNotFound, "no frame of object %s", object)
		}
	} else if err != nil {
		return store.Meta{}, err
	}
	if debound {
		return store.Meta{}, store.Errorf(op, store.ErrDebound, "object %s was deleted", object)
	}
	return m, nil
}

// Bindings returns the live bindings of target; see [store.Store.Bindings].
func (s *Store) Bindings(ctx context.Context, target store.Addr) ([]store.Meta, error) {
	return s.list(ctx, "store.Bindings", "SELECT "+metaCols+` FROM records r WHERE kind = 4 AND object = $1
		AND NOT EXISTS (SELECT 1 FROM records d WHERE d.kind = 5 AND d.object = r.addr) ORDER BY seq`, []byte(target))
}

// Debindings returns the debindings of target; see [store.Store.Debindings].
func (s *Store) Debindings(ctx context.Context, target store.Addr) ([]store.Meta, error) {
	return s.list(ctx, "store.Debindings", "SELECT "+metaCols+" FROM records WHERE kind = 5 AND object = $1 ORDER BY seq", []byte(target))
}

// Changes returns entries of the change log; see [store.Store.Changes].
func (s *Store) Changes(ctx context.Context, q store.Query) ([]store.Meta, error) {
	const op = "store.Changes"
	limit, err := storeimpl.CheckQuery(op, q)
	if err != nil {
		return nil, err
	}
	if len(q.Objects) == 0 && len(q.Recipient) == 0 {
		return nil, nil
	}
	objects := make([][]byte, len(q.Objects))
	for i, o := range q.Objects {
		objects[i] = o
	}
	return s.list(ctx, op, "SELECT "+metaCols+` FROM records
		WHERE (object = ANY($1) OR addr = ANY($1) OR recipient = $2) AND seq > $3 ORDER BY seq LIMIT $4`,
		objects, nullable(q.Recipient), int64(q.Since), limit)
}

func (s *Store) list(ctx context.Context, op, query string, args ...any) ([]store.Meta, error) {
	if err := s.check(op); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return storeimpl.ScanAll(op, rows)
}

// Cursor returns the newest sequence number; see [store.Store.Cursor].
func (s *Store) Cursor(ctx context.Context) (uint64, error) {
	if err := s.check("store.Cursor"); err != nil {
		return 0, err
	}
	var seq int64
	err := s.pool.QueryRow(ctx, "SELECT seq FROM log WHERE id = 1").Scan(&seq)
	return uint64(seq), err
}

// Wait blocks until the log passes cursor; see [store.Store.Wait]. The
// writes of other Stores on the database wake it through NOTIFY.
func (s *Store) Wait(ctx context.Context, cursor uint64) (uint64, error) {
	return storeimpl.Wait(ctx, &s.notify, cursor, pollInterval, s.closed.Load, s.Cursor)
}

// SetQuota sets owner's quota; see [store.Store.SetQuota].
func (s *Store) SetQuota(ctx context.Context, owner store.Addr, q store.Quota) error {
	const op = "store.SetQuota"
	if err := s.check(op); err != nil {
		return err
	}
	if err := store.CheckAddr(op, "owner", owner); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO quotas (owner, bytes, records) VALUES ($1, $2, $3)
		ON CONFLICT (owner) DO UPDATE SET bytes = excluded.bytes, records = excluded.records`, []byte(owner), q.Bytes, q.Records)
	return err
}

// Usage returns what owner stores; see [store.Store.Usage].
func (s *Store) Usage(ctx context.Context, owner store.Addr) (store.Usage, error) {
	if err := s.check("store.Usage"); err != nil {
		return store.Usage{}, err
	}
	var u store.Usage
	err := s.pool.QueryRow(ctx, "SELECT bytes, records FROM usage WHERE owner = $1", []byte(owner)).Scan(&u.Bytes, &u.Records)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Usage{}, nil
	}
	return u, err
}

// prefixed puts p before each of the comma-separated columns.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}
