package front

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"reflect"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
)

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
	seqType   = reflect.TypeFor[iter.Seq2[any, error]]()
)

// publicOnly returns a copy of in holding only its public methods.
func publicOnly(in *component.Interface) *component.Interface {
	out := &component.Interface{Name: in.Name, Version: in.Version, Methods: map[string]*component.Signature{}}
	for name, s := range in.Methods {
		if s.Public {
			out.Methods[name] = s
		}
	}
	return out
}

// register puts the forwarders of in's methods on svc as one object named
// after the interface, with the profile, inputs and declarations the
// provider described, so that the front's resource for it is the
// provider's minus what is not public. Each method is bound through r on
// its own, so that one whose result streams over a transport that
// cannot carry it (JSON-RPC, XML-RPC) is left out, and logged, instead of
// taking the interface's other methods with it.
//
// It reports whether any method was registered: none is no object.
func register(ctx context.Context, svc *service.Service, r *component.Router, in *component.Interface, h headerPolicy, log *slog.Logger) (bool, error) {
	members := make([]service.Member, 0, len(in.Methods))
	for _, name := range in.Names() {
		s := in.Methods[name]
		one := &component.Interface{Name: in.Name, Version: in.Version, Methods: map[string]*component.Signature{name: s}}
		b, err := r.BindDescribed(ctx, one)
		if service.KindOf(err) == service.KindUnsupported {
			logger(log).Warn("front: a public method is not served: its transport cannot carry it", "interface", in.Name, "method", name, "err", err)
			continue
		}
		if err != nil {
			return false, err
		}
		fn, opts := forwarder(b, s, h)
		members = append(members, service.Member{Name: name, Func: fn, Options: opts})
	}
	profile := component.ProfilePrefix + in.Name
	if in.Version != "" {
		profile += ":" + in.Version
	}
	if len(members) == 0 {
		return false, nil
	}
	if err := svc.Object(in.Name, members, service.Profile(profile)); err != nil {
		return false, fmt.Errorf("front: %s: %w", in.Name, err)
	}
	return true, nil
}

// forwarder makes the function that serves method s on the front: it
// takes the method's inputs as Go values of their input types (which the
// service binds and checks as the provider's would), and calls the method
// through b with them, in order, passing on the call's headers and
// deadline.
func forwarder(b *component.Binding, s *component.Signature, h headerPolicy) (any, []service.FuncOption) {
	in := []reflect.Type{ctxType}
	names := make([]string, 0, len(s.Inputs))
	var opts []service.FuncOption
	for _, inp := range s.Inputs {
		in = append(in, goType(inp.ParsedType()))
		names = append(names, inp.Name)
		if inp.HasDefault {
			opts = append(opts, service.Default(inp.Name, inp.Default))
		}
	}
	opts = append(opts, service.Args(names...))
	if s.ReadOnly {
		opts = append(opts, service.Safe())
	}
	opts = append(opts, declarations(s)...)

	var out []reflect.Type
	resultType := anyType
	switch {
	case s.Streams:
		out = []reflect.Type{seqType, errorType}
	case s.Result == "nil":
		out = []reflect.Type{errorType}
	default:
		if s.Result != "" {
			if t, err := hyper.ParseType(s.Result); err == nil {
				resultType = goType(t)
			}
		}
		out = []reflect.Type{resultType, errorType}
	}
	ft := reflect.FuncOf(in, out, false)
	name := s.Name
	fn := reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		ctx, cancel := h.callContext(args[0].Interface().(context.Context))
		vals := make([]any, len(args)-1)
		for i, a := range args[1:] {
			vals[i] = a.Interface()
		}
		if s.Streams {
			return []reflect.Value{reflect.ValueOf(streamThenCancel(b.Stream(ctx, name, vals), cancel)), errValue(nil)}
		}
		defer cancel()
		if len(out) == 1 {
			return []reflect.Value{errValue(b.Call(ctx, name, vals, nil))}
		}
		res := reflect.New(resultType)
		if err := b.Call(ctx, name, vals, res.Interface()); err != nil {
			return []reflect.Value{reflect.Zero(resultType), errValue(err)}
		}
		return []reflect.Value{res.Elem(), errValue(nil)}
	})
	return fn.Interface(), opts
}

// declarations are the attributes of a component method's form (see
// package component's spec.md), as the provider declared them.
func declarations(s *component.Signature) []service.FuncOption {
	opts := []service.FuncOption{service.Attr("public", true)}
	if s.Result != "" {
		opts = append(opts, service.Attr("returns", s.Result))
	}
	if s.Streams {
		opts = append(opts, service.Attr("streams", true))
	}
	if s.Idempotent {
		opts = append(opts, service.Attr("idempotent", true))
	}
	if s.Timeout > 0 {
		opts = append(opts, service.Attr("timeout_ms", s.Timeout.Milliseconds()))
	}
	return opts
}

func errValue(err error) reflect.Value {
	if err == nil {
		return reflect.Zero(errorType)
	}
	return reflect.ValueOf(&err).Elem()
}

// headerPolicy says which headers of a call the front passes on.
type headerPolicy struct {
	drop map[string]bool // canonical names
}

// callContext returns the context of the forwarded call: the deadline
// and cancellation of ctx, the request being served, and of its headers
// those the policy passes on, as call headers ([client.WithCallHeader]).
// Nothing else of ctx goes along: a transport that passes its incoming
// headers on by itself (peers do) finds none there. Call cancel when the
// forwarded call is over.
func (h headerPolicy) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	var (
		out    context.Context
		cancel context.CancelFunc
	)
	if d, ok := ctx.Deadline(); ok {
		out, cancel = context.WithDeadline(context.Background(), d)
	} else {
		out, cancel = context.WithCancel(context.Background())
	}
	stop := context.AfterFunc(ctx, cancel)
	var pass http.Header
	for k, vs := range service.RequestHeader(ctx) {
		k = http.CanonicalHeaderKey(k)
		if h.drop[k] {
			continue
		}
		if pass == nil {
			pass = http.Header{}
		}
		pass[k] = append(pass[k], vs...)
	}
	for k, vs := range pass {
		for _, v := range vs {
			out = client.WithCallHeader(out, k, v)
		}
	}
	return out, func() { stop(); cancel() }
}

// streamThenCancel is seq, which calls cancel once it is over; the
// service ranges over it once, or not at all when the call fails first
// (then the request's own end cancels the forwarded call).
func streamThenCancel(seq iter.Seq2[any, error], cancel context.CancelFunc) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		defer cancel()
		for v, err := range seq {
			if !yield(v, err) {
				return
			}
		}
	}
}

// logger is l, or slog.Default as it is now.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
