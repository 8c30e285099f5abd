package hyper

import (
	"fmt"
	"strconv"
	"strings"
)

// Type is a parsed input type: what a form input accepts (the input's
// `type` attribute). The grammar is postfix: each name pushes a type; a
// name with an arity, such as `list/1` or `dict/2`, pops that many types
// as its parameters. A trailing `?` on a name allows nil:
//
//	integer                      an integer
//	integer list/1               a list of integers
//	object unicode dict/2        a dict of unicode keys to anything
//	float list?/1 unicode dict/2 a dict of unicode keys to nil or a list of floats
//
// The zero Type means object.
type Type struct {
	// Name is one of object, integer, unicode, bytearray, float,
	// datetime, timedelta, nil, true, false, list, set, dict,
	// ordered_dict, extension, blob and bool.
	Name string
	// Nullable says nil is accepted too (the `?` suffix).
	Nullable bool
	// Params are the parameters in the order they were pushed: list/1
	// and set/1 have [elem]; dict/2 and ordered_dict/2 have [value, key].
	// A bare `list` or `dict` has none, and so takes items of any type.
	// Params is nil, never empty, when there are none.
	Params []Type
}

// typeArity maps every type name to the number of parameters it takes.
var typeArity = map[string]int{
	"object": 0, "integer": 0, "unicode": 0, "bytearray": 0, "float": 0,
	"datetime": 0, "timedelta": 0, "nil": 0, "true": 0, "false": 0,
	"extension": 0, "blob": 0, "bool": 0,
	"list": 1, "set": 1, "dict": 2, "ordered_dict": 2,
}

// maxTypeDepth bounds the nesting of a parsed type, so that a hostile type
// string cannot make Check or String recurse without end.
const maxTypeDepth = 64

// ParseType parses an input type in the postfix grammar. "" (or only
// spaces) is object. Tokens are separated by white space; each is a name,
// optionally `?`, optionally `/N` where N is 0 or the name's arity (1 for
// list and set, 2 for dict and ordered_dict): `list?/1`. A parameterised
// name without `/N` takes no parameters. Exactly one type must remain at
// the end, and types nest at most 64 deep.
//
// An unknown name is an error. The spec says a client should then treat
// the input as object: [Input.ParsedType] does that.
func ParseType(s string) (Type, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return Type{Name: "object"}, nil
	}
	var stack []Type
	var depths []int // nesting depth of each type on the stack
	for _, tok := range fields {
		name, arityStr, hasArity := strings.Cut(tok, "/")
		t := Type{Name: name}
		if n, ok := strings.CutSuffix(name, "?"); ok {
			t.Name, t.Nullable = n, true
		}
		want, known := typeArity[t.Name]
		if !known {
			return Type{}, fmt.Errorf("hyper: type %s: unknown type name %s", short(s), short(t.Name))
		}
		n := 0
		if hasArity {
			switch arityStr {
			case "0":
			case strconv.Itoa(want):
				n = want
			default:
				if want == 0 {
					return Type{}, fmt.Errorf("hyper: type %s: %q takes no parameters, not %s", short(s), t.Name, short("/"+arityStr))
				}
				return Type{}, fmt.Errorf("hyper: type %s: %q takes %d parameters, not %s", short(s), t.Name, want, short("/"+arityStr))
			}
		}
		if len(stack) < n {
			return Type{}, fmt.Errorf("hyper: type %s: %s needs %d types before it, found %d", short(s), short(tok), n, len(stack))
		}
		depth := 1
		if n > 0 {
			t.Params = append([]Type(nil), stack[len(stack)-n:]...)
			for _, d := range depths[len(depths)-n:] {
				depth = max(depth, d+1)
			}
			stack, depths = stack[:len(stack)-n], depths[:len(depths)-n]
		}
		if depth > maxTypeDepth {
			return Type{}, fmt.Errorf("hyper: type %s: nested deeper than %d", short(s), maxTypeDepth)
		}
		stack, depths = append(stack, t), append(depths, depth)
	}
	if len(stack) != 1 {
		return Type{}, fmt.Errorf("hyper: type %s: %d types left over, expected one (missing a list/1 or dict/2?)", short(s), len(stack))
	}
	return stack[0], nil
}

// short quotes a type string for an error message, cutting it if long.
func short(s string) string {
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return strconv.Quote(s)
}

// MustParseType is ParseType for types written in Go code: it panics if s
// does not parse.
func MustParseType(s string) Type {
	t, err := ParseType(s)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns t in the postfix grammar, in the canonical form: single
// spaces, `?` before `/N`, no `/N` without parameters. For a Type that
// ParseType returned, ParseType(t.String()) gives t back.
func (t Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t Type) write(b *strings.Builder) {
	for _, p := range t.Params {
		p.write(b)
		b.WriteByte(' ')
	}
	b.WriteString(t.name())
	if t.Nullable {
		b.WriteByte('?')
	}
	if len(t.Params) > 0 {
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(len(t.Params)))
	}
}

// name returns t.Name, with "" meaning object.
func (t Type) name() string {
	if t.Name == "" {
		return "object"
	}
	return t.Name
}

// Elem returns the type of a list's or set's items, or of a dict's or
// ordered dict's values: the first parameter, or object when there is none.
func (t Type) Elem() Type {
	if len(t.Params) == 0 {
		return Type{Name: "object"}
	}
	return t.Params[0]
}

// Key returns the type of a dict's or ordered dict's keys: the last of two
// parameters (in "object unicode dict/2", unicode). It is object for every
// other type.
func (t Type) Key() Type {
	if len(t.Params) != 2 {
		return Type{Name: "object"}
	}
	return t.Params[1]
}

// isObject reports whether t accepts everything, so checks can skip it.
func (t Type) isObject() bool { return t.Name == "" || t.Name == "object" }
