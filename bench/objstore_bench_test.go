package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/glyph-ipc/glyph/internal/pgtest"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/pgstore"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

// objectSize is the size of the records put: a small encrypted container.
const objectSize = 1536

// objectRecord returns record i: 1.5 KiB of bytes and a 33-byte address.
func objectRecord(i int64) (store.Meta, []byte) {
	body := bytes.Repeat([]byte{byte(i)}, objectSize)
	binary.BigEndian.PutUint64(body, uint64(i))
	h := sha256.Sum256(body)
	return store.Meta{Addr: append(store.Addr{1}, h[:]...), Kind: store.KindContainer, Owner: store.Addr("\x01bench"), Size: objectSize}, body
}

// BenchmarkObjectStorePut measures durable Puts of 1.5 KiB containers,
// one at a time (each its own transaction, synced), through a store and
// through its database doing the same insert and nothing else, the two
// alternating within each iteration so that both see the same disk (a
// shared machine's sync times drift by 10x within seconds): sqlitestore
// against raw modernc SQLite in WAL mode with synchronous=FULL, pgstore
// against raw pgx on a PostgreSQL server that syncs (skipped when
// PostgreSQL is not installed). It reports each side's puts/s and
// store/raw, the ratio of their times. pgstore/parallel-8 puts from 8
// goroutines at once, without a raw side.
func BenchmarkObjectStorePut(b *testing.B) {
	ctx := context.Background()
	b.Run("sqlite", func(b *testing.B) {
		s, err := sqlitestore.Open(ctx, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+
			"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, addr BLOB NOT NULL UNIQUE,
			kind INTEGER NOT NULL, owner BLOB NOT NULL, size INTEGER NOT NULL, sha BLOB NOT NULL, body BLOB)`); err != nil {
			b.Fatal(err)
		}
		benchAgainstRaw(b, s, func(m store.Meta, sum, body []byte) error {
			_, err := db.Exec("INSERT INTO records (addr, kind, owner, size, sha, body) VALUES (?, ?, ?, ?, ?, ?)",
				[]byte(m.Addr), int(m.Kind), []byte(m.Owner), m.Size, sum, body)
			return err
		})
	})

	srv, err := pgtest.Start(ctx, pgtest.Durable())
	if errors.Is(err, pgtest.ErrMissing) {
		b.Log("PostgreSQL benchmarks skipped:", err)
		return
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Stop() })
	openPG := func(b *testing.B) (*pgstore.Store, *pgxpool.Pool) {
		conn, err := srv.NewDatabase(ctx)
		if err != nil {
			b.Fatal(err)
		}
		s, err := pgstore.Open(ctx, conn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		pool, err := pgxpool.New(ctx, conn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		return s, pool
	}
	b.Run("postgresql", func(b *testing.B) {
		s, pool := openPG(b)
		if _, err := pool.Exec(ctx, `CREATE TABLE raw (seq bigserial PRIMARY KEY, addr bytea NOT NULL UNIQUE,
			kind smallint NOT NULL, owner bytea NOT NULL, size bigint NOT NULL, sha bytea NOT NULL, body bytea)`); err != nil {
			b.Fatal(err)
		}
		benchAgainstRaw(b, s, func(m store.Meta, sum, body []byte) error {
			_, err := pool.Exec(ctx, "INSERT INTO raw (addr, kind, owner, size, sha, body) VALUES ($1, $2, $3, $4, $5, $6)",
				[]byte(m.Addr), int16(m.Kind), []byte(m.Owner), m.Size, sum, body)
			return err
		})
	})
	b.Run("postgresql/parallel-8", func(b *testing.B) {
		s, _ := openPG(b)
		benchParallelPuts(b, s, 8)
	})
}

// benchAgainstRaw puts record i through s and then through raw, timing
// each.
func benchAgainstRaw(b *testing.B, s store.Store, raw func(m store.Meta, sum, body []byte) error) {
	ctx := context.Background()
	var storeTime, rawTime time.Duration
	for i := 0; b.Loop(); i++ {
		m, body := objectRecord(int64(i))
		t0 := time.Now()
		if _, err := s.Put(ctx, m, bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		sum := sha256.Sum256(body)
		if err := raw(m, sum[:], body); err != nil {
			b.Fatal(err)
		}
		storeTime += t1.Sub(t0)
		rawTime += time.Since(t1)
	}
	b.ReportMetric(float64(b.N)/storeTime.Seconds(), "store-puts/s")
	b.ReportMetric(float64(b.N)/rawTime.Seconds(), "raw-puts/s")
	b.ReportMetric(float64(storeTime)/float64(rawTime), "store/raw")
}

func benchParallelPuts(b *testing.B, s store.Store, par int) {
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(par)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m, body := objectRecord(next.Add(1))
			if _, err := s.Put(ctx, m, bytes.NewReader(body)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkObjectStoreGC measures a garbage collection of an SQLite store
// that holds 10,000 dynamic objects, each a head frame and the container
// it points to, all alive: the marking walk over every link, which is
// what a collection costs when little is dead.
func BenchmarkObjectStoreGC(b *testing.B) {
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, b.TempDir(), store.WithGrace(0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const objects = 10000
	items := make([]store.Item, 0, 2*objects)
	for i := range int64(objects) {
		m, body := objectRecord(i)
		h := sha256.Sum256(append([]byte("frame"), m.Addr...))
		o := sha256.Sum256(append([]byte("object"), m.Addr...))
		f := store.Meta{Addr: append(store.Addr{1}, h[:]...), Kind: store.KindFrame, Owner: m.Owner,
			Object: append(store.Addr{1}, o[:]...), Targets: []store.Addr{m.Addr}, Size: 64}
		items = append(items, store.Item{Meta: m, Body: bytes.NewReader(body)},
			store.Item{Meta: f, Body: bytes.NewReader(make([]byte, 64))})
	}
	if _, err := s.PutAll(ctx, items); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		st, err := s.GC(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if st.Records != 0 {
			b.Fatalf("GC removed %d live records", st.Records)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/gc")
}
