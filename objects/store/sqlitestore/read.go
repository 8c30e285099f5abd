package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/internal/storeimpl"
)

const metaCols = "seq, addr, kind, owner, object, counter, prev, targets, recipient, size, stored"

type scanner interface{ Scan(dest ...any) error }

// scanMeta reads the columns of metaCols: see [storeimpl.ScanMeta].
func scanMeta(op string, sc scanner, extra ...any) (store.Meta, error) {
	return storeimpl.ScanMeta(op, sc.Scan, extra...)
}

// Get returns a record and its bytes; see [store.Store.Get].
func (s *Store) Get(ctx context.Context, addr store.Addr) (store.Meta, io.ReadCloser, error) {
	const op = "store.Get"
	if err := s.check(op); err != nil {
		return store.Meta{}, nil, err
	}
	var sum, body []byte
	var inline bool
	row := s.queryRow(ctx, sqlGet, []byte(addr))
	m, err := scanMeta(op, row, &sum, &inline, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Meta{}, nil, store.Errorf(op, store.ErrNotFound, "no record %s", addr)
	}
	if err != nil {
		return store.Meta{}, nil, err
	}
	if inline {
		return m, storeimpl.Verified(io.NopCloser(bytes.NewReader(body)), m.Addr, m.Size, sum), nil
	}
	f, err := os.Open(s.contentPath(sum))
	if errors.Is(err, os.ErrNotExist) {
		// GC may have removed the record since it was read.
		if _, ok, err := s.seqOf(ctx, addr); err == nil && !ok {
			return store.Meta{}, nil, store.Errorf(op, store.ErrNotFound, "no record %s", addr)
		}
		return store.Meta{}, nil, store.Errorf(op, store.ErrCorrupt, "record %s: its content file is missing", addr)
	}
	if err != nil {
		return store.Meta{}, nil, err
	}
	return m, storeimpl.Verified(f, m.Addr, m.Size, sum), nil
}

// Stat returns a record's metadata; see [store.Store.Stat].
func (s *Store) Stat(ctx context.Context, addr store.Addr) (store.Meta, error) {
	const op = "store.Stat"
	if err := s.check(op); err != nil {
		return store.Meta{}, err
	}
	m, err := scanMeta(op, s.queryRow(ctx, sqlStat, []byte(addr)))
	if errors.Is(err, sql.ErrNoRows) {
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
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Meta{}, err
	}
	defer tx.Rollback()
	if debound, err := isDebound(ctx, tx, object); err != nil {
		return store.Meta{}, err
	} else if debound {
		return store.Meta{}, store.Errorf(op, store.ErrDebound, "object %s was deleted", object)
	}
	m, err := scanMeta(op, tx.QueryRowContext(ctx, "SELECT "+prefixed("r.", metaCols)+
		" FROM heads h JOIN records r ON r.addr = h.frame WHERE h.object = ?", []byte(object)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Meta{}, store.Errorf(op, store.ErrNotFound, "no frame of object %s", object)
	}
	return m, err
}

// Bindings returns the live bindings of target; see [store.Store.Bindings].
func (s *Store) Bindings(ctx context.Context, target store.Addr) ([]store.Meta, error) {
	// Kinds are written out (4 binding, 5 debinding) so that the partial
	// index records_debinding serves the inner query.
	return s.list(ctx, "store.Bindings", "SELECT "+metaCols+` FROM records r WHERE kind = 4 AND object = ?
		AND NOT EXISTS (SELECT 1 FROM records d WHERE d.kind = 5 AND d.object = r.addr) ORDER BY seq`,
		[]byte(target))
}

// Debindings returns the debindings of target; see [store.Store.Debindings].
func (s *Store) Debindings(ctx context.Context, target store.Addr) ([]store.Meta, error) {
	return s.list(ctx, "store.Debindings", "SELECT "+metaCols+" FROM records WHERE kind = 5 AND object = ? ORDER BY seq",
		[]byte(target))
}

// Changes returns entries of the change log; see [store.Store.Changes].
func (s *Store) Changes(ctx context.Context, q store.Query) ([]store.Meta, error) {
	const op = "store.Changes"
	limit, err := storeimpl.CheckQuery(op, q)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if len(q.Objects) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?,", len(q.Objects)), ",")
		where = append(where, "object IN ("+marks+")", "addr IN ("+marks+")")
		for range 2 {
			for _, o := range q.Objects {
				args = append(args, []byte(o))
			}
		}
	}
	if len(q.Recipient) > 0 {
		where = append(where, "recipient = ?")
		args = append(args, []byte(q.Recipient))
	}
	if len(where) == 0 {
		return nil, nil
	}
	args = append(args, int64(q.Since), limit)
	return s.list(ctx, op, "SELECT "+metaCols+" FROM records WHERE ("+strings.Join(where, " OR ")+") AND seq > ? ORDER BY seq LIMIT ?", args...)
}

func (s *Store) list(ctx context.Context, op, query string, args ...any) ([]store.Meta, error) {
	if err := s.check(op); err != nil {
		return nil, err
	}
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = s.db.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return storeimpl.ScanAll(op, rows)
}

// Read queries run often enough that parsing them each time shows:
// daemons and remotes call Get, Stat, Cursor and Changes on every
// update.
const (
	sqlGet    = "SELECT " + metaCols + ", sha, body IS NOT NULL, body FROM records WHERE addr = ?"
	sqlStat   = "SELECT " + metaCols + " FROM records WHERE addr = ?"
	sqlCursor = "SELECT seq FROM sqlite_sequence WHERE name = 'records'"
)

// maxReadStmts bounds the read statements kept prepared: Changes makes
// one text per number of objects asked about, and a caller that asks
// about ever more objects must not grow the cache without end.
const maxReadStmts = 64

// prepared returns the statement of query, prepared on its first use and
// kept until Close; nil, without an error, once maxReadStmts other
// statements are kept, for the caller to run query unprepared.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if st, ok := s.reads[query]; ok {
		return st, nil
	}
	if len(s.reads) >= maxReadStmts {
		return nil, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.reads == nil {
		s.reads = map[string]*sql.Stmt{}
	}
	s.reads[query] = st
	return st, nil
}

// queryRow runs a query for one row with its prepared statement.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) scanner {
	st, err := s.prepared(ctx, query)
	switch {
	case err != nil:
		return errRow{err}
	case st == nil:
		return s.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// errRow is a row whose query could not be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// Cursor returns the newest sequence number; see [store.Store.Cursor].
// It is what sqlite_sequence holds, the highest seq ever given even once
// GC has removed that record, kept in memory since only this process
// writes the store.
func (s *Store) Cursor(ctx context.Context) (uint64, error) {
	if err := s.check("store.Cursor"); err != nil {
		return 0, err
	}
	return s.cursor.Load(), nil
}

// Wait blocks until the log passes cursor; see [store.Store.Wait]. Only
// this process writes the store, so its own writes are all the wake-ups.
func (s *Store) Wait(ctx context.Context, cursor uint64) (uint64, error) {
	return storeimpl.Wait(ctx, &s.notify, cursor, 0, s.closed.Load, s.Cursor)
}

// SetQuota sets owner's quota; see [store.Store.SetQuota].
func (s *Store) SetQuota(ctx context.Context, owner store.Addr, q store.Quota) error {
	const op = "store.SetQuota"
	if err := store.CheckAddr(op, "owner", owner); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.check(op); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO quotas (owner, bytes, records) VALUES (?, ?, ?)
		ON CONFLICT (owner) DO UPDATE SET bytes = excluded.bytes, records = excluded.records`, []byte(owner), q.Bytes, q.Records)
	if err == nil {
		s.quotas[string(owner)] = q
	}
	return err
}

// Usage returns what owner stores; see [store.Store.Usage].
func (s *Store) Usage(ctx context.Context, owner store.Addr) (store.Usage, error) {
	if err := s.check("store.Usage"); err != nil {
		return store.Usage{}, err
	}
	var u store.Usage
	err := s.queryRow(ctx, sqlUsageOf, []byte(owner)).Scan(&u.Bytes, &u.Records)
	if errors.Is(err, sql.ErrNoRows) {
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
