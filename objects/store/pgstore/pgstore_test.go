package pgstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/glyph-ipc/glyph/internal/pgtest"
	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/pgstore"
	"github.com/glyph-ipc/glyph/objects/store/storetest"
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
