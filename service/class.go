package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"reflect"
	"sync"
)

// class is a registered Go type whose instances are resources.
type class struct {
	name    string
	typ     reflect.Type // the struct type T
	ctor    *callable    // returns T or *T (and maybe error)
	methods map[string]*callable
	morder  []string
	store   Store // nil: state travels in URLs

	methodOpts map[string][]FuncOption
	ctorFn     any
	ctorOpts   []FuncOption
	locks      keyedMutex // persistent instances: one call at a time per id
}

// ClassOption configures a registered class.
type ClassOption func(*class) error

// Method sets options for the method whose wire name is name (the Go
// method name in snake_case: FindUser → find_user): Args, Default, Safe,
// Inline, Hidden, Redirect, CacheControl.
func Method(name string, opts ...FuncOption) ClassOption {
	return func(c *class) error {
		if c.methodOpts == nil {
			c.methodOpts = map[string][]FuncOption{}
		}
		c.methodOpts[name] = append(c.methodOpts[name], opts...)
		return nil
	}
}

// Constructor sets the function whose form creates instances. It returns
// T or *T (and optionally an error). Without it, the constructor's inputs
// are T's exported fields.
func Constructor(fn any, opts ...FuncOption) ClassOption {
	return func(c *class) error {
		c.ctorFn, c.ctorOpts = fn, opts
		return nil
	}
}

// Persistent keeps instances on the server in store under an opaque id,
// instead of carrying their state in URLs. Methods may then change the
// instance: its state is saved after each call.
func Persistent(store Store) ClassOption {
	return func(c *class) error { c.store = store; return nil }
}

// Class registers the struct type of proto (a T or *T) under name. Its
// exported fields are the instance's state; its exported methods (on T or
// *T) become forms, named in snake_case; its constructor form creates an
// instance and answers 303 See Other to the instance's URL.
func (s *Service) Class(name string, proto any, opts ...ClassOption) error {
	if !validName(name) {
		return fmt.Errorf("service: invalid class name %q", name)
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
	if c.ctorFn != nil {
		c.ctor, err = newCallable(name, reflect.ValueOf(c.ctorFn), false, c.ctorOpts)
		if err != nil {
			return err
		}
		rt := c.ctor.fn.Type()
		if !c.ctor.hasValue || (rt.Out(0) != t && rt.Out(0) != reflect.PointerTo(t)) {
			return fmt.Errorf("service: class %s: constructor must return %s or *%s", name, t, t)
		}
	} else {
		ctor := reflect.MakeFunc(reflect.FuncOf([]reflect.Type{t}, []reflect.Type{t}, false),
			func(args []reflect.Value) []reflect.Value { return args })
		c.ctor, err = newCallable(name, ctor, false, c.ctorOpts)
		if err != nil {
			return err
		}
	}
	c.ctor.op = name
	// Methods, on *T so that both receiver kinds are found.
	pt := reflect.PointerTo(t)
	state := stateFields(t)
	for i := 0; i < pt.NumMethod(); i++ {
		m := pt.Method(i)
		if !m.IsExported() || skipMethod[m.Name] {
			continue
		}
		wname := snake(m.Name)
		mc, err := newCallable(wname, m.Func, true, c.methodOpts[wname])
		if err != nil {
			return err
		}
		mc.op = name + "." + wname
		if state[wname] {
			return fmt.Errorf("service: class %s: method %s and a state field share the name %q", name, m.Name, wname)
		}
		c.methods[wname] = mc
		c.morder = append(c.morder, wname)
	}
	for n := range c.methodOpts {
		if c.methods[n] == nil {
			return fmt.Errorf("service: class %s has no method %q", name, n)
		}
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

// stateFields returns the names of a struct's encoded fields.
func stateFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _ := fieldName(f)
		if name != "-" {
			out[name] = true
		}
	}
	return out
}

// Store keeps the state of persistent instances as canonical glyph bytes
// under opaque ids. Implementations must be safe for concurrent use.
type Store interface {
	// Load returns the state stored under id; an *Error of kind NotFound
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
		return nil, &Error{Kind: NotFound, Message: "no " + class + " with id " + id}
	}
	return b, nil
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
