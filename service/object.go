package service

import (
	"context"
	"fmt"
	"reflect"
	"strconv"

	"github.com/glyph-ipc/glyph/hyper"
)

// object is a registered fixed resource: a name, a profile and functions
// served as its methods.
type object struct {
	name    string
	profile string
	methods map[string]*callable
	morder  []string
}

// Member is one method of an object registered with [Service.Object]: a
// function as [Service.Func] takes it, under its wire name, with its
// options.
type Member struct {
	Name    string
	Func    any
	Options []FuncOption
}

// ObjectOption configures an object registered with [Service.Object].
type ObjectOption func(*object)

// Profile sets the profile of an object's resource: what interface it
// implements, for a client to check.
func Profile(p string) ObjectOption { return func(o *object) { o.profile = p } }

// Attr adds an attribute to the link or form that describes the function,
// beside those hyperglyph defines: a declaration a client may read, such
// as a component method's retry safety (package component). name must not
// be one of the link's or form's own attribute names.
func Attr(name string, value any) FuncOption {
	return func(c *callable) error {
		switch name {
		case "url", "method", "values", "headers", "envelope", "content_type", "inline", "etag", "last_modified", "":
			return fmt.Errorf("service: %s: attribute %q is the protocol's own", c.op, name)
		}
		if c.attrs == nil {
			c.attrs = map[string]any{}
		}
		c.attrs[name] = value
		return nil
	}
}

// Object registers a fixed resource under name, with members as its
// methods: GET <name>/ answers the resource (its profile and a link or
// form per member not hidden), and <name>/<member> calls a member as
// <name> would call a function registered with Func. The index lists the
// object as a link to its resource. Unlike a class's instance, an object
// has no state: its methods are functions (closures over whatever they
// need, such as the methods of a Go value bound to it), so a method's URL
// needs no query. Package component registers Go interfaces this way.
//
// Object fails, and registers nothing, when name or a member's name is
// invalid or taken, or a member's function or options would make Func
// fail.
func (s *Service) Object(name string, members []Member, opts ...ObjectOption) error {
	if !validName(name) {
		return fmt.Errorf("service: invalid object name %q: use letters, digits, '-' and '_'", name)
	}
	o := &object{name: name, methods: map[string]*callable{}}
	for _, opt := range opts {
		opt(o)
	}
	for _, m := range members {
		if !validName(m.Name) {
			return fmt.Errorf("service: object %s: invalid method name %q: use letters, digits, '-' and '_'", name, m.Name)
		}
		if o.methods[m.Name] != nil {
			return fmt.Errorf("service: object %s: two methods named %q", name, m.Name)
		}
		c, err := newCallable(m.Name, name+"."+m.Name, reflect.ValueOf(m.Func), false, m.Options)
		if err != nil {
			return err
		}
		o.methods[m.Name] = c
		o.morder = append(o.morder, m.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taken(name) {
		return fmt.Errorf("service: %q registered twice", name)
	}
	s.objects[name] = o
	s.order = append(s.order, name)
	return nil
}

// serveObject serves the object's resource (rest is "") or one of its
// methods.
func (s *Service) serveObject(ctx context.Context, req *Request, root string, o *object, rest string) (*Result, error) {
	if rest == "" {
		if !isGet(req.Method) {
			return nil, &Error{Op: o.name, Kind: KindMethodNotAllowed, Message: "an object is read with GET"}
		}
		return &Result{Value: s.objectResource(ctx, root, o), Cacheable: true}, nil
	}
	m := o.methods[rest]
	if m == nil {
		return nil, &Error{Op: o.name, Kind: KindNotFound, Message: "no method " + strconv.Quote(rest)}
	}
	return s.serveCallable(ctx, req, root, root+o.name+"/"+m.name, m)
}

// objectResource renders an object: its profile, and a link or form per
// method not hidden.
func (s *Service) objectResource(ctx context.Context, root string, o *object) hyper.Resource {
	u := root + o.name + "/"
	content := make(map[string]any, len(o.morder))
	for _, n := range o.morder {
		if m := o.methods[n]; !m.hidden {
			content[n] = s.describe(ctx, root, u+n, m, reflect.Value{}, 0, self{})
		}
	}
	return hyper.Resource{URL: u, Name: o.name, Profile: o.profile, Content: content}
}
