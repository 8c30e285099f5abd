// Package searchapp is the application of the search example
// (examples/search): the Search component (package search) over the
// Storage component (package storage), which know their interfaces and
// not where they run, and, in this package, the list of them and the
// front as the parts of a process ([component.Part]). A binary that holds
// them all (the example's, or glyph's own for `glyph demo deploy`) serves
// those its deployment assigns to each process: every one in one process
// when no supervisor runs it, or Storage, Search and the front in
// processes of their own under `glyph run`.
package searchapp

import (
	"context"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/internal/searchapp/search"
	"github.com/glyph-ipc/glyph/internal/searchapp/storage"
	"github.com/glyph-ipc/glyph/service"
)

// Parts returns the example's parts, dependencies first; opts configure
// the front.
func Parts(opts ...front.Option) []component.Part {
	return []component.Part{
		{Name: "Storage", Install: func(_ context.Context, svc *service.Service, _ *component.Router) error {
			return storage.Register(svc, storage.NewShelf(storage.Seed()))
		}},
		{Name: "Search", Install: search.Serve},
		front.Part(opts...),
	}
}
