package xmlrpc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
)

// introspection holds the system methods the handler answers itself,
// built from the service's forms.
var introspection map[string]func(*rpcmap.Table, []any) (any, error)

func init() {
	introspection = map[string]func(*rpcmap.Table, []any) (any, error){
		"system.listMethods":     listMethods,
		"system.methodHelp":      methodHelp,
		"system.methodSignature": methodSignature,
	}
}

// listMethods answers the names of the service's methods and of the
// system methods, sorted.
func listMethods(t *rpcmap.Table, params []any) (any, error) {
	if len(params) != 0 {
		return nil, paramsError("system.listMethods", "takes no parameters")
	}
	names := slices.Concat(t.Names(), []string{"system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall"})
	slices.Sort(names)
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = n
	}
	return out, nil
}

// methodSignature answers a method's signatures: one per number of
// arguments it takes (the inputs with defaults may be left out), each
// the result's type ("undef": forms do not describe results) and the
// XML-RPC types of the arguments.
func methodSignature(t *rpcmap.Table, params []any) (any, error) {
	m, err := lookup(t, "system.methodSignature", params)
	if err != nil || m == nil {
		return "undef", err
	}
	var sigs []any
	for n := m.Required(); n <= len(m.Types); n++ {
		sig := []any{"undef"}
		for _, ty := range m.Types[:n] {
			sig = append(sig, typeName(ty))
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}

// methodHelp answers a method's description: its name, its inputs with
// their glyph types and defaults, and the resource that offers it.
func methodHelp(t *rpcmap.Table, params []any) (any, error) {
	m, err := lookup(t, "system.methodHelp", params)
	if err != nil || m == nil {
		return "", err
	}
	return help(m), nil
}

// help is the text of system.methodHelp for m.
func help(m *rpcmap.Method) string {
	var b strings.Builder
	b.WriteString(m.Name)
	b.WriteByte('(')
	for i, in := range m.Inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", in.Name, m.Types[i])
		if in.HasDefault {
			fmt.Fprintf(&b, " = %s", defaultText(in.Default))
		}
	}
	b.WriteByte(')')
	switch {
	case m.Resource != "" && m.Profile != "":
		fmt.Fprintf(&b, "\nA method of %s (%s).", m.Resource, m.Profile)
	case m.Resource != "":
		fmt.Fprintf(&b, "\nA method of %s.", m.Resource)
	case m.Profile != "":
		fmt.Fprintf(&b, "\nProfile %s.", m.Profile)
	}
	return b.String()
}

func defaultText(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "nil"
	}
	return fmt.Sprint(v)
}

// lookup finds the method a system method's one parameter names.
func lookup(t *rpcmap.Table, op string, params []any) (*rpcmap.Method, error) {
	if len(params) != 1 {
		return nil, paramsError(op, "takes one parameter, a method's name")
	}
	name, ok := params[0].(string)
	if !ok {
		return nil, paramsError(op, "takes one parameter, a method's name")
	}
	if _, ok := introspection[name]; ok || name == "system.multicall" {
		return nil, nil
	}
	m := t.Lookup(name)
	if m == nil {
		return nil, &service.Error{Op: op, Kind: service.KindNotFound, Message: fmt.Sprintf("no method %q", clip(name)), Err: rpcmap.ErrNoMethod}
	}
	return m, nil
}

func paramsError(op, msg string) error {
	return &service.Error{Op: op, Kind: service.KindInvalid, Message: msg}
}

// typeName returns the XML-RPC type that carries values of an input
// type (spec.md, Introspection).
func typeName(t hyper.Type) string {
	switch t.Name {
	case "integer":
		return "int"
	case "float", "timedelta":
		return "double"
	case "unicode":
		return "string"
	case "bool", "true", "false":
		return "boolean"
	case "bytearray", "blob":
		return "base64"
	case "datetime":
		return "dateTime.iso8601"
	case "list", "set":
		return "array"
	case "dict", "ordered_dict":
		return "struct"
	case "nil":
		return "nil"
	}
	return "undef"
}
