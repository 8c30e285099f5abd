package component

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// Interface describes a component interface as a provider serves it:
// what its resource's profile, links and forms say.
type Interface struct {
	Name    string
	Version string
	Methods map[string]*Signature // by wire name
}

// Signature describes one method of an interface as a provider serves it.
type Signature struct {
	Name   string        // the wire name, such as "run_query"
	Inputs []hyper.Input // in order, with names, types and defaults
	// Result is the input type of the method's result ("nil" when it
	// returns none), or "" when the provider does not say.
	Result     string
	Streams    bool          // the result streams; Result is its items' type
	ReadOnly   bool          // safe: no side effects (GET)
	Idempotent bool          // calling twice is calling once
	Public     bool          // reachable through the front
	Timeout    time.Duration // the default deadline; 0 for none

	types []hyper.Type // Inputs' parsed types
}

// RetrySafe reports whether a router may call the method again, or on
// another provider, after a failure that may have reached a provider:
// it is read-only or idempotent.
func (s *Signature) RetrySafe() bool { return s.ReadOnly || s.Idempotent }

// Names returns the interface's method names, sorted.
func (i *Interface) Names() []string {
	out := make([]string, 0, len(i.Methods))
	for n := range i.Methods {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// String returns the name and version, such as "Search 1.2".
func (i *Interface) String() string {
	if i.Version == "" {
		return i.Name
	}
	return i.Name + " " + i.Version
}

// DescribeResource reads an interface's description from the resource a
// provider serves for it. Entries of the content other than links and
// forms are ignored. It fails when the profile does not name a component
// interface.
func DescribeResource(r hyper.Resource) (*Interface, error) {
	name, version, ok := parseProfile(r.Profile)
	if !ok {
		return nil, fmt.Errorf("the resource %q is not a component interface (profile %q)", r.Name, r.Profile)
	}
	in := &Interface{Name: name, Version: version, Methods: map[string]*Signature{}}
	for k, v := range r.Content {
		var s *Signature
		switch x := v.(type) {
		case hyper.Form:
			s = &Signature{Name: k, Inputs: x.Values, ReadOnly: x.HTTPMethod() == "GET"}
			s.attrs(x.Extra)
		case hyper.Link:
			s = &Signature{Name: k, ReadOnly: true}
			s.attrs(x.Extra)
		default:
			continue
		}
		s.types = make([]hyper.Type, len(s.Inputs))
		for i, inp := range s.Inputs {
			s.types[i] = inp.ParsedType()
		}
		in.Methods[k] = s
	}
	return in, nil
}

// attrs reads the declarations a component's link or form carries.
func (s *Signature) attrs(extra map[string]any) {
	s.Idempotent = extra[attrIdempotent] == true
	s.Public = extra[attrPublic] == true
	s.Streams = extra[attrStreams] == true
	if r, ok := extra[attrReturns].(string); ok {
		s.Result = r
	}
	switch ms := extra[attrTimeout].(type) {
	case int64:
		if ms > 0 && ms < int64(time.Duration(1<<63-1)/time.Millisecond) {
			s.Timeout = time.Duration(ms) * time.Millisecond
		}
	}
}

// expectation is what a caller expects of a method: made from a Go func
// type (an interface method's, without receiver, or a stub's field).
type expectation struct {
	name   string // wire name
	goName string
	hasCtx bool
	params []expParam
	// byName: the method takes one struct, whose fields are sent as
	// named arguments (params are the fields).
	byName    reflect.Type
	result    reflect.Type // nil: none
	streams   bool         // the result is an iter.Seq of result
	seq2      bool         // an iter.Seq2[T, error] result
	seqArg    int          // the index of an iter.Seq parameter, or -1
	callbacks bool         // a parameter is a func
}

type expParam struct {
	name  string     // byName: the field's wire name
	typ   hyper.Type // what the caller sends
	check bool       // the Go type says nothing (object): check each call
}

// expect makes the expectation for a method named goName of Go func type
// ft (no receiver).
func expect(goName string, ft reflect.Type) (*expectation, error) {
	e := &expectation{name: hyper.WireName(goName), goName: goName, seqArg: -1}
	if ft.NumOut() == 0 || ft.NumOut() > 2 || ft.Out(ft.NumOut()-1) != errorType {
		return nil, fmt.Errorf("%s must return (error) or (T, error)", goName)
	}
	if ft.IsVariadic() {
		return nil, fmt.Errorf("%s is variadic", goName)
	}
	in := 0
	if ft.NumIn() > 0 && ft.In(0) == ctxType {
		e.hasCtx, in = true, 1
	}
	if ft.NumIn()-in == 1 && isArgStruct(ft.In(in)) {
		e.byName = ft.In(in)
		for _, f := range wire.Fields(e.byName) {
			e.params = append(e.params, newExpParam(f.Name, f.Type))
		}
	} else {
		for i := in; i < ft.NumIn(); i++ {
			t := ft.In(i)
			p := newExpParam("", t)
			switch elem, ok := seqElem(t); {
			case ok:
				e.seqArg = i - in
				p.typ = hyper.Type{Name: "list", Params: []hyper.Type{hyper.TypeOf(elem)}}
			case t.Kind() == reflect.Func:
				e.callbacks = true
			}
			e.params = append(e.params, p)
		}
	}
	if ft.NumOut() == 2 {
		e.result = ft.Out(0)
		if elem, ok := seqElem(e.result); ok {
			e.streams, e.seq2 = true, e.result.In(0).NumIn() == 2
			e.result = elem
		}
	}
	return e, nil
}

func newExpParam(name string, t reflect.Type) expParam {
	ht := hyper.TypeOf(t)
	return expParam{name: name, typ: ht, check: ht.Name == "object"}
}

// String shows what the caller expects as errors do: "run(unicode, integer)".
func (e *expectation) String() string {
	var b strings.Builder
	b.WriteString(e.name)
	b.WriteByte('(')
	for i, p := range e.params {
		if i > 0 {
			b.WriteString(", ")
		}
		if p.name != "" {
			b.WriteString(p.name + " ")
		}
		b.WriteString(p.typ.String())
	}
	b.WriteByte(')')
	return b.String()
}
