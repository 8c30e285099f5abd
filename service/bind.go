package service

import (
	"context"
	"fmt"
	"io"
	"math"
	"reflect"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// bind matches the request's arguments to c's inputs and converts them to
// the parameter types. Positional arguments bind first, then named ones,
// then the request's blob; a missing input takes its default. Too many
// positional arguments, an argument given twice, a missing required input,
// an unknown name or a value of the wrong type is a [KindInvalid] error naming
// the input. The values start at index pre of the slice returned, which
// leaves room for the receiver and the context.
//
// For a callable with an iter.Seq input, a request with a Stream binds
// only that input, to the Stream's items; the others take their
// defaults. A Stream that may be the arguments instead (StreamOrArgs) is
// bound so when its Args name that input (namesSeqInput). inv is the
// call's invocation, which streamed and callback inputs share; ctx is the
// call's, which callbacks default to.
func (s *Service) bind(ctx context.Context, c *callable, req *Request, pre int, inv *invocation) ([]reflect.Value, error) {
	all := make([]reflect.Value, pre+len(c.params))
	vals := all[pre:]
	set := make([]bool, len(c.params))
	if c.seqIn >= 0 && req.Stream != nil && !(req.StreamOrArgs && c.namesSeqInput(req.Args)) {
		vals[c.seqIn], set[c.seqIn] = s.seqArg(c, c.seqIn, req.Stream, inv), true
		return c.bindDefaults(all, pre, set)
	}
	if len(req.Positional) > len(c.params) {
		return nil, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("takes %d argument(s), got %d", len(c.params), len(req.Positional))}
	}
	arg := func(i int, a any) (reflect.Value, error) {
		switch p := &c.params[i]; {
		case p.seq != notSeq:
			return s.bindSeq(c, i, a, inv)
		case p.cb != nil:
			return s.bindCallback(ctx, c, i, a, req, inv)
		}
		return convertArg(c, i, a)
	}
	for i, a := range req.Positional {
		v, err := arg(i, a)
		if err != nil {
			return nil, err
		}
		vals[i], set[i] = v, true
	}
	for _, e := range req.Args.Entries() {
		name, ok := e.Key.(string)
		if !ok {
			return nil, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("argument name %v is not a string", e.Key)}
		}
		i := c.paramIndex(name)
		if i < 0 {
			return nil, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("unknown argument %q", name)}
		}
		if set[i] {
			return nil, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("argument %q given twice", name)}
		}
		v, err := arg(i, e.Value)
		if err != nil {
			return nil, err
		}
		vals[i], set[i] = v, true
	}
	if req.Blob != nil {
		i := 0
		if req.BlobName != "" {
			i = c.paramIndex(req.BlobName)
		}
		if len(c.params) == 0 {
			return nil, &Error{Op: c.op, Kind: KindInvalid, Message: "takes no arguments, got a request body"}
		}
		if i < 0 {
			return nil, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("no input %q for the request body", req.BlobName)}
		}
		if set[i] {
			return nil, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("argument %q given twice", c.params[i].name)}
		}
		v, err := arg(i, req.Blob)
		if err != nil {
			return nil, err
		}
		vals[i], set[i] = v, true
	}
	return c.bindDefaults(all, pre, set)
}

// bindDefaults gives the inputs not set their defaults (a missing
// required input is a [KindInvalid] error), and gathers the values of a struct
// parameter into it.
func (c *callable) bindDefaults(all []reflect.Value, pre int, set []bool) ([]reflect.Value, error) {
	vals := all[pre:]
	for i, p := range c.params {
		if set[i] {
			continue
		}
		if !p.hasDef {
			return nil, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("missing argument %q", p.name)}
		}
		v := reflect.New(p.typ)
		switch {
		case p.defBytes != nil:
			// Defaults that hold references are decoded afresh, so a call
			// cannot change them for the next one.
			if err := wire.Unmarshal(p.defBytes, v.Interface()); err != nil {
				return nil, &Error{Op: c.op, Kind: KindInternal, Message: fmt.Sprintf("bad default for %q", p.name), Err: err}
			}
		case p.def != nil:
			v.Elem().Set(reflect.ValueOf(p.def))
		}
		vals[i] = v.Elem()
	}
	if c.structArg == nil {
		return all, nil
	}
	sv := reflect.New(c.structArg).Elem()
	for i, p := range c.params {
		fieldByIndexAlloc(sv, p.field).Set(vals[i])
	}
	all = append(all[:pre], sv)
	return all, nil
}

// namesSeqInput reports whether named arguments are the arguments of c
// rather than an item of its streamed input: every name is one of c's
// inputs, and the streamed input is among them. An item that happens to
// have exactly such keys cannot be told from them; a transport that
// knows the difference never asks (see Request.StreamOrArgs).
func (c *callable) namesSeqInput(args *wire.OrderedDict) bool {
	seq := false
	for _, e := range args.Entries() {
		name, ok := e.Key.(string)
		if !ok {
			return false
		}
		i := c.paramIndex(name)
		if i < 0 {
			return false
		}
		seq = seq || i == c.seqIn
	}
	return seq
}

func (c *callable) paramIndex(name string) int {
	for i := range c.params {
		if c.params[i].name == name {
			return i
		}
	}
	return -1
}

// convertArg checks argument a against input i's type and converts it.
// The type check comes first because it says where in the value the
// mismatch is ("item 2: expected integer, got unicode"). Go values that
// are already of the parameter's type (from an in-process caller) skip it.
func convertArg(c *callable, i int, a any) (reflect.Value, error) {
	p := &c.params[i]
	if a == nil || !reflect.TypeOf(a).AssignableTo(p.typ) {
		if err := p.ptype.Check(a); err != nil {
			return reflect.Value{}, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("argument %q: %v", p.name, err)}
		}
	}
	v, err := convert(a, p.typ)
	if err != nil {
		return v, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("argument %q: %v", p.name, err)}
	}
	return v, nil
}

// convert turns a decoded glyph value into a value of type t: directly
// when it is assignable or a lossless numeric conversion, otherwise by
// re-encoding it and decoding into t with the wire package's rules.
func convert(a any, t reflect.Type) (reflect.Value, error) {
	if a == nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			return reflect.Zero(t), nil
		}
		return reflect.Value{}, fmt.Errorf("expected %s, got nil", typeName(t))
	}
	av := reflect.ValueOf(a)
	at := av.Type()
	if at == t {
		// The value in the interface, read-only: it is only passed on.
		return av, nil
	}
	if at.AssignableTo(t) {
		v := reflect.New(t).Elem()
		v.Set(av)
		return v, nil
	}
	switch x := a.(type) {
	case string:
		if t.Kind() == reflect.String {
			return reflect.ValueOf(x).Convert(t), nil
		}
	case int64:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			v := reflect.New(t).Elem()
			if v.OverflowInt(x) {
				return v, fmt.Errorf("%d overflows %s", x, t)
			}
			v.SetInt(x)
			return v, nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			v := reflect.New(t).Elem()
			if x < 0 || v.OverflowUint(uint64(x)) {
				return v, fmt.Errorf("%d out of range for %s", x, t)
			}
			v.SetUint(uint64(x))
			return v, nil
		case reflect.Float32, reflect.Float64:
			if x > -(1<<53) && x < 1<<53 {
				return reflect.ValueOf(float64(x)).Convert(t), nil
			}
		}
	case float64:
		if t.Kind() == reflect.Float64 || (t.Kind() == reflect.Float32 && (math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) <= math.MaxFloat32)) {
			return reflect.ValueOf(x).Convert(t), nil
		}
	case *wire.Blob:
		if t == reflect.TypeFor[io.Reader]() || t == reflect.TypeFor[io.ReadCloser]() {
			v := reflect.New(t).Elem()
			v.Set(av)
			return v, nil
		}
	}
	b, err := wire.Marshal(a)
	if err != nil {
		return reflect.Value{}, err
	}
	v := reflect.New(t)
	if err := wire.Unmarshal(b, v.Interface()); err != nil {
		if te, ok := err.(*wire.UnmarshalTypeError); ok {
			into := t
			if te.Type != nil {
				into = te.Type
			}
			msg := fmt.Sprintf("expected %s, got %s", typeName(into), te.Value)
			if te.Reason != "" {
				// The glyph types match; the Go type cannot hold this one.
				msg = fmt.Sprintf("%s does not fit %s: %s", te.Value, into, te.Reason)
			}
			if te.Field != "" {
				msg = "field " + te.Field + ": " + msg
			}
			return reflect.Value{}, fmt.Errorf("%s", msg)
		}
		return reflect.Value{}, err
	}
	return v.Elem(), nil
}

// typeName names a Go type by its glyph input type for messages.
func typeName(t reflect.Type) string {
	return hyper.TypeOf(t).String()
}
