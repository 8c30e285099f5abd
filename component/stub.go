package component

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Bind binds stub, a pointer to a struct whose exported fields are
// functions, to the interface iface through the router, with no
// generated code:
//
//	var search struct {
//		RunQuery func(ctx context.Context, query string, max int) ([]Result, error)
//	}
//	err := r.Bind(ctx, "Search", &search)
//	results, err := search.RunQuery(ctx, "glyph", 10)
//
// Each field calls the method named by its `glyph` tag or, without one,
// its name in snake_case (RunQuery → run_query); `glyph:"-"` skips it.
// A field's function takes a context.Context first and returns an error
// last, like the interface's method; a method whose result streams
// returns an iter.Seq[T] or iter.Seq2[T, error] (and an error).
//
// Bind checks the fields against every provider it can reach now, and a
// provider that comes later before its first call: a method the provider
// lacks, an argument or result of another type, or a new input without a
// default is a [service.KindUnimplemented] error wrapping
// [ErrIncompatible] that names the interface, the method, what the caller
// expects and what the provider offers; a method that needs what a
// transport lacks (callbacks, streams) is a [service.KindUnsupported]
// error naming the method and the transport. When no provider can be
// reached it is a [service.KindUnavailable] error, and an interface that
// the table does not route a [service.KindNotFound] one.
func (r *Router) Bind(ctx context.Context, iface string, stub any) error {
	rv := reflect.ValueOf(stub)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("component: Bind needs a non-nil pointer to a struct, got %T", stub)
	}
	sv := rv.Elem()
	st := sv.Type()
	var exps []*expectation
	var fields []int
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() || f.Type.Kind() != reflect.Func {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("glyph"), ",")
		if name == "-" {
			continue
		}
		e, err := expect(f.Name, f.Type)
		if err != nil {
			return fmt.Errorf("component: Bind: field %s: %v", f.Name, err)
		}
		if name != "" {
			e.name = name
		}
		exps = append(exps, e)
		fields = append(fields, i)
	}
	b, err := r.bind(ctx, iface, exps)
	if err != nil {
		return err
	}
	for k, i := range fields {
		sv.Field(i).Set(funcStub(b, exps[k], st.Field(i).Type))
	}
	return nil
}

// funcStub makes a function of type t that calls e's method through b.
func funcStub(b *Binding, e *expectation, t reflect.Type) reflect.Value {
	return reflect.MakeFunc(t, func(in []reflect.Value) []reflect.Value {
		ctx := context.Background()
		if e.hasCtx {
			if c, ok := in[0].Interface().(context.Context); ok && c != nil {
				ctx = c
			}
			in = in[1:]
		}
		args := make([]any, len(in))
		for i, a := range in {
			args[i] = a.Interface()
		}
		out := make([]reflect.Value, t.NumOut())
		for i := range out {
			out[i] = reflect.Zero(t.Out(i))
		}
		var err error
		switch {
		case e.streams:
			out[0] = seqStub(t.Out(0), e, b.Stream(ctx, e.name, args))
		case t.NumOut() == 2:
			p := reflect.New(t.Out(0))
			if err = b.Call(ctx, e.name, args, p.Interface()); err == nil {
				out[0] = p.Elem()
			}
		default:
			err = b.Call(ctx, e.name, args, nil)
		}
		if err != nil {
			out[len(out)-1] = reflect.ValueOf(&err).Elem()
		}
		return out
	})
}

// seqStub makes an iter.Seq[T] or iter.Seq2[T, error] of type t from a
// binding's stream, decoding each item into T. An iter.Seq stops at the
// first error.
func seqStub(t reflect.Type, e *expectation, items func(func(any, error) bool)) reflect.Value {
	yt := t.In(0)
	return reflect.MakeFunc(t, func(in []reflect.Value) []reflect.Value {
		yield := in[0]
		for v, err := range items {
			item := reflect.New(e.result)
			if err == nil {
				err = decode(v, item.Interface())
			}
			var res []reflect.Value
			switch {
			case yt.NumIn() == 2:
				ev := reflect.Zero(errorType)
				if err != nil {
					ev = reflect.ValueOf(&err).Elem()
				}
				res = yield.Call([]reflect.Value{item.Elem(), ev})
			case err != nil:
				return nil
			default:
				res = yield.Call([]reflect.Value{item.Elem()})
			}
			if !res[0].Bool() || err != nil {
				return nil
			}
		}
		return nil
	})
}

// BindInterface binds the Go interface T's methods through the router:
// what a stub that glyph gen wrote calls, through [Binding.Call]. The
// interface is routed by T's name, or by the name given with [Name]; it
// is checked as [Router.Bind] checks a struct of funcs.
func BindInterface[T any](ctx context.Context, r *Router, opts ...Option) (*Binding, error) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Interface {
		return nil, fmt.Errorf("component: BindInterface[%s]: not an interface type", t)
	}
	d := decl{name: t.Name()}
	for _, o := range opts {
		o(&d)
	}
	exps := make([]*expectation, 0, t.NumMethod())
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		if !m.IsExported() {
			return nil, fmt.Errorf("component: %s.%s is not exported", d.name, m.Name)
		}
		e, err := expect(m.Name, m.Type)
		if err != nil {
			return nil, fmt.Errorf("component: %s.%v", d.name, err)
		}
		exps = append(exps, e)
	}
	return r.bind(ctx, d.name, exps)
}

// stubs holds, per Go interface type, the stubs glyph gen wrote.
var stubs struct {
	mu     sync.RWMutex         // guards remote and local
	remote map[reflect.Type]any // func(*Binding) T
	local  map[reflect.Type]any // func(T, *Local) T
}

// RegisterStubs registers the stubs of the Go interface T: remote makes
// a T that calls through a binding, local one that calls an
// implementation in this process as l says. Code that glyph gen writes
// calls it in an init function; [Dial] uses them.
func RegisterStubs[T any](remote func(*Binding) T, local func(impl T, l *Local) T) {
	t := reflect.TypeFor[T]()
	stubs.mu.Lock()
	defer stubs.mu.Unlock()
	if stubs.remote == nil {
		stubs.remote, stubs.local = map[reflect.Type]any{}, map[reflect.Type]any{}
	}
	stubs.remote[t], stubs.local[t] = remote, local
}

func stubsOf[T any]() (remote func(*Binding) T, local func(T, *Local) T) {
	t := reflect.TypeFor[T]()
	stubs.mu.RLock()
	defer stubs.mu.RUnlock()
	remote, _ = stubs.remote[t].(func(*Binding) T)
	local, _ = stubs.local[t].(func(T, *Local) T)
	return remote, local
}

// Local is what a local stub that glyph gen wrote needs to call an
// implementation in this process as a remote caller would: whether to
// copy arguments and results, and the methods' default deadlines.
type Local struct {
	// Copies says to copy arguments and results as the wire would
	// ([Copy]).
	Copies   bool
	timeouts map[string]time.Duration // by wire name; nil when none
}

func noCancel() {}

// Context returns the context a local stub calls method (its wire name)
// with: ctx with the headers of [client.WithCallHeader] as the request
// headers the implementation reads ([service.RequestHeader]), and with
// the method's default deadline ([Timeout]) when ctx has none. Call
// cancel when the call returns.
func (l *Local) Context(ctx context.Context, method string) (context.Context, context.CancelFunc) {
	ctx = localContext(ctx)
	if l.timeouts != nil {
		if d, ok := l.timeouts[method]; ok {
			if _, has := ctx.Deadline(); !has {
				return context.WithTimeout(ctx, d)
			}
		}
	}
	return ctx, noCancel
}

// Dial returns a value of the Go interface T whose calls reach T's
// providers through the router.
//
// When the route of T has one provider, "inproc:<name>", and the service
// served there has an implementation of T registered ([Register]), the
// caller is colocated: Dial returns that implementation behind the local
// stub glyph gen wrote, which copies arguments and results as the wire
// would (unless the URL says copy=0) and returns errors of the kinds a
// remote caller would see. With copy=0 and no generated stub it is the
// implementation itself: no copies, and its errors as it returns them.
// A colocated value keeps calling the implementation when the table
// changes.
//
// Otherwise it is the remote stub glyph gen wrote, bound as
// [BindInterface] binds (and checked as [Router.Bind] checks). Without
// generated stubs for T, Dial fails with a [service.KindUnsupported]
// error saying to run glyph gen, or to bind a struct of funcs with
// [Router.Bind], which needs no generated code.
func Dial[T any](ctx context.Context, r *Router, opts ...Option) (T, error) {
	var zero T
	t := reflect.TypeFor[T]()
	d := decl{name: t.Name()}
	for _, o := range opts {
		o(&d)
	}
	remote, local := stubsOf[T]()
	if impl, l, ok := colocated[T](ctx, r, d.name); ok {
		switch {
		case local != nil:
			return local(impl, l), nil
		case !l.Copies:
			return impl, nil
		}
	}
	if remote == nil {
		return zero, &service.Error{Op: d.name, Kind: service.KindUnsupported,
			Message: fmt.Sprintf("no stub for %s: generate one with glyph gen (//go:generate glyph gen %s), or bind a struct of funcs with Router.Bind", t, d.name)}
	}
	b, err := BindInterface[T](ctx, r, opts...)
	if err != nil {
		return zero, err
	}
	return remote(b), nil
}

// colocated returns the implementation of T registered on the service
// the route of iface names, when that route is a single inproc
// provider, and how to call it.
func colocated[T any](ctx context.Context, r *Router, iface string) (T, *Local, bool) {
	var zero T
	r.mu.Lock()
	rt, ok := r.routes[iface]
	r.mu.Unlock()
	if !ok || len(rt.Providers) != 1 || !strings.HasPrefix(rt.Providers[0], "inproc:") {
		return zero, nil, false
	}
	u, err := url.Parse(rt.Providers[0])
	if err != nil {
		return zero, nil, false
	}
	name, copies := inprocName(u)
	svc := inprocService(name)
	if svc == nil {
		return zero, nil, false
	}
	li, ok := localImplOf(svc, iface)
	if !ok || li.iface != reflect.TypeFor[T]() {
		return zero, nil, false
	}
	impl, ok := li.impl.(T)
	if !ok {
		return zero, nil, false
	}
	l := &Local{Copies: copies}
	if in, err := (&inprocProvider{name: name}).Describe(ctx, iface); err == nil {
		for n, sig := range in.Methods {
			if sig.Timeout > 0 {
				if l.timeouts == nil {
					l.timeouts = map[string]time.Duration{}
				}
				l.timeouts[n] = sig.Timeout
			}
		}
	}
	return impl, l, true
}

// Copy returns a copy of v as the wire would deliver it: encoded and
// decoded, so that it shares no memory with v. Values that cannot share
// memory (strings, numbers, booleans) are returned as they are. Local
// stubs call it.
func Copy[T any](v T) (T, error) {
	switch any(v).(type) {
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return v, nil
	}
	var out T
	b, err := wire.Marshal(v)
	if err == nil {
		err = wire.Unmarshal(b, &out)
	}
	if err != nil {
		return out, &service.Error{Kind: service.KindInvalid, Message: fmt.Sprintf("cannot copy a %T as the wire would: %v", v, err), Err: err}
	}
	return out, nil
}

// LocalError returns the error a remote caller of the method op (such as
// "Search.run_query") would see for err, which an implementation
// returned: an *[service.Error] keeps its kind and message; a context's
// error becomes [service.KindCanceled] or [service.KindDeadlineExceeded];
// any other error becomes [service.KindInternal] with its text. The
// original stays reachable with errors.Is and errors.As. Local stubs
// call it.
func LocalError(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *service.Error
	if errors.As(err, &se) {
		c := *se
		if c.Op == "" {
			c.Op = op
		}
		c.Err = err
		return &c
	}
	return &service.Error{Op: op, Kind: localKind(err), Message: err.Error(), Err: err}
}

func localKind(err error) service.Kind {
	if k := service.KindOf(err); k == service.KindCanceled || k == service.KindDeadlineExceeded {
		return k
	}
	return service.KindInternal
}

// localContext returns ctx with the headers of [client.WithCallHeader] as
// the request headers the implementation reads with
// [service.RequestHeader], as a remote implementation would.
func localContext(ctx context.Context) context.Context {
	if h := client.CallHeader(ctx); h != nil {
		return service.WithRequestHeader(ctx, h)
	}
	return ctx
}

// Seq turns a binding's stream into the iter.Seq[T] a stub returns: each
// item decoded into T, stopping at the first error, which it drops (an
// iter.Seq has no place for it; return an iter.Seq2 to see it).
func Seq[T any](items iter.Seq2[any, error]) iter.Seq[T] {
	return func(yield func(T) bool) {
		for v, err := range Seq2[T](items) {
			if err != nil || !yield(v) {
				return
			}
		}
	}
}

// Seq2 turns a binding's stream into the iter.Seq2[T, error] a stub
// returns: each item decoded into T, an error last.
func Seq2[T any](items iter.Seq2[any, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for v, err := range items {
			var item T
			if err == nil {
				err = decode(v, &item)
			}
			if !yield(item, err) || err != nil {
				return
			}
		}
	}
}

// CopySeq returns a sequence of copies ([Copy]) of seq's items, for a
// local stub that copies; an item that cannot be copied ends it.
func CopySeq[T any](seq iter.Seq[T]) iter.Seq[T] {
	return func(yield func(T) bool) {
		for v := range seq {
			c, err := Copy(v)
			if err != nil || !yield(c) {
				return
			}
		}
	}
}

// CopySeq2 returns seq with its items copied ([Copy]) and its errors as a
// remote caller of op would see them ([LocalError]), for a local stub
// that copies.
func CopySeq2[T any](op string, seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return localSeq2(op, seq, true)
}

// LocalSeq2 returns seq with its errors as a remote caller of op would
// see them ([LocalError]), its items as they are: for a local stub that
// does not copy.
func LocalSeq2[T any](op string, seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return localSeq2(op, seq, false)
}

func localSeq2[T any](op string, seq iter.Seq2[T, error], copies bool) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for v, err := range seq {
			if err == nil && copies {
				v, err = Copy(v)
			}
			if err != nil {
				var zero T
				yield(zero, LocalError(op, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}
