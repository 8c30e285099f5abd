package client

import (
	"context"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"sync"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// seqArg is an argument given as a Go iterator, an iter.Seq[T] or an
// iter.Seq2[T, error]: a streamed argument.
type seqArg struct {
	fn    reflect.Value // the sequence, a func(yield func(T) bool)
	yield reflect.Type  // the type of its yield func
	seq2  bool          // yield takes (T, error)
	name  string        // the input's name
	t     hyper.Type    // the input's type
}

// seqOf returns a as a streamed argument, when it is a Go iterator:
// a func(yield func(T) bool), such as an iter.Seq[T], or a
// func(yield func(T, error) bool), such as an iter.Seq2[T, error].
func seqOf(a any) (*seqArg, bool) {
	if a == nil {
		return nil, false
	}
	t := reflect.TypeOf(a)
	if t.Kind() != reflect.Func || t.NumIn() != 1 || t.NumOut() != 0 || t.IsVariadic() {
		return nil, false
	}
	y := t.In(0)
	if y.Kind() != reflect.Func || y.NumOut() != 1 || y.Out(0).Kind() != reflect.Bool || y.IsVariadic() {
		return nil, false
	}
	s := &seqArg{fn: reflect.ValueOf(a), yield: y}
	switch {
	case y.NumIn() == 1:
	case y.NumIn() == 2 && y.In(1) == errorType:
		s.seq2 = true
	default:
		return nil, false
	}
	return s, true
}

// itemType is the type each item is checked against: the element type
// of a list input; ok is false for inputs of other types.
func (s *seqArg) itemType() (t hyper.Type, ok bool) {
	if s.t.Name != "list" {
		return hyper.Type{}, false
	}
	return s.t.Elem(), true
}

// each ranges over the sequence, converting each item as an argument is
// converted (and checking it against the item type of a list input), and
// calls fn with it until fn returns false or an error. It returns the
// first error: an iter.Seq2's, an item's, or fn's.
func (s *seqArg) each(op string, fn func(item any) (bool, error)) error {
	if s.fn.IsNil() {
		return &service.Error{Op: op, Kind: service.KindInvalid, Message: fmt.Sprintf("argument %q is a nil sequence", s.name)}
	}
	et, check := s.itemType()
	var failed error
	done, i := false, 0
	no := reflect.Zero(s.yield.Out(0))
	yes := reflect.ValueOf(true).Convert(s.yield.Out(0))
	yield := reflect.MakeFunc(s.yield, func(in []reflect.Value) []reflect.Value {
		if done {
			return []reflect.Value{no}
		}
		if s.seq2 && !in[1].IsNil() {
			failed, done = seqError(op, s.name, in[1].Interface().(error)), true
			return []reflect.Value{no}
		}
		val, err := argValue(in[0].Interface(), et)
		if err == nil && check {
			err = checkType(et, val)
		}
		if err != nil {
			failed, done = &service.Error{Op: op, Kind: service.KindInvalid, Message: fmt.Sprintf("argument %q: item %d: %v", s.name, i, err)}, true
			return []reflect.Value{no}
		}
		i++
		more, err := fn(val)
		if err != nil || !more {
			failed, done = err, true
			return []reflect.Value{no}
		}
		return []reflect.Value{yes}
	})
	s.fn.Call([]reflect.Value{yield})
	return failed
}

// seqError is the error an iter.Seq2 yielded, which ends the call.
func seqError(op, name string, err error) error {
	if _, ok := err.(*service.Error); ok {
		return err
	}
	return &service.Error{Op: op, Kind: service.KindOf(err), Message: fmt.Sprintf("argument %q: %v", name, err), Err: err}
}

// collect gathers the items into the list HTTP sends, at most max items
// (no bound if max < 0).
func (s *seqArg) collect(op string, max int) ([]any, error) {
	items := []any{}
	err := s.each(op, func(item any) (bool, error) {
		if max >= 0 && len(items) >= max {
			return false, &service.Error{Op: op, Kind: service.KindTooLarge, Message: fmt.Sprintf("argument %q: more than %d items", s.name, max)}
		}
		items = append(items, item)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if err := checkType(s.t, items); err != nil {
		return nil, &service.Error{Op: op, Kind: service.KindInvalid, Message: fmt.Sprintf("argument %q: %v", s.name, err)}
	}
	return items, nil
}

// collectSeqs replaces the streamed arguments among bound by the lists of
// their items, as HTTP sends them.
func (v *Value) collectSeqs(op string, bound []arg) error {
	for i := range bound {
		if s, ok := bound[i].value.(*seqArg); ok {
			items, err := s.collect(op, v.c.maxStreamItems())
			if err != nil {
				return err
			}
			bound[i].value = items
		}
	}
	return nil
}

// seqSender sends the items of a streamed argument over a peer call.
type seqSender struct {
	done chan struct{} // closed when the sender ends
	mu   sync.Mutex    // guards err
	err  error         // why sending failed, which ends the call
}

// startPeerSeq calls method at endpoint with a streamed argument: the
// items of seq are sent one message each, from a goroutine, while the
// results are read.
func (c *Client) startPeerSeq(ctx context.Context, op, endpoint, method string, seq *seqArg, safe bool, header map[string]string) (*peerCall, error) {
	conn, err := c.peerConn(ctx, op, endpoint)
	if err != nil {
		return nil, err
	}
	st, err := conn.NewStream(ctx, method, c.callOptions(ctx, safe, header)...)
	if err != nil {
		return nil, peerError(op, err)
	}
	pc := &peerCall{c: c, endpoint: endpoint, method: method, op: op, st: st, ctx: ctx,
		sender: &seqSender{done: make(chan struct{})}}
	go pc.sendSeq(seq, conn.Codec() == "glyph", slices.Contains(conn.Extensions(), "end"))
	return pc, nil
}

// callOptions are the options of a call: safe or not, its headers,
// those of the client (WithHeader) and the form's, and the interceptors'
// Sizes that ctx carries, which the call counts in.
func (c *Client) callOptions(ctx context.Context, safe bool, header map[string]string) []peer.CallOption {
	var opts []peer.CallOption
	if sizes, _ := ctx.Value(sizesKey{}).(*intercept.Sizes); sizes != nil {
		opts = append(opts, peer.WithSizes(sizes))
	}
	if safe {
		opts = append(opts, peer.Safe())
	}
	switch {
	case len(c.callHeader) == 0:
	case len(header) == 0:
		header = c.callHeader
	default:
		merged := maps.Clone(c.callHeader)
		maps.Copy(merged, header) // the form's own headers win
		header = merged
	}
	if len(header) > 0 {
		opts = append(opts, peer.WithCallHeader(header))
	}
	return opts
}

// sendSeq sends the items of seq, then ends the arguments. A failure (an
// iter.Seq2's error, a bad item, a sequence without items) cancels the
// call, and is its error. A sequence without items needs the extension
// "end" (end is true): without it, a stream ended before any item reaches
// the service as one null item, which cannot mean the empty list HTTP
// sends, so it is refused.
func (pc *peerCall) sendSeq(seq *seqArg, glyph, end bool) {
	s := pc.sender
	defer close(s.done)
	n, ended := 0, false
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = &service.Error{Op: pc.op, Kind: service.KindInternal, Message: fmt.Sprintf("argument %q: the sequence panicked: %v", seq.name, p)}
			}
		}()
		return seq.each(pc.op, func(item any) (bool, error) {
			if !glyph && holdsBlob(item) {
				return false, &service.Error{Op: pc.op, Kind: service.KindUnsupported, Message: "blobs need the glyph codec"}
			}
			switch err := pc.st.Send(item); err {
			case nil:
				n++
				return true, nil
			case io.EOF: // the call ended: Recv says how
				ended = true
				return false, nil
			default:
				return false, peerError(pc.op, err)
			}
		})
	}()
	if err == nil && n == 0 && !ended && !end {
		err = &service.Error{Op: pc.op, Kind: service.KindUnsupported, Message: fmt.Sprintf("argument %q: a sequence without items cannot be streamed to a baseline peer (it would receive one null item)", seq.name)}
	}
	if err == nil && !ended {
		if e := pc.st.CloseSend(); e != nil && e != io.EOF {
			err = peerError(pc.op, e)
		}
	}
	if err != nil {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		pc.st.Close()
	}
}

// sendFailure returns why sending the streamed argument failed, if it
// did: the call's error then, rather than the cancellation it caused.
func (pc *peerCall) sendFailure() error {
	if pc.sender == nil {
		return nil
	}
	pc.sender.mu.Lock()
	defer pc.sender.mu.Unlock()
	return pc.sender.err
}

// waitSender waits for the sender of a streamed argument to stop (the
// stream is closed, so it stops at its next item), or for ctx to end.
func (pc *peerCall) waitSender() {
	if pc.sender == nil {
		return
	}
	select {
	case <-pc.sender.done:
	case <-pc.ctx.Done():
	}
}
