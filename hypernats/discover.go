package hypernats

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
)

// Bounds of the walk over a service's resources that finds its methods.
const (
	maxDiscoverDepth     = 4    // resources linked from resources linked from the index
	maxDiscoverFetches   = 256  // resources read
	maxDiscoverEndpoints = 4096 // methods served
)

// input is one input of a method's form, with its type parsed.
type input struct {
	hyper.Input
	typ hyper.Type
}

// endpoint is one callable of the service, served on one subject.
type endpoint struct {
	path   string // below the service root: "hello", "Search/run_query"
	method string // the form's HTTP method: "GET" or "POST"
	inputs []input
}

// methodOf names a path on the wire: "Search/run_query" is
// "Search.run_query".
func methodOf(path string) string { return strings.ReplaceAll(path, "/", ".") }

// discover lists the service's callables: the forms and links of its
// index, and of the resources the index links to under the same root,
// bounded (see the package doc).
func discover(ctx context.Context, svc *service.Service) ([]endpoint, error) {
	res, err := svc.Serve(ctx, &service.Request{Method: "GET", Root: "/"})
	if err != nil {
		return nil, fmt.Errorf("hypernats: reading the service's index: %w", err)
	}
	w := walker{ctx: ctx, svc: svc, seen: map[string]bool{}}
	w.walk(res.Value, 0)
	return w.out, nil
}

type walker struct {
	ctx     context.Context
	svc     *service.Service
	seen    map[string]bool // paths listed or read
	fetches int
	out     []endpoint
}

func (w *walker) walk(v any, depth int) {
	if depth > maxDiscoverDepth || len(w.out) >= maxDiscoverEndpoints {
		return
	}
	switch x := v.(type) {
	case hyper.Resource:
		keys := make([]string, 0, len(x.Content))
		for k := range x.Content {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			w.walk(x.Content[k], depth+1)
		}
	case hyper.Form:
		w.add(x.URL, x.HTTPMethod(), x.Values)
	case hyper.Link:
		if x.Inline {
			// A safe function, its result embedded: callable too.
			w.add(x.URL, "GET", nil)
			w.walk(x.Content, depth+1)
			return
		}
		path, ok := servicePath(x.URL)
		if !ok {
			return
		}
		if !strings.HasSuffix(path, "/") {
			w.add(x.URL, "GET", nil)
			return
		}
		// A resource of the service (a component's singleton): its forms
		// are callables too.
		if w.seen[path] || w.fetches >= maxDiscoverFetches {
			return
		}
		w.seen[path] = true
		w.fetches++
		res, err := w.svc.Serve(w.ctx, &service.Request{Method: "GET", Root: "/", Path: path})
		if err == nil && res.Status == service.StatusOK {
			w.walk(res.Value, depth+1)
		}
	}
}

// servicePath returns the path below the root "/" that a URL of the
// service names, and false for URLs that are not a plain path under it
// (absolute URLs, queries: instance state is out of reach of method
// names).
func servicePath(url string) (string, bool) {
	if !strings.HasPrefix(url, "/") || strings.ContainsAny(url, "?#") || strings.HasPrefix(url, "//") {
		return "", false
	}
	return url[1:], true
}

// add lists a callable at url, unless its path cannot be a subject or is
// listed already.
func (w *walker) add(url, method string, values []hyper.Input) {
	path, ok := servicePath(url)
	if !ok || path == "" || strings.HasSuffix(path, "/") || w.seen[path] || !subjectPath(path) || len(w.out) >= maxDiscoverEndpoints {
		return
	}
	w.seen[path] = true
	ins := make([]input, len(values))
	for i, v := range values {
		ins[i] = input{Input: v, typ: v.ParsedType()}
	}
	w.out = append(w.out, endpoint{path: path, method: method, inputs: ins})
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

// inputMeta is one input in the endpoint metadata "glyph.inputs".
type inputMeta struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Default any    `json:"default,omitempty"`
	// Optional is set when the input has a default (which may be null,
	// or have no JSON form).
	Optional bool `json:"optional,omitempty"`
}

// metadata is the micro endpoint metadata of e (spec.md, "Discovery").
func (e *endpoint) metadata() map[string]string {
	ins := make([]inputMeta, len(e.inputs))
	for i, in := range e.inputs {
		m := inputMeta{Name: in.Name, Type: in.typ.String(), Optional: in.HasDefault}
		if in.HasDefault && in.Default != nil {
			if b, err := encodeJSON("", in.Default); err == nil {
				m.Default = json.RawMessage(b)
			}
		}
		ins[i] = m
	}
	b, _ := json.Marshal(ins)
	return map[string]string{
		"glyph.path":   e.path,
		"glyph.method": e.method,
		"glyph.inputs": string(b),
	}
}
