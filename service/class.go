package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"reflect"
	"sync"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// class is a registered Go type whose instances are resources.
type class struct {
	name string
	typ  reflect.Type // the struct type T
	ctor *callable    // returns T or *T (and maybe error); nil: none

	methods map[string]*callable
	morder  []string
	store   Store // nil: state travels in URLs

	methodOpts map[string][]FuncOption
	ctorFn     any
	ctorOpts   []FuncOption
	fromState  bool       // ConstructorFromState: the default constructor even with signed state
	locks      keyedMutex // persistent instances: one call at a time per id
}

// ClassOption configures a registered class.
type ClassOption func(*class) error

// Method sets options for the method whose wire name is name (the Go
// method name in snake_case: FindUser → find_user, ID → id, HTTPServer →
// http_server): Args, Default, Safe, Inline, Hidden, Redirect,
// CacheControl. Naming a method the class does not have is a
// registration error.
func Method(name string, opts ...FuncOption) ClassOption {
	return func(c *class) error {
		if c.methodOpts == nil {
			c.methodOpts = map[string][]FuncOption{}
		}
		c.methodOpts[name] = append(c.methodOpts[name], opts...)
		return nil
	}
}

// Constructor sets the function whose form creates instances: a function
// like those Func takes (opts are Args and Default) that returns T or *T,
// and optionally an error.
//
// Without it, a class gets the default constructor, whose inputs are T's
// state fields (each required unless tagged `glyph:",optional"`) and
// which makes an instance of whatever state the caller sends — except when
// the service signs state ([WithStateKey]) and the class keeps it in URLs:
// then a signed URL is to prove that the server made the state, and the
// class has no constructor unless [ConstructorFromState] asks for the
// default one.
func Constructor(fn any, opts ...FuncOption) ClassOption {
	return func(c *class) error {
		c.ctorFn, c.ctorOpts = fn, opts
		return nil
	}
}

// ConstructorFromState gives a class the default constructor (see
// [Constructor]) even when the service signs state: any caller may then
// create an instance of any state it likes, and gets it signed. Use it
// only for classes none of whose states need to come from the server.
// opts are Default options for the state fields.
func ConstructorFromState(opts ...FuncOption) ClassOption {
	return func(c *class) error {
		c.fromState, c.ctorOpts = true, opts
		return nil
	}
}

// Persistent keeps instances on the server in store under an opaque id,
// instead of carrying their state in URLs: an instance's URL is
// <root><class>/<id>/. Methods may then change the instance: its state is
// saved after each call not made with GET, and such calls on one id run
// one at a time (within this Service: replicas sharing a store do not
// coordinate). A nil store means a new MemoryStore.
func Persistent(store Store) ClassOption {
	return func(c *class) error {
		if store == nil {
			store = NewMemoryStore()
		}
		c.store = store
		return nil
	}
}

// Class registers the struct type of proto (a T or *T; only its type
// matters) under name. T's fields, as package wire encodes them, are an
// instance's state; T's exported methods (on T or *T) become forms, named
// in snake_case, and their options are set with Method. The class's URL
// offers the constructor form (see Constructor), which creates an
// instance and answers 303 See Other to the instance's URL.
//
// Class fails, and registers nothing, when name is invalid or taken, T is
// already registered, proto is not a struct, the constructor or a method
// has a signature Func would refuse, two methods or a method and a state
// field have the same wire name, or an option names a method T lacks.
func (s *Service) Class(name string, proto any, opts ...ClassOption) error {
	if !validName(name) {
		return fmt.Errorf("service: invalid class name %q: use letters, digits, '-' and '_'", name)
	}
	t := reflect.TypeOf(proto)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return fmt.Errorf("service: class %s: proto must be a struct or pointer to struct, got %T", name, proto)
	}
	c := &class{name: name, typ: t, methods: map[string]*callable{}}
	for _, o := range opts {
		if err := o(c); err != nil {
			return err
		}
	}
	// Constructor.
	var err error
	if c.ctorFn != nil && c.fromState {
		return fmt.Errorf("service: class %s: Constructor and ConstructorFromState both given", name)
	}
	if c.ctorFn != nil {
		c.ctor, err = newCallable(name, "class "+name+": constructor", reflect.ValueOf(c.ctorFn), false, c.ctorOpts)
		if err != nil {
			return err
		}
		rt := c.ctor.fn.Type()
		if !c.ctor.hasValue || (rt.Out(0) != t && rt.Out(0) != reflect.PointerTo(t)) {
			return fmt.Errorf("service: class %s: constructor must return %s or *%s", name, t, t)
		}
	} else if s.stateKey == nil || c.store != nil || c.fromState {
		ctor := reflect.MakeFunc(reflect.FuncOf([]reflect.Type{t}, []reflect.Type{t}, false),
			func(args []reflect.Value) []reflect.Value { return args })
		c.ctor, err = newCallable(name, "class "+name+": constructor", ctor, false, c.ctorOpts)
		if err != nil {
			return err
		}
	}
	if c.ctor != nil {
		c.ctor.op = name
	}
	// Methods, on *T so that both receiver kinds are found.
	pt := reflect.PointerTo(t)
	state := stateFields(t)
	goName := map[string]string{} // wire name → Go method name
	for i := 0; i < pt.NumMethod(); i++ {
		if m := pt.Method(i); m.IsExported() && !skipMethod[m.Name] {
			goName[hyper.WireName(m.Name)] = m.Name
		}
	}
	for n := range c.methodOpts {
		if goName[n] == "" {
			if _, ok := pt.MethodByName(n); ok {
				return fmt.Errorf("service: class %s: Method(%q): methods are named in snake_case: %q", name, n, hyper.WireName(n))
			}
			return fmt.Errorf("service: class %s has no method %q", name, n)
		}
	}
	clear(goName)
	for i := 0; i < pt.NumMethod(); i++ {
		m := pt.Method(i)
		if !m.IsExported() || skipMethod[m.Name] {
			continue
		}
		wname := hyper.WireName(m.Name)
		if state[wname] {
			return fmt.Errorf("service: class %s: method %s and a state field share the name %q", name, m.Name, wname)
		}
		if prev := c.methods[wname]; prev != nil {
			return fmt.Errorf("service: class %s: methods %s and %s share the name %q", name, goName[wname], m.Name, wname)
		}
		mc, err := newCallable(wname, name+"."+wname, m.Func, true, c.methodOpts[wname])
		if err != nil {
			return err
		}
		c.methods[wname] = mc
		c.morder = append(c.morder, wname)
		goName[wname] = m.Name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taken(name) {
		return fmt.Errorf("service: %q registered twice", name)
	}
	if _, dup := s.byType[t]; dup {
		return fmt.Errorf("service: type %s registered twice", t)
	}
	s.classes[name] = c
	s.byType[t] = c
	s.order = append(s.order, name)
	return nil
}

// MustClass is Class that panics on error, for registration at start-up.
func (s *Service) MustClass(name string, proto any, opts ...ClassOption) {
	if err := s.Class(name, proto, opts...); err != nil {
		panic(err)
	}
}

// skipMethod lists methods that are about encoding, not the resource.
var skipMethod = map[string]bool{"MarshalGlyph": true, "UnmarshalGlyph": true}

// knownFields checks that every key of the encoded state names a state
// field of the class. Signed state is the server's own, so a field the
// class does not have is refused rather than ignored, as decoding into
// the struct would.
func (c *class) knownFields(state []byte) error {
	var d wire.OrderedDict
	if err := wire.Unmarshal(state, &d); err != nil {
		return err
	}
	fields := stateFields(c.typ)
	for _, k := range d.Keys() {
		if name, ok := k.(string); !ok || !fields[name] {
			return fmt.Errorf("%v is not a state field of %s", k, c.name)
		}
	}
	return nil
}

// stateFields returns the names of a struct's encoded fields.
func stateFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for _, f := range structFields(t) {
		out[f.name] = true
	}
	return out
}

// Store keeps the state of persistent instances (see Persistent) as
// canonical glyph bytes under opaque ids, per class. Implementations must
// be safe for concurrent use. Errors other than *Error values are reported
// to callers as [KindInternal] errors with a logref.
type Store interface {
	// Load returns the state stored under id; an *Error of kind [KindNotFound]
	// when there is none.
	Load(ctx context.Context, class, id string) ([]byte, error)
	// Save stores state under id, replacing what was there.
	Save(ctx context.Context, class, id string, state []byte) error
	// Delete removes id; deleting a missing id is not an error.
	Delete(ctx context.Context, class, id string) error
}

// MemoryStore is a Store in memory, the default for tests and single
// processes. The zero value is ready to use.
type MemoryStore struct {
	mu sync.RWMutex      // guards m
	m  map[string][]byte // class + "/" + id → state
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Load implements Store.
func (m *MemoryStore) Load(_ context.Context, class, id string) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.m[class+"/"+id]
	if !ok {
		return nil, &Error{Kind: KindNotFound, Message: "no " + class + " with id " + id}
	}
	return append([]byte(nil), b...), nil
}

// Save implements Store.
func (m *MemoryStore) Save(_ context.Context, class, id string, state []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string][]byte{}
	}
	m.m[class+"/"+id] = append([]byte(nil), state...)
	return nil
}

// Delete implements Store.
func (m *MemoryStore) Delete(_ context.Context, class, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, class+"/"+id)
	return nil
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// keyedMutex serialises work per key.
type keyedMutex struct {
	mu    sync.Mutex // guards locks
	locks map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedEntry{}
	}
	e := k.locks[key]
	if e == nil {
		e = &keyedEntry{}
		k.locks[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
