package service_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/glyph-ipc/glyph/service"
)

// The query envelope carries arguments for any method without a body,
// as the envelope table allows for DELETE.
func TestQueryEnvelopeForAnyMethod(t *testing.T) {
	s := service.New()
	var removed string
	s.MustFunc("remove", func(name string) { removed = name }, service.Args("name"))
	q := url.QueryEscape("Ou4:name;u3:bob;;")
	for _, m := range []string{"DELETE", "POST"} {
		removed = ""
		res, err := s.Serve(context.Background(), &service.Request{Method: m, Path: "remove", Query: q})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if res.Status != service.StatusNoContent || removed != "bob" {
			t.Fatalf("%s: status %v, removed %q", m, res.Status, removed)
		}
	}
}
