package service

import (
	"bytes"
	"context"
	"fmt"
	"github.com/glyph-ipc/glyph/intercept"
	"io"
	"log/slog"
	"reflect"
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
	indexFn  string // WithIndex: the function whose result the root serves
	stateKey []byte
	logger   *slog.Logger // nil: slog.Default()

	interceptors []intercept.Interceptor // WithInterceptors, folded into unary and stream
	unary        intercept.UnaryFunc     // nil without interceptors
	openStream   intercept.StreamFunc
	callLevel    slog.Level          // WithCallLog
	noCallLog    bool                // WithoutCallLog
	loggedUnary  intercept.UnaryFunc // the call log and the interceptors; nil with WithoutCallLog
	loggedStream intercept.StreamFunc

	mu      sync.RWMutex // guards the maps and order below
	funcs   map[string]*callable
	classes map[string]*class
	objects map[string]*object
	order   []string // names in registration order, for the index
	byCode  map[uintptr]*callable
	byType  map[reflect.Type]*class
}

// Option configures a Service.
type Option func(*Service)

// WithName sets the name of the index resource (default "index").
func WithName(name string) Option { return func(s *Service) { s.name = name } }

// WithIndex makes the root serve the result of the function registered
// as name, called with no arguments (its inputs need defaults), instead
// of the generated listing: a chosen default resource, such as an
// instance whose links lead everywhere else. The function stays callable
// at its own URL.
func WithIndex(name string) Option { return func(s *Service) { s.indexFn = name } }

// WithStateKey makes the service sign the instance state it puts in URLs
// with HMAC-SHA256 under key, and reject URLs whose state was changed
// (400). Without the option, state in URLs is only checked to decode into
// the class's fields.
//
// WithStateKey panics if key is empty: a key read from configuration that
// turned out empty must stop the service at start-up, not leave its state
// unsigned.
func WithStateKey(key []byte) Option {
	if len(key) == 0 {
		panic("service: WithStateKey with an empty key: state in URLs would not be signed")
	}
	key = bytes.Clone(key)
	return func(s *Service) { s.stateKey = key }
}

// WithLogger sets where internal errors and recovered panics are logged,
// each with its logref (default, and when l is nil, [slog.Default] as it
// is when the service logs).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.logger = l }
}

// log returns the logger: the one set with WithLogger, or slog.Default()
// as it is when the service logs.
func (s *Service) log() *slog.Logger {
	if s.logger != nil {
		return s.logger
	}
	return slog.Default()
}

// New returns an empty Service.
func New(opts ...Option) *Service {
	s := &Service{
		name:      "index",
		callLevel: slog.LevelDebug,
		funcs:     map[string]*callable{},
		classes:   map[string]*class{},
		objects:   map[string]*object{},
		byCode:    map[uintptr]*callable{},
		byType:    map[reflect.Type]*class{},
	}
	for _, o := range opts {
		o(s)
	}
	s.buildChain()
	return s
}

// A methodKind says how a function or method is offered to clients.
type methodKind uint8

const (
	unsafeKind methodKind = iota // a form, called with POST (the default)
	safeKind                     // a link (a GET form when it has inputs), cacheable
	inlineKind                   // a link whose result is embedded in the page
)

// FuncOption configures a registered function, method or constructor.
type FuncOption func(*callable) error

// Args names the parameters of a function that takes them positionally
// (Go reflection does not know parameter names), one name per parameter
// in order. A context.Context first parameter is not named. Functions that
// take a single struct parameter need no Args: its fields are the inputs
// (with Args, the struct is one input).
func Args(names ...string) FuncOption {
	return func(c *callable) error {
		c.argNames = names
		return nil
	}
}

// Default gives the input name a default value, making it optional: a
// call that omits the argument gets the default, and the form shows it as
// the input's value. Adding a parameter with a default never breaks an old
// client. value must convert to the parameter's type; each call gets its
// own copy, so a function may change a default slice or map it receives.
func Default(name string, value any) FuncOption {
	return func(c *callable) error {
		if c.defaults == nil {
			c.defaults = map[string]any{}
		}
		c.defaults[name] = value
		return nil
	}
}

// Safe marks the function as free of side effects: it may be called with
// GET and its answers may be cached. Without inputs it is offered as a
// link; with inputs as a form whose method is GET (arguments in the
// query), or POST for a method of an instance whose state is in its URL's
// query.
func Safe() FuncOption { return kindOption(safeKind) }

// Inline offers the function as a link whose result is embedded in the
// page that lists it, so clients get it without a request. Every call to
// that page calls the function with its defaults: it must be safe and
// cheap, and take no input without a default (registration fails
// otherwise).
func Inline() FuncOption { return kindOption(inlineKind) }

// Hidden keeps the function out of the index (or a method out of its
// instance's resource). It stays callable at its URL, as its kind ([Safe],
// [Inline] or [SideEffects]) says.
func Hidden() FuncOption {
	return func(c *callable) error { c.hidden = true; return nil }
}

// SideEffects marks the function as one that changes something, the
// default: it is offered as a form called with POST (HTTP's unsafe
// methods), and GET on its URL shows the form instead of calling it.
func SideEffects() FuncOption { return kindOption(unsafeKind) }

func kindOption(k methodKind) FuncOption {
	return func(c *callable) error { c.kind = k; return nil }
}

// Redirect makes a function that returns an instance of a registered class
// answer with a 303 See Other to the instance's URL instead of embedding
// the instance's resource in the answer.
func Redirect() FuncOption {
	return func(c *callable) error { c.redirect = true; return nil }
}

// CacheControl sets the Cache-Control header of a safe function's
// answers, e.g. "max-age=60". Forms (POST) are never cacheable.
func CacheControl(v string) FuncOption {
	return func(c *callable) error { c.cacheControl = v; return nil }
}

// Func registers fn under name, which becomes the last segment of its
// URL. fn is any Go function of the form
//
//	func([ctx context.Context,] params...) ([result] [, error])
//
// Its parameters are named with Args, or are the fields of a single
// struct parameter (see the package documentation). One parameter may be
// an iter.Seq[T] or iter.Seq2[T, error], whose items stream; parameters
// of other func types are callbacks. Results are mapped by Serve: a
// value, an instance of a registered class (a resource), a registered
// function (its form), nil (no content), a *[wire.Blob] (raw content),
// SeeOther or Created; an iter.Seq[T] or iter.Seq2[T, error] result
// streams (a Stream).
//
// Func fails, and registers nothing, when name is empty, holds characters
// other than letters, digits, '-' and '_', or is taken; when fn is not a
// function or its signature is not of that form (two streaming inputs,
// an iter.Seq2 whose second type is not error, a callback that is
// variadic or returns more than a value and an error); or when an option
// does not fit the signature (Args with the wrong number of names, a
// Default for an unknown input, of the wrong type, or for a streaming or
// callback input, Inline with a required input or a streamed result).
func (s *Service) Func(name string, fn any, opts ...FuncOption) error {
	if !validName(name) {
		return fmt.Errorf("service: invalid function name %q: use letters, digits, '-' and '_'", name)
	}
	c, err := newCallable(name, name, reflect.ValueOf(fn), false, opts)
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
	code := c.fn.Pointer()
	if prev, dup := s.byCode[code]; dup && prev != c {
		// Closures of one function literal share their code: a result
		// holding one of them cannot say which registration it is.
		s.byCode[code] = nil
	} else {
		s.byCode[code] = c
	}
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
	_, o := s.objects[name]
	return f || c || o
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
	def      any   // the default, as the form shows it
	hasDef   bool
	defBytes []byte     // the encoded default, decoded afresh for each call; nil: def is copied by value
	ptype    hyper.Type // the input type, checked against arguments
	typeName string     // ptype as the form shows it

	seq      seqKind      // an iter.Seq[T] or iter.Seq2[T, error] input: its items stream
	elem     reflect.Type // seq: T
	elemType hyper.Type   // seq: T's input type, checked against each item
	cb       *callbackSig // a callback input: what its func type takes and returns
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
	streams      seqKind
	seqIn        int  // the index in params of the iter.Seq input, or -1
	needsInv     bool // has a streaming or callback input: a call needs an invocation
	kind         methodKind
	hidden       bool // not listed in the index or the resource
	redirect     bool
	cacheControl string
	attrs        map[string]any // Attr: extra attributes of its link or form

	argNames []string       // from Args
	defaults map[string]any // from Default

	// direct calls fn without reflection when fn is a function of one
	// string (and maybe a context) returning a string (and maybe an
	// error), the most common signature; see directArg.
	direct func(ctx context.Context, arg string) (any, error)
}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
)

// newCallable reflects on fn once. name is the wire name; op names the
// callable in errors ("hello", "User.rename").
func newCallable(name, op string, fn reflect.Value, method bool, opts []FuncOption) (*callable, error) {
	if fn.Kind() != reflect.Func || fn.IsNil() {
		return nil, fmt.Errorf("service: %s: not a function", op)
	}
	c := &callable{name: name, op: op, fn: fn, method: method, seqIn: -1}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	t := fn.Type()
	if t.IsVariadic() {
		return nil, fmt.Errorf("service: %s: variadic functions are not supported", op)
	}
	in, err := c.contextParam(t)
	if err != nil {
		return nil, err
	}
	if err := c.collectParams(t, in); err != nil {
		return nil, err
	}
	if err := c.checkParams(); err != nil {
		return nil, err
	}
	if err := c.results(t); err != nil {
		return nil, err
	}
	if err := c.checkInline(); err != nil {
		return nil, err
	}
	if !method && c.structArg == nil && len(c.params) == 1 && c.params[0].typ == stringType {
		c.direct = directFunc(fn.Interface())
	}
	return c, nil
}

// contextParam notes whether fn of type t takes a context.Context first
// (after the receiver of a method) and returns the index of its first
// input. A context anywhere else is an error.
func (c *callable) contextParam(t reflect.Type) (int, error) {
	in := 0
	if c.method {
		in = 1
	}
	if in < t.NumIn() && t.In(in) == ctxType {
		c.ctx = true
		in++
	}
	for i := in; i < t.NumIn(); i++ {
		if t.In(i) == ctxType {
			return 0, fmt.Errorf("service: %s: a context.Context must be the first parameter", c.op)
		}
	}
	return in, nil
}

// collectParams makes the inputs from t's parameters from index in on:
// the fields of a single struct parameter, or the parameters named by
// Args.
func (c *callable) collectParams(t reflect.Type, in int) error {
	rest := t.NumIn() - in
	argsHint := "service.Args"
	if c.method {
		argsHint = fmt.Sprintf("service.Method(%q, service.Args(...))", c.name)
	}
	switch {
	case rest == 1 && c.argNames == nil && isArgStruct(t.In(in)):
		c.structArg = t.In(in)
		for _, f := range structFields(c.structArg) {
			if err := checkSettable(c.structArg, f); err != nil {
				return fmt.Errorf("service: %s: %v", c.op, err)
			}
			p := param{name: f.name, typ: f.typ, field: f.index}
			if f.has("optional") || f.has("omitempty") {
				p.def, p.hasDef = reflect.Zero(f.typ).Interface(), true
			}
			c.params = append(c.params, p)
		}
	case len(c.argNames) != rest:
		if rest == 0 {
			return fmt.Errorf("service: %s takes no parameters, but Args names %d", c.op, len(c.argNames))
		}
		return fmt.Errorf("service: %s takes %d parameter(s) but %d name(s) were given: name them with %s or take one struct", c.op, rest, len(c.argNames), argsHint)
	default:
		for i := 0; i < rest; i++ {
			c.params = append(c.params, param{name: c.argNames[i], typ: t.In(in + i)})
		}
	}
	return nil
}

// checkParams checks the inputs' names, classifies each, and gives them
// their defaults.
func (c *callable) checkParams() error {
	seen := map[string]bool{}
	for i := range c.params {
		p := &c.params[i]
		if p.name == "" {
			return fmt.Errorf("service: %s: an input without a name", c.op)
		}
		if seen[p.name] {
			return fmt.Errorf("service: %s: two inputs named %q", c.op, p.name)
		}
		seen[p.name] = true
		if err := c.classify(i); err != nil {
			return fmt.Errorf("service: %s: input %q: %v", c.op, p.name, err)
		}
		p.typeName = p.ptype.String()
		if err := c.setDefault(p); err != nil {
			return err
		}
	}
	for dn := range c.defaults {
		if !seen[dn] {
			return fmt.Errorf("service: %s: default for unknown input %q", c.op, dn)
		}
	}
	return nil
}

// setDefault gives p the default Default named for it, if any.
func (c *callable) setDefault(p *param) error {
	if d, ok := c.defaults[p.name]; ok {
		v, err := convert(d, p.typ)
		if err != nil {
			return fmt.Errorf("service: %s: default for %q: %v", c.op, p.name, err)
		}
		p.def, p.hasDef = v.Interface(), true
	}
	if p.hasDef && p.def != nil && !reflect.ValueOf(p.def).IsZero() && shared(p.typ) {
		// Each call decodes the default afresh, so that a call that
		// changes it cannot change it for the next one.
		if b, err := wire.Marshal(p.def); err == nil {
			v := reflect.New(p.typ)
			if wire.Unmarshal(b, v.Interface()) == nil {
				p.def, p.defBytes = v.Elem().Interface(), b
			}
		}
	}
	return nil
}

// results reads t's results: nothing, a value, an error, or a value and
// an error; a value may be a stream.
func (c *callable) results(t reflect.Type) error {
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
			return fmt.Errorf("service: %s: the second result must be error", c.op)
		}
		c.hasValue, c.hasErr = true, true
	default:
		return fmt.Errorf("service: %s: at most two results (value, error)", c.op)
	}
	if c.hasValue {
		k, _, err := seqOf(t.Out(0))
		if err != nil {
			return fmt.Errorf("service: %s: result: %v", c.op, err)
		}
		c.streams = k
	}
	return nil
}

// checkInline checks what an inline function must be: called with no
// arguments (every input has a default) and answering one value.
func (c *callable) checkInline() error {
	if c.kind != inlineKind {
		return nil
	}
	if c.streams != notSeq {
		return fmt.Errorf("service: %s: inline functions cannot stream their result", c.op)
	}
	for _, p := range c.params {
		if !p.hasDef {
			return fmt.Errorf("service: %s: inline functions take no required inputs (%q has no default)", c.op, p.name)
		}
	}
	return nil
}

var stringType = reflect.TypeFor[string]()

// classify sets input i's input type, and what it is when it is not a
// plain value: the iter.Seq input whose items stream (one at most), or a
// callback (any other func type). Neither takes a default.
func (c *callable) classify(i int) error {
	p := &c.params[i]
	k, elem, err := seqOf(p.typ)
	if err != nil {
		return err
	}
	_, hasDefault := c.defaults[p.name]
	switch {
	case k != notSeq:
		if c.seqIn >= 0 {
			return fmt.Errorf("a second streaming input (%q streams already)", c.params[c.seqIn].name)
		}
		if hasDefault || p.hasDef {
			return fmt.Errorf("a streaming input takes no default")
		}
		c.seqIn, c.needsInv = i, true
		p.seq, p.elem, p.elemType = k, elem, hyper.TypeOf(elem)
		p.ptype = hyper.Type{Name: "list", Params: []hyper.Type{p.elemType}}
	case p.typ.Kind() == reflect.Func:
		if hasDefault || p.hasDef {
			return fmt.Errorf("a callback takes no default")
		}
		if p.cb, err = newCallbackSig(p.typ); err != nil {
			return err
		}
		c.needsInv = true
		p.ptype = hyper.TypeOf(p.typ) // object: the grammar has no callback type
	default:
		p.ptype = hyper.TypeOf(p.typ)
	}
	return nil
}

// directFunc returns a function that calls f without reflection, when f
// has one of the signatures it knows, and nil otherwise.
func directFunc(f any) func(context.Context, string) (any, error) {
	switch f := f.(type) {
	case func(string) string:
		return func(_ context.Context, a string) (any, error) { return f(a), nil }
	case func(context.Context, string) string:
		return func(ctx context.Context, a string) (any, error) { return f(ctx, a), nil }
	case func(string) (string, error):
		return func(_ context.Context, a string) (any, error) { return resultOrError(f(a)) }
	case func(context.Context, string) (string, error):
		return func(ctx context.Context, a string) (any, error) { return resultOrError(f(ctx, a)) }
	}
	return nil
}

func resultOrError(v string, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// directArg returns the argument of a callable with a direct function
// when the request has exactly that: one string, positional or named
// after the input, and no blob. Anything else (a missing argument, a
// default, another type, an unknown name) goes through bind, which
// handles and reports it.
func (c *callable) directArg(req *Request) (string, bool) {
	if req.Blob != nil {
		return "", false
	}
	var a any
	switch n := req.Args.Len(); {
	case len(req.Positional) == 1 && n == 0:
		a = req.Positional[0]
	case len(req.Positional) == 0 && n == 1:
		e := req.Args.Entries()[0]
		if k, ok := e.Key.(string); !ok || k != c.params[0].name {
			return "", false
		}
		a = e.Value
	default:
		return "", false
	}
	s, ok := a.(string)
	return s, ok
}

// shared reports whether values of type t may share memory with copies of
// them (slices, maps, pointers, interfaces, and what holds them), so that
// a default of that type needs a fresh copy per call. Blobs and readers
// are streams: they are not copied.
func shared(t reflect.Type) bool {
	return sharedType(t, map[reflect.Type]bool{})
}

func sharedType(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
		return t != reflect.TypeFor[*wire.Blob]() && !t.Implements(reflect.TypeFor[io.Reader]())
	case reflect.Array:
		return sharedType(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if sharedType(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
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
	return t.PkgPath() != "time" && t.PkgPath() != "math/big" && t.PkgPath() != "github.com/glyph-ipc/glyph/hyper"
}

// inputs describes the callable's parameters as hyper inputs.
func (c *callable) inputs() []hyper.Input {
	in := make([]hyper.Input, len(c.params))
	for i, p := range c.params {
		in[i] = hyper.Input{Name: p.name, Type: p.typeName, Default: p.def, HasDefault: p.hasDef}
	}
	return in
}
