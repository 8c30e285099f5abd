package component

import (
	"context"
	"fmt"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
)

// Describe returns the interface iface as the providers of its route
// serve it: the description of the first provider that gives one, asked
// in the route's order. It is what a caller with no Go types for an
// interface (a gateway, such as package component/front) binds from
// ([Router.BindDescribed]).
//
// Providers whose transport cannot describe interfaces (JSON-RPC,
// XML-RPC, NATS) are passed over; when every provider is of that kind it
// is a [service.KindUnsupported] error naming the transports. An
// interface the table does not route is a [service.KindNotFound] error,
// and when no provider that describes could be reached a
// [service.KindUnavailable] one.
func (r *Router) Describe(ctx context.Context, iface string) (*Interface, error) {
	s := r.slot(iface)
	rt := s.cur.Load()
	if rt == nil {
		return nil, &service.Error{Op: iface, Kind: service.KindNotFound, Message: "no route for interface " + iface}
	}
	var silent, failed []string
	for _, c := range rt.conns {
		in, known := c.desc(iface)
		if !known || in == nil {
			var err error
			if in, err = c.describe(ctx, iface); err != nil {
				if u, _ := IsUnreachable(err); !u {
					return nil, err
				}
				failed = append(failed, fmt.Sprintf("%s: %v", c.url, err))
				continue
			}
		}
		if in != nil {
			return in, nil
		}
		p, _ := c.provider(ctx)
		silent = append(silent, fmt.Sprintf("%s (%s)", c.url, p.Capabilities().Transport))
	}
	if len(failed) > 0 {
		return nil, &service.Error{Op: iface, Kind: service.KindUnavailable,
			Message: "no provider could be reached: " + strings.Join(failed, "; ")}
	}
	return nil, &service.Error{Op: iface, Kind: service.KindUnsupported,
		Message: "no provider describes the interface: " + strings.Join(silent, ", ") + " name methods without describing them"}
}

// BindDescribed binds the methods of in (a description, as
// [Router.Describe] returns it) through the router, expecting of each
// method what in says of it: its inputs by position with their types,
// and its result of any type. A caller with no Go types for the
// interface calls through the binding with glyph values:
// [Binding.Call] with the arguments in the order of the inputs, and a
// result pointer of any Go type the result decodes into.
//
// Every provider is checked against in before its first call, as
// [Router.Bind] checks a struct of funcs: one that lacks a method of in,
// takes an input of another type or requires an input that in does not
// list is refused, and so is a transport that cannot carry a method's
// streamed result. Bind only the methods you call: pass a copy of in
// holding just those.
func (r *Router) BindDescribed(ctx context.Context, in *Interface) (*Binding, error) {
	exps := make([]*expectation, 0, len(in.Methods))
	for _, name := range in.Names() {
		exps = append(exps, described(in.Methods[name]))
	}
	return r.bind(ctx, in.Name, exps)
}

// described is the expectation of a caller that expects what s
// describes.
func described(s *Signature) *expectation {
	e := &expectation{name: s.Name, goName: s.Name, hasCtx: true, seqArg: -1, streams: s.Streams}
	types := s.types
	if len(types) != len(s.Inputs) {
		types = make([]hyper.Type, len(s.Inputs))
		for i, in := range s.Inputs {
			types[i] = in.ParsedType()
		}
	}
	for i, in := range s.Inputs {
		e.params = append(e.params, expParam{name: in.Name, typ: types[i], check: types[i].Name == "object"})
	}
	return e
}
