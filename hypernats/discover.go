package hypernats

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
)

// discover lists the service's callables whose names can be subjects
// (package rpcmap walks the service; see spec.md, "Subjects"), in the
// order of their names.
func discover(ctx context.Context, svc *service.Service) ([]*rpcmap.Method, error) {
	t, err := rpcmap.Discover(ctx, svc)
	if err != nil {
		return nil, fmt.Errorf("hypernats: listing the service's methods: %w", err)
	}
	var out []*rpcmap.Method
	for _, name := range t.Names() {
		if m := t.Lookup(name); subjectPath(m.Path) {
			out = append(out, m)
		}
	}
	return out, nil
}

// subjectPath reports whether every segment of path can be a subject
// token: not empty, and without dots, wildcards or white space.
func subjectPath(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" || strings.ContainsAny(seg, ".*> \t\r\n") {
			return false
		}
	}
	return true
}

// endpointName is the micro endpoint's name for a method: micro allows
// only ASCII letters, digits, "-" and "_", so "." becomes "_" and other
// characters "-"; a name taken already gets a numeric suffix.
func endpointName(method string, taken map[string]bool) string {
	b := []byte(method)
	for i, c := range b {
		switch {
		case c == '.':
			b[i] = '_'
		case c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		default:
			b[i] = '-'
		}
	}
	name := string(b)
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s_%d", b, i)
	}
	taken[name] = true
	return name
}

// maxDefaultBytes bounds a blob that an input's default holds, in the
// metadata.
const maxDefaultBytes = 1 << 16

// inputMeta is one input in the endpoint metadata "glyph.inputs".
type inputMeta struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Default any    `json:"default,omitempty"`
	// Optional is set when the input has a default (which may be null,
	// or have no JSON form).
	Optional bool `json:"optional,omitempty"`
}

// metadata is the micro endpoint metadata of m (spec.md, "Discovery").
func metadata(m *rpcmap.Method) map[string]string {
	ins := make([]inputMeta, len(m.Inputs))
	for i, in := range m.Inputs {
		meta := inputMeta{Name: in.Name, Type: m.Types[i].String(), Optional: in.HasDefault}
		if in.HasDefault && in.Default != nil {
			if b, err := encodeJSON("", in.Default, maxDefaultBytes); err == nil {
				meta.Default = json.RawMessage(b)
			}
		}
		ins[i] = meta
	}
	b, _ := json.Marshal(ins)
	return map[string]string{
		"glyph.path":   m.Path,
		"glyph.method": m.HTTPMethod,
		"glyph.inputs": string(b),
	}
}
