package service

import (
	"context"
	"fmt"
	"iter"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// Stream is a result that arrives as a sequence of values: what Serve
// answers (in Result.Value) for a function or method whose result is an
// iter.Seq[T] or an iter.Seq2[T, error]. Each item is a glyph value,
// mapped like any result (instances of registered classes become
// resources, and so on). The function's code runs as the transport
// ranges over the Stream, not before: stopping the range early stops it.
//
// An error is the last item: an iter.Seq2's error (as an *Error, mapped
// as Serve maps errors), a panic in the producer (a [KindInternal] error with
// a logref), or an item that cannot be mapped. A Stream may be ranged
// over once; a second range yields nothing. The call ends when the range
// does: until then, the callbacks it was given stay valid.
type Stream iter.Seq2[any, error]

// seqKind tells the iterator types a function may stream through.
type seqKind uint8

const (
	notSeq seqKind = iota
	seq1           // iter.Seq[T]
	seq2           // iter.Seq2[T, error]
)

// seqOf reports whether t is an iter.Seq[T] or an iter.Seq2[T, error],
// and T. Another iter.Seq2 is an error: only an error may come second.
func seqOf(t reflect.Type) (seqKind, reflect.Type, error) {
	if t.Kind() != reflect.Func || t.PkgPath() != "iter" || t.NumIn() != 1 || t.NumOut() != 0 {
		return notSeq, nil, nil
	}
	y := t.In(0)
	switch {
	case strings.HasPrefix(t.Name(), "Seq["):
		return seq1, y.In(0), nil
	case strings.HasPrefix(t.Name(), "Seq2["):
		if y.In(1) != errorType {
			return notSeq, nil, fmt.Errorf("%s streams only as iter.Seq2[T, error]", t)
		}
		return seq2, y.In(0), nil
	}
	return notSeq, nil, nil
}

// invocation is what one call of a function with streaming or callback
// inputs shares with the values bound to them, and which outlives the
// binding: whether the call has ended, and why an iter.Seq input stopped.
// A nil *invocation (for other functions) has neither.
type invocation struct {
	ended atomic.Bool // the call is over: its callbacks refuse to run

	mu     sync.Mutex // guards argErr
	argErr *Error     // an iter.Seq input stopped on it: the call fails
}

// end marks the call as over.
func (inv *invocation) end() {
	if inv != nil {
		inv.ended.Store(true)
	}
}

// over reports whether the call is over.
func (inv *invocation) over() bool { return inv != nil && inv.ended.Load() }

// failArg records why an iter.Seq input stopped (the first reason).
func (inv *invocation) failArg(e *Error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.argErr == nil {
		inv.argErr = e
	}
}

// argError returns why an iter.Seq input stopped, or nil.
func (inv *invocation) argError() *Error {
	if inv == nil {
		return nil
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.argErr
}

// seqResult is what call returns for a streaming function: the iterator
// it returned, not yet ranged over, and the call it ends.
type seqResult struct {
	seq  reflect.Value // an iter.Seq[T] or iter.Seq2[T, error]
	kind seqKind
	inv  *invocation
}

var (
	trueValue  = reflect.ValueOf(true)
	falseValue = reflect.ValueOf(false)
)

// stream turns what a streaming callable returned into the Stream a
// transport ranges over: each item mapped by present, an error or a
// panic ending it as an error item. me is as for result.
func (s *Service) stream(ctx context.Context, root string, c *callable, r *seqResult, me self) Stream {
	var used atomic.Bool
	return func(yield func(any, error) bool) {
		if used.Swap(true) {
			return
		}
		defer r.inv.end()
		stopped := false // the transport stopped, or an error ended the stream
		inBody := false  // the transport's loop body is running
		send := func(v any, err error) bool {
			if stopped {
				return false
			}
			inBody = true
			ok := yield(v, err)
			inBody = false
			stopped = !ok || err != nil
			return !stopped
		}
		item := func(v reflect.Value, err error) bool {
			if stopped {
				return false // a producer that goes on after being told to stop
			}
			if e := r.inv.argError(); e != nil {
				return send(nil, e)
			}
			if err != nil {
				return send(nil, s.fail(c.op, err))
			}
			x, err := s.present(ctx, root, v, 0, me)
			if err != nil {
				return send(nil, s.fail(c.op, err))
			}
			return send(x, nil)
		}
		defer func() {
			if p := recover(); p != nil {
				if inBody {
					panic(p) // the transport's own: not ours to report
				}
				send(nil, s.panicked(c.op, p))
			}
		}()
		if !r.seq.IsNil() {
			kind := r.kind
			y := reflect.MakeFunc(r.seq.Type().In(0), func(args []reflect.Value) []reflect.Value {
				var err error
				if kind == seq2 && !args[1].IsNil() {
					err = args[1].Interface().(error)
				}
				if item(args[0], err) {
					return []reflect.Value{trueValue}
				}
				return []reflect.Value{falseValue}
			})
			r.seq.Call([]reflect.Value{y})
		}
		if e := r.inv.argError(); e != nil {
			send(nil, e)
		}
	}
}

// bindSeq binds a value to an iter.Seq or iter.Seq2 input: a list (the
// argument of a transport without streams, such as HTTP), whose items it
// yields, or an iterator of the input's type from an in-process caller.
func (s *Service) bindSeq(c *callable, i int, a any, inv *invocation) (reflect.Value, error) {
	p := &c.params[i]
	if a != nil && reflect.TypeOf(a).AssignableTo(p.typ) {
		v := reflect.New(p.typ).Elem()
		v.Set(reflect.ValueOf(a))
		return v, nil
	}
	if err := anyList.Check(a); err != nil {
		return reflect.Value{}, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("argument %q: expected %s, got %s", p.name, p.typeName, wire.TypeName(a))}
	}
	return s.seqArg(c, i, listItems(a), inv), nil
}

// anyList is the list type whose items may be anything.
var anyList = hyper.Type{Name: "list"}

// listItems yields the items of a list: a []any, or another Go slice or
// array (which anyList.Check accepted).
func listItems(a any) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		if l, ok := a.([]any); ok {
			for _, x := range l {
				if !yield(x, nil) {
					return
				}
			}
			return
		}
		v := reflect.Indirect(reflect.ValueOf(a))
		for i := 0; i < v.Len(); i++ {
			if !yield(v.Index(i).Interface(), nil) {
				return
			}
		}
	}
}

// seqArg returns a value of input i's type (an iter.Seq[T] or
// iter.Seq2[T, error]) that yields the items of src converted to T, once.
// An item that does not convert, or an error from src, is an *Error: an
// iter.Seq2 yields it with a zero T and goes on; an iter.Seq stops, and
// the call fails with it (inv records it).
func (s *Service) seqArg(c *callable, i int, src iter.Seq2[any, error], inv *invocation) reflect.Value {
	p := &c.params[i]
	var used atomic.Bool
	return reflect.MakeFunc(p.typ, func(args []reflect.Value) []reflect.Value {
		if used.Swap(true) {
			return nil
		}
		yield := args[0]
		n := 0
		for a, err := range src {
			var v reflect.Value
			var e *Error
			if err != nil {
				e = s.fail(c.op, err)
			} else {
				v, e = convertItem(c, p, n, a)
			}
			n++
			if e != nil && p.seq == seq1 {
				inv.failArg(e)
				return nil
			}
			in := []reflect.Value{v}
			if p.seq == seq2 {
				ev := reflect.Zero(errorType)
				if e != nil {
					in[0] = reflect.Zero(p.elem)
					ev = reflect.New(errorType).Elem()
					ev.Set(reflect.ValueOf(e))
				}
				in = append(in, ev)
			}
			if !yield.Call(in)[0].Bool() {
				return nil
			}
		}
		return nil
	})
}

// convertItem checks item n of a streamed input against its type and
// converts it, as convertArg does for a whole argument.
func convertItem(c *callable, p *param, n int, a any) (reflect.Value, *Error) {
	if a == nil || !reflect.TypeOf(a).AssignableTo(p.elem) {
		if err := p.elemType.Check(a); err != nil {
			return reflect.Value{}, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("argument %q: item %d: %v", p.name, n, err)}
		}
	}
	v, err := convert(a, p.elem)
	if err != nil {
		return reflect.Value{}, &Error{Op: c.op, Kind: KindInvalid, Message: fmt.Sprintf("argument %q: item %d: %v", p.name, n, err)}
	}
	return v, nil
}
