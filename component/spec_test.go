package component_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

type specSearch interface {
	RunQuery(ctx context.Context, query string, max int) ([]string, error)
}

type specImpl struct{}

func (specImpl) RunQuery(context.Context, string, int) ([]string, error) { return nil, nil }

// TestSpecExample checks the example of spec.md byte for byte.
func TestSpecExample(t *testing.T) {
	b, err := os.ReadFile("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "```glyph\n")
	if !ok {
		t.Fatal("spec.md has no glyph example")
	}
	want, _, _ := strings.Cut(block, "\n```")

	svc := service.New()
	component.MustRegister[specSearch](svc, specImpl{}, component.Name("Search"), component.Version("1.2"),
		component.Method("RunQuery", component.Args("query", "max"), component.Default("max", 10), component.Idempotent()))
	res, err := svc.Serve(context.Background(), &service.Request{Method: "GET", Path: "Search/"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := wire.Marshal(res.Value)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("the resource of spec.md's example is now\n%s\nnot\n%s", got, want)
	}
	var back any
	if err := wire.Unmarshal([]byte(want), &back); err != nil {
		t.Fatal(err)
	}
}
