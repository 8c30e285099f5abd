// Package sqlitestore is a [store.Store] in a directory on the local disk:
// an SQLite database (modernc.org/sqlite, no cgo) in WAL mode with
// synchronous=FULL, so that a Put that returned survives a crash, and
// records larger than the inline limit as content-addressed files beside
// it. One process at a time: Open takes an exclusive lock on the
// directory, and writes inside that process go through one connection,
// on one goroutine, with group commit: the Puts that arrive while a
// commit is syncing are written together in the next transaction (one
// refused record fails only its own Put) and synced once, and each Put
// returns only after the commit that holds it. PutAll
// ([store.Batcher]) writes many records of one caller with one commit.
//
// The directory holds:
//
//	LOCK               the lock file; holds the PID of the process that has the store open
//	objects.db         the database (with objects.db-wal and objects.db-shm)
//	content/ab/cd/…    record bodies over the inline limit, named by their SHA-256 in hex
//	tmp/               bodies being received, renamed into content/ once complete and synced
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/glyph-ipc/glyph/internal/notify"
	"github.com/glyph-ipc/glyph/internal/pidlock"
	"github.com/glyph-ipc/glyph/objects/store"
)

// Store is a [store.Store] in a directory; see the package doc.
type Store struct {
	dir  string
	db   *sql.DB
	lock *os.File // holds the flock until Close
	set  store.Settings

	// stmts are the statements of Put, prepared once, by their text.
	stmts map[string]*sql.Stmt

	readMu sync.Mutex           // guards reads
	reads  map[string]*sql.Stmt // read statements prepared on first use, by their text

	// writeMu serialises writes: SQLite has one writer, and content files
	// appear and disappear only while it is held, in step with the rows
	// that name them. It guards w and quotas.
	writeMu sync.Mutex
	w       *sql.Conn              // the connection that writes
	quotas  map[string]store.Quota // the quotas table, by owner
	closed  atomic.Bool

	// cursor is the highest seq given (sqlite_sequence's), read at Open
	// and raised by writeLoop after each commit: only this process
	// writes the store, so [Store.Cursor] needs no query.
	cursor atomic.Uint64

	queueMu    sync.Mutex  // guards queue and writerGone
	queue      []*writeReq // writes waiting for the next group commit
	writerGone bool        // writeLoop has stopped: the queue takes no more
	kick       chan struct{}
	stop       chan struct{} // closed by Close: writeLoop stops
	writerDone chan struct{} // closed when writeLoop has stopped
	notify     notify.Notifier
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Batcher = (*Store)(nil)
)

// Open opens the store in dir, creating dir and the store when missing,
// and brings its schema up to date. It fails with [store.ErrLocked] when
// another Open (in this process or another) has the store, and with
// [store.ErrSchema] when a newer version of this package wrote it.
func Open(ctx context.Context, dir string, opts ...store.Option) (*Store, error) {
	const op = "sqlitestore.Open"
	for _, d := range []string{dir, filepath.Join(dir, "content"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	lock, err := lockDir(op, dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, lock: lock, set: store.NewSettings(opts...)}
	if err := s.open(ctx); err != nil {
		if s.db != nil {
			s.db.Close()
		}
		lock.Close()
		return nil, err
	}
	s.kick, s.stop, s.writerDone = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go s.writeLoop()
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	dsn := "file:" + filepath.Join(s.dir, "objects.db") +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	s.db = db
	if err := migrate(ctx, db); err != nil {
		return err
	}
	if s.w, err = db.Conn(ctx); err != nil {
		return err
	}
	s.stmts = map[string]*sql.Stmt{}
	for _, q := range []string{sqlSeq, sqlState, sqlInsert, sqlEdge, sqlHead, sqlUsage, sqlUsageOf} {
		if s.stmts[q], err = db.PrepareContext(ctx, q); err != nil {
			return err
		}
	}
	var cursor int64
	switch err := db.QueryRowContext(ctx, sqlCursor).Scan(&cursor); {
	case errors.Is(err, sql.ErrNoRows): // nothing stored yet
	case err != nil:
		return err
	}
	s.cursor.Store(uint64(cursor))
	s.quotas = map[string]store.Quota{}
	rows, err := db.QueryContext(ctx, "SELECT owner, bytes, records FROM quotas")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var owner []byte
		var q store.Quota
		if err := rows.Scan(&owner, &q.Bytes, &q.Records); err != nil {
			return err
		}
		s.quotas[string(owner)] = q
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Bodies left in tmp/ by a crash were never renamed into content/, so
	// no row names them.
	tmps, err := os.ReadDir(filepath.Join(s.dir, "tmp"))
	if err != nil {
		return err
	}
	for _, e := range tmps {
		os.Remove(filepath.Join(s.dir, "tmp", e.Name()))
	}
	return nil
}

// lockDir takes the exclusive lock on dir's LOCK file and writes this
// process's PID into it.
func lockDir(op, dir string) (*os.File, error) {
	f, err := pidlock.Lock(filepath.Join(dir, "LOCK"))
	if held := (*pidlock.HeldError)(nil); errors.As(err, &held) {
		return nil, store.Errorf(op, store.ErrLocked, "store %s is in use by %s", dir, held.Holder())
	}
	return f, err
}

// migrations are the schema, one step per version; PRAGMA user_version
// is the number applied. Steps are only ever appended.
var migrations = []string{
	// 1: the first schema.
	`CREATE TABLE records (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		addr BLOB NOT NULL UNIQUE,
		kind INTEGER NOT NULL,
		owner BLOB NOT NULL,
		object BLOB,
		counter INTEGER NOT NULL DEFAULT 0,
		prev BLOB,
		targets BLOB,
		recipient BLOB,
		size INTEGER NOT NULL,
		stored INTEGER NOT NULL,
		sha BLOB NOT NULL,
		body BLOB
	);
	CREATE INDEX records_object ON records (object, seq) WHERE object IS NOT NULL;
	CREATE INDEX records_recipient ON records (recipient, seq) WHERE recipient IS NOT NULL;
	CREATE INDEX records_sha ON records (sha) WHERE body IS NULL;
	CREATE TABLE edges (src BLOB NOT NULL, target BLOB NOT NULL, seq INTEGER NOT NULL);
	CREATE INDEX edges_src ON edges (src);
	CREATE INDEX edges_seq ON edges (seq);
	CREATE TABLE heads (object BLOB PRIMARY KEY, frame BLOB NOT NULL, counter INTEGER NOT NULL) WITHOUT ROWID;
	CREATE VIEW links AS SELECT src, target FROM edges UNION ALL SELECT object, frame FROM heads;
	CREATE TABLE usage (owner BLOB PRIMARY KEY, bytes INTEGER NOT NULL, records INTEGER NOT NULL) WITHOUT ROWID;
	CREATE TABLE quotas (owner BLOB PRIMARY KEY, bytes INTEGER NOT NULL, records INTEGER NOT NULL) WITHOUT ROWID;`,
	// 2: the debindings of a target found without reading every record of
	// the object (a dynamic object's frames share its id as object, and
	// every Put of a frame asks whether its object is debound).
	`CREATE INDEX records_debinding ON records (object) WHERE kind = 5;`,
	// 3: edges are found through their record's seq (edges_seq), not by
	// the record's address: an index on random addresses cost every
	// stored frame a page write of its own at commit.
	`DROP INDEX edges_src;
	DROP VIEW links;
	CREATE VIEW links AS SELECT r.addr AS src, e.target AS target FROM edges e JOIN records r ON r.seq = e.seq
		UNION ALL SELECT object, frame FROM heads;`,
}

// SchemaVersion is the schema version this package writes.
var SchemaVersion = len(migrations)

func migrate(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return store.Errorf("sqlitestore.Open", store.ErrSchema,
			"store schema version %d is newer than version %d of this program; use a newer one", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("schema migration to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database and releases the lock; waiters return
// [store.ErrClosed].
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.notify.Notify()
	close(s.stop)
	<-s.writerDone
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.readMu.Lock()
	for _, st := range s.reads {
		st.Close()
	}
	s.reads = nil
	s.readMu.Unlock()
	if s.w != nil {
		s.w.Close()
	}
	err := s.db.Close()
	if lerr := s.lock.Close(); err == nil {
		err = lerr
	}
	return err
}

func (s *Store) check(op string) error {
	if s.closed.Load() {
		return store.Errorf(op, store.ErrClosed, "store closed")
	}
	return nil
}

// contentPath returns where the body with SHA-256 sum lives.
func (s *Store) contentPath(sum []byte) string {
	h := fmt.Sprintf("%x", sum)
	return filepath.Join(s.dir, "content", h[:2], h[2:4], h)
}
