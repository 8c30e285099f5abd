package client

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Bind fetches the resource at url and binds stub to it: see [Value.Bind].
func Bind(ctx context.Context, c *Client, url string, stub any) error {
	v, err := c.Get(ctx, url)
	if err != nil {
		return err
	}
	return v.Bind(stub)
}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
)

// Bind fills stub, a pointer to a struct whose exported fields are
// functions, with functions that call v's links and forms:
//
//	var api struct {
//		Hello    func(ctx context.Context, name string) (string, error)
//		FindUser func(ctx context.Context, name string) (*client.Value, error)
//		Ping     func(context.Context) error `glyph:"ping,optional"`
//	}
//
// Each field is bound to the entry of v (a resource, normally) named by
// its `glyph` tag or, without one, by its name in snake_case (FindUser →
// find_user); the tag `glyph:"-"` skips a field. Calling the function
// calls the link or form with the arguments after the optional leading
// context.Context (positional; a Named last binds by name) and decodes the
// result into the function's first result with [Value.Decode]; its last
// result must be error, and receives any error of the call. A *Value
// result gets the value itself, and a *[wire.Blob], io.Reader or
// io.ReadCloser result gets a blob answer as it streams (close it).
//
// Bind fails, naming them, when entries are missing or are not links or
// forms, and when a field's function type does not fit. A missing entry
// whose tag says `optional` binds to a function that fails with a
// [service.KindNotFound] error instead. Other fields are left alone.
func (v *Value) Bind(stub any) error {
	rv := reflect.ValueOf(stub)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("client: Bind needs a non-nil pointer to a struct, got %T", stub)
	}
	sv := rv.Elem()
	st := sv.Type()
	var missing []string
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() || f.Type.Kind() != reflect.Func {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("glyph"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = hyper.WireName(f.Name)
		}
		optional := false
		for _, o := range strings.Split(opts, ",") {
			optional = optional || o == "optional"
		}
		if err := checkStubType(f.Type); err != nil {
			return fmt.Errorf("client: Bind: field %s: %v", f.Name, err)
		}
		target, err := v.Get(name)
		if err != nil {
			if service.KindOf(err) != service.KindNotFound {
				return err
			}
			if !optional {
				missing = append(missing, fmt.Sprintf("%q", name))
				continue
			}
			msg := fmt.Sprintf("the server offers no %q", name)
			sv.Field(i).Set(stubFunc(f.Type, func(context.Context, []any) (*Value, error) {
				return nil, &service.Error{Op: name, Kind: service.KindNotFound, Message: msg}
			}))
			continue
		}
		switch target.v.(type) {
		case hyper.Link, hyper.Form:
		default:
			return fmt.Errorf("client: Bind: field %s: %q is %s, not a link or a form", f.Name, name, describe(target.v))
		}
		sv.Field(i).Set(stubFunc(f.Type, func(ctx context.Context, args []any) (*Value, error) {
			return target.Call(ctx, args...)
		}))
	}
	if len(missing) > 0 {
		return &service.Error{Op: v.name, Kind: service.KindNotFound,
			Message: fmt.Sprintf("cannot bind: %s has no %s", describe(v.v), strings.Join(missing, ", "))}
	}
	return nil
}

// checkStubType says whether a func type can be a stub.
func checkStubType(t reflect.Type) error {
	switch {
	case t.NumOut() == 0 || t.NumOut() > 2:
		return fmt.Errorf("%s must return (error) or (T, error)", t)
	case t.Out(t.NumOut()-1) != errorType:
		return fmt.Errorf("%s must return an error last", t)
	}
	return nil
}

// stubFunc makes a function of type t that calls call with its
// arguments and decodes the result.
func stubFunc(t reflect.Type, call func(context.Context, []any) (*Value, error)) reflect.Value {
	hasCtx := t.NumIn() > 0 && t.In(0) == ctxType
	return reflect.MakeFunc(t, func(in []reflect.Value) []reflect.Value {
		ctx := context.Background()
		if hasCtx {
			if c, ok := in[0].Interface().(context.Context); ok && c != nil {
				ctx = c
			}
			in = in[1:]
		}
		args := make([]any, 0, len(in))
		for i, a := range in {
			if t.IsVariadic() && i == len(in)-1 {
				for j := 0; j < a.Len(); j++ {
					args = append(args, a.Index(j).Interface())
				}
				continue
			}
			args = append(args, a.Interface())
		}
		res, err := call(ctx, args)
		return stubResults(t, res, err)
	})
}

// stubResults returns a stub's results: the decoded value and the error.
func stubResults(t reflect.Type, res *Value, err error) []reflect.Value {
	out := make([]reflect.Value, t.NumOut())
	for i := range out {
		out[i] = reflect.Zero(t.Out(i))
	}
	if err == nil && t.NumOut() == 2 {
		p := reflect.New(t.Out(0))
		if err = res.Decode(p.Interface()); err == nil {
			out[0] = p.Elem()
		} else {
			err = &service.Error{Op: res.name, Kind: service.KindInternal,
				Message: fmt.Sprintf("cannot decode the result into %s: %v", t.Out(0), err), Err: err}
		}
	}
	if res != nil && !keepsResponse(t, res) {
		res.Close()
	}
	if err != nil {
		out[len(out)-1] = reflect.ValueOf(&err).Elem()
	}
	return out
}

// keepsResponse reports whether a stub's result holds on to res's
// response, which the caller then closes.
func keepsResponse(t reflect.Type, res *Value) bool {
	if t.NumOut() != 2 {
		return false
	}
	rt := t.Out(0)
	if rt == reflect.TypeFor[*Value]() {
		return true
	}
	_, isBlob := res.v.(*wire.Blob)
	return isBlob && reflect.TypeFor[*wire.Blob]().AssignableTo(rt)
}
