package front

import (
	"context"
	"maps"
	"net/http"
	"slices"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/secret"
	"github.com/glyph-ipc/glyph/service"
)

// Part returns the front as a part of a component binary
// ([component.Part], named [Name]), for [component.Start] and
// [component.Main]: a process that serves it builds a front over its
// router ([New]) exposing the components the deployment marks public
// ([component.Process.Public]; every other part when one process serves
// them all), those of them that have public methods, and serves it on
// the listener its supervisor passes it (or at the address
// [component.WithListen] names). Its listener is the deployment's public
// one: its callers need no proof of the deployment's secret, and the
// secret's header ([secret.Header]) is not passed on from them. opts
// configure the front.
func Part(opts ...Option) component.Part {
	return component.Part{
		Name:   Name,
		Public: true,
		HTTP: func(ctx context.Context, p *component.Process) (http.Handler, error) {
			fopts := []Option{WithoutHeaders(secret.Header)}
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
					fopts = append(fopts, WithDescription(in))
				}
			}
			return New(ctx, p.Router, append(append(fopts, WithInterfaces(names...)), opts...)...)
		},
	}
}
