package component

import (
	"context"
	"iter"

	"github.com/glyph-ipc/glyph/client"
)

// WithCallHeaderFunc makes every request the router's providers send
// carry the header key with a value made for that request
// ([client.WithCallHeaderFunc]): the proof of the deployment's secret
// that package component/secret makes. Providers in this process
// (inproc:) are called without it.
func WithCallHeaderFunc(key string, value func() string) RouterOption {
	return func(r *Router) {
		prev := r.wrap
		r.wrap = func(url string, p Provider) Provider {
			if prev != nil {
				p = prev(url, p)
			}
			if p.Capabilities().Transport == "inproc" {
				return p
			}
			h := headerProvider{Provider: p, key: key, value: value}
			if s, ok := p.(Streamer); ok {
				return headerStreamer{h, s}
			}
			return h
		}
	}
}

// headerProvider adds a header func to the contexts of its provider's
// calls.
type headerProvider struct {
	Provider
	key   string
	value func() string
}

func (p headerProvider) ctx(ctx context.Context) context.Context {
	return client.WithCallHeaderFunc(ctx, p.key, p.value)
}

func (p headerProvider) Describe(ctx context.Context, iface string) (*Interface, error) {
	return p.Provider.Describe(p.ctx(ctx), iface)
}

func (p headerProvider) Call(ctx context.Context, call *Call) error {
	return p.Provider.Call(p.ctx(ctx), call)
}

type headerStreamer struct {
	headerProvider
	s Streamer
}

func (p headerStreamer) Stream(ctx context.Context, call *Call) iter.Seq2[any, error] {
	return p.s.Stream(p.ctx(ctx), call)
}
