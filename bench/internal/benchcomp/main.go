// Command benchcomp is the component binary of the supervisor
// benchmarks: a Storage, a Search that uses it and a front that uses
// Search, as the search example splits its work, with trivial bodies so
// that what is measured is the supervisor and the process side.
package main

import (
	"context"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/service"
)

type Storage interface {
	Get(ctx context.Context, key string) (string, error)
}

type storage struct{}

func (storage) Get(_ context.Context, key string) (string, error) { return "value of " + key, nil }

type Search interface {
	RunQuery(ctx context.Context, query string) (string, error)
}

type search struct {
	storage struct {
		Get func(ctx context.Context, key string) (string, error)
	}
}

func (s *search) RunQuery(ctx context.Context, q string) (string, error) {
	return s.storage.Get(ctx, q)
}

type Front interface {
	Query(ctx context.Context, query string) (string, error)
}

type front struct {
	search struct {
		RunQuery func(ctx context.Context, query string) (string, error)
	}
}

func (f *front) Query(ctx context.Context, q string) (string, error) {
	return f.search.RunQuery(ctx, q)
}

func main() {
	component.Main([]component.Part{
		{Name: "Storage", Install: func(ctx context.Context, svc *service.Service, r *component.Router) error {
			return component.Register[Storage](svc, storage{}, component.Method("Get", component.Args("key"), component.Idempotent()))
		}},
		{Name: "Search", Install: func(ctx context.Context, svc *service.Service, r *component.Router) error {
			s := &search{}
			if err := r.Bind(ctx, "Storage", &s.storage); err != nil {
				return err
			}
			return component.Register[Search](svc, s, component.Method("RunQuery", component.Args("query")))
		}},
		{Name: "front", Install: func(ctx context.Context, svc *service.Service, r *component.Router) error {
			f := &front{}
			if err := r.Bind(ctx, "Search", &f.search); err != nil {
				return err
			}
			return component.Register[Front](svc, f, component.Name("Front"), component.Method("Query", component.Args("query")))
		}},
	})
}
