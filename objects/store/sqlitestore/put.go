package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

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
	if err := s.checkMeta(m); err != nil {
		return store.Put{}, err
	}
	if seq, ok, err := s.seqOf(ctx, m.Addr); err != nil || ok {
		return store.Put{Seq: seq, Existed: ok}, err
	}
	puts, err := s.write(ctx, []store.Item{{Meta: m, Body: body}})
	if err != nil {
		return store.Put{}, err
	}
	return puts[0], nil
}

// PutAll stores records in order with one commit; see [store.Batcher].
func (s *Store) PutAll(ctx context.Context, items []store.Item) ([]store.Put, error) {
	const op = "store.PutAll"
	if err := s.check(op); err != nil {
		return nil, err
	}
	for i, it := range items {
		if err := s.checkMeta(it.Meta); err != nil {
			// The items before the one refused are stored, as the
			// interface promises.
			puts, werr := s.write(ctx, items[:i])
			if werr != nil {
				return puts, werr
			}
			return puts, err
		}
	}
	return s.write(ctx, items)
}

func (s *Store) checkMeta(m store.Meta) error {
	if err := m.Check(); err != nil {
		return err
	}
	if m.Size > s.set.MaxSize {
		return store.Errorf("store.Put", store.ErrTooLarge, "record %s of %d bytes, over %d", m.Addr, m.Size, s.set.MaxSize)
	}
	return nil
}

// A writeReq is the records of one Put or PutAll waiting to be written.
type writeReq struct {
	ctx   context.Context
	items []store.Item
	recs  []received
	puts  []store.Put
	err   error
	limit int           // the items to write: fewer once one is refused
	done  chan struct{} // closed once written (or failed)
}

// write receives the bodies of items and writes them with group commit:
// the request joins the queue, and the store's writer (writeLoop) writes
// every queued request in one transaction and syncs once. A request
// returns only after the commit that holds it.
func (s *Store) write(ctx context.Context, items []store.Item) ([]store.Put, error) {
	const op = "store.Put"
	req := &writeReq{ctx: ctx, items: items, recs: make([]received, 0, len(items)), done: make(chan struct{})}
	defer func() {
		for _, rec := range req.recs {
			if rec.tmp != "" {
				os.Remove(rec.tmp)
			}
		}
	}()
	var recvErr error
	for _, it := range items {
		rec, err := s.receive(it.Meta, it.Body)
		if err != nil {
			// Write the items before it, then report it.
			recvErr = err
			req.items = items[:len(req.recs)]
			break
		}
		req.recs = append(req.recs, rec)
	}
	if len(req.items) == 0 {
		return nil, recvErr
	}
	s.queueMu.Lock()
	if s.writerGone {
		s.queueMu.Unlock()
		return nil, store.Errorf(op, store.ErrClosed, "store closed")
	}
	s.queue = append(s.queue, req)
	s.queueMu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default: // the writer is already due to look at the queue
	}
	<-req.done
	if req.err == nil {
		req.err = recvErr
	}
	return req.puts, req.err
}

// writeLoop is the store's writer: it commits what the queue holds, one
// group at a time, until the store closes, then fails what is left with
// [store.ErrClosed]. The commits run on this one long-lived goroutine
// rather than on the callers' own: SQLite's calls go deep, and a
// caller's fresh goroutine would grow its stack (copying it) again at
// every write.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	for {
		select {
		case <-s.kick:
		case <-s.stop:
			s.queueMu.Lock()
			group := s.queue
			s.queue, s.writerGone = nil, true
			s.queueMu.Unlock()
			for _, r := range group {
				r.err = store.Errorf("store.Put", store.ErrClosed, "store closed")
				close(r.done)
			}
			return
		}
		s.queueMu.Lock()
		group := s.queue
		s.queue = nil
		s.queueMu.Unlock()
		if len(group) == 0 {
			continue
		}
		s.writeMu.Lock()
		if err := s.check("store.Put"); err != nil {
			for _, r := range group {
				r.err = err
				close(r.done)
			}
		} else {
			s.commitGroup(group)
		}
		s.writeMu.Unlock()
	}
}

// commitGroup writes the requests of group in one transaction, with
// writeMu held, and closes each one's done. A record refused ends its own
// request only: the transaction is rolled back and written again without
// it and the rest of its request (refusals are rare, and a savepoint per
// record would cost every record two more statements). A failed commit
// fails them all.
func (s *Store) commitGroup(group []*writeReq) {
	// The group's transaction must not end with one caller's context.
	ctx := context.WithoutCancel(group[0].ctx)
	for _, r := range group {
		r.limit = len(r.items)
	}
	for {
		committed, err := s.tryGroup(ctx, group)
		if err != nil {
			for _, r := range group {
				r.puts, r.err = nil, err
				close(r.done)
			}
			return
		}
		if committed {
			break
		}
	}
	var newest uint64
	for _, r := range group {
		for i, p := range r.puts {
			r.recs[i].tmp = "" // renamed into content/ and committed
			if !p.Existed {
				newest = max(newest, p.Seq)
			}
		}
	}
	if newest > s.cursor.Load() {
		s.cursor.Store(newest) // only this goroutine raises it
		s.notify.Notify()
	}
	for _, r := range group {
		close(r.done)
	}
}

// tryGroup writes the first limit records of each request of group in one
// transaction and commits it. When a record is refused it sets its
// request's error and limit and reports false, for the caller to try
// again with less; an error is a failure of the database.
func (s *Store) tryGroup(ctx context.Context, group []*writeReq) (bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	g := newGroupRows()
	for _, r := range group {
		r.puts = r.puts[:0]
		for i, it := range r.items[:r.limit] {
			err := r.ctx.Err()
			if err == nil {
				var put store.Put
				put, err = s.insert(ctx, tx, g, it.Meta, r.recs[i])
				r.puts = append(r.puts, put)
			}
			if err != nil {
				r.puts = r.puts[:i]
				r.err, r.limit = err, i
				return false, nil
			}
		}
	}
	if err := s.writeGroupRows(ctx, tx, g); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// groupRows is what the records of a group change in the heads and
// usage tables, written once per object and owner when the group ends
// (writeGroupRows) instead of once per record: a group is mostly one
// writer's frames and containers, and these were two of a record's five
// statements.
type groupRows struct {
	heads map[string]storeimpl.Head // by object
	usage map[string]store.Usage    // added, by owner
}

func newGroupRows() *groupRows {
	return &groupRows{heads: map[string]storeimpl.Head{}, usage: map[string]store.Usage{}}
}

// writeGroupRows writes the heads and usage that g holds in tx, in the
// order of their keys.
func (s *Store) writeGroupRows(ctx context.Context, tx *sql.Tx, g *groupRows) error {
	for _, o := range slices.Sorted(maps.Keys(g.heads)) {
		h := g.heads[o]
		if _, err := tx.StmtContext(ctx, s.stmts[sqlHead]).ExecContext(ctx, []byte(o), []byte(h.Frame), int64(h.Counter)); err != nil {
			return err
		}
	}
	for _, o := range slices.Sorted(maps.Keys(g.usage)) {
		u := g.usage[o]
		if _, err := tx.StmtContext(ctx, s.stmts[sqlUsage]).ExecContext(ctx, []byte(o), u.Bytes, u.Records); err != nil {
			return err
		}
	}
	return nil
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
	sqlUsage = `INSERT INTO usage (owner, bytes, records) VALUES (?, ?, ?)
		ON CONFLICT (owner) DO UPDATE SET bytes = bytes + excluded.bytes, records = records + excluded.records`
	sqlUsageOf = "SELECT bytes, records FROM usage WHERE owner = ?"
)

// insert writes the record's rows in tx, with writeMu held: the checks
// that need the database (existence, tombstones, the head, the quota),
// then the record and its edges; the head and the owner's usage go to g,
// whose values count before the tables'.
func (s *Store) insert(ctx context.Context, tx *sql.Tx, g *groupRows, m store.Meta, rec received) (store.Put, error) {
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
		if h, ok := g.heads[string(m.Object)]; ok {
			head = &h
		} else if headCounter.Valid {
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
		added := g.usage[string(m.Owner)]
		u.Bytes, u.Records = u.Bytes+added.Bytes, u.Records+added.Records
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
			// A group written again after a refusal renamed it already.
			if _, serr := os.Stat(path); !errors.Is(err, fs.ErrNotExist) || serr != nil {
				return store.Put{}, err
			}
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
		g.heads[string(m.Object)] = storeimpl.Head{Frame: m.Addr, Counter: m.Counter}
	}
	u := g.usage[string(m.Owner)]
	u.Bytes, u.Records = u.Bytes+m.Size, u.Records+1
	g.usage[string(m.Owner)] = u
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
	// kind = 5 (store.KindDebinding) is written out so that the partial
	// index records_debinding serves the query.
	err := q.QueryRowContext(ctx, "SELECT count(*) FROM records WHERE kind = 5 AND object = ?", []byte(addr)).Scan(&n)
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
