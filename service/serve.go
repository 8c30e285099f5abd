package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"runtime/debug"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// Request is a call as every transport hands it to Serve: a method, a
// path below the service root, and arguments already decoded from the
// transport's envelope.
type Request struct {
	// Method is "GET" for safe requests and anything else (normally
	// "POST") for calls with side effects.
	Method string
	// Root is the absolute path the service is mounted at, ending in "/";
	// "" means "/". URLs the service hands out start with it.
	Root string
	// Path is the path below Root, without a leading slash: "hello",
	// "User/", "User/message".
	Path string
	// Query is the raw query string (without "?"): instance state, or
	// arguments in the query envelope, which the transport put in Args.
	Query string
	// Args are named arguments (keys are strings), in order.
	Args *wire.OrderedDict
	// Positional are positional arguments, bound before named ones.
	Positional []any
	// Blob is the single argument of the blob envelope, bound to the
	// input BlobName (or the first input when empty).
	Blob     *wire.Blob
	BlobName string
	// Header holds per-call metadata (HTTP headers, peer headers).
	Header map[string]string
}

// Status says how a transport should answer a Result.
type Status uint8

const (
	// OK: send Value (nil Value means nil, sent as 204 by HTTP).
	OK Status = iota
	// NoContent: the call returned nothing.
	NoContent
	// SeeOther: fetch Location with GET (303).
	SeeOther
	// Created: a new resource at Location (201).
	Created
)

// Result is what Serve answers.
type Result struct {
	Status   Status
	Value    any    // the glyph value to send; hyper values included
	Location string // for SeeOther and Created: an absolute path or URL
	// Cacheable is true when the request was a safe call whose answer
	// may be cached (and given an ETag).
	Cacheable    bool
	CacheControl string
}

// SeeOtherTo is a result that makes the transport answer 303 See Other
// with URL (resolved against the request's URL).
type SeeOtherTo struct{ URL string }

// CreatedAt is a result that makes the transport answer 201 Created with
// the new resource's URL.
type CreatedAt struct{ URL string }

// Serve handles one request. Errors are *Error values with a kind the
// transport maps to its own codes; panics in user code are recovered
// into Internal errors with a logref that is logged.
func (s *Service) Serve(ctx context.Context, req *Request) (*Result, error) {
	root := req.Root
	if root == "" {
		root = "/"
	}
	path := req.Path
	if path == "" {
		if req.Method != "GET" {
			return nil, &Error{Kind: MethodNotAllowed, Message: "the index is read with GET"}
		}
		return &Result{Value: s.index(ctx, root), Cacheable: true}, nil
	}
	head, rest, nested := strings.Cut(path, "/")
	s.mu.RLock()
	fn := s.funcs[head]
	cl := s.classes[head]
	s.mu.RUnlock()
	switch {
	case fn != nil && !nested:
		return s.serveFunc(ctx, req, root, fn)
	case cl != nil && !nested:
		return s.serveConstructor(ctx, req, root, cl)
	case cl != nil:
		return s.serveInstance(ctx, req, root, cl, rest)
	}
	return nil, &Error{Kind: NotFound, Message: "no function or class " + strconvQuote(head)}
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

func (s *Service) serveFunc(ctx context.Context, req *Request, root string, fn *callable) (*Result, error) {
	get := req.Method == "GET"
	if get && fn.kind == unsafeKind && req.Query == "" {
		// Reading an unsafe function's URL shows its form.
		return &Result{Value: s.describe(ctx, root, root+fn.name, fn, reflect.Value{}), Cacheable: true}, nil
	}
	if get && fn.kind == unsafeKind {
		return nil, &Error{Op: fn.op, Kind: MethodNotAllowed, Message: "call it with POST: it is a form"}
	}
	if get && req.Query != "" && req.Args == nil {
		args, err := queryArgs(req.Query)
		if err != nil {
			return nil, &Error{Op: fn.op, Kind: Invalid, Message: "bad query arguments: " + err.Error()}
		}
		r := *req
		r.Args = args
		req = &r
	}
	out, err := s.call(ctx, fn, reflect.Value{}, req)
	if err != nil {
		return nil, err
	}
	return s.result(ctx, root, fn, out, get)
}

func (s *Service) serveConstructor(ctx context.Context, req *Request, root string, cl *class) (*Result, error) {
	if req.Method == "GET" {
		return &Result{Value: s.describe(ctx, root, root+cl.name, cl.ctor, reflect.Value{}), Cacheable: true}, nil
	}
	out, err := s.call(ctx, cl.ctor, reflect.Value{}, req)
	if err != nil {
		return nil, err
	}
	inst := reflect.ValueOf(out)
	if inst.Kind() == reflect.Pointer {
		if inst.IsNil() {
			return nil, &Error{Op: cl.name, Kind: Internal, Message: "constructor returned nil"}
		}
		inst = inst.Elem()
	}
	u, err := s.instanceURL(ctx, root, cl, inst, "")
	if err != nil {
		return nil, err
	}
	return &Result{Status: SeeOther, Location: u}, nil
}

func (s *Service) serveInstance(ctx context.Context, req *Request, root string, cl *class, rest string) (*Result, error) {
	var id, method string
	if cl.store != nil {
		var ok bool
		id, method, ok = strings.Cut(rest, "/")
		if !ok || id == "" {
			return nil, &Error{Op: cl.name, Kind: NotFound, Message: "no instance id in the URL"}
		}
	} else {
		method = rest
	}
	var m *callable
	if method != "" {
		if m = cl.methods[method]; m == nil {
			return nil, &Error{Op: cl.name, Kind: NotFound, Message: "no method " + strconvQuote(method)}
		}
	}
	get := req.Method == "GET"
	if m != nil && get && m.kind == unsafeKind {
		return nil, &Error{Op: m.op, Kind: MethodNotAllowed, Message: "call it with POST: it is a form"}
	}
	if cl.store != nil && m != nil && !get {
		unlock := cl.locks.lock(id)
		defer unlock()
	}
	inst, err := s.loadInstance(ctx, req, cl, id)
	if err != nil {
		return nil, err
	}
	if m == nil {
		if !get {
			return nil, &Error{Op: cl.name, Kind: MethodNotAllowed, Message: "an instance is read with GET"}
		}
		r, err := s.resource(ctx, root, cl, inst, id)
		if err != nil {
			return nil, err
		}
		return &Result{Value: r, Cacheable: true}, nil
	}
	out, err := s.call(ctx, m, inst.Addr(), req)
	if err != nil {
		return nil, err
	}
	if cl.store != nil && !get {
		state, err := wire.Marshal(inst.Addr().Interface())
		if err != nil {
			return nil, asError(m.op, err)
		}
		if err := cl.store.Save(ctx, cl.name, id, state); err != nil {
			return nil, asError(m.op, err)
		}
	}
	return s.result(ctx, root, m, out, get)
}

// loadInstance rebuilds an instance from its URL state or its store.
func (s *Service) loadInstance(ctx context.Context, req *Request, cl *class, id string) (reflect.Value, error) {
	inst := reflect.New(cl.typ).Elem()
	var state []byte
	if cl.store != nil {
		b, err := cl.store.Load(ctx, cl.name, id)
		if err != nil {
			e := asError(cl.name, err)
			return inst, e
		}
		state = b
	} else {
		b, err := s.decodeState(req.Query)
		if err != nil {
			return inst, &Error{Op: cl.name, Kind: Invalid, Message: "bad instance state in URL: " + err.Error()}
		}
		state = b
	}
	if err := wire.Unmarshal(state, inst.Addr().Interface()); err != nil {
		return inst, &Error{Op: cl.name, Kind: Invalid, Message: "bad instance state: " + err.Error()}
	}
	return inst, nil
}

// instanceURL returns the URL of an instance (with method appended),
// saving a persistent instance under a new id.
func (s *Service) instanceURL(ctx context.Context, root string, cl *class, inst reflect.Value, id string) (string, error) {
	if cl.store != nil {
		if id == "" {
			state, err := wire.Marshal(inst.Addr().Interface())
			if err != nil {
				return "", asError(cl.name, err)
			}
			id = newID()
			if err := cl.store.Save(ctx, cl.name, id, state); err != nil {
				return "", asError(cl.name, err)
			}
		}
		return root + cl.name + "/" + id + "/", nil
	}
	q, err := s.encodeState(inst)
	if err != nil {
		return "", asError(cl.name, err)
	}
	return root + cl.name + "/?" + q, nil
}

// methodURL turns an instance URL into the URL of one of its methods.
func methodURL(instURL, method string) string {
	path, query, hasQ := strings.Cut(instURL, "?")
	u := path + method
	if hasQ {
		u += "?" + query
	}
	return u
}

// encodeState returns the percent-encoded canonical glyph dict of an
// instance's state, signed when the service has a state key.
func (s *Service) encodeState(inst reflect.Value) (string, error) {
	var v any = inst.Interface()
	if inst.CanAddr() {
		v = inst.Addr().Interface()
	}
	b, err := wire.Marshal(v)
	if err != nil {
		return "", err
	}
	q := escapeQuery(b)
	if s.stateKey != nil {
		q += "~" + s.sign(b)
	}
	return q, nil
}

func (s *Service) decodeState(query string) ([]byte, error) {
	raw, sig, signed := strings.Cut(query, "~")
	b, err := url.QueryUnescape(raw)
	if err != nil {
		return nil, err
	}
	if s.stateKey != nil {
		if !signed || !hmac.Equal([]byte(sig), []byte(s.sign([]byte(b)))) {
			return nil, fmt.Errorf("state signature does not match (the URL was changed)")
		}
	}
	if b == "" {
		return nil, fmt.Errorf("no state")
	}
	return []byte(b), nil
}

func (s *Service) sign(b []byte) string {
	m := hmac.New(sha256.New, s.stateKey)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// escapeQuery percent-encodes everything but unreserved characters other
// than '~' (which separates the signature).
func escapeQuery(b []byte) string {
	const hexd = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(b) * 2)
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hexd[c>>4])
		sb.WriteByte(hexd[c&15])
	}
	return sb.String()
}

// call binds the request's arguments and calls c, recovering panics.
func (s *Service) call(ctx context.Context, c *callable, recv reflect.Value, req *Request) (out any, err error) {
	args, err := c.bind(req)
	if err != nil {
		return nil, err
	}
	in := make([]reflect.Value, 0, len(args)+2)
	if c.method {
		if c.fn.Type().In(0).Kind() != reflect.Pointer {
			recv = recv.Elem()
		}
		in = append(in, recv)
	}
	if c.ctx {
		in = append(in, reflect.ValueOf(&ctx).Elem())
	}
	in = append(in, args...)
	defer func() {
		if p := recover(); p != nil {
			ref := newLogref()
			s.logger.Error("glyph: panic in "+c.op, slog.String("logref", ref), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			out, err = nil, &Error{Op: c.op, Kind: Internal, Message: "internal error", Logref: ref}
		}
	}()
	res := c.fn.Call(in)
	if c.hasErr {
		if e := res[len(res)-1]; !e.IsNil() {
			ee := asError(c.op, e.Interface().(error))
			if ee.Logref != "" {
				s.logger.Error("glyph: "+c.op+" failed", slog.String("logref", ee.Logref), slog.Any("error", e.Interface()))
			}
			return nil, ee
		}
	}
	if c.hasValue {
		return res[0].Interface(), nil
	}
	return nil, nil
}

// result turns what a callable returned into a Result.
func (s *Service) result(ctx context.Context, root string, c *callable, out any, get bool) (*Result, error) {
	cacheable := get && (c.kind == safeKind || c.kind == inlineKind || c.kind == hiddenKind)
	switch o := out.(type) {
	case nil:
		return &Result{Status: NoContent, Cacheable: cacheable, CacheControl: c.cacheControl}, nil
	case SeeOtherTo:
		return &Result{Status: SeeOther, Location: o.URL}, nil
	case *SeeOtherTo:
		return &Result{Status: SeeOther, Location: o.URL}, nil
	case CreatedAt:
		return &Result{Status: Created, Location: o.URL}, nil
	case *CreatedAt:
		return &Result{Status: Created, Location: o.URL}, nil
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return &Result{Status: NoContent, Cacheable: cacheable, CacheControl: c.cacheControl}, nil
	}
	if c.redirect {
		if cl, inst := s.classOf(rv); cl != nil {
			u, err := s.instanceURL(ctx, root, cl, inst, "")
			if err != nil {
				return nil, err
			}
			return &Result{Status: SeeOther, Location: u}, nil
		}
	}
	v, err := s.present(ctx, root, rv, 0)
	if err != nil {
		return nil, asError(c.op, err)
	}
	return &Result{Value: v, Cacheable: cacheable, CacheControl: c.cacheControl}, nil
}

// classOf returns the registered class of v (a T or *T) and the T.
func (s *Service) classOf(v reflect.Value) (*class, reflect.Value) {
	if !v.IsValid() {
		return nil, v
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, v
		}
		v = v.Elem()
	}
	s.mu.RLock()
	cl := s.byType[v.Type()]
	s.mu.RUnlock()
	if cl == nil {
		return nil, v
	}
	if !v.CanAddr() {
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		v = c
	}
	return cl, v
}

// present maps a Go result to the glyph value to send: instances of
// registered classes become resources and registered functions their
// forms, also inside slices, arrays and maps.
func (s *Service) present(ctx context.Context, root string, v reflect.Value, depth int) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	if depth > 64 {
		return nil, fmt.Errorf("result nested too deep")
	}
	if cl, inst := s.classOf(v); cl != nil {
		return s.resource(ctx, root, cl, inst, "")
	}
	switch v.Kind() {
	case reflect.Func:
		if v.IsNil() {
			return nil, nil
		}
		s.mu.RLock()
		fn := s.byCode[v.Pointer()]
		s.mu.RUnlock()
		if fn == nil {
			return nil, fmt.Errorf("returned a function that is not registered")
		}
		return s.describe(ctx, root, root+fn.name, fn, reflect.Value{}), nil
	case reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return s.present(ctx, root, v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		if !s.mayHold(v.Type().Elem()) {
			return v.Interface(), nil
		}
		if v.Kind() == reflect.Slice && v.IsNil() {
			return []any{}, nil
		}
		out := make([]any, v.Len())
		for i := range out {
			x, err := s.present(ctx, root, v.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case reflect.Map:
		if !s.mayHold(v.Type().Elem()) || v.Type().Key().Kind() != reflect.String {
			return v.Interface(), nil
		}
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			x, err := s.present(ctx, root, it.Value(), depth+1)
			if err != nil {
				return nil, err
			}
			out[it.Key().String()] = x
		}
		return out, nil
	}
	return v.Interface(), nil
}

// mayHold reports whether values of type t may need presenting.
func (s *Service) mayHold(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface, reflect.Func:
		return true
	case reflect.Pointer:
		t = t.Elem()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byType[t] != nil
}

// resource renders an instance: its state plus a link or form per method.
func (s *Service) resource(ctx context.Context, root string, cl *class, inst reflect.Value, id string) (hyper.Resource, error) {
	u, err := s.instanceURL(ctx, root, cl, inst, id)
	if err != nil {
		return hyper.Resource{}, err
	}
	state, err := wire.Marshal(inst.Addr().Interface())
	if err != nil {
		return hyper.Resource{}, asError(cl.name, err)
	}
	content := map[string]any{}
	if err := wire.Unmarshal(state, &content); err != nil {
		return hyper.Resource{}, asError(cl.name, err)
	}
	for _, name := range cl.morder {
		m := cl.methods[name]
		if m.kind == hiddenKind {
			continue
		}
		content[name] = s.describe(ctx, root, methodURL(u, name), m, inst)
	}
	return hyper.Resource{URL: u, Name: cl.name, Content: content}, nil
}

// describe returns the link or form for a callable at url. Inline
// callables are called (with their defaults) and their result embedded.
func (s *Service) describe(ctx context.Context, root, url string, c *callable, recv reflect.Value) any {
	switch c.kind {
	case safeKind, hiddenKind:
		return hyper.Link{URL: url}
	case inlineKind:
		l := hyper.Link{URL: url, Inline: true}
		var r reflect.Value
		if recv.IsValid() {
			r = recv.Addr()
		}
		out, err := s.call(ctx, c, r, &Request{Method: "GET"})
		if err != nil {
			e := asError(c.op, err)
			l.Content = hyper.Error{Logref: e.Logref, Message: e.Error()}
			return l
		}
		v, err := s.present(ctx, root, reflect.ValueOf(out), 0)
		if err != nil {
			l.Content = hyper.Error{Message: err.Error()}
			return l
		}
		l.Content = v
		return l
	}
	return hyper.Form{URL: url, Method: "POST", Values: c.inputs()}
}

// index lists every registered function and class.
func (s *Service) index(ctx context.Context, root string) hyper.Resource {
	s.mu.RLock()
	names := append([]string(nil), s.order...)
	s.mu.RUnlock()
	content := map[string]any{}
	for _, n := range names {
		s.mu.RLock()
		fn, cl := s.funcs[n], s.classes[n]
		s.mu.RUnlock()
		switch {
		case fn != nil && fn.kind != hiddenKind:
			content[n] = s.describe(ctx, root, root+n, fn, reflect.Value{})
		case cl != nil:
			content[n] = s.describe(ctx, root, root+n, cl.ctor, reflect.Value{})
		}
	}
	return hyper.Resource{URL: root, Name: s.name, Content: content}
}

// queryArgs decodes the query envelope: a percent-encoded glyph dict or
// ordered dict of arguments.
func queryArgs(query string) (*wire.OrderedDict, error) {
	b, err := url.QueryUnescape(query)
	if err != nil {
		return nil, err
	}
	var args wire.OrderedDict
	if err := wire.Unmarshal([]byte(b), &args); err != nil {
		return nil, err
	}
	return &args, nil
}
