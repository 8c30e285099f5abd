// Package search is the component of the components example: an
// interface, a data record, and an implementation that knows nothing of
// transports.
package search

//go:generate go run github.com/glyph-ipc/glyph/cmd/glyph gen Search

import (
	"context"
	"sort"
	"strings"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/service"
)

// Search finds documents.
type Search interface {
	// RunQuery returns at most max documents whose title holds query,
	// best first.
	RunQuery(ctx context.Context, query string, max int) ([]Hit, error)
}

// Hit is one document found.
type Hit struct {
	Title string
	Score float64
}

// Index is an implementation of Search over titles in memory.
type Index struct {
	Titles []string
}

// RunQuery implements Search.
func (ix *Index) RunQuery(_ context.Context, query string, max int) ([]Hit, error) {
	if query == "" {
		return nil, service.Errorf(service.KindInvalid, "empty query")
	}
	hits := []Hit{}
	for _, t := range ix.Titles {
		if n := strings.Count(strings.ToLower(t), strings.ToLower(query)); n > 0 {
			hits = append(hits, Hit{Title: t, Score: float64(n) / float64(len(t)) * 100})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	if len(hits) > max {
		hits = hits[:max]
	}
	return hits, nil
}

// Register registers impl as the Search component of svc.
func Register(svc *service.Service, impl Search) error {
	return component.Register(svc, impl, component.Version("1.0"),
		component.Method("RunQuery", component.Args("query", "max"), component.Default("max", 10),
			component.ReadOnly(), component.Public()))
}
