package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/internal/storeimpl"
)

// received is a body read from Put's caller: inline bytes, or a synced
// temporary file to rename into content/.
type received struct {
	inline []byte
	tmp    string
	sum    []byte
}

// Put stores a record; see [store.Store.Put].
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
	if seq, ok, err := s.seqOf(ctx, m.Addr); err != nil || ok {
		return store.Put{Seq: seq, Existed: ok}, err
	}
	rec, err := s.receive(m, body)
	if err != nil {
		return store.Put{}, err
	}
	defer func() {
		if rec.tmp != "" {
			os.Remove(rec.tmp)
		}
	}()

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.check(op); err != nil {
		return store.Put{}, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Put{}, err
	}
	defer tx.Rollback()
	put, err := s.insert(ctx, tx, m, rec)
	if err != nil || put.Existed {
		return put, err
	}
	if err := tx.Commit(); err != nil {
		return store.Put{}, err
	}
	rec.tmp = ""
	s.notify.Notify()
	return put, nil
}

// receive reads the body: into memory up to the inline limit, else into a
// file in tmp/ that is synced before it returns.
func (s *Store) receive(m store.Meta, body io.Reader) (received, error) {
	b := storeimpl.NewBody(body, m.Addr, m.Size)
	if m.Size <= s.set.InlineLimit {
		buf := make([]byte, m.Size)
		if _, err := io.ReadFull(b, buf); err != nil {
			return received{}, bodyErr(m, err)
		}
		if _, err := b.Read(nil); err != io.EOF {
			return received{}, bodyErr(m, err)
		}
		return received{inline: buf, sum: b.Sum()}, nil
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "put-*")
	if err != nil {
		return received{}, err
	}
	if _, err := io.Copy(f, b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return received{}, bodyErr(m, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return received{}, err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return received{}, err
	}
	return received{tmp: f.Name(), sum: b.Sum()}, nil
}

func bodyErr(m store.Meta, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return store.Errorf("store.Put", store.ErrInvalid, "record %s: body shorter than its size %d", m.Addr, m.Size)
	}
	return err
}

// The statements of Put, prepared once.
const (
	sqlSeq = "SELECT seq FROM records WHERE addr = ?"
	// sqlState reads what Put checks in one statement: whether the
	// address is stored, whether it is debound, and for a frame whether
	// its object is debound and its object's head.
	sqlState = `SELECT (SELECT seq FROM records WHERE addr = ?1),
		EXISTS (SELECT 1 FROM records WHERE kind = 5 AND object = ?1),
		EXISTS (SELECT 1 FROM records WHERE kind = 5 AND object = ?2),
		(SELECT frame FROM heads WHERE object = ?2),
		(SELECT counter FROM heads WHERE object = ?2)`
	sqlInsert = `INSERT INTO records
		(addr, kind, owner, object, counter, prev, targets, recipient, size, stored, sha, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlEdge = "INSERT INTO edges (src, target, seq) VALUES (?, ?, ?)"
	sqlHead = `INSERT INTO heads (object, frame, counter) VALUES (?, ?, ?)
		ON CONFLICT (object) DO UPDATE SET frame = excluded.frame, counter = excluded.counter`
	sqlUsage = `INSERT INTO usage (owner, bytes, records) VALUES (?, ?, 1)
		ON CONFLICT (owner) DO UPDATE SET bytes = bytes + excluded.bytes, records = records + 1`
	sqlUsageOf = "SELECT bytes, records FROM usage WHERE owner = ?"
)

// insert writes the record's rows in tx, with writeMu held: the checks
// that need the database (existence, tombstones, the head, the quota),
// then the record, its edges, the head and the owner's usage.
func (s *Store) insert(ctx context.Context, tx *sql.Tx, m store.Meta, rec received) (store.Put, error) {
	const op = "store.Put"
	var (
		seq                    sql.NullInt64
		debound, objectDebound bool
		headFrame              []byte
		headCounter            sql.NullInt64
	)
	var object []byte
	if m.Kind == store.KindFrame {
		object = m.Object
	}
	if err := tx.StmtContext(ctx, s.stmts[sqlState]).QueryRowContext(ctx, []byte(m.Addr), object).
		Scan(&seq, &debound, &objectDebound, &headFrame, &headCounter); err != nil {
		return store.Put{}, err
	}
	if seq.Valid {
		return store.Put{Seq: uint64(seq.Int64), Existed: true}, nil
	}
	if debound {
		return store.Put{}, store.Errorf(op, store.ErrDebound, "%s %s was deleted", m.Kind, m.Addr)
	}
	if m.Kind == store.KindFrame {
		if objectDebound {
			return store.Put{}, store.Errorf(op, store.ErrDebound, "object %s was deleted", m.Object)
		}
		var head *storeimpl.Head
		if headCounter.Valid {
			head = &storeimpl.Head{Frame: headFrame, Counter: uint64(headCounter.Int64)}
		}
		if err := storeimpl.CheckFrame(head, m); err != nil {
			return store.Put{}, err
		}
	}
	if q, ok := s.quotas[string(m.Owner)]; ok || s.set.DefaultQuota != (store.Quota{}) {
		if !ok {
			q = s.set.DefaultQuota
		}
		var u store.Usage
		err := tx.StmtContext(ctx, s.stmts[sqlUsageOf]).QueryRowContext(ctx, []byte(m.Owner)).Scan(&u.Bytes, &u.Records)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return store.Put{}, err
		}
		if err := storeimpl.CheckQuota(q, u, m); err != nil {
			return store.Put{}, err
		}
	}

	if rec.tmp != "" {
		path := s.contentPath(rec.sum)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return store.Put{}, err
		}
		if err := os.Rename(rec.tmp, path); err != nil {
			return store.Put{}, err
		}
		if err := syncDir(filepath.Dir(path)); err != nil {
			return store.Put{}, err
		}
	}
	var bodyCol any
	if rec.tmp == "" {
		bodyCol = rec.inline
	}
	res, err := tx.StmtContext(ctx, s.stmts[sqlInsert]).ExecContext(ctx,
		[]byte(m.Addr), int(m.Kind), []byte(m.Owner), nullable(m.Object), int64(m.Counter), nullable(m.Prev),
		nullableBytes(targetsCol(m.Targets)), nullable(m.Recipient), m.Size, s.set.Clock().UnixNano(), rec.sum, bodyCol)
	if err != nil {
		return store.Put{}, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return store.Put{}, err
	}
	for _, t := range m.Targets {
		if _, err := tx.StmtContext(ctx, s.stmts[sqlEdge]).ExecContext(ctx, []byte(m.Addr), []byte(t), id); err != nil {
			return store.Put{}, err
		}
	}
	if m.Kind == store.KindFrame {
		if _, err := tx.StmtContext(ctx, s.stmts[sqlHead]).ExecContext(ctx, []byte(m.Object), []byte(m.Addr), int64(m.Counter)); err != nil {
			return store.Put{}, err
		}
	}
	if _, err := tx.StmtContext(ctx, s.stmts[sqlUsage]).ExecContext(ctx, []byte(m.Owner), m.Size); err != nil {
		return store.Put{}, err
	}
	return store.Put{Seq: uint64(id)}, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) seqOf(ctx context.Context, addr store.Addr) (uint64, bool, error) {
	var seq int64
	err := s.stmts[sqlSeq].QueryRowContext(ctx, []byte(addr)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return uint64(seq), true, nil
}

func isDebound(ctx context.Context, q querier, addr store.Addr) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT count(*) FROM records WHERE kind = ? AND object = ?", int(store.KindDebinding), []byte(addr)).Scan(&n)
	return n > 0, err
}

func targetsCol(t []store.Addr) []byte {
	if len(t) == 0 {
		return nil
	}
	return storeimpl.EncodeTargets(t)
}

// nullable stores an empty address as NULL, so that partial indexes skip it.
func nullable(a store.Addr) any {
	if len(a) == 0 {
		return nil
	}
	return []byte(a)
}

func nullableBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
