package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/glyph-ipc/glyph/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Each Need is a database of its own on a running server.
func TestNeed(t *testing.T) {
	ctx := context.Background()
	var names []string
	for range 2 {
		c, err := pgx.Connect(ctx, pgtest.Need(t))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		var name string
		if err := c.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if names[0] == names[1] {
		t.Fatalf("two Needs gave the same database %q", names[0])
	}
}
