package pgstore

import (
	"context"

	"github.com/glyph-ipc/glyph/objects/store"
)

// gcMark fills gc_dead with the records that nothing keeps alive: what is
// not reachable from the roots of the package doc of store over links
// (targets, and a dynamic object's id to its head frame).
const gcMark = `WITH RECURSIVE live(a) AS (
	SELECT addr FROM records WHERE kind = 1
	UNION SELECT r.addr FROM records r WHERE r.kind IN (4, 6)
		AND NOT EXISTS (SELECT 1 FROM records d WHERE d.kind = 5 AND d.object = r.addr)
	UNION SELECT h.object FROM heads h
		WHERE NOT EXISTS (SELECT 1 FROM records d WHERE d.kind = 5 AND d.object = h.object)
	UNION SELECT r.addr FROM records r WHERE r.kind = 5 AND r.stored >= $1
		AND NOT EXISTS (SELECT 1 FROM records d WHERE d.kind = 5 AND d.object = r.addr)
	UNION SELECT addr FROM records WHERE stored >= $2
	UNION SELECT l.target FROM links l JOIN live ON l.src = live.a
)
INSERT INTO gc_dead (seq, addr, owner, size)
SELECT seq, addr, owner, size FROM records r WHERE NOT EXISTS (SELECT 1 FROM live WHERE live.a = r.addr)`

// GC removes what nothing keeps alive; see [store.Store.GC]. Writes of
// every Store on the database wait while it runs.
func (s *Store) GC(ctx context.Context) (store.GCStats, error) {
	const op = "store.GC"
	if err := s.check(op); err != nil {
		return store.GCStats{}, err
	}
	now := s.set.Clock()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.GCStats{}, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, $2)", lockSpace, lockGC); err != nil {
		return store.GCStats{}, err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE gc_dead (seq bigint PRIMARY KEY, addr bytea, owner bytea, size bigint) ON COMMIT DROP`); err != nil {
		return store.GCStats{}, err
	}
	if _, err := tx.Exec(ctx, gcMark, now.Add(-s.set.TombstoneRetention).UnixNano(), now.Add(-s.set.Grace).UnixNano()); err != nil {
		return store.GCStats{}, err
	}
	var stats store.GCStats
	if err := tx.QueryRow(ctx, "SELECT count(*), coalesce(sum(size), 0) FROM gc_dead").Scan(&stats.Records, &stats.Bytes); err != nil {
		return store.GCStats{}, err
	}
	for _, q := range []string{
		`UPDATE usage u SET bytes = u.bytes - d.bytes, records = u.records - d.records
			FROM (SELECT owner, sum(size) AS bytes, count(*) AS records FROM gc_dead GROUP BY owner) d WHERE u.owner = d.owner`,
		`DELETE FROM chunks WHERE addr IN (SELECT addr FROM gc_dead)`,
		`DELETE FROM edges WHERE seq IN (SELECT seq FROM gc_dead)`,
		`DELETE FROM heads WHERE frame IN (SELECT addr FROM gc_dead)`,
		`DELETE FROM records WHERE seq IN (SELECT seq FROM gc_dead)`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return store.GCStats{}, err
		}
	}
	return stats, tx.Commit(ctx)
}
