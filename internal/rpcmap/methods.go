// Package rpcmap holds what the method-name transports (JSON-RPC,
// XML-RPC, NATS) share: the table of a service's callables found by
// walking its index, the bounded decoding of JSON arguments and the
// conversion of plain arguments guided by the inputs' types, the mapping
// of glyph results to plain values, the binding of a decoded payload to
// arguments (which hyperpeer shares), the table of error codes of
// JSON-RPC and XML-RPC, and the HTTP side of their handlers and clients. The
// mappings themselves are stated in each transport's spec.md.
package rpcmap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
)

// Method is one callable of a service, as a method-name transport names
// it.
type Method struct {
	// Name is the path with "/" replaced by ".": "hello",
	// "Search.run_query".
	Name string
	// Path is the service path the calls go to: "hello",
	// "Search/run_query".
	Path string
	// HTTPMethod is the form's method ("POST", or "GET" for links and
	// safe forms), which the service request carries.
	HTTPMethod string
	// Inputs are the form's inputs, in order; Types their parsed types.
	Inputs []hyper.Input
	Types  []hyper.Type
	// Resource and Profile are the name and profile of the resource
	// that lists the method, when it is not the index.
	Resource, Profile string
}

// Input returns the index of the input called name, or -1.
func (m *Method) Input(name string) int {
	for i := range m.Inputs {
		if m.Inputs[i].Name == name {
			return i
		}
	}
	return -1
}

// Required returns how many leading inputs have no default.
func (m *Method) Required() int {
	n := 0
	for i, in := range m.Inputs {
		if !in.HasDefault {
			n = i + 1
		}
	}
	return n
}

// Table is the callables of a service by name.
type Table struct {
	byName map[string]*Method
	names  []string // sorted
}

// Lookup returns the method called name, or nil.
func (t *Table) Lookup(name string) *Method { return t.byName[name] }

// Names returns the names of the methods in order.
func (t *Table) Names() []string { return t.names }

// Bounds of the walk, so that a service whose pages link without end
// cannot keep a transport discovering forever.
const (
	maxResources = 256  // resources read, the index included
	maxLinkDepth = 8    // links followed from the index to a resource
	maxMethods   = 4096 // callables in a table
)

// Discover reads the service's index (GET "") and every resource it links
// to under the service, a few links deep, and returns the callables
// their forms and links name. A link whose URL ends in "/" is a resource
// to read; other links and forms are callables. URLs with a query (the
// instances whose state is in their URL) and URLs outside the service are
// left out: their calls need the URL, which a method name cannot carry.
func Discover(ctx context.Context, svc *service.Service) (*Table, error) {
	d := &discoverer{svc: svc, t: &Table{byName: map[string]*Method{}}, seen: map[string]bool{"": true}}
	res, err := svc.Serve(ctx, &service.Request{Method: "GET", FollowUp: true})
	if err != nil {
		return nil, err
	}
	if err := d.value(ctx, "/", res.Value, hyper.Resource{}, 0); err != nil {
		return nil, err
	}
	slices.Sort(d.t.names)
	return d.t, nil
}

type discoverer struct {
	svc   *service.Service
	t     *Table
	seen  map[string]bool // resource paths read
	reads int
}

// value walks one value of a page found at base, listed by the resource
// r.
func (d *discoverer) value(ctx context.Context, base string, v any, r hyper.Resource, depth int) error {
	switch x := v.(type) {
	case hyper.Resource:
		u := resolve(base, x.URL)
		if u == "" {
			return nil
		}
		keys := make([]string, 0, len(x.Content))
		for k := range x.Content {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		lister := x
		if u == "/" {
			lister.Name = "" // the index names no component
		}
		for _, k := range keys {
			if err := d.value(ctx, u, x.Content[k], lister, depth); err != nil {
				return err
			}
		}
	case hyper.Form:
		return d.add(base, x.URL, x.HTTPMethod(), x.Values, r)
	case hyper.Link:
		path, ok := servicePath(resolve(base, x.URL))
		if !ok {
			return nil
		}
		if strings.HasSuffix(path, "/") {
			if x.Inline {
				return d.value(ctx, "/"+path, x.Content, r, depth+1)
			}
			return d.follow(ctx, path, depth+1)
		}
		return d.add(base, x.URL, "GET", nil, r)
	}
	return nil
}

// follow reads the resource at path and walks it.
func (d *discoverer) follow(ctx context.Context, path string, depth int) error {
	if d.seen[path] || depth > maxLinkDepth {
		return nil
	}
	d.seen[path] = true
	if d.reads++; d.reads > maxResources {
		return &service.Error{Kind: service.KindTooLarge, Message: fmt.Sprintf("the service links more than %d resources", maxResources)}
	}
	res, err := d.svc.Serve(ctx, &service.Request{Method: "GET", Path: path, FollowUp: true})
	if err != nil {
		return nil // a resource that cannot be read offers nothing
	}
	return d.value(ctx, "/"+path, res.Value, hyper.Resource{}, depth)
}

// add records the callable at url.
func (d *discoverer) add(base, url, method string, inputs []hyper.Input, r hyper.Resource) error {
	path, ok := servicePath(resolve(base, url))
	if !ok || path == "" || strings.HasSuffix(path, "/") {
		return nil
	}
	name := strings.ReplaceAll(path, "/", ".")
	if d.t.byName[name] != nil {
		return nil
	}
	if len(d.t.names) >= maxMethods {
		return &service.Error{Kind: service.KindTooLarge, Message: fmt.Sprintf("the service offers more than %d methods", maxMethods)}
	}
	m := &Method{Name: name, Path: path, HTTPMethod: method, Inputs: inputs,
		Types: make([]hyper.Type, len(inputs)), Resource: r.Name, Profile: r.Profile}
	for i, in := range inputs {
		m.Types[i] = in.ParsedType()
	}
	d.t.byName[name] = m
	d.t.names = append(d.t.names, name)
	return nil
}

// resolve resolves a page's URL reference, or returns "".
func resolve(base, ref string) string {
	u, err := hyper.Resolve(base, ref)
	if err != nil {
		return ""
	}
	return u
}

// servicePath returns the path below the root of a resolved URL, when the
// URL is an absolute path without a query or fragment.
func servicePath(u string) (string, bool) {
	if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") || strings.ContainsAny(u, "?#") {
		return "", false
	}
	return u[1:], true
}
