package component

import (
	"context"
	"fmt"
	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/intercept"
	"iter"
	"net/url"
	"reflect"
	"sync"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

func init() { RegisterScheme("inproc", dialInProcess) }

var inproc struct {
	mu sync.RWMutex // guards m
	m  map[string]*service.Service
}

// ServeInProcess makes svc reachable in this process at the provider URL
// "inproc:<name>", until stop is called. Calls go through svc's Serve
// with their arguments and results copied as the wire would copy them
// (encoded and decoded), so that caller and implementation share no
// memory and see the same errors as over a network; "inproc:<name>?copy=0"
// passes them as they are, for speed, when both sides promise not to
// change what they pass. Serving a second service under a name replaces
// the first.
func ServeInProcess(name string, svc *service.Service) (stop func()) {
	inproc.mu.Lock()
	defer inproc.mu.Unlock()
	if inproc.m == nil {
		inproc.m = map[string]*service.Service{}
	}
	inproc.m[name] = svc
	return func() {
		inproc.mu.Lock()
		defer inproc.mu.Unlock()
		if inproc.m[name] == svc {
			delete(inproc.m, name)
		}
	}
}

// inprocName returns the name an inproc URL names, and whether it asks
// for copies.
func inprocName(u *url.URL) (name string, copies bool) {
	name = u.Opaque
	if name == "" {
		name = u.Host + u.Path
	}
	c := u.Query().Get("copy")
	return name, c != "0" && c != "false"
}

func inprocService(name string) *service.Service {
	inproc.mu.RLock()
	defer inproc.mu.RUnlock()
	return inproc.m[name]
}

func dialInProcess(_ context.Context, u *url.URL) (Provider, error) {
	name, copies := inprocName(u)
	if name == "" {
		return nil, &service.Error{Op: "component.DialProvider", Kind: service.KindInvalid, Message: fmt.Sprintf("provider URL %q names no service: want inproc:<name>", u)}
	}
	return &inprocProvider{name: name, copies: copies}, nil
}

// inprocProvider calls a service in this process through its Serve.
type inprocProvider struct {
	name   string
	copies bool
}

func (p *inprocProvider) Capabilities() Capabilities {
	return Capabilities{Transport: "inproc", Streams: true, Callbacks: true}
}

func (p *inprocProvider) Close() error { return nil }

func (p *inprocProvider) service(op string) (*service.Service, error) {
	svc := inprocService(p.name)
	if svc == nil {
		return nil, Unreachable(&service.Error{Op: op, Kind: service.KindUnavailable,
			Message: fmt.Sprintf("no service is served in this process as %q", p.name)}, true)
	}
	return svc, nil
}

// Describe implements [Provider].
func (p *inprocProvider) Describe(ctx context.Context, iface string) (*Interface, error) {
	svc, err := p.service(iface)
	if err != nil {
		return nil, err
	}
	res, err := svc.Serve(intercept.WithPeer(ctx, inprocPeer), &service.Request{Method: "GET", Path: iface + "/", Header: client.CallHeader(ctx)})
	if err != nil {
		return nil, err
	}
	r, ok := res.Value.(hyper.Resource)
	if !ok {
		return nil, &service.Error{Op: iface, Kind: service.KindInvalid, Message: fmt.Sprintf("%s in service %q is not a component", iface, p.name)}
	}
	in, err := DescribeResource(r)
	if err != nil {
		return nil, &service.Error{Op: iface, Kind: service.KindInvalid, Message: err.Error()}
	}
	return in, nil
}

// request makes the service request for call, copying its arguments
// when the provider copies.
func (p *inprocProvider) request(call *Call) (*service.Request, error) {
	req := &service.Request{Method: "POST", Path: call.Path(), Header: call.Header, Callback: goCallback}
	if call.ReadOnly {
		req.Method = "GET"
	}
	op := call.Interface + "." + call.Method
	req.Positional = make([]any, len(call.Args))
	for i, a := range call.Args {
		v, err := p.arg(op, a)
		if err != nil {
			return nil, err
		}
		req.Positional[i] = v
	}
	if call.Named != nil {
		req.Args = wire.NewOrderedDict()
		for k, a := range call.Named {
			v, err := p.arg(op, a)
			if err != nil {
				return nil, err
			}
			req.Args.Set(k, v)
		}
	}
	return req, nil
}

// arg returns an argument as the service gets it: an iter.Seq collected
// into a list (as over HTTP), and a copy made by the wire when the
// provider copies.
func (p *inprocProvider) arg(op string, a any) (any, error) {
	if items, ok, err := collectSeq(a); ok {
		if err != nil {
			return nil, err
		}
		a = items
	}
	if !p.copies || isFunc(a) {
		return a, nil // a callback is a reference: goCallback resolves it
	}
	b, err := wire.Marshal(a)
	if err != nil {
		return nil, &service.Error{Op: op, Kind: service.KindInvalid, Message: fmt.Sprintf("cannot send an argument: %v", err)}
	}
	var v any
	if err := wire.Unmarshal(b, &v); err != nil {
		return nil, &service.Error{Op: op, Kind: service.KindInvalid, Message: fmt.Sprintf("cannot send an argument: %v", err)}
	}
	return v, nil
}

// inprocPeer is the caller of the calls an in-process provider serves, as
// interceptors see it.
var inprocPeer = intercept.Peer{Transport: intercept.TransportInproc}

// Call implements [Provider].
func (p *inprocProvider) Call(ctx context.Context, call *Call) error {
	svc, err := p.service(call.Interface + "." + call.Method)
	if err != nil {
		return err
	}
	req, err := p.request(call)
	if err != nil {
		return err
	}
	res, err := svc.Serve(intercept.WithPeer(ctx, inprocPeer), req)
	if err != nil {
		return err
	}
	v := res.Value
	if st, ok := v.(service.Stream); ok {
		var items []any
		for x, err := range st {
			if err != nil {
				return err
			}
			items = append(items, x)
		}
		v = items
	}
	if call.Result == nil {
		return nil
	}
	return p.result(call, v, call.Result)
}

// result stores v in out: assigned when the provider does not copy and
// the types allow, else encoded and decoded as the wire would.
func (p *inprocProvider) result(call *Call, v any, out any) error {
	if !p.copies && v != nil {
		if o := reflect.ValueOf(out); o.Kind() == reflect.Pointer && reflect.TypeOf(v).AssignableTo(o.Type().Elem()) {
			o.Elem().Set(reflect.ValueOf(v))
			return nil
		}
	}
	b, err := wire.Marshal(v)
	if err == nil {
		err = wire.Unmarshal(b, out)
	}
	if err != nil {
		return &service.Error{Op: call.Interface + "." + call.Method, Kind: service.KindInternal,
			Message: fmt.Sprintf("cannot decode the result: %v", err), Err: err}
	}
	return nil
}

// Stream implements [Streamer].
func (p *inprocProvider) Stream(ctx context.Context, call *Call) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		svc, err := p.service(call.Interface + "." + call.Method)
		if err != nil {
			yield(nil, err)
			return
		}
		req, err := p.request(call)
		if err != nil {
			yield(nil, err)
			return
		}
		res, err := svc.Serve(intercept.WithPeer(ctx, inprocPeer), req)
		if err != nil {
			yield(nil, err)
			return
		}
		st, ok := res.Value.(service.Stream)
		if !ok {
			yield(res.Value, nil)
			return
		}
		for x, err := range st {
			if !yield(x, err) || err != nil {
				return
			}
		}
	}
}

// collectSeq collects the items of a (an iter.Seq[T] or iter.Seq2[T,
// error]) into a list; ok is false when a is not one.
func collectSeq(a any) (items []any, ok bool, err error) {
	rv := reflect.ValueOf(a)
	if !rv.IsValid() || rv.Kind() != reflect.Func || rv.IsNil() {
		return nil, false, nil
	}
	if _, isSeq := seqElem(rv.Type()); !isSeq {
		return nil, false, nil
	}
	yt := rv.Type().In(0)
	items = []any{}
	yield := reflect.MakeFunc(yt, func(in []reflect.Value) []reflect.Value {
		if len(in) == 2 && !in[1].IsNil() {
			err = in[1].Interface().(error)
			return []reflect.Value{reflect.ValueOf(false)}
		}
		items = append(items, in[0].Interface())
		return []reflect.Value{reflect.ValueOf(true)}
	})
	rv.Call([]reflect.Value{yield})
	return items, true, err
}

func isFunc(a any) bool { return a != nil && reflect.TypeOf(a).Kind() == reflect.Func }

// goCallback resolves a callback argument that is the caller's Go func
// itself: the service calls it with its arguments decoded into the
// func's parameter types (copies, as from the wire), a context first
// when it takes one, and takes its value result and error.
func goCallback(ref any) (service.CallbackFunc, error) {
	fv := reflect.ValueOf(ref)
	if !isFunc(ref) || fv.IsNil() {
		return nil, fmt.Errorf("a callback must be a func, got %T", ref)
	}
	ft := fv.Type()
	return func(ctx context.Context, args []any) (any, error) {
		in := make([]reflect.Value, 0, ft.NumIn())
		if ft.NumIn() > 0 && ft.In(0) == ctxType {
			in = append(in, reflect.ValueOf(&ctx).Elem())
		}
		if want := ft.NumIn() - len(in); len(args) != want {
			return nil, &service.Error{Kind: service.KindInvalid, Message: fmt.Sprintf("the callback takes %d argument(s), got %d", want, len(args))}
		}
		for _, a := range args {
			v := reflect.New(ft.In(len(in)))
			if err := decode(a, v.Interface()); err != nil {
				return nil, &service.Error{Kind: service.KindInvalid, Message: fmt.Sprintf("callback argument %d: %v", len(in), err)}
			}
			in = append(in, v.Elem())
		}
		out := fv.Call(in)
		var result any
		if n := len(out); n > 0 && ft.Out(n-1) == errorType {
			if !out[n-1].IsNil() {
				return nil, out[n-1].Interface().(error)
			}
			out = out[:n-1]
		}
		if len(out) > 0 {
			result = out[0].Interface()
		}
		return result, nil
	}, nil
}
