package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"

	"github.com/glyph-ipc/glyph/hyper"
)

// CallbackFunc calls a callback the caller passed by reference; args are
// glyph values, in order. It returns the callback's result as a glyph
// value, or why the call failed.
type CallbackFunc func(ctx context.Context, args []any) (any, error)

// callbackSig is what a callback input's func type takes and returns.
type callbackSig struct {
	ctx    bool         // takes a context.Context first
	result reflect.Type // the value result, or nil
	rtype  hyper.Type   // result's input type, checked against what comes back
	err    bool         // returns an error last
}

// newCallbackSig checks that t, a func type, can be a callback: not
// variadic, a context.Context only first, at most a value and an error
// as results.
func newCallbackSig(t reflect.Type) (*callbackSig, error) {
	if t.IsVariadic() {
		return nil, fmt.Errorf("variadic callbacks are not supported")
	}
	sig := &callbackSig{}
	for i := 0; i < t.NumIn(); i++ {
		if t.In(i) == ctxType {
			if i > 0 {
				return nil, fmt.Errorf("a context.Context must be the callback's first parameter")
			}
			sig.ctx = true
		}
	}
	switch n := t.NumOut(); {
	case n == 1 && t.Out(0) == errorType:
		sig.err = true
	case n == 1:
		sig.result = t.Out(0)
	case n == 2 && t.Out(1) == errorType && t.Out(0) != errorType:
		sig.result, sig.err = t.Out(0), true
	case n > 0:
		return nil, fmt.Errorf("a callback returns at most a value and an error")
	}
	if sig.result != nil {
		sig.rtype = hyper.TypeOf(sig.result)
	}
	return sig, nil
}

// bindCallback binds the argument of callback input i: a reference that
// req.Callback resolves, made into a Go func of the input's type that is
// valid until inv ends. A func of that type from an in-process caller is
// passed as it is.
func (s *Service) bindCallback(ctx context.Context, c *callable, i int, a any, req *Request, inv *invocation) (reflect.Value, error) {
	p := &c.params[i]
	if a != nil && reflect.TypeOf(a).AssignableTo(p.typ) {
		v := reflect.New(p.typ).Elem()
		v.Set(reflect.ValueOf(a))
		return v, nil
	}
	if req.Callback == nil {
		return reflect.Value{}, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("argument %q is a callback: it needs a peer connection", p.name)}
	}
	cf, err := req.Callback(a)
	if err == nil && cf == nil {
		err = errors.New("no callback")
	}
	if err != nil {
		if KindOf(err) != KindOther {
			return reflect.Value{}, s.fail(c.op, err)
		}
		return reflect.Value{}, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("argument %q: %v", p.name, err), Err: err}
	}
	return s.callbackFunc(ctx, c, p, cf, inv), nil
}

// callbackFunc returns a Go func of p's type that calls cf: with its own
// context.Context argument or else ctx, the other arguments as they are,
// its result converted to the func's result type. An error goes to the
// func's error result as an *Error, or, for a func without one, is
// logged and gives zero results. After inv ends it fails with [KindCanceled]
// without calling cf.
func (s *Service) callbackFunc(ctx context.Context, c *callable, p *param, cf CallbackFunc, inv *invocation) reflect.Value {
	sig, t := p.cb, p.typ
	return reflect.MakeFunc(t, func(in []reflect.Value) []reflect.Value {
		cctx := ctx
		if sig.ctx {
			if x, _ := in[0].Interface().(context.Context); x != nil {
				cctx = x
			}
			in = in[1:]
		}
		var out reflect.Value
		var e *Error
		if inv.over() {
			e = &Error{Op: c.op, Kind: KindCanceled, Message: "callback used after its call ended"}
		} else {
			args := make([]any, len(in))
			for i, a := range in {
				args[i] = a.Interface()
			}
			v, err := cf(cctx, args)
			switch {
			case err != nil:
				e = s.fail(c.op, err)
			case sig.result != nil:
				out, e = callbackResult(c, p, v)
			}
		}
		var res []reflect.Value
		if sig.result != nil {
			if e != nil || !out.IsValid() {
				out = reflect.Zero(sig.result)
			}
			res = append(res, out)
		}
		if sig.err {
			ev := reflect.Zero(errorType)
			if e != nil {
				ev = reflect.New(errorType).Elem()
				ev.Set(reflect.ValueOf(e))
			}
			res = append(res, ev)
		} else if e != nil {
			s.log().Warn("glyph: callback failed", slog.String("op", c.op), slog.String("callback", p.name), slog.String("error", e.Error()))
		}
		return res
	})
}

// callbackResult checks and converts what a callback returned to the
// func's result type, as convertArg does for an argument.
func callbackResult(c *callable, p *param, v any) (reflect.Value, *Error) {
	t := p.cb.result
	if v == nil || !reflect.TypeOf(v).AssignableTo(t) {
		if err := p.cb.rtype.Check(v); err != nil {
			return reflect.Value{}, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("callback %q: result: %v", p.name, err)}
		}
	}
	out, err := convert(v, t)
	if err != nil {
		return reflect.Value{}, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("callback %q: result: %v", p.name, err)}
	}
	return out, nil
}
