package component_test

import (
	"context"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/service"
)

type unexported interface {
	Ping(ctx context.Context) error
	secret(ctx context.Context) error
}

type noContext interface {
	Ping(n int) error
}

type noError interface {
	Ping(ctx context.Context) int
}

type unnamed interface {
	Add(ctx context.Context, a, b int) (int, error)
}

type impl struct{}

func (impl) Ping(context.Context) error                   { return nil }
func (impl) secret(context.Context) error                 { return nil }
func (impl) Add(_ context.Context, a, b int) (int, error) { return a + b, nil }

type pingInt struct{}

func (pingInt) Ping(int) error { return nil }

type noErr struct{}

func (noErr) Ping(context.Context) int { return 0 }

func TestRegisterErrors(t *testing.T) {
	tests := []struct {
		name     string
		register func(*service.Service) error
		want     string
	}{
		{"not an interface", func(s *service.Service) error { return component.Register[impl](s, impl{}) }, "not an interface type"},
		{"nil implementation", func(s *service.Service) error { return component.Register[unnamed](s, nil) }, "nil implementation"},
		{"unexported method", func(s *service.Service) error { return component.Register[unexported](s, impl{}) }, "must be exported"},
		{"no context", func(s *service.Service) error { return component.Register[noContext](s, pingInt{}) }, "must take a context.Context first"},
		{"no error", func(s *service.Service) error { return component.Register[noError](s, noErr{}) }, "must return (error) or (T, error)"},
		{"unnamed parameters", func(s *service.Service) error { return component.Register[unnamed](s, impl{}) }, `name them with component.Method("Add", component.Args(...))`},
		{"an option for a missing method", func(s *service.Service) error {
			return component.Register[unnamed](s, impl{}, component.Method("Sub"))
		}, "unnamed has no method Sub"},
		{"a bad name", func(s *service.Service) error {
			return component.Register[unnamed](s, impl{}, component.Name("a.b"), component.Method("Add", component.Args("a", "b")))
		}, "invalid interface name"},
		{"registered twice", func(s *service.Service) error {
			component.MustRegister[unnamed](s, impl{}, component.Method("Add", component.Args("a", "b")))
			return component.Register[unnamed](s, impl{}, component.Method("Add", component.Args("a", "b")))
		}, "registered twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.register(service.New())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}
