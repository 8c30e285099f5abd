// Package shop is an interface for the tests of glyph gen.
package shop

import (
	"context"
	"iter"
	"time"

	wire2 "github.com/glyph-ipc/glyph/wire"
)

// Item is a declared record.
type Item struct {
	Name  string
	Price float64
	Added time.Time
}

// Shop is a component interface.
type Shop interface {
	Find(ctx context.Context, query string, limit int) ([]Item, error)
	Add(ctx context.Context, item Item) error
	Watch(ctx context.Context, since time.Time) (iter.Seq[Item], error)
	Tail(context.Context, int) (iter.Seq2[Item, error], error)
	Set(ctx context.Context, s wire2.Set[string]) (map[string]int, error)
	Import(ctx context.Context, items iter.Seq[Item], more iter.Seq2[Item, error]) (int, error)
	OnSale(ctx context.Context, notify func(Item)) error
}
