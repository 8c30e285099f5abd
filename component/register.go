package component

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
)

// Option configures the registration of an interface ([Register]).
type Option func(*decl)

// MethodOption declares something about one method of an interface
// ([Method]).
type MethodOption func(*methodDecl)

// decl is what Register's options declare.
type decl struct {
	name    string
	version string
	methods map[string][]MethodOption // by Go method name
}

// methodDecl is what a method's options declare.
type methodDecl struct {
	args       []string
	defaults   [][2]any // name, value
	readOnly   bool
	idempotent bool
	public     bool
	timeout    time.Duration
}

// Name sets the interface's name, which callers route by and which its
// methods' paths start with (default: the Go interface type's name).
func Name(name string) Option { return func(d *decl) { d.name = name } }

// Version sets the interface's version, which its profile carries and
// compatibility errors show. Compatibility itself is decided by the
// methods and their inputs, never by comparing versions.
func Version(v string) Option { return func(d *decl) { d.version = v } }

// Method declares things about the interface method goName (its Go
// name, such as "RunQuery"): parameter names, defaults, retry safety,
// whether the front exposes it, its deadline.
func Method(goName string, opts ...MethodOption) Option {
	return func(d *decl) {
		if d.methods == nil {
			d.methods = map[string][]MethodOption{}
		}
		d.methods[goName] = append(d.methods[goName], opts...)
	}
}

// Args names a method's parameters after its context, in order, as
// [service.Args] does for a function. A method whose only parameter
// after the context is a struct needs none: the struct's fields are its
// inputs.
func Args(names ...string) MethodOption {
	return func(m *methodDecl) { m.args = names }
}

// Default gives a method's input name a default, making it optional: an
// input added with a default keeps old callers compatible.
func Default(name string, value any) MethodOption {
	return func(m *methodDecl) { m.defaults = append(m.defaults, [2]any{name, value}) }
}

// ReadOnly declares a method free of side effects: it is served as a
// safe call (GET over HTTP) and is retry-safe.
func ReadOnly() MethodOption { return func(m *methodDecl) { m.readOnly = true } }

// Idempotent declares that calling a method twice has the effect of
// calling it once, so a router may retry it or send it to another
// provider after a failure that may have reached the first.
func Idempotent() MethodOption { return func(m *methodDecl) { m.idempotent = true } }

// Public declares a method reachable from outside through the front
// (components part 2). Methods are internal by default.
func Public() MethodOption { return func(m *methodDecl) { m.public = true } }

// Timeout sets a method's default deadline: a call made with a context
// without a deadline gets one d from its start.
func Timeout(d time.Duration) MethodOption { return func(m *methodDecl) { m.timeout = d } }

// ProfilePrefix starts the profile of every component's resource; the
// interface's name (and ":" and its version, when it has one) follows.
const ProfilePrefix = "urn:glyph:component:"

// The attributes a component method's link or form carries besides the
// protocol's own (see spec.md).
const (
	attrIdempotent = "idempotent"
	attrPublic     = "public"
	attrTimeout    = "timeout_ms"
	attrReturns    = "returns"
	attrStreams    = "streams"
)

// registered remembers the implementations registered on each service,
// so that a caller in the same process can be handed one directly.
var registered struct {
	mu sync.Mutex // guards impls
	// impls maps a service and an interface name to the implementation
	// and its Go interface type.
	impls map[*service.Service]map[string]localImpl
}

type localImpl struct {
	iface reflect.Type
	impl  any
}

// Register registers impl, an implementation of the Go interface T, on
// svc: an object (see [service.Service.Object]) named after the interface
// whose profile names it and its version, with one method per method of
// T, named in snake_case (RunQuery → run_query). Every method takes a
// context.Context first and returns an error last; its other parameters
// and its result are glyph values (scalars, typed slices, string-keyed
// maps, structs), and an iter.Seq may stream a parameter or the result.
// Callers bind to it with a [Router].
//
// Register fails, registering nothing, when T is not an interface, a
// method does not have that shape, parameters are not named (see
// [Args]), an option names a method T lacks, or svc refuses the object.
func Register[T any](svc *service.Service, impl T, opts ...Option) error {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Interface {
		return fmt.Errorf("component: Register[%s]: not an interface type", t)
	}
	d := decl{name: t.Name()}
	for _, o := range opts {
		o(&d)
	}
	if !validName(d.name) {
		return fmt.Errorf("component: Register[%s]: invalid interface name %q: use letters, digits, '-' and '_' (see component.Name)", t, d.name)
	}
	for goName := range d.methods {
		if _, ok := t.MethodByName(goName); !ok {
			return fmt.Errorf("component: %s has no method %s", d.name, goName)
		}
	}
	rv := reflect.ValueOf(&impl).Elem()
	if rv.IsNil() {
		return fmt.Errorf("component: Register[%s]: nil implementation", t)
	}
	members := make([]service.Member, 0, t.NumMethod())
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		if !m.IsExported() {
			return fmt.Errorf("component: %s.%s: an interface's methods must be exported to be called from elsewhere", d.name, m.Name)
		}
		var md methodDecl
		for _, o := range d.methods[m.Name] {
			o(&md)
		}
		mem, err := member(d.name, m, md, rv.Method(i).Interface())
		if err != nil {
			return err
		}
		members = append(members, mem)
	}
	if err := svc.Object(d.name, members, service.Profile(profile(d.name, d.version))); err != nil {
		return fmt.Errorf("component: %w", err)
	}
	registered.mu.Lock()
	defer registered.mu.Unlock()
	if registered.impls == nil {
		registered.impls = map[*service.Service]map[string]localImpl{}
	}
	if registered.impls[svc] == nil {
		registered.impls[svc] = map[string]localImpl{}
	}
	registered.impls[svc][d.name] = localImpl{iface: t, impl: impl}
	return nil
}

// MustRegister is [Register] that panics on error, for start-up.
func MustRegister[T any](svc *service.Service, impl T, opts ...Option) {
	if err := Register(svc, impl, opts...); err != nil {
		panic(err)
	}
}

// localImplOf returns the implementation of the interface name
// registered on svc, if any.
func localImplOf(svc *service.Service, name string) (localImpl, bool) {
	registered.mu.Lock()
	defer registered.mu.Unlock()
	li, ok := registered.impls[svc][name]
	return li, ok
}

func profile(name, version string) string {
	if version == "" {
		return ProfilePrefix + name
	}
	return ProfilePrefix + name + ":" + version
}

// parseProfile returns the interface name and version a profile names.
func parseProfile(p string) (name, version string, ok bool) {
	rest, ok := strings.CutPrefix(p, ProfilePrefix)
	if !ok || rest == "" {
		return "", "", false
	}
	name, version, _ = strings.Cut(rest, ":")
	return name, version, true
}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
)

// member makes the service member for method m of interface iface.
func member(iface string, m reflect.Method, md methodDecl, fn any) (service.Member, error) {
	op := iface + "." + m.Name
	ft := m.Type
	if ft.NumIn() == 0 || ft.In(0) != ctxType {
		return service.Member{}, fmt.Errorf("component: %s must take a context.Context first", op)
	}
	if ft.NumOut() == 0 || ft.NumOut() > 2 || ft.Out(ft.NumOut()-1) != errorType {
		return service.Member{}, fmt.Errorf("component: %s must return (error) or (T, error)", op)
	}
	nparams := ft.NumIn() - 1
	if md.args == nil && nparams > 0 && !(nparams == 1 && isArgStruct(ft.In(1))) {
		return service.Member{}, fmt.Errorf("component: %s takes %d parameter(s) after its context: name them with component.Method(%q, component.Args(...)), or take one struct", op, nparams, m.Name)
	}
	var opts []service.FuncOption
	if md.args != nil {
		opts = append(opts, service.Args(md.args...))
	}
	for _, d := range md.defaults {
		opts = append(opts, service.Default(d[0].(string), d[1]))
	}
	if md.readOnly {
		opts = append(opts, service.Safe())
	}
	if md.idempotent {
		opts = append(opts, service.Attr(attrIdempotent, true))
	}
	if md.public {
		opts = append(opts, service.Attr(attrPublic, true))
	}
	if md.timeout > 0 {
		opts = append(opts, service.Attr(attrTimeout, md.timeout.Milliseconds()))
	}
	ret, streams := resultType(ft)
	opts = append(opts, service.Attr(attrReturns, ret))
	if streams {
		opts = append(opts, service.Attr(attrStreams, true))
	}
	return service.Member{Name: hyper.WireName(m.Name), Func: fn, Options: opts}, nil
}

// resultType returns the input type of a method's value result ("nil"
// when it has none) and whether it streams (an iter.Seq result, whose
// items are of that type).
func resultType(ft reflect.Type) (string, bool) {
	if ft.NumOut() < 2 {
		return "nil", false
	}
	if elem, ok := seqElem(ft.Out(0)); ok {
		return hyper.TypeOf(elem).String(), true
	}
	return hyper.TypeOf(ft.Out(0)).String(), false
}

// seqElem returns T for an iter.Seq[T] or iter.Seq2[T, error].
func seqElem(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() != reflect.Func || t.NumIn() != 1 || t.NumOut() != 0 {
		return nil, false
	}
	y := t.In(0)
	if y.Kind() != reflect.Func || y.NumOut() != 1 || y.Out(0).Kind() != reflect.Bool {
		return nil, false
	}
	switch {
	case y.NumIn() == 1:
		return y.In(0), true
	case y.NumIn() == 2 && y.In(1) == errorType:
		return y.In(0), true
	}
	return nil, false
}

// isArgStruct reports whether t is a struct whose fields are a method's
// inputs, as package service decides it (time.Time and glyph's own types
// are values, not argument structs).
func isArgStruct(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	switch t.PkgPath() {
	case "time", "math/big", "github.com/glyph-ipc/glyph/hyper", "github.com/glyph-ipc/glyph/wire":
		return false
	}
	return true
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
