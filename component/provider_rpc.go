package component

import (
	"context"
	"errors"
	"iter"
	"net"
	"net/url"
	"reflect"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// The providers over the method-name transports: JSON-RPC 2.0 and
// XML-RPC over HTTP ("jsonrpc+http://host/path", "xmlrpc+https://...")
// and NATS ("nats://host:port/prefix"). None of them describes
// interfaces, so callers bind unchecked and the service checks each call;
// a method is called by its name on the wire, "<Interface>.<method>".

func init() {
	for _, s := range []string{"jsonrpc+http", "jsonrpc+https"} {
		RegisterScheme(s, func(_ context.Context, u *url.URL) (Provider, error) {
			return &methodProvider{transport: "jsonrpc", c: jsonrpc.NewClient(httpURL(u))}, nil
		})
	}
	for _, s := range []string{"xmlrpc+http", "xmlrpc+https"} {
		RegisterScheme(s, func(_ context.Context, u *url.URL) (Provider, error) {
			return &methodProvider{transport: "xmlrpc", c: xmlrpc.NewClient(httpURL(u)), positional: true}, nil
		})
	}
	RegisterScheme("nats", dialNATS)
}

// httpURL is u without the "jsonrpc+" or "xmlrpc+" of its scheme.
func httpURL(u *url.URL) string {
	v := *u
	_, v.Scheme, _ = strings.Cut(u.Scheme, "+")
	return v.String()
}

// methodCaller is what the JSON-RPC, XML-RPC and NATS clients have in
// common.
type methodCaller interface {
	Call(ctx context.Context, method string, args []any, named map[string]any, result any) error
}

// methodProvider is a Provider over a methodCaller.
type methodProvider struct {
	transport  string
	c          methodCaller
	close      func()
	positional bool // the transport has no arguments by name
}

func (*methodProvider) Describe(context.Context, string) (*Interface, error) { return nil, nil }

func (p *methodProvider) Capabilities() Capabilities {
	return Capabilities{Transport: p.transport}
}

func (p *methodProvider) Close() error {
	if p.close != nil {
		p.close()
	}
	return nil
}

func (p *methodProvider) Call(ctx context.Context, call *Call) error {
	args, named := call.Args, call.Named
	if p.positional && named != nil {
		args, named = call.InOrder(), nil
	}
	var plain any
	err := p.c.Call(ctx, call.Interface+"."+call.Method, args, named, &plain)
	if err != nil {
		return unreachable(err)
	}
	if call.Result == nil {
		return nil
	}
	return decodePlain(plain, call.Result)
}

// unreachable marks err as Unreachable when it says the server was not
// reached at all: a connection that could not be made (the call provably
// was not sent), or no NATS responder (nothing got the call).
func unreachable(err error) error {
	var (
		op      *net.OpError
		rpcErr  *jsonrpc.Error
		fault   *xmlrpc.Fault
		natsErr *hypernats.ServiceError
	)
	switch {
	case errors.As(err, &rpcErr), errors.As(err, &fault), errors.As(err, &natsErr):
		return err // the server answered, whatever the error's kind
	case errors.As(err, &op) && op.Op == "dial", errors.Is(err, nats.ErrNoResponders):
		return Unreachable(err, true)
	case service.KindOf(err) == service.KindUnavailable:
		return Unreachable(err, false)
	}
	return err
}

// decodePlain stores a plain result (what a JSON or XML-RPC decoder gives:
// numbers, strings for datetimes and bytes, lists, string-keyed dicts) in
// the Go value dst points to, converting each part by the Go type it goes
// to as the service converts arguments by their input types.
func decodePlain(v any, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return service.Errorf(service.KindInvalid, "component: result into %T, not a pointer", dst)
	}
	g, err := toGlyph(v, rv.Type().Elem(), 0)
	if err != nil {
		return err
	}
	b, err := wire.Marshal(g)
	if err != nil {
		return service.Errorf(service.KindInternal, "component: result: %v", err)
	}
	if err := wire.Unmarshal(b, dst); err != nil {
		return &service.Error{Kind: service.KindInvalid, Message: "result: " + err.Error(), Err: err}
	}
	return nil
}

// maxPlainDepth bounds toGlyph's recursion, as the decoders that made v
// bounded its depth.
const maxPlainDepth = 64

// toGlyph converts plain v into the glyph value of Go type t: structs
// field by field under their wire names, lists and maps item by item,
// everything else by its input type (rpcmap.Arg).
func toGlyph(v any, t reflect.Type, depth int) (any, error) {
	if depth > maxPlainDepth {
		return nil, service.Errorf(service.KindInvalid, "component: result nested deeper than %d", maxPlainDepth)
	}
	for t.Kind() == reflect.Pointer && v != nil {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			for _, f := range wire.Fields(t) {
				if fv, ok := x[f.Name]; ok {
					g, err := toGlyph(fv, f.Type, depth+1)
					if err != nil {
						return nil, err
					}
					x[f.Name] = g
				}
			}
			return x, nil
		case reflect.Map:
			if t.Key().Kind() == reflect.String {
				for k, e := range x {
					g, err := toGlyph(e, t.Elem(), depth+1)
					if err != nil {
						return nil, err
					}
					x[k] = g
				}
				return x, nil
			}
		}
	case []any:
		if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 || t.Kind() == reflect.Array {
			for i, e := range x {
				g, err := toGlyph(e, t.Elem(), depth+1)
				if err != nil {
					return nil, err
				}
				x[i] = g
			}
			return x, nil
		}
	}
	return rpcmap.Arg(v, hyper.TypeOf(t))
}

// natsProvider is a methodProvider over hypernats that streams results.
type natsProvider struct {
	methodProvider
	nc *hypernats.Client
}

// dialNATS connects to the NATS server of "nats://host:port/prefix" (the
// subject prefix the service is served under; hypernats.DefaultPrefix
// when the path is empty).
func dialNATS(_ context.Context, u *url.URL) (Provider, error) {
	var opts []hypernats.ClientOption
	if prefix := strings.Trim(u.Path, "/"); prefix != "" {
		opts = append(opts, hypernats.WithClientPrefix(strings.ReplaceAll(prefix, "/", ".")))
	}
	server := url.URL{Scheme: "nats", Host: u.Host, User: u.User}
	conn, err := nats.Connect(server.String(), nats.Name("glyph component router"))
	if err != nil {
		return nil, Unreachable(&service.Error{Kind: service.KindUnavailable, Message: "nats: " + err.Error(), Err: err}, true)
	}
	c := hypernats.NewClient(conn, opts...)
	var once sync.Once
	return &natsProvider{
		methodProvider: methodProvider{transport: "nats", c: c, close: func() {
			once.Do(func() { c.Close(); conn.Close() })
		}},
		nc: c,
	}, nil
}

func (p *natsProvider) Capabilities() Capabilities {
	return Capabilities{Transport: "nats", Streams: true}
}

// Stream implements Streamer.
func (p *natsProvider) Stream(ctx context.Context, call *Call) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for v, err := range p.nc.Stream(ctx, call.Interface+"."+call.Method, call.Args, call.Named) {
			if err != nil {
				yield(nil, unreachable(err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}
