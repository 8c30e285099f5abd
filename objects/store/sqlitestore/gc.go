package sqlitestore

import (
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/glyph-ipc/glyph/objects/store"
)

// gcMark fills gc_dead with the records that nothing keeps alive: what is
// not reachable from the roots of the package doc of store over links
// (targets, found through the record's seq, and a dynamic object's id to
// its head frame); the view links says the same for people.
const gcMark = `WITH RECURSIVE live(a) AS (
	SELECT addr FROM records WHERE kind = 1
	UNION SELECT r.addr FROM records r WHERE r.kind IN (4, 6)
		AND NOT EXISTS (SELECT 1 FROM records d WHERE d.kind = 5 AND d.object = r.addr)
	UNION SELECT h.object FROM heads h
		WHERE NOT EXISTS (SELECT 1 FROM records d WHERE d.kind = 5 AND d.object = h.object)
	UNION SELECT r.addr FROM records r WHERE r.kind = 5 AND r.stored >= ?
		AND NOT EXISTS (SELECT 1 FROM records d WHERE d.kind = 5 AND d.object = r.addr)
	UNION SELECT addr FROM records WHERE stored >= ?
	UNION SELECT e.target FROM live JOIN records r ON r.addr = live.a JOIN edges e ON e.seq = r.seq
	UNION SELECT h.frame FROM live JOIN heads h ON h.object = live.a
)
INSERT INTO gc_dead (seq, addr, owner, size, sha, file)
SELECT seq, addr, owner, size, sha, body IS NULL FROM records WHERE addr NOT IN (SELECT a FROM live)`

// GC removes what nothing keeps alive; see [store.Store.GC]. It also
// removes content files that no record names (left by a crash between a
// file's rename and its row's commit) once they are older than the grace
// period.
func (s *Store) GC(ctx context.Context) (store.GCStats, error) {
	const op = "store.GC"
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.check(op); err != nil {
		return store.GCStats{}, err
	}
	now := s.set.Clock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.GCStats{}, err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS gc_dead (seq INTEGER PRIMARY KEY, addr BLOB, owner BLOB, size INTEGER, sha BLOB, file INTEGER)`,
		`DELETE FROM gc_dead`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return store.GCStats{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, gcMark,
		now.Add(-s.set.TombstoneRetention).UnixNano(), now.Add(-s.set.Grace).UnixNano()); err != nil {
		return store.GCStats{}, err
	}

	var stats store.GCStats
	freed := map[string]store.Usage{}
	files := map[string]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT owner, size, sha, file FROM gc_dead")
	if err != nil {
		return store.GCStats{}, err
	}
	for rows.Next() {
		var owner, sha []byte
		var size int64
		var file bool
		if err := rows.Scan(&owner, &size, &sha, &file); err != nil {
			rows.Close()
			return store.GCStats{}, err
		}
		u := freed[string(owner)]
		u.Bytes += size
		u.Records++
		freed[string(owner)] = u
		stats.Records++
		stats.Bytes += size
		if file {
			files[string(sha)] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return store.GCStats{}, err
	}
	for _, q := range []string{
		`DELETE FROM edges WHERE seq IN (SELECT seq FROM gc_dead)`,
		`DELETE FROM heads WHERE frame IN (SELECT addr FROM gc_dead)`,
		`DELETE FROM records WHERE seq IN (SELECT seq FROM gc_dead)`,
		`DELETE FROM gc_dead`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return store.GCStats{}, err
		}
	}
	for owner, u := range freed {
		if _, err := tx.ExecContext(ctx, "UPDATE usage SET bytes = bytes - ?, records = records - ? WHERE owner = ?",
			u.Bytes, u.Records, []byte(owner)); err != nil {
			return store.GCStats{}, err
		}
	}
	// Another record may have the same bytes: its file stays.
	for sha := range files {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM records WHERE sha = ? AND body IS NULL", []byte(sha)).Scan(&n); err != nil {
			return store.GCStats{}, err
		}
		if n > 0 {
			delete(files, sha)
		}
	}
	if err := tx.Commit(); err != nil {
		return store.GCStats{}, err
	}
	for sha := range files {
		if err := os.Remove(s.contentPath([]byte(sha))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return stats, err
		}
	}
	return stats, s.sweepOrphans(ctx)
}

// sweepOrphans removes the content files older than the grace period that
// no record names.
func (s *Store) sweepOrphans(ctx context.Context) error {
	cut := s.set.Clock().Add(-s.set.Grace)
	root := filepath.Join(s.dir, "content")
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		sum, err := hex.DecodeString(d.Name())
		if err != nil {
			return nil // not ours
		}
		info, err := d.Info()
		if err != nil || info.ModTime().After(cut) {
			return err
		}
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM records WHERE sha = ? AND body IS NULL", sum).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return os.Remove(path)
		}
		return nil
	})
}
