package component

import (
	"context"
	"iter"
	"net/http"
	"reflect"
	"strings"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/pulled"
	"github.com/glyph-ipc/glyph/service"
)

// WithInterceptors runs ics around every call the router's providers
// make, on every transport (in-process, HTTP, peers, NATS, JSON-RPC,
// XML-RPC), the first given the outermost (package intercept). A call's
// Procedure is "Interface.method", its Peer the provider's transport and
// URL, Args its named arguments (a map) or else its positional ones, and
// Header its headers ([client.WithCallHeader] in the caller's context):
// what an interceptor adds there is sent with the call wherever the
// transport carries headers. A method whose result streams is a
// [intercept.StreamServer] stream whose Receive yields the items. A
// provider's Describe, which binds callers and probes health, is a safe
// unary call too, of Procedure "Interface" and with no arguments, so that
// the headers an interceptor adds (a token) reach the service for it as
// for the calls.
func WithInterceptors(ics ...intercept.Interceptor) RouterOption {
	return func(r *Router) {
		ch := intercept.Chain(ics...)
		rc := &routerChain{unary: ch.WrapUnary(providerUnary), open: ch.WrapStream(providerOpen)}
		prev := r.wrap
		r.wrap = func(url string, p Provider) Provider {
			if prev != nil {
				p = prev(url, p)
			}
			ip := interceptedProvider{Provider: p, url: url, rc: rc}
			if s, ok := p.(Streamer); ok {
				return interceptedStreamer{ip, s}
			}
			return ip
		}
	}
}

// routerChain is a router's interceptors folded around the providers'
// steps.
type routerChain struct {
	unary intercept.UnaryFunc
	open  intercept.StreamFunc
}

// interceptedProvider runs its provider's calls through the interceptors.
type interceptedProvider struct {
	Provider
	url string
	rc  *routerChain
}

// providerCall is what the innermost steps need of one call, found in
// its context.
type providerCall struct {
	p        Provider
	s        Streamer
	call     *Call
	describe string // the interface Describe describes; "" for a call
	ran      bool
}

type providerCallKey struct{}

// describeCall describes call to the interceptors.
func (p interceptedProvider) describeCall(ctx context.Context, call *Call) *intercept.Call {
	h := call.Header
	if h == nil {
		h = client.CallHeader(ctx)
	}
	c := &intercept.Call{Procedure: call.Interface + "." + call.Method, Side: intercept.SideClient, Safe: call.ReadOnly,
		Header: h.Clone(), Peer: intercept.Peer{Transport: transportName(p.Capabilities().Transport), Addr: p.url}}
	if c.Header == nil {
		c.Header = http.Header{}
	}
	if call.Named != nil {
		c.Args = call.Named
	} else if len(call.Args) > 0 {
		c.Args = call.Args
	}
	return c
}

// transportName is a provider's transport as [intercept.Peer.Transport]
// names it: "JSON-RPC" is "jsonrpc".
func transportName(t string) string {
	return strings.ReplaceAll(strings.ToLower(t), "-", "")
}

// Describe implements [Provider].
func (p interceptedProvider) Describe(ctx context.Context, iface string) (*Interface, error) {
	h := client.CallHeader(ctx).Clone()
	if h == nil {
		h = http.Header{}
	}
	c := &intercept.Call{Procedure: iface, Side: intercept.SideClient, Safe: true, Header: h,
		Peer: intercept.Peer{Transport: transportName(p.Capabilities().Transport), Addr: p.url}}
	pc := &providerCall{p: p.Provider, describe: iface}
	v, err := p.rc.unary(context.WithValue(ctx, providerCallKey{}, pc), c)
	if err != nil {
		return nil, err
	}
	d, _ := v.(*Interface)
	return d, nil
}

// Call implements [Provider].
func (p interceptedProvider) Call(ctx context.Context, call *Call) error {
	pc := &providerCall{p: p.Provider, call: call}
	v, err := p.rc.unary(context.WithValue(ctx, providerCallKey{}, pc), p.describeCall(ctx, call))
	if err != nil || pc.ran || v == nil || call.Result == nil {
		return err
	}
	// An interceptor answered without the provider: its value is the
	// result, when it fits.
	rv, out := reflect.ValueOf(v), reflect.ValueOf(call.Result)
	if out.Kind() == reflect.Pointer && !out.IsNil() && rv.Type().AssignableTo(out.Elem().Type()) {
		out.Elem().Set(rv)
		return nil
	}
	return &service.Error{Op: p.describeCall(ctx, call).Procedure, Kind: service.KindInternal, Message: "an interceptor answered with a " + rv.Type().String() + ", which is not the result's type"}
}

// providerUnary is the innermost unary step: the provider's call, with
// the headers the interceptors settled on.
func providerUnary(ctx context.Context, c *intercept.Call) (any, error) {
	pc, _ := ctx.Value(providerCallKey{}).(*providerCall)
	if pc == nil {
		return nil, &service.Error{Op: c.Procedure, Kind: service.KindInternal, Message: "an interceptor called next with a context not derived from its own"}
	}
	pc.ran = true
	if pc.describe != "" {
		return pc.p.Describe(client.WithCallHeaders(ctx, c.Header), pc.describe)
	}
	pc.call.Header = c.Header
	if err := pc.p.Call(client.WithCallHeaders(ctx, c.Header), pc.call); err != nil {
		return nil, err
	}
	if pc.call.Result == nil {
		return nil, nil
	}
	if rv := reflect.ValueOf(pc.call.Result); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface(), nil
	}
	return nil, nil
}

type interceptedStreamer struct {
	interceptedProvider
	s Streamer
}

// Stream implements [Streamer]: the items go through the interceptors'
// stream.
func (p interceptedStreamer) Stream(ctx context.Context, call *Call) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		c := p.describeCall(ctx, call)
		c.StreamType = intercept.StreamServer
		ws, err := p.rc.open(context.WithValue(ctx, providerCallKey{}, &providerCall{s: p.s, call: call}), c)
		if err != nil {
			yield(nil, err)
			return
		}
		pulled.Yield(ws, c.Procedure, func(m any) any { return m }, yield)
	}
}

// providerOpen is the innermost stream step: the provider's stream,
// pulled as Receive is called.
func providerOpen(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
	pc, _ := ctx.Value(providerCallKey{}).(*providerCall)
	if pc == nil || pc.s == nil {
		return nil, &service.Error{Op: c.Procedure, Kind: service.KindInternal, Message: "an interceptor called next with a context not derived from its own"}
	}
	pc.call.Header = c.Header
	return pulled.New(pc.s.Stream(client.WithCallHeaders(ctx, c.Header), pc.call)), nil
}
