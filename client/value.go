package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Value is a glyph value a client received: data, or a link, form or
// resource to navigate further. Its URLs are absolute. Values are
// immutable and safe for concurrent use, except for reading the blobs in
// them, which stream from their response (see Close).
type Value struct {
	c      *Client
	v      any
	base   string  // the URL v's relative URLs were resolved against
	name   string  // the dotted path that led here from a page, for errors
	stream *stream // the open response blobs in v read from; nil if none
	// peer is the endpoint v came from over a peer connection, "" for
	// HTTP: the paths in v (base, and the URLs of its links and forms)
	// are called over that connection.
	peer string

	callPlan atomic.Pointer[callPlan] // a form's, made by its first call
}

// Named holds named arguments for [Value.Call]: pass it as the last
// argument.
//
//	greet.Call(ctx, "bob", client.Named{"greeting": "hi"})
type Named map[string]any

// Any returns the decoded value: nil, bool, int64, float64, string,
// []byte, []any, map[string]any, a [hyper.Link], [hyper.Form] or
// [hyper.Resource], a *[wire.Blob], and so on, as wire decodes into any (with
// URLs absolute).
func (v *Value) Any() any { return v.v }

// IsNil reports whether the value is nil, as a 204 answer is.
func (v *Value) IsNil() bool { return v.v == nil }

// URL returns the URL of a link, form or resource, or the `url` of a
// blob; for other values the URL of the page they came in. For a value
// that came over a peer connection it is a peer URL, "<endpoint>#<path>",
// which [Client.Get] takes.
func (v *Value) URL() string {
	switch x := v.v.(type) {
	case hyper.Link:
		return v.fullURL(x.URL)
	case hyper.Form:
		return v.fullURL(x.URL)
	case hyper.Resource:
		if x.URL != "" {
			return v.fullURL(x.URL)
		}
	case *wire.Blob:
		if u := x.URL(); u != "" {
			return v.fullURL(u)
		}
	}
	return v.fullURL(v.base)
}

// Endpoint returns the peer endpoint v came from, such as
// "tcp://host:port", or "" for a value that came over HTTP. The paths in
// v (the URLs of its links and forms) are called at that endpoint, and
// "<endpoint>#<path>" is a URL [Client.Get] takes.
func (v *Value) Endpoint() string { return v.peer }

// Blob returns the value as a blob, if it is one. Read it, then Close it.
func (v *Value) Blob() (*wire.Blob, bool) {
	b, ok := v.v.(*wire.Blob)
	return b, ok
}

// Close releases the response a value's blobs stream from, and every blob
// made from it. It is needed only for values that hold blobs inside other
// values (a blob returned on its own closes with Blob().Close()); calling
// it on other values does nothing. Values obtained from v with Get share
// its response.
func (v *Value) Close() error {
	if b, ok := v.v.(*wire.Blob); ok && v.stream == nil {
		return b.Close()
	}
	if v.stream != nil {
		return v.stream.Close()
	}
	return nil
}

// child returns a value found inside v.
func (v *Value) child(x any, base, name string) *Value {
	path := name
	if v.name != "" {
		path = v.name + "." + name
	}
	return &Value{c: v.c, v: x, base: base, name: path, stream: v.stream, peer: v.peer}
}

// Get returns the field name of v: the entry of a resource's content (its
// data, links and forms: `r.name` in the protocol's terms), the entry of
// a dict or ordered dict under the string key name, or, for a list, the
// item at the index name ("0", "1", ...). It fails with a [service.KindNotFound] error
// listing the names there are, and with a [service.KindInvalid] error when v has no
// fields. Get makes no request.
func (v *Value) Get(name string) (*Value, error) {
	base := v.base
	var x any
	var ok bool
	switch c := v.v.(type) {
	case hyper.Resource:
		if c.URL != "" {
			base = c.URL
		}
		x, ok = c.Content[name]
	case map[string]any:
		x, ok = c[name]
	case map[any]any:
		x, ok = c[name]
	case *wire.OrderedDict:
		x, ok = c.Get(name)
	case wire.Dict:
		x, ok = c.Get(name)
	case []any:
		i, err := strconv.Atoi(name)
		if err != nil || i < 0 || i >= len(c) {
			return nil, v.errorf(service.KindNotFound, "no item %q in a list of %d", name, len(c))
		}
		return v.child(c[i], base, name), nil
	default:
		return nil, v.errorf(service.KindInvalid, "cannot get %q from %s", name, describe(v.v))
	}
	if !ok {
		msg := fmt.Sprintf("no %q in %s", name, describe(v.v))
		if names := v.Names(); len(names) > 0 {
			msg += " (it has " + strings.Join(names, ", ") + ")"
		}
		return nil, v.errorf(service.KindNotFound, "%s", msg)
	}
	return v.child(x, base, name), nil
}

// errorf returns a client-side error about v.
func (v *Value) errorf(kind service.Kind, format string, args ...any) error {
	return &service.Error{Op: v.name, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// describe names a value's type for messages: `resource "User"`, `a form`,
// `unicode`.
func describe(x any) string {
	switch x := x.(type) {
	case hyper.Resource:
		if x.Name != "" {
			return fmt.Sprintf("resource %q", x.Name)
		}
		return "a resource"
	case hyper.Link:
		return "a link"
	case hyper.Form:
		return "a form"
	case hyper.Error:
		return "an error"
	case hyper.Collection:
		return "a collection"
	case hyper.Input:
		return "an input"
	case nil:
		return "nil"
	}
	return "a " + wire.TypeName(x)
}

// Names returns the names [Value.Get] finds in v, sorted: the entries of
// a resource's content, or the string keys of a dict or ordered dict. It
// is nil for a value with no named fields (a list, a scalar, a form).
func (v *Value) Names() []string {
	var names []string
	switch c := v.v.(type) {
	case hyper.Resource:
		names = mapKeys(c.Content)
	case map[string]any:
		names = mapKeys(c)
	case *wire.OrderedDict:
		for _, k := range c.Keys() {
			if s, isStr := k.(string); isStr {
				names = append(names, s)
			}
		}
	}
	slices.Sort(names)
	return names
}

func mapKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Call calls v:
//
//   - A form is submitted with args: positional arguments bind to its
//     inputs in order, and a Named as the last argument binds by name;
//     omitted inputs take their defaults. A missing required argument,
//     an unknown name, an argument given twice or one that does not match
//     the input's type fails with a [service.KindInvalid] error before any request is
//     made. See the package documentation for envelopes and blobs.
//   - A link is followed with GET, taking no arguments. An inline link
//     returns its content without a request.
//   - Anything else fails with a [service.KindInvalid] error.
//
// Readers and blobs among the arguments are closed once sent, or when the
// call fails, as net/http closes request bodies.
//
// The answer becomes the result: the decoded body for 200 (a *[wire.Blob]
// for content that is not hyperglyph), nil for 204, a link to the
// Location for 201; 303 is followed with GET. A 4xx or 5xx answer is a
// *[service.Error] (see StatusError).
//
// A link or form that came over a peer connection (its URL is a path),
// or whose URL is a peer URL, is called over the client's connection to
// that endpoint instead: a link, or a form with method GET, as a safe
// call, a form's arguments, bound and checked as above, as the named
// arguments of the call. A Go func among them is a callback, which the
// function called may call back during the call (see the package
// documentation); over HTTP it is a [service.KindInvalid] error before any request. A
// streamed result is collected into a list, as HTTP sends it (at most
// MaxItems of the client's limits items; see Stream to take them as they
// come).
//
// A Go iterator argument (an iter.Seq[T] or iter.Seq2[T, error]) is a
// streamed argument: collected into a list over HTTP, sent item by item
// over a peer, where it must be the only argument given (see the package
// documentation).
func (v *Value) Call(ctx context.Context, args ...any) (*Value, error) {
	if v.c.unary != nil {
		if method, u, ok := v.requests(); ok {
			call := v.c.describeCall(v, method, u, args)
			return v.c.unaryCall(ctx, call, func(ctx context.Context) (*Value, error) { return v.call(ctx, args) })
		}
	}
	return v.call(ctx, args)
}

// call is Call below the interceptors.
func (v *Value) call(ctx context.Context, args []any) (*Value, error) {
	pc, err := v.startCall(ctx, args)
	if err != nil {
		return nil, err
	}
	if pc != nil {
		return pc.collect()
	}
	switch x := v.v.(type) {
	case hyper.Link:
		if len(args) > 0 {
			return nil, v.errorf(service.KindInvalid, "a link takes no arguments, got %d", len(args))
		}
		if x.Inline {
			return &Value{c: v.c, v: x.Content, base: x.URL, name: v.name, stream: v.stream, peer: v.peer}, nil
		}
		return v.c.do(ctx, &request{op: v.op("GET", x.URL), method: http.MethodGet, url: x.URL, header: x.Headers})
	case hyper.Form:
		r, err := v.formRequest(x, args)
		if err != nil {
			closeArgs(args)
			return nil, err
		}
		return v.c.do(ctx, r)
	}
	return nil, v.errorf(service.KindInvalid, "%s is not callable: it is not a link or a form", describe(v.v))
}

// op names a request for errors: the path that led to it, or the method
// and URL.
func (v *Value) op(method, url string) string {
	if v.name != "" {
		return v.name
	}
	return method + " " + url
}

// Path navigates a dotted path of names from v and calls what it ends
// at: each name is looked up with Get (a leading dot is ignored, so
// ".message" works), a link met on the way is followed before the next
// name is looked up, and the last value is called with args when it is a
// link or form. A path that ends at data returns it; args are then an
// error. An empty path calls v itself when it is callable.
func (v *Value) Path(ctx context.Context, path string, args ...any) (*Value, error) {
	cur := v
	names := strings.Split(strings.TrimPrefix(path, "."), ".")
	if path == "" || path == "." {
		names = nil
	}
	for i, name := range names {
		if name == "" {
			return nil, v.errorf(service.KindInvalid, "empty name in path %q", path)
		}
		next, err := cur.Get(name)
		if err != nil {
			return nil, err
		}
		if i < len(names)-1 {
			if _, ok := next.v.(hyper.Link); ok {
				if next, err = next.Call(ctx); err != nil {
					return nil, err
				}
			}
		}
		cur = next
	}
	switch cur.v.(type) {
	case hyper.Link, hyper.Form:
		return cur.Call(ctx, args...)
	}
	if len(args) > 0 {
		return nil, cur.errorf(service.KindInvalid, "%s is not callable: it is not a link or a form", describe(cur.v))
	}
	return cur, nil
}

// Decode stores the value in the Go value out points to, with wire's
// rules for decoding (as if the value were encoded and decoded into out).
// A resource decodes as its content (its data; its links and forms too
// when out can hold them), unless out is a [hyper.Resource] or any. Out may
// also point to a *Value, which gets v itself. Blobs are handed over as
// they are when out's type can hold a *[wire.Blob]; decoding one into a
// []byte or a string reads its content (and closes it).
func (v *Value) Decode(out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &wire.InvalidUnmarshalError{Type: reflect.TypeOf(out)}
	}
	dst := rv.Elem()
	if dst.Type() == reflect.TypeFor[*Value]() {
		dst.Set(reflect.ValueOf(v))
		return nil
	}
	x := v.v
	if b, ok := x.(*wire.Blob); ok && (dst.Kind() == reflect.String || dst.Type() == reflect.TypeFor[[]byte]()) {
		// A blob's content, read to its end.
		content, err := io.ReadAll(b)
		b.Close()
		if err != nil {
			return err
		}
		if dst.Kind() == reflect.String {
			dst.SetString(string(content))
		} else {
			dst.SetBytes(content)
		}
		return nil
	}
	if x != nil && reflect.TypeOf(x).AssignableTo(dst.Type()) {
		dst.Set(reflect.ValueOf(x))
		return nil
	}
	if r, ok := x.(hyper.Resource); ok {
		// A resource decodes as its content; one without content as nil.
		// (x = r.Content would make x a non-nil interface holding a nil
		// map.)
		x = nil
		if r.Content != nil {
			x = r.Content
			if reflect.TypeOf(x).AssignableTo(dst.Type()) {
				dst.Set(reflect.ValueOf(x))
				return nil
			}
		}
	}
	b, err := wire.Marshal(x)
	if err != nil {
		return err
	}
	return wire.UnmarshalConfig(b, out, wire.DecodeConfig{Limits: v.c.limits})
}
