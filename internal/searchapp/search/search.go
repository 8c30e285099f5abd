// Package search is the Search component of the search example: it
// answers queries by asking the Storage component for candidates and
// ranking them. It holds a storage.Storage, which the deployment
// provides: in this process or another, over any transport.
package search

//go:generate go run github.com/glyph-ipc/glyph/cmd/glyph gen Search

import (
	"context"
	"slices"
	"strings"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/internal/searchapp/storage"
	"github.com/glyph-ipc/glyph/service"
)

// ThingiesOfType is a query's answer: the seed's collection, a record
// whose results are ThingyData records, best first.
type ThingiesOfType struct {
	Results []storage.ThingyData `glyph:"results"`
}

// Search answers queries.
type Search interface {
	// RunQuery returns at most maxResults things matching the words of
	// query, those matching most words first.
	RunQuery(ctx context.Context, query string, maxResults int) (ThingiesOfType, error)
}

// Engine is the implementation of Search.
type Engine struct {
	Storage storage.Storage
}

// RunQuery implements Search.
func (e *Engine) RunQuery(ctx context.Context, query string, maxResults int) (ThingiesOfType, error) {
	words := strings.Fields(strings.ToLower(query))
	if len(words) == 0 {
		return ThingiesOfType{}, service.Errorf(service.KindInvalid, "empty query")
	}
	if maxResults < 0 {
		return ThingiesOfType{}, service.Errorf(service.KindInvalid, "maxResults is negative")
	}
	found, err := e.Storage.Find(ctx, words)
	if err != nil {
		return ThingiesOfType{}, err
	}
	score := func(t storage.ThingyData) int {
		n := 0
		have := storage.Words(t)
		for _, w := range words {
			if slices.Contains(have, w) {
				n++
			}
		}
		return n
	}
	slices.SortStableFunc(found, func(a, b storage.ThingyData) int { return score(b) - score(a) })
	if len(found) > maxResults {
		found = found[:maxResults]
	}
	return ThingiesOfType{Results: found}, nil
}

// Register registers impl as the Search component of svc: RunQuery is
// public, so the front serves it.
func Register(svc *service.Service, impl Search) error {
	return component.Register(svc, impl, component.Version("1.0"),
		component.Method("RunQuery", component.Args("query", "max_results"), component.Default("max_results", 10),
			component.ReadOnly(), component.Public()))
}

// Serve dials the Storage component through r and registers a Search
// over it on svc: how a process that serves Search starts it.
func Serve(ctx context.Context, svc *service.Service, r *component.Router) error {
	st, err := component.Dial[storage.Storage](ctx, r)
	if err != nil {
		return err
	}
	return Register(svc, &Engine{Storage: st})
}
