package pgstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/glyph-ipc/glyph/internal/pgtest"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/pgstore"
	"github.com/glyph-ipc/glyph/objects/store/storetest"
	"github.com/glyph-ipc/glyph/service"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openAt(t *testing.T, conn string, opts ...store.Option) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), conn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func open(t *testing.T, opts ...store.Option) store.Store {
	return openAt(t, pgtest.Need(t), opts...)
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

var bg = context.Background()

// Two Stores on one database, as two server processes would have: each
// sees the other's records and head, a frame that races on both is
// accepted once, and a waiter on one wakes for a write through the other.
func TestTwoStores(t *testing.T) {
	conn := pgtest.Need(t)
	a, b := openAt(t, conn), openAt(t, conn)
	dyn := storetest.Addr("dyn")
	c := storetest.Container("alice", "c")
	f0 := storetest.Frame("alice", dyn, 0, nil, c, "f")
	storetest.MustPut(t, a, c)
	storetest.MustPut(t, a, f0)
	if h, err := b.Head(bg, dyn); err != nil || h.Counter != 0 {
		t.Fatalf("Head through the other store = %+v, %v", h, err)
	}

	cur, _ := b.Cursor(bg)
	woke := make(chan uint64, 1)
	go func() {
		seq, err := b.Wait(bg, cur)
		if err != nil {
			t.Error(err)
		}
		woke <- seq
	}()
	time.Sleep(50 * time.Millisecond)
	p := storetest.MustPut(t, a, storetest.Container("alice", "wake"))
	select {
	case seq := <-woke:
		if seq != p.Seq {
			t.Errorf("woke with %d, want %d", seq, p.Seq)
		}
	case <-time.After(3 * time.Second): // well under the poll interval
		t.Fatal("a write through one store did not wake the other's waiter")
	}

	f1a := storetest.Frame("alice", dyn, 1, &f0, c, "a")
	f1b := storetest.Frame("alice", dyn, 1, &f0, c, "b")
	errs := make(chan error, 2)
	for _, x := range []struct {
		s store.Store
		r storetest.Rec
	}{{a, f1a}, {b, f1b}} {
		go func() {
			_, err := x.s.Put(bg, x.r.Meta, bytes.NewReader(x.r.Body))
			errs <- err
		}()
	}
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) || !(errors.Is(e1, store.ErrFork) || errors.Is(e2, store.ErrFork)) {
		t.Fatalf("racing frames 1 through two stores: %v and %v; want one accepted and one ErrFork", e1, e2)
	}
}

// Writers on two Stores and a reader following the cursor: the reader
// sees every record, none skipped, though the writers commit
// concurrently.
func TestCursorNeverSkips(t *testing.T) {
	conn := pgtest.Need(t)
	a, b, r := openAt(t, conn), openAt(t, conn), openAt(t, conn)
	bob := storetest.Addr("bob")
	const perWriter = 60
	var wg sync.WaitGroup
	for i, s := range []store.Store{a, b, a, b} {
		wg.Go(func() {
			for j := range perWriter {
				sh := storetest.Share("alice", bob, fmt.Sprint(i, "/", j))
				if _, err := s.Put(bg, sh.Meta, bytes.NewReader(sh.Body)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	seen := map[uint64]bool{}
	var cursor uint64
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	for len(seen) < 4*perWriter {
		got, err := r.Changes(ctx, store.Query{Recipient: bob, Since: cursor, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range got {
			seen[m.Seq] = true
			cursor = m.Seq
		}
		if len(got) == 0 {
			if _, err := r.Wait(ctx, cursor); err != nil {
				t.Fatalf("after %d records: %v", len(seen), err)
			}
		}
	}
	wg.Wait()
	// Every record is seen exactly once by following the cursor, and
	// nothing else was written.
	last, _ := r.Cursor(bg)
	if last != 4*perWriter || len(seen) != 4*perWriter {
		t.Fatalf("cursor %d, %d records seen; want %d", last, len(seen), 4*perWriter)
	}
}

// A database whose schema a newer version wrote is refused, naming both
// versions.
func TestSchemaTooNew(t *testing.T) {
	conn := pgtest.Need(t)
	s := openAt(t, conn)
	s.Close()
	c, err := pgx.Connect(bg, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(bg)
	if _, err := c.Exec(bg, "UPDATE glyph_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	_, err = pgstore.Open(bg, conn)
	if !errors.Is(err, store.ErrSchema) || service.KindOf(err) != service.KindUnsupported {
		t.Fatalf("Open = %v, want ErrSchema", err)
	}
	want := fmt.Sprintf("version 99 is newer than version %d", pgstore.SchemaVersion)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// A row whose targets column was corrupted reads as ErrCorrupt, and a
// chunk changed underneath fails the read.
func TestCorrupt(t *testing.T) {
	conn := pgtest.Need(t)
	s := openAt(t, conn, store.WithInlineLimit(4))
	c := storetest.Container("alice", "chunked content")
	b := storetest.Binding("alice", c.Meta.Addr)
	storetest.MustPut(t, s, c)
	storetest.MustPut(t, s, b)
	db, err := pgx.Connect(bg, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(bg)
	if _, err := db.Exec(bg, "UPDATE records SET targets = '\\x0102'::bytea WHERE addr = $1", []byte(b.Meta.Addr)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(bg, b.Meta.Addr); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Stat of a corrupt row = %v, want ErrCorrupt", err)
	}
	if _, err := db.Exec(bg, "UPDATE chunks SET data = 'x'::bytea || data WHERE addr = $1", []byte(c.Meta.Addr)); err != nil {
		t.Fatal(err)
	}
	_, rc, err := s.Get(bg, c.Meta.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("reading changed chunks = %v, want ErrCorrupt", err)
	}
}

// A listening connection that the server drops is replaced: waiters are
// still woken by writes through another store, well before the poll.
func TestListenerReconnects(t *testing.T) {
	conn := pgtest.Need(t)
	a, b := openAt(t, conn), openAt(t, conn)
	admin, err := pgx.Connect(bg, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(bg)
	var killed int
	if err := admin.QueryRow(bg, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 2 {
		t.Fatalf("terminated %d listening connections, want the 2 stores'", killed)
	}
	time.Sleep(time.Second) // the listeners reconnect
	cur, _ := b.Cursor(bg)
	woke := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(bg, 3*time.Second) // under the poll interval
		defer cancel()
		_, err := b.Wait(ctx, cur)
		woke <- err
	}()
	time.Sleep(100 * time.Millisecond)
	storetest.MustPut(t, a, storetest.Container("alice", "after the reconnect"))
	if err := <-woke; err != nil {
		t.Fatalf("waiter after its listener was dropped: %v", err)
	}
}
