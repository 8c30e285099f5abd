// Package pgstore is a [store.Store] in a PostgreSQL database
// (github.com/jackc/pgx/v5), for persistence servers that run as several
// processes, on one machine or many, in front of one database.
//
// Several Stores may have one database open at once: every write is one
// transaction; a dynamic object's head is advanced under a transaction
// lock on the object, so that of two frames with the same counter exactly
// one wins; sequence numbers are given out under a lock on one counter row
// that is held until commit, so that they become visible in order and a
// reader following the cursor never skips one; and each commit sends a
// NOTIFY that wakes the waiters of every Store on the database (the
// notification is only a wake-up: waiters read the cursor, and look again
// every few seconds in case one was lost). Records over the inline limit
// are kept as rows of at most 1 MiB, written and read one at a time.
// PutAll ([store.Batcher]) puts the records of one call in one
// transaction, with one commit.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/glyph-ipc/glyph/internal/notify"
	"github.com/glyph-ipc/glyph/objects/store"
)

// channel is the NOTIFY channel that announces new log entries.
const channel = "glyph_objects_log"

// chunkSize is the largest row a record's body is cut into.
const chunkSize = 1 << 20

// pollInterval is how often a waiter reads the cursor without a wake-up.
const pollInterval = 5 * time.Second

// The advisory lock that GC holds exclusively and every write shares, as
// the two-int4 key (a key space apart from the int8 keys of records).
const lockSpace, lockGC = 0x676c7970, 1

// Store is a [store.Store] in a PostgreSQL database; see the package doc.
type Store struct {
	pool   *pgxpool.Pool
	set    store.Settings
	closed atomic.Bool
	notify notify.Notifier

	stop     context.CancelFunc // stops the listener
	listener sync.WaitGroup
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Batcher = (*Store)(nil)
)

// Open connects to the database that connString names (a PostgreSQL URL
// or keyword/value string), creates or brings up to date its schema, and
// starts listening for other processes' writes. It fails with
// [store.ErrSchema] when a newer version of this package wrote the
// schema.
func Open(ctx context.Context, connString string, opts ...store.Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, store.Errorf("pgstore.Open", store.ErrInvalid, "connection string: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	lctx, stop := context.WithCancel(context.Background())
	s := &Store{pool: pool, set: store.NewSettings(opts...), stop: stop}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		stop()
		pool.Close()
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		conn.Close(ctx)
		stop()
		pool.Close()
		return nil, err
	}
	s.listener.Add(1)
	go s.listen(lctx, cfg.ConnConfig, conn)
	return s, nil
}

// listen turns notifications into wake-ups until ctx ends, reconnecting
// (and waking every waiter, who may have missed something) when the
// connection breaks.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn) {
	defer s.listener.Done()
	backoff := 100 * time.Millisecond
	for {
		if conn != nil {
			_, err := conn.WaitForNotification(ctx)
			if err == nil {
				backoff = 100 * time.Millisecond
				s.notify.Notify()
				continue
			}
			conn.Close(context.Background())
			conn = nil
			s.notify.Notify()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, pollInterval)
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			continue
		}
		if _, err := c.Exec(ctx, "LISTEN "+channel); err != nil {
			c.Close(context.Background())
			continue
		}
		conn = c
	}
}

// migrations are the schema, one step per version; table glyph_schema
// holds the number applied. Steps are only ever appended.
var migrations = []string{
	// 1: the first schema.
	`CREATE TABLE records (
		seq bigint PRIMARY KEY,
		addr bytea NOT NULL UNIQUE,
		kind smallint NOT NULL,
		owner bytea NOT NULL,
		object bytea,
		counter bigint NOT NULL DEFAULT 0,
		prev bytea,
		targets bytea,
		recipient bytea,
		size bigint NOT NULL,
		stored bigint NOT NULL,
		sha bytea NOT NULL,
		body bytea
	);
	CREATE INDEX records_object ON records (object, seq) WHERE object IS NOT NULL;
	CREATE INDEX records_recipient ON records (recipient, seq) WHERE recipient IS NOT NULL;
	CREATE TABLE chunks (addr bytea NOT NULL, n integer NOT NULL, data bytea NOT NULL, PRIMARY KEY (addr, n));
	CREATE TABLE edges (src bytea NOT NULL, target bytea NOT NULL, seq bigint NOT NULL);
	CREATE INDEX edges_src ON edges (src);
	CREATE INDEX edges_seq ON edges (seq);
	CREATE TABLE heads (object bytea PRIMARY KEY, frame bytea NOT NULL, counter bigint NOT NULL);
	CREATE VIEW links AS SELECT src, target FROM edges UNION ALL SELECT object, frame FROM heads;
	CREATE TABLE usage (owner bytea PRIMARY KEY, bytes bigint NOT NULL, records bigint NOT NULL);
	CREATE TABLE quotas (owner bytea PRIMARY KEY, bytes bigint NOT NULL, records bigint NOT NULL);
	CREATE TABLE log (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL);
	INSERT INTO log VALUES (1, 0);`,
	// 2: the debindings of a target found without reading every record of
	// the object (a dynamic object's frames share its id as object, and
	// every Put of a frame asks whether its object is debound).
	`CREATE INDEX records_debinding ON records (object) WHERE kind = 5;`,
}

// SchemaVersion is the schema version this package writes.
var SchemaVersion = len(migrations)

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// Two processes opening a new database at once: one migrates, the
	// other waits and finds the work done.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, 0)", lockSpace); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS glyph_schema (version integer NOT NULL)"); err != nil {
		return err
	}
	var v int
	err = tx.QueryRow(ctx, "SELECT version FROM glyph_schema").Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = tx.Exec(ctx, "INSERT INTO glyph_schema VALUES (0)")
	}
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return store.Errorf("pgstore.Open", store.ErrSchema,
			"store schema version %d is newer than version %d of this program; use a newer one", v, len(migrations))
	}
	if v == len(migrations) {
		return nil
	}
	for ; v < len(migrations); v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("schema migration to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE glyph_schema SET version = $1", v); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Close stops listening and closes the connections; waiters return
// [store.ErrClosed].
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.notify.Notify()
	s.stop()
	s.listener.Wait()
	s.pool.Close()
	return nil
}

func (s *Store) check(op string) error {
	if s.closed.Load() {
		return store.Errorf(op, store.ErrClosed, "store closed")
	}
	return nil
}

// lockKey is the int8 advisory lock key of an address.
func lockKey(a store.Addr) int64 {
	h := fnv.New64a()
	h.Write(a)
	return int64(h.Sum64())
}
