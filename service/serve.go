package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/wire"
)

// Request is a call as every transport hands it to Serve: a method, a
// path below the service root, and arguments already decoded from the
// transport's envelope.
type Request struct {
	// Method is "GET" (or "HEAD") for safe requests and anything else
	// (normally "POST") for calls with side effects.
	Method string
	// Root is the absolute path the service is mounted at, ending in "/";
	// "" means "/". URLs the service hands out start with it.
	Root string
	// Path is the path below Root, without a leading slash: "" (the
	// index), "hello", "User" (the constructor), "User/" (an instance),
	// "User/message" (a method).
	Path string
	// Query is the raw query string (without "?"): the state of an
	// instance whose state is in its URL, or for GET on a safe function
	// (or a method of a persistent instance) the arguments in the query
	// envelope, which Serve decodes unless Args is set.
	Query string
	// Args are named arguments (keys are strings), in order.
	Args *wire.OrderedDict
	// Positional are positional arguments, bound before named ones.
	Positional []any
	// Blob is the single argument of the blob envelope, bound to the
	// input BlobName (or the first input when empty).
	Blob     *wire.Blob
	BlobName string
	// Header holds per-call metadata (HTTP headers, peer headers): a
	// name's values, in the shape of net/http's Header (hyperhttp passes
	// the HTTP request's own, so keys are canonical and it is shared:
	// read it, never change it).
	Header map[string][]string
	// Stream, when set, is the call's arguments as a stream of values
	// (peers send one value per message). A function with an iter.Seq
	// parameter takes that parameter's items from Stream, converting each
	// to T, and its other parameters take their defaults (Args,
	// Positional and Blob are not bound); a function without one ignores
	// Stream and binds Args and Positional as usual.
	Stream iter.Seq2[any, error]
	// StreamOrArgs says that Stream is one message that may be either the
	// call's arguments or the only item of a stream, which the transport
	// cannot tell apart (a baseline peer sends a stream of one item just
	// as it sends a call's arguments); the transport set Args or
	// Positional from the message too. A function with an iter.Seq
	// parameter then binds Args as its named arguments when every name in
	// them is one of its inputs, the streamed one among them (so
	// {"xs": [1, 2, 3]} calls sum(xs) with three items), and takes the
	// message as Stream's one item otherwise.
	StreamOrArgs bool
	// Callback resolves a callback reference found in the arguments
	// (peers: the name the caller registered, such as "_callback.<id>");
	// nil when the transport has none (HTTP).
	Callback func(ref any) (CallbackFunc, error)
	// Describe, on a GET of a function, a method or a constructor, asks
	// for its link or form (as the page that lists it shows it) instead
	// of a call, whatever its kind: how a transport whose arguments come
	// untyped (HTML form fields) learns the input types to convert them
	// by. Query is then only an instance's state.
	Describe bool
	// FollowUp marks a request a transport makes while it serves
	// another, as part of that call: a redirect it follows for a caller
	// that cannot (package hyperpeer), the form an HTML form's fields are
	// converted by (package hyperhttp), the listing a JSON-RPC method
	// table is made from. Serve runs it without the interceptors
	// ([WithInterceptors]), which saw the call it belongs to already, so
	// that one call is one call for them.
	FollowUp bool
	// Sizes, when set, is where the transport counts the call's bytes
	// as it reads the request and writes the reply; the interceptors
	// find it in [intercept.Call.Sizes]. A transport that sets it calls
	// its End once the reply is written.
	Sizes *intercept.Sizes
}

// Status says how a transport should answer a Result.
type Status uint8

const (
	// OK: send Value (nil Value means nil, sent as 204 by HTTP).
	StatusOK Status = iota
	// StatusNoContent: the call returned nothing.
	StatusNoContent
	// SeeOther: fetch Location with GET (303).
	StatusSeeOther
	// Created: a new resource at Location (201).
	StatusCreated
)

// Result is what Serve answers.
type Result struct {
	Status Status // how to answer: OK with Value, or a status and Location
	// Value is the glyph value to send, hyper values included; or, for a
	// function that streams its result, a Stream of them, which the
	// transport ranges over once.
	Value    any
	Location string // for SeeOther and Created: an absolute path or URL
	// Cacheable is true when the request was a safe call whose answer
	// may be cached (and given an ETag).
	Cacheable bool
	// CacheControl is the function's CacheControl option, for
	// cacheable answers.
	CacheControl string
}

// SeeOther is a result that makes the transport answer 303 See Other
// with URL (resolved against the request's URL). A function returns it
// (or a *SeeOther) to send the caller elsewhere.
type SeeOther struct{ URL string }

// Created is a result that makes the transport answer 201 Created with
// the new resource's URL. A function returns it (or a *Created).
type Created struct{ URL string }

type headerKey struct{}

// RequestHeader returns the headers of the request being served
// (Request.Header: HTTP headers, peer call headers), for the function
// Serve calls with ctx, such as a trace context or the caller's identity;
// nil when the transport gave none. The result must not be changed.
func RequestHeader(ctx context.Context) map[string][]string {
	h, _ := ctx.Value(headerKey{}).(map[string][]string)
	return h
}

// WithRequestHeader returns a copy of ctx whose [RequestHeader] is h:
// what Serve gives the functions it calls, and what a caller in the same
// process that calls a function directly may give it instead.
func WithRequestHeader(ctx context.Context, h map[string][]string) context.Context {
	return context.WithValue(ctx, headerKey{}, h)
}

// isGet reports whether a request method is a safe read.
func isGet(method string) bool { return method == "GET" || method == "HEAD" }

// Serve handles one request. It finds what req.Path names (the index, a
// function, a class's constructor, an instance or one of its methods),
// binds the arguments, calls the Go code and maps its result (see the
// package documentation).
//
// Errors are *Error values with a kind the transport maps to its own
// codes: [KindNotFound] for a path that names nothing, [KindMethodNotAllowed] for a
// call with the wrong method, [KindInvalid] for bad arguments or instance state,
// and what the Go code returned. Errors without a kind, and panics
// anywhere in serving the request, become [KindInternal] errors with a logref
// that is logged with the cause; a panic's value is never sent.
//
// With [WithInterceptors], the call runs through the interceptors.
func (s *Service) Serve(ctx context.Context, req *Request) (res *Result, err error) {
	if req == nil {
		return nil, &Error{Kind: KindInvalid, Message: "no request"}
	}
	if req.FollowUp {
		return s.serve(ctx, req)
	}
	unary, open := s.unary, s.openStream
	if s.logsCalls(ctx) {
		unary, open = s.loggedUnary, s.loggedStream
	}
	if unary == nil {
		return s.serve(ctx, req)
	}
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, s.panicked(req.Path, p)
		}
	}()
	return s.serveIntercepted(ctx, req, unary, open)
}

// serve is Serve without the interceptors.
func (s *Service) serve(ctx context.Context, req *Request) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, s.panicked(req.Path, p)
		}
	}()
	if req.Header != nil {
		ctx = WithRequestHeader(ctx, req.Header)
	}
	root := req.Root
	if root == "" {
		root = "/"
	}
	if !strings.HasSuffix(root, "/") {
		root += "/"
	}
	path := req.Path
	if path == "" {
		if !isGet(req.Method) {
			return nil, &Error{Kind: KindMethodNotAllowed, Message: "the index is read with GET"}
		}
		if s.indexFn != "" {
			s.mu.RLock()
			fn := s.funcs[s.indexFn]
			s.mu.RUnlock()
			if fn == nil {
				return nil, &Error{Kind: KindNotFound, Message: fmt.Sprintf("the index function %q is not registered", s.indexFn)}
			}
			out, err := s.call(ctx, fn, reflect.Value{}, &Request{Method: "GET", Root: root})
			if err != nil {
				return nil, err
			}
			return s.result(ctx, root, fn, out, true, self{})
		}
		return &Result{Value: s.index(ctx, root), Cacheable: true}, nil
	}
	head, rest, nested := strings.Cut(path, "/")
	s.mu.RLock()
	fn := s.funcs[head]
	cl := s.classes[head]
	obj := s.objects[head]
	s.mu.RUnlock()
	switch {
	case obj != nil && nested:
		return s.serveObject(ctx, req, root, obj, rest)
	case obj != nil:
		return nil, &Error{Kind: KindNotFound, Message: fmt.Sprintf("no %q: %q is an object, at %q", path, head, head+"/")}
	case fn != nil && !nested:
		return s.serveCallable(ctx, req, root, root+fn.name, fn)
	case cl != nil && !nested:
		return s.serveConstructor(ctx, req, root, cl)
	case cl != nil:
		return s.serveInstance(ctx, req, root, cl, rest)
	case fn != nil:
		return nil, &Error{Kind: KindNotFound, Message: fmt.Sprintf("no %q: %q is a function", path, head)}
	}
	return nil, &Error{Kind: KindNotFound, Message: fmt.Sprintf("no function or class %q", head)}
}

// serveCallable calls a function, or a method of an object, at url.
func (s *Service) serveCallable(ctx context.Context, req *Request, root, url string, fn *callable) (*Result, error) {
	get := isGet(req.Method)
	if get && (req.Describe || fn.kind == unsafeKind && req.Query == "") {
		// Reading an unsafe function's URL shows its form.
		return &Result{Value: s.describe(ctx, root, url, fn, reflect.Value{}, 0, self{}), Cacheable: true}, nil
	}
	if get && fn.kind == unsafeKind {
		return nil, &Error{Op: fn.op, Kind: KindMethodNotAllowed, Message: "call it with POST: it is a form"}
	}
	// The query envelope (GET's default, allowed for DELETE).
	var with Request
	req, err := withQueryArgs(req, fn, &with)
	if err != nil {
		return nil, err
	}
	out, err := s.call(ctx, fn, reflect.Value{}, req)
	if err != nil {
		return nil, err
	}
	return s.result(ctx, root, fn, out, get, self{})
}

// withQueryArgs returns req with the arguments of the query envelope in
// Args, unless it has Args already: a copy of req in *with, which the
// caller provides so that it can live on the caller's stack.
func withQueryArgs(req *Request, c *callable, with *Request) (*Request, error) {
	if req.Query == "" || req.Args != nil || req.Blob != nil || len(req.Positional) > 0 {
		return req, nil
	}
	args, err := queryArgs(req.Query)
	if err != nil {
		return nil, &Error{Op: c.op, Kind: KindInvalid, Message: "bad query arguments: " + err.Error()}
	}
	*with = *req
	with.Args = args
	return with, nil
}

func (s *Service) serveConstructor(ctx context.Context, req *Request, root string, cl *class) (*Result, error) {
	if cl.ctor == nil {
		return nil, &Error{Op: cl.name, Kind: KindNotFound, Message: "class " + strconv.Quote(cl.name) + " has no constructor: its instances come from the server"}
	}
	if isGet(req.Method) {
		return &Result{Value: s.describe(ctx, root, root+cl.name, cl.ctor, reflect.Value{}, 0, self{}), Cacheable: true}, nil
	}
	var with Request
	req, err := withQueryArgs(req, cl.ctor, &with)
	if err != nil {
		return nil, err
	}
	out, err := s.call(ctx, cl.ctor, reflect.Value{}, req)
	if err != nil {
		return nil, err
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, s.fail(cl.name, fmt.Errorf("constructor returned nil"))
	}
	_, inst := s.classOf(rv)
	u, _, err := s.instanceURL(ctx, root, cl, inst, "")
	if err != nil {
		return nil, err
	}
	return &Result{Status: StatusSeeOther, Location: u}, nil
}

func (s *Service) serveInstance(ctx context.Context, req *Request, root string, cl *class, rest string) (*Result, error) {
	var id, method string
	if cl.store != nil {
		id, method, _ = strings.Cut(rest, "/")
		if id == "" {
			return nil, &Error{Op: cl.name, Kind: KindNotFound, Message: "no instance id in the URL"}
		}
	} else {
		method = rest
	}
	var m *callable
	if method != "" {
		if m = cl.methods[method]; m == nil {
			return nil, &Error{Op: cl.name, Kind: KindNotFound, Message: "no method " + strconv.Quote(method)}
		}
	}
	get := isGet(req.Method)
	if m != nil && get && m.kind == unsafeKind && cl.store != nil && req.Query != "" {
		return nil, &Error{Op: m.op, Kind: KindMethodNotAllowed, Message: "call it with POST: it is a form"}
	}
	var with Request
	if m != nil && cl.store != nil {
		var err error
		if req, err = withQueryArgs(req, m, &with); err != nil {
			return nil, err
		}
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
			return nil, &Error{Op: cl.name, Kind: KindMethodNotAllowed, Message: "an instance is read with GET"}
		}
		r, err := s.resource(ctx, root, cl, inst, id, 0)
		if err != nil {
			return nil, err
		}
		return &Result{Value: r, Cacheable: true}, nil
	}
	var me self
	if cl.store != nil {
		me = self{cl: cl, ptr: inst.Addr().Pointer(), id: id}
	}
	if get && (m.kind == unsafeKind || req.Describe) {
		// Reading an unsafe method's URL shows its form.
		u, _, err := s.instanceURL(ctx, root, cl, inst, id)
		if err != nil {
			return nil, err
		}
		return &Result{Value: s.describe(ctx, root, methodURL(u, m.name), m, inst, 0, me), Cacheable: true}, nil
	}
	out, err := s.call(ctx, m, inst.Addr(), req)
	if err != nil {
		return nil, err
	}
	if cl.store != nil && !get {
		state, err := wire.Marshal(inst.Addr().Interface())
		if err == nil {
			err = cl.store.Save(ctx, cl.name, id, state)
		}
		if err != nil {
			if sr, ok := out.(*seqResult); ok {
				sr.inv.end() // its stream is never ranged over
			}
			return nil, s.fail(m.op, err)
		}
	}
	return s.result(ctx, root, m, out, get, me)
}

// self is the persistent instance a method was called on (or a resource
// being rendered), so that a result that is the receiver refers to that
// instance instead of being saved as a new one. The zero self is none.
type self struct {
	cl  *class
	ptr uintptr // the address of the instance
	id  string
}

// idOf returns the id of v (an instance of cl, or a pointer to one) when
// it is me, and "" otherwise.
func (me self) idOf(cl *class, v reflect.Value) string {
	if me.cl == nil || me.cl != cl || v.Kind() != reflect.Pointer || v.Pointer() != me.ptr {
		return ""
	}
	return me.id
}

// loadInstance rebuilds an instance from its URL state or its store.
func (s *Service) loadInstance(ctx context.Context, req *Request, cl *class, id string) (reflect.Value, error) {
	inst := reflect.New(cl.typ).Elem()
	var state []byte
	if cl.store != nil {
		b, err := cl.store.Load(ctx, cl.name, id)
		if err != nil {
			return inst, s.fail(cl.name, err)
		}
		state = b
	} else {
		b, err := s.decodeState(req.Query)
		if err != nil {
			return inst, &Error{Op: cl.name, Kind: KindInvalid, Message: "bad instance state in URL: " + err.Error()}
		}
		state = b
	}
	if err := wire.Unmarshal(state, inst.Addr().Interface()); err != nil {
		return inst, &Error{Op: cl.name, Kind: KindInvalid, Message: "bad instance state: " + err.Error()}
	}
	if s.stateKey != nil && cl.store == nil {
		if err := cl.knownFields(state); err != nil {
			return inst, &Error{Op: cl.name, Kind: KindInvalid, Message: "bad instance state: " + err.Error()}
		}
	}
	return inst, nil
}

// instanceURL returns the URL of an instance and, for a persistent
// instance, its id: id when not "", or a new id under which it saves the
// instance.
func (s *Service) instanceURL(ctx context.Context, root string, cl *class, inst reflect.Value, id string) (string, string, error) {
	if cl.store != nil {
		if id == "" {
			state, err := wire.Marshal(inst.Addr().Interface())
			if err != nil {
				return "", "", s.fail(cl.name, err)
			}
			id = newID()
			if err := cl.store.Save(ctx, cl.name, id, state); err != nil {
				return "", "", s.fail(cl.name, err)
			}
		}
		return root + cl.name + "/" + id + "/", id, nil
	}
	q, err := s.encodeState(inst)
	if err != nil {
		return "", "", s.fail(cl.name, err)
	}
	return root + cl.name + "/?" + q, "", nil
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
	q := hyper.EscapeQuery(b)
	if s.stateKey != nil {
		q += "~" + s.sign(b)
	}
	return q, nil
}

func (s *Service) decodeState(query string) ([]byte, error) {
	raw, sig, signed := strings.Cut(query, "~")
	b, err := hyper.UnescapeQuery(raw)
	if err != nil {
		return nil, err
	}
	if s.stateKey != nil {
		if !signed || !hmac.Equal([]byte(sig), []byte(s.sign(b))) {
			return nil, fmt.Errorf("state signature does not match (the URL was changed)")
		}
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("no state")
	}
	return b, nil
}

func (s *Service) sign(b []byte) string {
	m := hmac.New(sha256.New, s.stateKey)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// call binds the request's arguments and calls c, recovering panics.
// recv is a pointer to the instance for a method. For a callable that
// streams its result, out is a *seqResult, whose range ends the call;
// any other call has ended when call returns.
func (s *Service) call(ctx context.Context, c *callable, recv reflect.Value, req *Request) (out any, err error) {
	var inv *invocation
	if c.needsInv {
		inv = &invocation{}
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, s.panicked(c.op, p)
		}
		if _, streams := out.(*seqResult); !streams {
			inv.end()
		}
	}()
	if c.direct != nil {
		if a, ok := c.directArg(req); ok {
			out, err := c.direct(ctx, a)
			if err != nil {
				return nil, s.fail(c.op, err)
			}
			return out, nil
		}
	}
	// bind leaves room for the receiver and the context before the
	// arguments, so that they need no slice of their own.
	pre := 0
	if c.method {
		pre++
	}
	if c.ctx {
		pre++
	}
	in, err := s.bind(ctx, c, req, pre, inv)
	if err != nil {
		return nil, err
	}
	i := 0
	if c.method {
		in[i] = recv
		i++
	}
	if c.ctx {
		pc := new(context.Context)
		*pc = ctx
		in[i] = reflect.ValueOf(pc).Elem()
	}
	res := c.fn.Call(in)
	if e := inv.argError(); e != nil {
		// An iter.Seq input stopped on a bad item: what the function
		// made of the items before it is not the answer.
		return nil, e
	}
	if c.hasErr {
		if e := res[len(res)-1]; !e.IsNil() {
			return nil, s.fail(c.op, e.Interface().(error))
		}
	}
	switch {
	case c.streams != notSeq:
		return &seqResult{seq: res[0], kind: c.streams, inv: inv}, nil
	case c.hasValue:
		return res[0].Interface(), nil
	}
	return nil, nil
}

// panicked turns a recovered panic into a [KindInternal] error whose logref
// is logged with the panic's value and stack; the caller sees neither.
func (s *Service) panicked(op string, p any) *Error {
	ref := newLogref()
	s.log().Error("glyph: panic in "+op, slog.String("logref", ref), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
	return &Error{Op: op, Kind: KindInternal, Message: "internal error", Logref: ref}
}

// fail turns err into an *Error (see asError) and logs it when that gave
// it a new logref, so that every logref a caller sees is in the log.
func (s *Service) fail(op string, err error) *Error {
	var before *Error
	had := errors.As(err, &before) && before.Logref != ""
	e := asError(op, err)
	if e.Logref != "" && !had {
		s.log().Error("glyph: "+e.Op+" failed", slog.String("logref", e.Logref), slog.Any("error", err))
	}
	return e
}

// result turns what a callable returned into a Result. me is the
// persistent instance the callable ran on, if any.
func (s *Service) result(ctx context.Context, root string, c *callable, out any, get bool, me self) (*Result, error) {
	cacheable := get && (c.kind == safeKind || c.kind == inlineKind)
	noContent := func() *Result {
		return &Result{Status: StatusNoContent, Cacheable: cacheable, CacheControl: c.cacheControl}
	}
	switch o := out.(type) {
	case nil:
		return noContent(), nil
	case *seqResult:
		return &Result{Value: s.stream(ctx, root, c, o, me)}, nil
	case SeeOther:
		return &Result{Status: StatusSeeOther, Location: o.URL}, nil
	case *SeeOther:
		if o == nil {
			return noContent(), nil
		}
		return &Result{Status: StatusSeeOther, Location: o.URL}, nil
	case Created:
		return &Result{Status: StatusCreated, Location: o.URL}, nil
	case *Created:
		if o == nil {
			return noContent(), nil
		}
		return &Result{Status: StatusCreated, Location: o.URL}, nil
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, []byte:
		// Plain values, which no class or function can be: present
		// would return them as they are.
		return &Result{Value: out, Cacheable: cacheable, CacheControl: c.cacheControl}, nil
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return noContent(), nil
	}
	if c.redirect {
		if cl, inst := s.classOf(rv); cl != nil {
			u, _, err := s.instanceURL(ctx, root, cl, inst, me.idOf(cl, rv))
			if err != nil {
				return nil, err
			}
			return &Result{Status: StatusSeeOther, Location: u}, nil
		}
	}
	v, err := s.present(ctx, root, rv, 0, me)
	if err != nil {
		return nil, s.fail(c.op, err)
	}
	return &Result{Value: v, Cacheable: cacheable, CacheControl: c.cacheControl}, nil
}

// classOf returns the registered class of v (a T or *T) and the T,
// addressable (a copy when v is an unaddressable T).
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

// maxDepth bounds how deep present and describe go, so that a result
// that contains itself, or an inline function that returns itself, is an
// error instead of a stack overflow.
const maxDepth = 64

// present maps a Go result to the glyph value to send: instances of
// registered classes become resources and registered functions their
// forms, also inside slices, arrays, maps and pointers.
func (s *Service) present(ctx context.Context, root string, v reflect.Value, depth int, me self) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("result nested more than %d deep", maxDepth)
	}
	if cl, inst := s.classOf(v); cl != nil {
		return s.resource(ctx, root, cl, inst, me.idOf(cl, v), depth+1)
	}
	switch v.Kind() {
	case reflect.Func:
		if v.IsNil() {
			return nil, nil
		}
		s.mu.RLock()
		fn, ok := s.byCode[v.Pointer()]
		s.mu.RUnlock()
		if !ok {
			return nil, fmt.Errorf("returned a function that is not registered")
		}
		if fn == nil {
			return nil, fmt.Errorf("returned a function registered under several names (closures of one function literal share their code)")
		}
		return s.describe(ctx, root, root+fn.name, fn, reflect.Value{}, depth+1, self{}), nil
	case reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return s.present(ctx, root, v.Elem(), depth+1, me)
	case reflect.Pointer:
		if v.IsNil() || !s.mayHold(v.Type()) {
			return v.Interface(), nil
		}
		return s.present(ctx, root, v.Elem(), depth+1, me)
	case reflect.Slice, reflect.Array:
		if !s.mayHold(v.Type()) {
			return v.Interface(), nil
		}
		if v.Kind() == reflect.Slice && v.IsNil() {
			return []any{}, nil
		}
		out := make([]any, v.Len())
		for i := range out {
			x, err := s.present(ctx, root, v.Index(i), depth+1, me)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case reflect.Map:
		if !s.mayHold(v.Type()) {
			return v.Interface(), nil
		}
		if v.Type().Key().Kind() == reflect.String {
			out := make(map[string]any, v.Len())
			for it := v.MapRange(); it.Next(); {
				x, err := s.present(ctx, root, it.Value(), depth+1, me)
				if err != nil {
					return nil, err
				}
				out[it.Key().String()] = x
			}
			return out, nil
		}
		out := make(map[any]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			x, err := s.present(ctx, root, it.Value(), depth+1, me)
			if err != nil {
				return nil, err
			}
			out[it.Key().Interface()] = x
		}
		return out, nil
	}
	return v.Interface(), nil
}

// mayHold reports whether values of type t may hold instances of
// registered classes or functions, which present must map.
func (s *Service) mayHold(t reflect.Type) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mayHoldLocked(t, map[reflect.Type]bool{})
}

func (s *Service) mayHoldLocked(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface, reflect.Func:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return s.mayHoldLocked(t.Elem(), seen)
	case reflect.Struct:
		return s.byType[t] != nil
	}
	return false
}

// resource renders an instance (addressable): its state plus a link or
// form per listed method. id is the persistent instance's id; "" saves it
// under a new one.
func (s *Service) resource(ctx context.Context, root string, cl *class, inst reflect.Value, id string, depth int) (hyper.Resource, error) {
	u, id, err := s.instanceURL(ctx, root, cl, inst, id)
	if err != nil {
		return hyper.Resource{}, err
	}
	state, err := wire.Marshal(inst.Addr().Interface())
	if err != nil {
		return hyper.Resource{}, s.fail(cl.name, err)
	}
	content := map[string]any{}
	if err := wire.Unmarshal(state, &content); err != nil {
		return hyper.Resource{}, s.fail(cl.name, err)
	}
	var me self
	if cl.store != nil {
		me = self{cl: cl, ptr: inst.Addr().Pointer(), id: id}
	}
	for _, name := range cl.morder {
		m := cl.methods[name]
		if m.hidden {
			continue
		}
		content[name] = s.describe(ctx, root, methodURL(u, name), m, inst, depth+1, me)
	}
	return hyper.Resource{URL: u, Name: cl.name, Content: content}, nil
}

// describe returns the link or form for a callable at url: a link for a
// safe callable without inputs, an inline link for an inline one (called
// with its defaults, its result embedded), a GET form for a safe callable
// with inputs (POST when url's query is instance state, which the query
// envelope would replace), and a POST form otherwise. recv is the
// instance (addressable) for a method.
func (s *Service) describe(ctx context.Context, root, url string, c *callable, recv reflect.Value, depth int, me self) any {
	switch {
	case c.kind == inlineKind:
		l := hyper.Link{URL: url, Inline: true, Extra: c.attrs}
		if depth > maxDepth {
			l.Content = hyper.Error{Message: fmt.Sprintf("%s: inline results nested more than %d deep", c.op, maxDepth)}
			return l
		}
		var r reflect.Value
		if recv.IsValid() {
			r = recv.Addr()
		}
		out, err := s.call(ctx, c, r, &Request{Method: "GET"})
		if err != nil {
			l.Content = hyperError(asError(c.op, err))
			return l
		}
		v, err := s.present(ctx, root, reflect.ValueOf(out), depth+1, me)
		if err != nil {
			l.Content = hyperError(s.fail(c.op, err))
			return l
		}
		l.Content = v
		return l
	case c.kind == safeKind && len(c.params) == 0:
		return hyper.Link{URL: url, Extra: c.attrs}
	case c.kind == safeKind && !strings.Contains(url, "?"):
		return hyper.Form{URL: url, Method: "GET", Values: c.inputs(), Extra: c.attrs}
	}
	return hyper.Form{URL: url, Method: "POST", Values: c.inputs(), Extra: c.attrs}
}

// index lists every function and class not hidden.
func (s *Service) index(ctx context.Context, root string) hyper.Resource {
	s.mu.RLock()
	names := append([]string(nil), s.order...)
	s.mu.RUnlock()
	content := map[string]any{}
	for _, n := range names {
		s.mu.RLock()
		fn, cl, obj := s.funcs[n], s.classes[n], s.objects[n]
		s.mu.RUnlock()
		switch {
		case obj != nil:
			content[n] = hyper.Link{URL: root + n + "/"}
		case fn != nil && !fn.hidden:
			content[n] = s.describe(ctx, root, root+n, fn, reflect.Value{}, 0, self{})
		case cl != nil && cl.ctor != nil: // without one, nothing to offer
			content[n] = s.describe(ctx, root, root+n, cl.ctor, reflect.Value{}, 0, self{})
		}
	}
	return hyper.Resource{URL: root, Name: s.name, Content: content}
}

// queryArgs decodes the query envelope: a percent-encoded glyph dict or
// ordered dict of arguments.
func queryArgs(query string) (*wire.OrderedDict, error) {
	b, err := hyper.UnescapeQuery(query)
	if err != nil {
		return nil, err
	}
	var args wire.OrderedDict
	if err := wire.Unmarshal(b, &args); err != nil {
		return nil, err
	}
	return &args, nil
}
