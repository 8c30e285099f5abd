package sqlitestore_test

import (
	"context"
	"testing"

	"github.com/glyph-ipc/glyph/objects/store"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
	"github.com/glyph-ipc/glyph/objects/store/storetest"
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
