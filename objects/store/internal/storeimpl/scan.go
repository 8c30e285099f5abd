package storeimpl

import (
	"time"

	"github.com/glyph-ipc/glyph/objects/store"
)

// ScanMeta reads a record's metadata from the columns "seq, addr, kind,
// owner, object, counter, prev, targets, recipient, size, stored" in this
// order through scan (a row's Scan), then into extra, and checks what it
// read: a kind out of range, targets that do not decode or a row that
// [store.Meta.Check] refuses are [store.ErrCorrupt]. Errors of scan are
// returned as they are (so that the caller can tell "no rows").
func ScanMeta(op string, scan func(dest ...any) error, extra ...any) (store.Meta, error) {
	var (
		m                       store.Meta
		seq, counter, stored    int64
		kind                    int64
		object, prev, recipient []byte
		targets                 []byte
	)
	dest := append([]any{&seq, (*[]byte)(&m.Addr), &kind, (*[]byte)(&m.Owner), &object, &counter, &prev, &targets, &recipient, &m.Size, &stored}, extra...)
	if err := scan(dest...); err != nil {
		return store.Meta{}, err
	}
	if kind < 0 || kind > 255 {
		return store.Meta{}, store.Errorf(op, store.ErrCorrupt, "record %s: kind %d", m.Addr, kind)
	}
	m.Kind = store.Kind(kind)
	m.Object, m.Prev, m.Recipient = object, prev, recipient
	m.Seq, m.Counter, m.Stored = uint64(seq), uint64(counter), time.Unix(0, stored)
	t, err := DecodeTargets(targets)
	if err != nil {
		return store.Meta{}, store.Errorf(op, store.ErrCorrupt, "record %s: %v", m.Addr, err)
	}
	m.Targets = t
	if err := CheckRow(op, m); err != nil {
		return store.Meta{}, err
	}
	return m, nil
}

// Rows is what ScanAll reads: the rows of a query, as database/sql's and
// pgx's are.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanAll reads every row of rows with [ScanMeta].
func ScanAll(op string, rows Rows) ([]store.Meta, error) {
	var out []store.Meta
	for rows.Next() {
		m, err := ScanMeta(op, rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
