package sqlitestore_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
	"github.com/glyph-ipc/glyph/objects/store/storetest"
	"github.com/glyph-ipc/glyph/service"
)

func open(t *testing.T, opts ...store.Option) store.Store {
	s, err := sqlitestore.Open(context.Background(), t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

var bg = context.Background()

func setColumn(t *testing.T, dir, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "objects.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

// A store whose schema a newer version wrote is refused, naming both
// versions.
func TestSchemaTooNew(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlitestore.Open(bg, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	setColumn(t, dir, "PRAGMA user_version = 99")
	_, err = sqlitestore.Open(bg, dir)
	if !errors.Is(err, store.ErrSchema) || service.KindOf(err) != service.KindUnsupported {
		t.Fatalf("Open = %v, want ErrSchema", err)
	}
	want := fmt.Sprintf("version 99 is newer than version %d", sqlitestore.SchemaVersion)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	// The refused Open released the lock.
	setColumn(t, dir, fmt.Sprintf("PRAGMA user_version = %d", sqlitestore.SchemaVersion))
	s, err = sqlitestore.Open(bg, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// Corrupted metadata and content read as ErrCorrupt, not as other bytes.
func TestCorrupt(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlitestore.Open(bg, dir, store.WithInlineLimit(90))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := storetest.Container("alice", "content in a file: long enough not to stay in the database row, which takes up to ninety bytes")
	gone := storetest.Container("alice", "content whose file goes: long enough not to stay in the database row, which takes up to ninety")
	b := storetest.Binding("alice", c.Meta.Addr)
	for _, r := range []storetest.Rec{c, gone, b} {
		storetest.MustPut(t, s, r)
	}
	setColumn(t, dir, "UPDATE records SET targets = x'0102' WHERE addr = ?", []byte(b.Meta.Addr))
	if _, err := s.Stat(bg, b.Meta.Addr); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Stat of a corrupt row = %v, want ErrCorrupt", err)
	}
	setColumn(t, dir, "UPDATE records SET kind = 77 WHERE addr = ?", []byte(c.Meta.Addr))
	if _, err := s.Stat(bg, c.Meta.Addr); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Stat of an unknown kind = %v, want ErrCorrupt", err)
	}
	setColumn(t, dir, "UPDATE records SET kind = 2 WHERE addr = ?", []byte(c.Meta.Addr))

	files := contentFiles(t, dir)
	if len(files) != 2 {
		t.Fatalf("%d content files, want 2", len(files))
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(body, gone.Body) {
			os.Remove(f)
			continue
		}
		body[0] ^= 1
		if err := os.WriteFile(f, body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, rc, err := s.Get(bg, c.Meta.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("reading a changed file = %v, want ErrCorrupt", err)
	}
	if _, _, err := s.Get(bg, gone.Meta.Addr); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Get of a record whose file is missing = %v, want ErrCorrupt", err)
	}
}

func contentFiles(t *testing.T, dir string) []string {
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, "content"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// GC removes content files that no record names (a crash between the
// rename and the commit leaves one) once they are past the grace period.
func TestGCOrphanFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlitestore.Open(bg, dir, store.WithInlineLimit(4))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := storetest.Container("alice", "kept, bound")
	storetest.MustPut(t, s, c)
	storetest.MustPut(t, s, storetest.Binding("alice", c.Meta.Addr))
	hoursAgo := time.Now().Add(-3 * time.Hour)
	kept := contentFiles(t, dir)
	for _, f := range kept {
		os.Chtimes(f, hoursAgo, hoursAgo)
	}
	old := filepath.Join(dir, "content", "aa", "bb", "aabb"+strings.Repeat("0", 60))
	fresh := filepath.Join(dir, "content", "aa", "bb", "aabb"+strings.Repeat("1", 60))
	for _, f := range []string{old, fresh} {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("orphan"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(old, hoursAgo, hoursAgo); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an old orphan file is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a young orphan file went: %v", err)
	}
	if got := len(contentFiles(t, dir)); got != len(kept)+1 {
		t.Errorf("%d content files, want the %d of records and the young orphan", got, len(kept))
	}
	if _, rc, err := s.Get(bg, c.Meta.Addr); err != nil {
		t.Error(err)
	} else {
		rc.Close()
	}
}

// A store written with schema version 2 (edges found by their source's
// address) opens with version 3 and keeps what it holds: the migration
// runs, and a collection still follows a frame to its container.
func TestMigrateFromVersion2(t *testing.T) {
	dir := t.TempDir()
	clock := storetest.NewClock()
	opts := []store.Option{store.WithClock(clock.Now), store.WithGrace(time.Minute)}
	s, err := sqlitestore.Open(bg, dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	object := storetest.Addr("object")
	c := storetest.Container("alice", "content")
	f := storetest.Frame("alice", object, 0, nil, c, "frame")
	storetest.MustPut(t, s, c)
	storetest.MustPut(t, s, f)
	s.Close()
	setColumn(t, dir, `CREATE INDEX edges_src ON edges (src);
		DROP VIEW links;
		CREATE VIEW links AS SELECT src, target FROM edges UNION ALL SELECT object, frame FROM heads;
		PRAGMA user_version = 2`)

	clock.Advance(time.Hour) // past the grace: only links keep the records
	s, err = sqlitestore.Open(bg, dir, opts...)
	if err != nil {
		t.Fatalf("Open of a version 2 store: %v", err)
	}
	defer s.Close()
	if st, err := s.GC(bg); err != nil || st.Records != 0 {
		t.Fatalf("GC after the migration = %+v, %v; want nothing removed", st, err)
	}
	if _, err := s.Stat(bg, c.Meta.Addr); err != nil {
		t.Errorf("the container after the migration: %v", err)
	}
	if h, err := s.Head(bg, object); err != nil || !bytes.Equal(h.Addr, f.Meta.Addr) {
		t.Errorf("Head after the migration = %v, %v", h.Addr, err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "objects.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v, idx, links int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != sqlitestore.SchemaVersion {
		t.Errorf("user_version = %d, %v; want %d", v, err, sqlitestore.SchemaVersion)
	}
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'edges_src'").Scan(&idx); err != nil || idx != 0 {
		t.Errorf("edges_src after the migration: %d, %v", idx, err)
	}
	if err := db.QueryRow("SELECT count(*) FROM links WHERE src = ? AND target = ?", []byte(f.Meta.Addr), []byte(c.Meta.Addr)).Scan(&links); err != nil || links != 1 {
		t.Errorf("the links view has the frame's link %d times, %v", links, err)
	}
}

// The cursor, kept in memory, is the one the store had when it was
// closed, and numbering goes on from it after a reopen.
func TestCursorReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlitestore.Open(bg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Cursor(bg); err != nil || c != 0 {
		t.Fatalf("Cursor of a new store = %d, %v; want 0", c, err)
	}
	var last uint64
	for i := range 3 {
		last = storetest.MustPut(t, s, storetest.Container("alice", fmt.Sprint("content ", i))).Seq
	}
	s.Close()
	s, err = sqlitestore.Open(bg, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, err := s.Cursor(bg); err != nil || c != last {
		t.Fatalf("Cursor after a reopen = %d, %v; want %d", c, err, last)
	}
	p := storetest.MustPut(t, s, storetest.Container("alice", "after the reopen"))
	if c, err := s.Cursor(bg); err != nil || p.Seq != last+1 || c != p.Seq {
		t.Fatalf("after one more Put (seq %d): Cursor = %d, %v; want %d", p.Seq, c, err, last+1)
	}
}
