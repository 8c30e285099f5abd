// Package componenttest is the conformance suite of components: one set
// of tests that a transport's provider passes when a component behaves
// the same through it as in process. [Run] takes a [Transport], which
// serves a service and says where its provider is; package component runs
// it in process (with and without copies), over HTTP, over each peer
// transport and through the whole HTTP stack in one process, and every
// transport with a provider (JSON-RPC, XML-RPC, NATS) runs it too.
package componenttest

//go:generate go run github.com/glyph-ipc/glyph/cmd/glyph gen Echo

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/service"
)

// Echo is the interface the suite calls: one method per behaviour a
// caller relies on.
type Echo interface {
	// Echo returns s.
	Echo(ctx context.Context, s string) (string, error)
	// Add returns a+b; read-only.
	Add(ctx context.Context, a, b int) (int, error)
	// Keep returns r with its score doubled: a struct argument, whose
	// fields are the inputs.
	Keep(ctx context.Context, r Record) (Record, error)
	// Scale multiplies each of xs by by, in place, and returns xs: a
	// caller that copies must not see its slice change.
	Scale(ctx context.Context, xs []float64, by float64) ([]float64, error)
	// Fail fails with an error of kind kind and message msg, or with a
	// plain Go error when kind is 0.
	Fail(ctx context.Context, kind int, msg string) error
	// Deadline returns the milliseconds left before ctx's deadline, or
	// -1 when it has none.
	Deadline(ctx context.Context) (int64, error)
	// Header returns the value of the call's header name.
	Header(ctx context.Context, name string) (string, error)
	// Count streams 0, 1, ..., n-1.
	Count(ctx context.Context, n int) (iter.Seq2[int, error], error)
}

// Record is a declared data record.
type Record struct {
	Name  string
	Tags  []string `glyph:",optional"`
	Score float64  `glyph:",optional"`
}

// Impl is the implementation of [Echo] the suite serves. Calls counts
// the calls that reached it.
type Impl struct {
	Calls atomic.Int64
}

// Echo implements [Echo].
func (e *Impl) Echo(_ context.Context, s string) (string, error) {
	e.Calls.Add(1)
	return s, nil
}

// Add implements [Echo].
func (e *Impl) Add(_ context.Context, a, b int) (int, error) {
	e.Calls.Add(1)
	return a + b, nil
}

// Keep implements [Echo].
func (e *Impl) Keep(_ context.Context, r Record) (Record, error) {
	e.Calls.Add(1)
	r.Score *= 2
	return r, nil
}

// Scale implements [Echo].
func (e *Impl) Scale(_ context.Context, xs []float64, by float64) ([]float64, error) {
	e.Calls.Add(1)
	for i := range xs {
		xs[i] *= by
	}
	return xs, nil
}

// Fail implements [Echo].
func (e *Impl) Fail(_ context.Context, kind int, msg string) error {
	e.Calls.Add(1)
	if kind == 0 {
		return errors.New(msg)
	}
	return service.Errorf(service.Kind(kind), "%s", msg)
}

// Deadline implements [Echo].
func (e *Impl) Deadline(ctx context.Context) (int64, error) {
	e.Calls.Add(1)
	d, ok := ctx.Deadline()
	if !ok {
		return -1, nil
	}
	return time.Until(d).Milliseconds(), nil
}

// Header implements [Echo].
func (e *Impl) Header(ctx context.Context, name string) (string, error) {
	e.Calls.Add(1)
	for k, vs := range service.RequestHeader(ctx) {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0], nil
		}
	}
	return "", nil
}

// Count implements [Echo].
func (e *Impl) Count(_ context.Context, n int) (iter.Seq2[int, error], error) {
	e.Calls.Add(1)
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}, nil
}

// Options are the declarations [Echo] is registered with.
func Options() []component.Option {
	return []component.Option{
		component.Version("1.0"),
		component.Method("Echo", component.Args("s"), component.Idempotent()),
		component.Method("Add", component.Args("a", "b"), component.ReadOnly(), component.Public()),
		component.Method("Scale", component.Args("xs", "by"), component.Default("by", 1.0)),
		component.Method("Fail", component.Args("kind", "msg")),
		component.Method("Deadline", component.Timeout(30*time.Second)),
		component.Method("Header", component.Args("name")),
		component.Method("Count", component.Args("n")),
	}
}

// NewService returns a service with impl registered as [Echo], which
// logs nowhere (Fail logs the internal errors it makes).
func NewService(impl Echo) *service.Service {
	svc := service.New(service.WithLogger(slog.New(slog.DiscardHandler)))
	component.MustRegister(svc, impl, Options()...)
	return svc
}
