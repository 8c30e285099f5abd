package component_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/componenttest"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// bareProvider is the shape of an adapter for a transport that names
// methods and cannot describe interfaces (as JSON-RPC, XML-RPC and NATS
// adapters are): it calls "<Interface>.<method>" with the arguments as
// plain values. Here the "transport" is a service in this process,
// reached through the wire's encoding, so that the adapter is all there
// is to test.
type bareProvider struct{ svc *service.Service }

func (bareProvider) Describe(context.Context, string) (*component.Interface, error) { return nil, nil }
func (bareProvider) Capabilities() component.Capabilities {
	return component.Capabilities{Transport: "bare"}
}
func (bareProvider) Close() error { return nil }

func (p bareProvider) Call(ctx context.Context, call *component.Call) error {
	req := &service.Request{Method: "POST", Path: call.Path(), Header: call.Header}
	for _, a := range call.Args {
		v, err := viaWire(a)
		if err != nil {
			return err
		}
		req.Positional = append(req.Positional, v)
	}
	if call.Named != nil {
		req.Args = wire.NewOrderedDict()
		for k, a := range call.Named {
			v, err := viaWire(a)
			if err != nil {
				return err
			}
			req.Args.Set(k, v)
		}
	}
	res, err := p.svc.Serve(ctx, req)
	if err != nil || call.Result == nil {
		return err
	}
	b, err := wire.Marshal(res.Value)
	if err == nil {
		err = wire.Unmarshal(b, call.Result)
	}
	return err
}

func viaWire(a any) (any, error) {
	b, err := wire.Marshal(a)
	if err != nil {
		return nil, err
	}
	var v any
	return v, wire.Unmarshal(b, &v)
}

var bareServices sync.Map // name → *service.Service

func init() {
	component.RegisterScheme("bare", func(_ context.Context, u *url.URL) (component.Provider, error) {
		svc, ok := bareServices.Load(u.Opaque)
		if !ok {
			return nil, fmt.Errorf("no bare service %q", u.Opaque)
		}
		return bareProvider{svc.(*service.Service)}, nil
	})
}

// TestProviderWithoutDescription runs the conformance suite through an
// adapter registered by scheme whose transport cannot describe
// interfaces: callers bind unchecked, and the service checks the calls.
func TestProviderWithoutDescription(t *testing.T) {
	componenttest.Run(t, componenttest.Transport{
		Serve: func(t *testing.T, svc *service.Service) (string, component.Provider) {
			name := t.Name()
			bareServices.Store(name, svc)
			t.Cleanup(func() { bareServices.Delete(name) })
			return "bare:" + name, nil
		},
		Copies: true, Headers: true, Deadlines: true,
	})
}
