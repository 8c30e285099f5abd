package component

import (
	"errors"
	"fmt"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
)

// ErrIncompatible is the cause of every error saying that a provider's
// interface does not offer what a caller expects: errors.Is finds it in
// the *[service.Error] (of kind [service.KindUnimplemented]) that a bind
// returns.
var ErrIncompatible = errors.New("incompatible interface")

// compatible reports whether offered (served at where) offers what the
// caller's expectations need. Compatible changes: methods the caller does
// not know, inputs added with defaults, a provider input that takes
// anything (object), a result the caller can hold. Anything else is an
// error naming the interface, the method, what the caller expects and
// what the provider offers.
func compatible(iface string, exp []*expectation, offered *Interface, where string) error {
	if offered.Name != iface {
		return incompatible(iface, "", fmt.Sprintf("the provider at %s serves interface %s, not %s", where, offered, iface))
	}
	for _, e := range exp {
		s := offered.Methods[e.name]
		if s == nil {
			return incompatible(iface, e.name, fmt.Sprintf("the caller expects %s, the provider at %s (%s) has no such method (it offers %s)",
				e, where, offered, strings.Join(offered.Names(), ", ")))
		}
		if msg := mismatch(e, s); msg != "" {
			return incompatible(iface, e.name, fmt.Sprintf("%s; the caller expects %s, the provider at %s (%s) offers %s", msg, e, where, offered, describeSig(s)))
		}
	}
	return nil
}

func incompatible(iface, method, msg string) error {
	op := iface
	if method != "" {
		op += "." + method
	}
	return &service.Error{Op: op, Kind: service.KindUnimplemented, Message: msg, Err: ErrIncompatible}
}

// mismatch says what in s does not fit e, or "".
func mismatch(e *expectation, s *Signature) string {
	sent := make([]bool, len(s.Inputs))
	for i, p := range e.params {
		j := i
		if e.byName != nil {
			j = inputIndex(s, p.name)
			if j < 0 {
				return fmt.Sprintf("the caller sends input %q, which the provider does not take", p.name)
			}
		} else if i >= len(s.Inputs) {
			return fmt.Sprintf("the caller sends %d argument(s), the provider takes %d", len(e.params), len(s.Inputs))
		}
		sent[j] = true
		if !assignable(p.typ, s.types[j]) {
			return fmt.Sprintf("input %q: the caller sends %s, the provider takes %s", s.Inputs[j].Name, p.typ, s.types[j])
		}
	}
	for j, in := range s.Inputs {
		if !sent[j] && !in.HasDefault {
			return fmt.Sprintf("the provider requires input %q (%s), which the caller does not send", in.Name, s.types[j])
		}
	}
	switch {
	case e.streams != s.Streams && s.Result != "":
		if e.streams {
			return "the caller expects a streamed result, the provider's does not stream"
		}
		return "the provider's result streams, the caller expects one value"
	case e.result == nil || s.Result == "":
		// The caller ignores the result, or the provider does not say.
	default:
		offered, err := hyper.ParseType(s.Result)
		if err == nil && !assignable(offered, hyper.TypeOf(e.result)) {
			return fmt.Sprintf("the result: the provider returns %s, the caller expects %s", offered, hyper.TypeOf(e.result))
		}
	}
	return ""
}

func inputIndex(s *Signature, name string) int {
	for i, in := range s.Inputs {
		if in.Name == name {
			return i
		}
	}
	return -1
}

// assignable reports whether every value of type from is one of type to,
// as far as the types say: object on either side defers to the check of
// each value.
func assignable(from, to hyper.Type) bool {
	switch {
	case to.Name == "object" || from.Name == "object":
		return true
	case from.Name == "nil":
		return to.Nullable || to.Name == "nil"
	case from.Nullable && !to.Nullable:
		return false
	}
	switch {
	case from.Name == to.Name:
	case to.Name == "bool" && (from.Name == "true" || from.Name == "false"):
	case to.Name == "float" && from.Name == "integer":
	case to.Name == "dict" && from.Name == "ordered_dict":
	default:
		return false
	}
	if to.Params == nil || from.Params == nil {
		return true
	}
	if len(from.Params) != len(to.Params) {
		return false
	}
	for i := range from.Params {
		if !assignable(from.Params[i], to.Params[i]) {
			return false
		}
	}
	return true
}

// describeSig shows a provider's method as errors do:
// "run_query(query unicode, max integer = 10) -> unicode list/1".
func describeSig(s *Signature) string {
	var b strings.Builder
	b.WriteString(s.Name)
	b.WriteByte('(')
	for i, in := range s.Inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(in.Name + " " + s.types[i].String())
		if in.HasDefault {
			fmt.Fprintf(&b, " = %v", in.Default)
		}
	}
	b.WriteByte(')')
	if s.Result != "" {
		b.WriteString(" -> ")
		if s.Streams {
			b.WriteString("stream of ")
		}
		b.WriteString(s.Result)
	}
	return b.String()
}
