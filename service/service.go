package service

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"unicode"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// Service holds the functions and classes a program exposes. Every
// transport (HTTP, peers, in-process) serves a Service through the same
// entry point, Serve. Register everything before serving; registration is
// safe for concurrent use but a Service is meant to be built once.
type Service struct {
	name     string
	stateKey []byte
	logger   *slog.Logger

	mu      sync.RWMutex // guards the maps and order below
	funcs   map[string]*callable
	classes map[string]*class
	order   []string // names in registration order, for the index
	byCode  map[uintptr]*callable
	byType  map[reflect.Type]*class
}

// Option configures a Service.
type Option func(*Service)

// WithName sets the name of the index resource (default "index").
func WithName(name string) Option { return func(s *Service) { s.name = name } }

// WithStateKey makes the service sign the instance state it puts in URLs
// with HMAC-SHA256 under key, and reject URLs whose state was changed
// (400). Without a key, state in URLs is only checked to decode into the
// class's fields.
func WithStateKey(key []byte) Option {
	return func(s *Service) { s.stateKey = append([]byte(nil), key...) }
}

// WithLogger sets where internal errors and recovered panics are logged
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.logger = l } }

// New returns an empty Service.
func New(opts ...Option) *Service {
	s := &Service{
		name:    "index",
		logger:  slog.Default(),
		funcs:   map[string]*callable{},
		classes: map[string]*class{},
		byCode:  map[uintptr]*callable{},
		byType:  map[reflect.Type]*class{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// A methodKind says how a function or method is offered to clients.
type methodKind uint8

const (
	unsafeKind methodKind = iota // a form, called with POST (the default)
	safeKind                     // a link, called with GET, cacheable
	inlineKind                   // a link whose result is embedded in the page
	hiddenKind                   // callable, but not listed
)

// FuncOption configures a registered function, method or constructor.
type FuncOption func(*callable) error

// Args names the parameters of a function that takes them positionally
// (Go reflection does not know parameter names). A context.Context first
// parameter is not named. Functions that take a single struct parameter
// need no Args: its fields are the inputs.
func Args(names ...string) FuncOption {
	return func(c *callable) error {
		c.argNames = names
		return nil
	}
}

// Default gives the input name a default value, making it optional.
// Adding a parameter with a default never breaks an old client.
func Default(name string, value any) FuncOption {
	return func(c *callable) error {
		if c.defaults == nil {
			c.defaults = map[string]any{}
		}
		c.defaults[name] = value
		return nil
	}
}

// Safe offers the function as a link: called with GET, without side
// effects, cacheable.
func Safe() FuncOption { return kindOption(safeKind) }

// Inline offers the function as a link whose result is embedded in the
// page that lists it, so clients get it without a request.
func Inline() FuncOption { return kindOption(inlineKind) }

// Hidden keeps the function callable but out of listings.
func Hidden() FuncOption { return kindOption(hiddenKind) }

// Unsafe offers the function as a form called with POST; the default.
func Unsafe() FuncOption { return kindOption(unsafeKind) }

func kindOption(k methodKind) FuncOption {
	return func(c *callable) error { c.kind = k; return nil }
}

// Redirect makes a function that returns an instance of a class answer
// with a 303 See Other to the instance's URL instead of embedding it.
func Redirect() FuncOption {
	return func(c *callable) error { c.redirect = true; return nil }
}

// CacheControl sets the Cache-Control header of a safe function's
// answers, e.g. "max-age=60". Forms (POST) are never cacheable.
func CacheControl(v string) FuncOption {
	return func(c *callable) error { c.cacheControl = v; return nil }
}

// Func registers fn under name. fn is any Go function of the forms
//
//	func([ctx context.Context,] params...) ([result] [, error])
//
// Its parameters are named with Args, or are the fields of a single
// struct parameter. Results are mapped by Serve: a value, an instance of
// a registered class (a resource), a registered function (its form), nil
// (no content), a *wire.Blob (raw content), SeeOther or Created.
func (s *Service) Func(name string, fn any, opts ...FuncOption) error {
	if !validName(name) {
		return fmt.Errorf("service: invalid function name %q", name)
	}
	c, err := newCallable(name, reflect.ValueOf(fn), false, opts)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taken(name) {
		return fmt.Errorf("service: %q registered twice", name)
	}
	s.funcs[name] = c
	s.order = append(s.order, name)
	s.byCode[c.fn.Pointer()] = c
	return nil
}

// MustFunc is Func that panics on error, for registration at start-up.
func (s *Service) MustFunc(name string, fn any, opts ...FuncOption) {
	if err := s.Func(name, fn, opts...); err != nil {
		panic(err)
	}
}

func (s *Service) taken(name string) bool {
	_, f := s.funcs[name]
	_, c := s.classes[name]
	return f || c
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// param is one input of a callable.
type param struct {
	name     string
	typ      reflect.Type
	field    []int // struct mode: index of the field in the argument struct
	def      any
	hasDef   bool
	typeName string // hyper input type
}

// callable is a registered function, method or constructor.
type callable struct {
	name         string // wire name
	op           string // for errors: "hello", "User.message"
	fn           reflect.Value
	method       bool // fn's first parameter is the receiver
	ctx          bool // takes a context.Context after the receiver
	structArg    reflect.Type
	params       []param
	hasValue     bool // returns a value
	hasErr       bool // returns an error last
	kind         methodKind
	redirect     bool
	cacheControl string

	argNames []string       // from Args
	defaults map[string]any // from Default
}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
)

func newCallable(name string, fn reflect.Value, method bool, opts []FuncOption) (*callable, error) {
	if fn.Kind() != reflect.Func || fn.IsNil() {
		return nil, fmt.Errorf("service: %s is not a function", name)
	}
	c := &callable{name: name, op: name, fn: fn, method: method}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	t := fn.Type()
	if t.IsVariadic() {
		return nil, fmt.Errorf("service: %s: variadic functions are not supported", name)
	}
	in := 0
	if method {
		in = 1
	}
	if in < t.NumIn() && t.In(in) == ctxType {
		c.ctx = true
		in++
	}
	rest := t.NumIn() - in
	switch {
	case rest == 1 && c.argNames == nil && isArgStruct(t.In(in)):
		c.structArg = t.In(in)
		for _, f := range reflect.VisibleFields(c.structArg) {
			if !f.IsExported() || f.Anonymous {
				continue
			}
			name, opts := fieldName(f)
			if name == "-" {
				continue
			}
			p := param{name: name, typ: f.Type, field: f.Index, typeName: hyper.TypeOf(f.Type).String()}
			if strings.Contains(opts, "optional") || strings.Contains(opts, "omitempty") {
				p.def, p.hasDef = reflect.Zero(f.Type).Interface(), true
			}
			c.params = append(c.params, p)
		}
	case rest > 0 && len(c.argNames) != rest:
		return nil, fmt.Errorf("service: %s takes %d parameter(s): name them with service.Args (got %d names) or take one struct", name, rest, len(c.argNames))
	default:
		for i := 0; i < rest; i++ {
			pt := t.In(in + i)
			c.params = append(c.params, param{name: c.argNames[i], typ: pt, typeName: hyper.TypeOf(pt).String()})
		}
	}
	seen := map[string]bool{}
	for i := range c.params {
		p := &c.params[i]
		if seen[p.name] {
			return nil, fmt.Errorf("service: %s: two inputs named %q", name, p.name)
		}
		seen[p.name] = true
		if d, ok := c.defaults[p.name]; ok {
			v, err := convert(d, p.typ)
			if err != nil {
				return nil, fmt.Errorf("service: %s: default for %q: %v", name, p.name, err)
			}
			p.def, p.hasDef = v.Interface(), true
		}
	}
	for dn := range c.defaults {
		if !seen[dn] {
			return nil, fmt.Errorf("service: %s: default for unknown input %q", name, dn)
		}
	}
	switch t.NumOut() {
	case 0:
	case 1:
		if t.Out(0) == errorType {
			c.hasErr = true
		} else {
			c.hasValue = true
		}
	case 2:
		if t.Out(1) != errorType {
			return nil, fmt.Errorf("service: %s: the second result must be error", name)
		}
		c.hasValue, c.hasErr = true, true
	default:
		return nil, fmt.Errorf("service: %s: at most two results (value, error)", name)
	}
	if c.kind == inlineKind {
		for _, p := range c.params {
			if !p.hasDef {
				return nil, fmt.Errorf("service: %s: inline functions take no required inputs (%q has no default)", name, p.name)
			}
		}
	}
	return c, nil
}

// isArgStruct reports whether t is a plain struct whose fields are inputs
// (and not a glyph value type such as time.Time).
func isArgStruct(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	switch t {
	case reflect.TypeFor[wire.Period](), reflect.TypeFor[wire.Extension](), reflect.TypeFor[wire.Dict](),
		reflect.TypeFor[wire.AnySet](), reflect.TypeFor[wire.OrderedDict]():
		return false
	}
	return t.PkgPath() != "time" && t.PkgPath() != "math/big" && !strings.HasPrefix(t.PkgPath(), "github.com/glyph-ipc/glyph/hyper")
}

// fieldName returns the input name of a struct field and its tag options.
func fieldName(f reflect.StructField) (string, string) {
	tag := f.Tag.Get("glyph")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, opts
}

// inputs describes the callable's parameters as hyper inputs.
func (c *callable) inputs() []hyper.Input {
	in := make([]hyper.Input, len(c.params))
	for i, p := range c.params {
		in[i] = hyper.Input{Name: p.name, Type: p.typeName, Default: p.def, HasDefault: p.hasDef}
	}
	return in
}

// snake turns a Go method name into its wire name: FindUser → find_user,
// ID → id, HTTPServer → http_server.
func snake(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
