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
	"maps"
	"net/http"
	"slices"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/component/secret"
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
		Front(opts...),
	}
}

// Front is the unified front as a part: on its listener it serves the
// public methods of the components the deployment exposes
// ([component.Process.Public]: those its file marks public, or every
// other part in one process), those that have some, forwarded through
// the process's router. Its listener is the deployment's public one,
// which takes calls without the deployment's secret; the secret's header
// is not passed on from its callers.
func Front(opts ...front.Option) component.Part {
	return component.Part{
		Name:   front.Name,
		Public: true,
		HTTP: func(ctx context.Context, p *component.Process) (http.Handler, error) {
			fopts := []front.Option{front.WithoutHeaders(secret.Header)}
			var names []string
			for _, n := range p.Public() {
				in, err := p.Router.Describe(ctx, n)
				if service.KindOf(err) == service.KindUnsupported {
					continue // its providers cannot say what is public
				}
				if err != nil {
					return nil, err
				}
				if slices.ContainsFunc(slices.Collect(maps.Values(in.Methods)), func(s *component.Signature) bool { return s.Public }) {
					names = append(names, n)
					fopts = append(fopts, front.WithDescription(in))
				}
			}
			return front.New(ctx, p.Router, append(append(fopts, front.WithInterfaces(names...)), opts...)...)
		},
	}
}
