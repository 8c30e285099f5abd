// Package callchain runs the calls of the method-name clients (JSON-RPC,
// XML-RPC, NATS) through their interceptors (package intercept): the
// calling side's chain, shared so that they describe their calls alike.
package callchain

import (
	"context"
	"iter"
	"net/http"
	"reflect"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/pulled"
	"github.com/glyph-ipc/glyph/service"
)

// Chain is a client's interceptors folded around its steps; a nil Chain
// runs the steps as they are.
type Chain struct {
	peer  intercept.Peer
	unary intercept.UnaryFunc
	open  intercept.StreamFunc
}

// New returns the chain of ics for a client of the server at addr over
// transport, or nil when ics is empty.
func New(transport, addr string, ics []intercept.Interceptor) *Chain {
	if len(ics) == 0 {
		return nil
	}
	c := intercept.Chain(ics...)
	return &Chain{peer: intercept.Peer{Transport: transport, Addr: addr}, unary: c.WrapUnary(runUnary), open: c.WrapStream(openStream)}
}

// step is what the innermost steps run, found in the context, with the
// call's Sizes for the transport to count in.
type step struct {
	call   func(ctx context.Context) error
	stream func(ctx context.Context) iter.Seq2[any, error]
	result any
	ran    bool
	sizes  *intercept.Sizes
}

type stepKey struct{}

// Sizes returns the [intercept.Call.Sizes] of the call ctx was made for
// by a [Chain], for the transport to count the call's bytes in: nil
// without interceptors, and then counting costs nothing.
func Sizes(ctx context.Context) *intercept.Sizes {
	if st, _ := ctx.Value(stepKey{}).(*step); st != nil {
		return st.sizes
	}
	return nil
}

// describe describes a call of method.
func (ch *Chain) describe(ctx context.Context, method string, args []any, named map[string]any, notify bool) *intercept.Call {
	h := client.CallHeader(ctx).Clone()
	if h == nil {
		h = http.Header{}
	}
	c := &intercept.Call{Procedure: method, Side: intercept.SideClient, Notify: notify, Header: h, Peer: ch.peer, Sizes: new(intercept.Sizes)}
	if named != nil {
		c.Args = named
	} else if len(args) > 0 {
		c.Args = args
	}
	return c
}

// Call runs call, a call of method whose result is decoded into result
// (a pointer, or nil), through the interceptors. call sends the headers
// the interceptors settled on: it reads them from its context
// ([client.CallHeader]).
func (ch *Chain) Call(ctx context.Context, method string, args []any, named map[string]any, result any, notify bool, call func(ctx context.Context) error) error {
	if ch == nil {
		return call(ctx)
	}
	c := ch.describe(ctx, method, args, named, notify)
	st := &step{call: call, result: result, sizes: c.Sizes}
	v, err := ch.unary(context.WithValue(ctx, stepKey{}, st), c)
	c.Sizes.End()
	if err != nil || st.ran || v == nil || result == nil {
		return err
	}
	// An interceptor answered without calling the server.
	rv, out := reflect.ValueOf(v), reflect.ValueOf(result)
	if out.Kind() == reflect.Pointer && !out.IsNil() && rv.Type().AssignableTo(out.Elem().Type()) {
		out.Elem().Set(rv)
		return nil
	}
	return &service.Error{Op: method, Kind: service.KindInternal, Message: "an interceptor answered with a " + rv.Type().String() + ", which is not the result's type"}
}

func runUnary(ctx context.Context, c *intercept.Call) (any, error) {
	st, _ := ctx.Value(stepKey{}).(*step)
	if st == nil || st.call == nil {
		return nil, &service.Error{Op: c.Procedure, Kind: service.KindInternal, Message: "an interceptor called next with a context not derived from its own"}
	}
	st.ran = true
	if err := st.call(client.WithCallHeaders(ctx, c.Header)); err != nil {
		return nil, err
	}
	if rv := reflect.ValueOf(st.result); st.result != nil && rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface(), nil
	}
	return nil, nil
}

// Stream runs stream, a call of method whose result streams, through the
// interceptors: a [intercept.StreamServer] stream whose Receive yields
// the items.
func (ch *Chain) Stream(ctx context.Context, method string, args []any, named map[string]any, stream func(ctx context.Context) iter.Seq2[any, error]) iter.Seq2[any, error] {
	if ch == nil {
		return stream(ctx)
	}
	return func(yield func(any, error) bool) {
		c := ch.describe(ctx, method, args, named, false)
		c.StreamType = intercept.StreamServer
		defer c.Sizes.End()
		ws, err := ch.open(context.WithValue(ctx, stepKey{}, &step{stream: stream, sizes: c.Sizes}), c)
		if err != nil {
			yield(nil, err)
			return
		}
		pulled.Yield(ws, method, func(m any) any { return m }, yield)
	}
}

func openStream(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
	st, _ := ctx.Value(stepKey{}).(*step)
	if st == nil || st.stream == nil {
		return nil, &service.Error{Op: c.Procedure, Kind: service.KindInternal, Message: "an interceptor called next with a context not derived from its own"}
	}
	return pulled.New(st.stream(client.WithCallHeaders(ctx, c.Header))), nil
}
