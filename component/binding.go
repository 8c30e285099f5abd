package component

import (
	"context"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Binding is a caller bound to an interface through a [Router]: what it
// expects of each method, checked against every provider before that
// provider gets a call. Stubs call through it: a struct of funcs bound by
// [Router.Bind], or a stub that glyph gen wrote for [Dial]. It is safe
// for concurrent use.
type Binding struct {
	r       *Router
	slot    *slot
	iface   string
	methods map[string]*expectation // by wire name
	exps    []*expectation          // sorted by name

	checked sync.Map // *conn → checkResult
}

type checkResult struct {
	gen int64
	err error
}

// Interface returns the name of the interface bound.
func (b *Binding) Interface() string { return b.iface }

// bind makes a binding and checks it against every provider of the
// interface that can be reached now: see [Router.Bind].
func (r *Router) bind(ctx context.Context, iface string, exps []*expectation) (*Binding, error) {
	b := &Binding{r: r, slot: r.slot(iface), iface: iface, methods: map[string]*expectation{}, exps: slices.Clone(exps)}
	sort.Slice(b.exps, func(i, j int) bool { return b.exps[i].name < b.exps[j].name })
	for _, e := range exps {
		b.methods[e.name] = e
	}
	rt := b.slot.cur.Load()
	if rt == nil {
		return nil, b.noRoute()
	}
	errs := make([]error, len(rt.conns))
	var wg sync.WaitGroup
	for i, c := range rt.conns {
		wg.Go(func() { errs[i] = b.check(ctx, c) })
	}
	wg.Wait()
	if err := b.firstRefusal(errs); err != nil {
		return nil, err
	}
	var unreachable []string
	for i, err := range errs {
		if err == nil {
			return b, nil
		}
		unreachable = append(unreachable, fmt.Sprintf("%s: %v", rt.conns[i].url, err))
	}
	return nil, &service.Error{Op: iface, Kind: service.KindUnavailable,
		Message: "no provider could be reached: " + strings.Join(unreachable, "; ")}
}

// firstRefusal returns the first error that is not a failure to reach a
// provider: an incompatible interface, a missing capability, a bad URL.
func (b *Binding) firstRefusal(errs []error) error {
	for _, err := range errs {
		if u, _ := IsUnreachable(err); err != nil && !u {
			return err
		}
	}
	return nil
}

func (b *Binding) noRoute() error {
	return &service.Error{Op: b.iface, Kind: service.KindNotFound, Message: "no route for interface " + b.iface}
}

// check checks the binding against the provider c, once per time c
// comes up: its capabilities and its interface.
func (b *Binding) check(ctx context.Context, c *conn) error {
	gen := c.gen.Load()
	if v, ok := b.checked.Load(c); ok && v.(checkResult).gen == gen {
		return v.(checkResult).err
	}
	p, err := c.provider(ctx)
	if err != nil {
		if u, _ := IsUnreachable(err); !u {
			b.checked.Store(c, checkResult{gen: gen, err: err})
		}
		return err
	}
	in, known := c.desc(b.iface)
	if !known {
		if in, err = c.describe(ctx, b.iface); err != nil {
			if u, _ := IsUnreachable(err); !u && service.KindOf(err) != service.KindCanceled && service.KindOf(err) != service.KindDeadlineExceeded {
				b.checked.Store(c, checkResult{gen: gen, err: err})
			}
			return err
		}
	}
	err = b.capable(p)
	if err == nil && in != nil {
		err = compatible(b.iface, b.exps, in, c.url)
	}
	b.checked.Store(c, checkResult{gen: gen, err: err})
	return err
}

// capable reports a method that needs what p's transport lacks, as a
// [service.KindUnsupported] error naming the method and the transport.
func (b *Binding) capable(p Provider) error {
	caps := p.Capabilities()
	_, streamer := p.(Streamer)
	for _, e := range b.exps {
		var lacks string
		switch {
		case e.callbacks && !caps.Callbacks:
			lacks = "takes a callback"
		case e.seqArg >= 0 && !caps.Streams:
			lacks = "takes a streamed argument"
		case e.streams && !(caps.Streams && streamer):
			lacks = "streams its result"
		}
		if lacks != "" {
			return &service.Error{Op: b.iface + "." + e.name, Kind: service.KindUnsupported,
				Message: fmt.Sprintf("%s %s, which transport %s does not carry", e.name, lacks, caps.Transport)}
		}
	}
	return nil
}

// usable reports whether c may take a call of this binding now.
func (b *Binding) usable(ctx context.Context, c *conn) (bool, error) {
	if c.down.Load() {
		return false, nil
	}
	err := b.check(ctx, c)
	return err == nil, err
}

// pick chooses the provider for a call among those usable and not
// tried: by the route's balance, hashing key when it has one.
func (b *Binding) pick(ctx context.Context, rt *route, key uint64, hasKey bool, tried []*conn) (*conn, error) {
	n := len(rt.conns)
	var lastErr error
	ok := func(c *conn) bool {
		for _, t := range tried {
			if t == c {
				return false
			}
		}
		u, err := b.usable(ctx, c)
		if err != nil {
			lastErr = err
		}
		return u
	}
	switch {
	case hasKey:
		var best *conn
		var bestScore uint64
		for i, c := range rt.conns {
			if s := mix(rt.hashes[i] ^ key); (best == nil || s > bestScore) && ok(c) {
				best, bestScore = c, s
			}
		}
		return best, lastErr
	case rt.cfg.Balance == BalanceLeastPending:
		start := int(rt.rr.Add(1) % uint64(n))
		var best *conn
		for i := range n {
			c := rt.conns[(start+i)%n]
			if (best == nil || c.pending.Load() < best.pending.Load()) && ok(c) {
				best = c
			}
		}
		return best, lastErr
	}
	start := int(rt.rr.Add(1) % uint64(n))
	for i := range n {
		if c := rt.conns[(start+i)%n]; ok(c) {
			return c, nil
		}
	}
	return nil, lastErr
}

// Call calls method (its wire name) with args, positional as the
// caller's Go signature has them, and decodes its result into result (a
// pointer, or nil): what a stub does. The arguments are checked against
// the provider's input types before anything is sent, the method's
// default deadline applies when ctx has none, and the headers of
// [client.WithCallHeader] travel with it. Failures are *[service.Error]
// values: the provider's, or [service.KindUnavailable] when every
// provider is down, or [service.KindNotFound] when the table routes the
// interface nowhere.
func (b *Binding) Call(ctx context.Context, method string, args []any, result any) error {
	e := b.methods[method]
	if e == nil {
		return &service.Error{Op: b.iface + "." + method, Kind: service.KindNotFound, Message: "the binding has no method " + method}
	}
	call := Call{Interface: b.iface, Method: method, Result: result}
	if err := b.setArgs(&call, e, args); err != nil {
		return err
	}
	return b.invoke(ctx, e, &call)
}

// setArgs puts args into call: positional, or the fields of a struct
// argument by name.
func (b *Binding) setArgs(call *Call, e *expectation, args []any) error {
	if e.byName == nil {
		call.Args = args
		return nil
	}
	if len(args) != 1 {
		return &service.Error{Op: b.iface + "." + e.name, Kind: service.KindInvalid, Message: fmt.Sprintf("takes one %s, got %d arguments", e.byName, len(args))}
	}
	named, arg, err := fieldsOf(args[0])
	if err != nil {
		return &service.Error{Op: b.iface + "." + e.name, Kind: service.KindInvalid, Message: err.Error()}
	}
	call.Named, call.arg = named, arg
	return nil
}

// fieldsOf returns a struct's fields as the wire names them, leaving out
// the optional ones that are zero, and the struct itself.
func fieldsOf(v any) (named map[string]any, arg reflect.Value, err error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, reflect.Value{}, fmt.Errorf("expected a struct, got %T", v)
	}
	named = map[string]any{}
	for _, f := range wire.Fields(rv.Type()) {
		fv, err := rv.FieldByIndexErr(f.Index)
		if err != nil {
			continue // behind a nil embedded pointer: not set
		}
		if (slices.Contains(f.Options, "omitempty") || slices.Contains(f.Options, "optional")) && fv.IsZero() {
			continue
		}
		named[f.Name] = fv.Interface()
	}
	return named, rv, nil
}

// invoke routes one call: it picks a provider, checks the arguments
// against its signature, calls it, and on failure fails over or retries
// as the route says.
func (b *Binding) invoke(ctx context.Context, e *expectation, call *Call) error {
	rt := b.slot.cur.Load()
	if rt == nil {
		return b.noRoute()
	}
	if h := client.CallHeader(ctx); h != nil {
		call.Header = h
	}
	key, hasKey := b.routingKey(rt, e, call)
	var tried []*conn
	var lastErr error
	retries := 0
	deadlineSet := false
	for {
		c, err := b.pick(ctx, rt, key, hasKey, tried)
		if c == nil {
			return b.noProvider(rt, lastErr, err)
		}
		sig := b.signature(c, e.name)
		if sig != nil {
			if err := b.checkArgs(e, sig, call); err != nil {
				return err
			}
			call.ReadOnly = sig.ReadOnly
			if !deadlineSet && sig.Timeout > 0 {
				if _, has := ctx.Deadline(); !has {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, sig.Timeout)
					defer cancel()
				}
				deadlineSet = true
			}
		}
		p, err := c.provider(ctx)
		if err == nil {
			c.pending.Add(1)
			err = p.Call(ctx, call)
			c.pending.Add(-1)
		}
		if err == nil {
			if len(tried) == 0 {
				rt.budget.deposit()
			}
			return nil
		}
		lastErr = err
		unreachable, notSent := IsUnreachable(err)
		if unreachable {
			c.markDown()
		}
		if ctx.Err() != nil || rt.cfg.Fail == FailFast {
			return err
		}
		retrySafe := sig != nil && sig.RetrySafe()
		k := service.KindOf(err)
		switch {
		case notSent || (unreachable && retrySafe):
			tried = append(tried, c)
			if len(tried) < len(rt.conns) {
				continue // another provider, at once
			}
		case rt.cfg.Fail == FailRetry && retrySafe && (k == service.KindUnavailable || k == service.KindOverloaded):
		default:
			return err
		}
		if rt.cfg.Fail != FailRetry || retries >= rt.cfg.Retries || !rt.budget.withdraw() {
			return err
		}
		if err := sleep(ctx, backoff(time.Duration(rt.cfg.Backoff), retries)); err != nil {
			return lastErr
		}
		retries++
		tried = tried[:0]
	}
}

// noProvider is the error of a call that found no provider to take it:
// the last failure, a refusal (an incompatible provider), or every
// provider being down.
func (b *Binding) noProvider(rt *route, lastErr, refusal error) error {
	switch {
	case lastErr != nil:
		return lastErr
	case refusal != nil:
		if u, _ := IsUnreachable(refusal); !u {
			return refusal
		}
	}
	return &service.Error{Op: b.iface, Kind: service.KindUnavailable,
		Message: fmt.Sprintf("every provider of %s is down (%d)", b.iface, len(rt.conns))}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// signature returns what c said of the method, or nil.
func (b *Binding) signature(c *conn, method string) *Signature {
	in, _ := c.desc(b.iface)
	if in == nil {
		return nil
	}
	return in.Methods[method]
}

// checkArgs checks the arguments whose Go type says nothing (any)
// against the provider's input types, so that a bad one fails here,
// before anything is sent. The others were checked at bind time, type
// against type.
func (b *Binding) checkArgs(e *expectation, sig *Signature, call *Call) error {
	for i, p := range e.params {
		if !p.check {
			continue
		}
		var v any
		j := i
		if e.byName != nil {
			var sent bool
			if v, sent = call.Named[p.name]; !sent {
				continue
			}
			j = inputIndex(sig, p.name)
		} else {
			if i >= len(call.Args) {
				break
			}
			v = call.Args[i]
		}
		if j < 0 || j >= len(sig.types) {
			continue
		}
		if err := sig.types[j].Check(v); err != nil {
			return &service.Error{Op: b.iface + "." + e.name, Kind: service.KindInvalid,
				Message: fmt.Sprintf("argument %q: %v", sig.Inputs[j].Name, err)}
		}
	}
	return nil
}

// routingKey returns the hash of the argument that picks the provider,
// when the route balances by key and the method has that input.
func (b *Binding) routingKey(rt *route, e *expectation, call *Call) (uint64, bool) {
	if rt.cfg.Balance != BalanceKey {
		return 0, false
	}
	if e.byName != nil {
		v, ok := call.Named[rt.cfg.Key]
		return keyHash(v), ok
	}
	for _, c := range rt.conns {
		if sig := b.signature(c, e.name); sig != nil {
			if i := inputIndex(sig, rt.cfg.Key); i >= 0 && i < len(call.Args) {
				return keyHash(call.Args[i]), true
			}
			return 0, false
		}
	}
	return 0, false
}

// Stream calls a method whose result streams and yields its items as
// glyph values, an error last: what a stub of such a method ranges over.
// A stream is not failed over once it started.
func (b *Binding) Stream(ctx context.Context, method string, args []any) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		e := b.methods[method]
		if e == nil {
			yield(nil, &service.Error{Op: b.iface + "." + method, Kind: service.KindNotFound, Message: "the binding has no method " + method})
			return
		}
		call := Call{Interface: b.iface, Method: method}
		if err := b.setArgs(&call, e, args); err != nil {
			yield(nil, err)
			return
		}
		rt := b.slot.cur.Load()
		if rt == nil {
			yield(nil, b.noRoute())
			return
		}
		call.Header = client.CallHeader(ctx)
		key, hasKey := b.routingKey(rt, e, &call)
		c, err := b.pick(ctx, rt, key, hasKey, nil)
		if c == nil {
			yield(nil, b.noProvider(rt, nil, err))
			return
		}
		if sig := b.signature(c, method); sig != nil {
			if err := b.checkArgs(e, sig, &call); err != nil {
				yield(nil, err)
				return
			}
			call.ReadOnly = sig.ReadOnly
		}
		p, err := c.provider(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		s, ok := p.(Streamer)
		if !ok {
			yield(nil, &service.Error{Op: b.iface + "." + method, Kind: service.KindUnsupported, Message: "transport " + p.Capabilities().Transport + " does not stream"})
			return
		}
		c.pending.Add(1)
		defer c.pending.Add(-1)
		for v, err := range s.Stream(ctx, &call) {
			if err != nil {
				if u, _ := IsUnreachable(err); u {
					c.markDown()
				}
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// decode stores a glyph value (a streamed item) in the Go value out
// points to, as the wire would decode it.
func decode(v any, out any) error {
	b, err := wire.Marshal(v)
	if err == nil {
		err = wire.Unmarshal(b, out)
	}
	if err != nil {
		return &service.Error{Kind: service.KindInternal, Message: fmt.Sprintf("cannot decode a result item into %T: %v", out, err), Err: err}
	}
	return nil
}
