package service_test

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// streamOf returns the Stream a Result holds, failing when it holds none.
func streamOf(t testing.TB, res *service.Result) service.Stream {
	t.Helper()
	st, ok := res.Value.(service.Stream)
	if !ok {
		t.Fatalf("result is %T, want a service.Stream", res.Value)
	}
	if res.Cacheable {
		t.Errorf("a stream is cacheable")
	}
	return st
}

// drain ranges over a Stream as a transport does: the items (after an
// encode and decode, as a client sees them) up to the first error.
func drain(t testing.TB, st service.Stream) ([]any, error) {
	t.Helper()
	var out []any
	for v, err := range st {
		if err != nil {
			return out, err
		}
		out = append(out, value(t, &service.Result{Value: v}))
	}
	return out, nil
}

// source is a transport's stream of argument values; an error value in
// vals is yielded as an error.
func source(vals ...any) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for _, v := range vals {
			var ok bool
			if err, isErr := v.(error); isErr {
				ok = yield(nil, err)
			} else {
				ok = yield(v, nil)
			}
			if !ok {
				return
			}
		}
	}
}

// Tick is a class whose instances a stream yields.
type Tick struct{ N int }

// Next is a method of every Tick's resource.
func (t Tick) Next() Tick { return Tick{t.N + 1} }

func TestStreamResult(t *testing.T) {
	s, logs := newLogged()
	s.MustClass("Tick", Tick{})
	s.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}
	}, service.Args("n"), service.Safe())
	s.MustFunc("fails", func(err error) iter.Seq2[string, error] {
		return func(yield func(string, error) bool) {
			if yield("a", nil) && yield("b", nil) {
				yield("", err)
			}
		}
	}, service.Args("err"))
	s.MustFunc("ticks", func() iter.Seq[Tick] {
		return func(yield func(Tick) bool) { _ = yield(Tick{1}) && yield(Tick{2}) }
	})
	s.MustFunc("refuse", func() (iter.Seq[int], error) {
		return nil, service.Errorf(service.KindPermissionDenied, "not for you")
	})
	s.MustFunc("empty", func() iter.Seq[int] { return nil })

	t.Run("items", func(t *testing.T) {
		res := mustDo(t, s, getQuery("/count", "n", int64(3)))
		got, err := drain(t, streamOf(t, res))
		if err != nil || !reflect.DeepEqual(got, []any{int64(0), int64(1), int64(2)}) {
			t.Errorf("got %v, %v", got, err)
		}
	})
	t.Run("ranged once", func(t *testing.T) {
		st := streamOf(t, mustDo(t, s, getQuery("/count", "n", int64(2))))
		drain(t, st)
		if got, err := drain(t, st); len(got) != 0 || err != nil {
			t.Errorf("second range: %v, %v", got, err)
		}
	})
	t.Run("nil iterator is empty", func(t *testing.T) {
		if got, err := drain(t, streamOf(t, mustDo(t, s, post("/empty")))); len(got) != 0 || err != nil {
			t.Errorf("got %v, %v", got, err)
		}
	})
	t.Run("error before the stream", func(t *testing.T) {
		_, err := do(t, s, post("/refuse"))
		wantErr(t, err, service.KindPermissionDenied, "refuse: not for you")
	})

	errorCases := []struct {
		name string
		err  error
		kind service.Kind
		msg  string
	}{
		{"kind kept", service.Errorf(service.KindNotFound, "gone"), service.KindNotFound, "fails: gone"},
		{"context", context.Canceled, service.KindCanceled, "fails: canceled"},
		{"other", errors.New("disk on fire"), service.KindInternal, "fails: disk on fire"},
	}
	for _, c := range errorCases {
		t.Run("error mid-stream: "+c.name, func(t *testing.T) {
			res, err := s.Serve(context.Background(), &service.Request{Method: "POST", Path: "fails", Positional: []any{c.err}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := drain(t, streamOf(t, res))
			if !reflect.DeepEqual(got, []any{"a", "b"}) {
				t.Errorf("items %v before the error", got)
			}
			wantErr(t, err, c.kind, c.msg)
			var e *service.Error
			if errors.As(err, &e) && (e.Logref != "") != (c.kind == service.KindInternal) {
				t.Errorf("logref %q for %v", e.Logref, c.kind)
			}
			if e != nil && e.Logref != "" && !strings.Contains(logs.String(), e.Logref) {
				t.Errorf("logref %s is not in the log", e.Logref)
			}
		})
	}

	t.Run("class instances become resources", func(t *testing.T) {
		got, err := drain(t, streamOf(t, mustDo(t, s, post("/ticks"))))
		if err != nil || len(got) != 2 {
			t.Fatalf("got %v, %v", got, err)
		}
		for i, v := range got {
			r, ok := v.(hyper.Resource)
			if !ok || r.Name != "Tick" || !strings.HasPrefix(r.URL, "/Tick/?") || r.Content["N"] != int64(i+1) {
				t.Errorf("item %d: %#v", i, v)
			}
			if _, ok := r.Content["next"].(hyper.Form); !ok {
				t.Errorf("item %d has no form for next: %#v", i, r.Content)
			}
		}
	})
}

func TestStreamStops(t *testing.T) {
	s, logs := newLogged()
	produced, done := 0, false
	s.MustFunc("forever", func() iter.Seq[int] {
		return func(yield func(int) bool) {
			defer func() { done = true }()
			for i := 0; ; i++ {
				produced++
				if !yield(i) {
					return
				}
			}
		}
	})
	s.MustFunc("boom", func() iter.Seq[int] {
		return func(yield func(int) bool) {
			yield(1)
			panic("secret detail")
		}
	})
	s.MustFunc("stubborn", func() iter.Seq[int] {
		// Goes on after being told to stop: the transport must not see it.
		return func(yield func(int) bool) {
			for i := range 5 {
				yield(i)
			}
		}
	})

	t.Run("break stops the producer", func(t *testing.T) {
		n := 0
		for _, err := range streamOf(t, mustDo(t, s, post("/forever"))) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 3 {
				break
			}
		}
		if produced != 3 || !done {
			t.Errorf("produced %d items (done %v) for a range that took 3", produced, done)
		}
	})
	t.Run("a producer that ignores the stop", func(t *testing.T) {
		n := 0
		for range streamOf(t, mustDo(t, s, post("/stubborn"))) {
			if n++; n == 2 {
				break
			}
		}
		if n != 2 {
			t.Errorf("took %d items", n)
		}
	})
	t.Run("panic in the producer", func(t *testing.T) {
		got, err := drain(t, streamOf(t, mustDo(t, s, post("/boom"))))
		if !reflect.DeepEqual(got, []any{int64(1)}) {
			t.Errorf("items %v", got)
		}
		wantErr(t, err, service.KindInternal, "boom: internal error")
		var e *service.Error
		errors.As(err, &e)
		if strings.Contains(e.Error(), "secret") || e.Logref == "" || !strings.Contains(logs.String(), e.Logref) ||
			!strings.Contains(logs.String(), "secret detail") {
			t.Errorf("error %v; log:\n%s", e, logs.String())
		}
	})
	t.Run("the transport's own panic goes on", func(t *testing.T) {
		type mine struct{}
		defer func() {
			if p := recover(); p != (mine{}) {
				t.Errorf("recovered %v, want the loop body's panic", p)
			}
		}()
		for range streamOf(t, mustDo(t, s, post("/forever"))) {
			panic(mine{})
		}
	})
}

func TestStreamRegistration(t *testing.T) {
	s := service.New()
	bad := []struct {
		name string
		fn   any
		opts []service.FuncOption
		msg  string
	}{
		{"inline stream", func() iter.Seq[int] { return nil }, []service.FuncOption{service.Inline()}, "inline functions cannot stream"},
		{"seq2 without error", func() iter.Seq2[int, string] { return nil }, nil, "streams only as iter.Seq2[T, error]"},
		{"two streaming inputs", func(a, b iter.Seq[int]) {}, []service.FuncOption{service.Args("a", "b")}, `a second streaming input ("a" streams already)`},
		{"default for a stream", func(a iter.Seq[int]) {}, []service.FuncOption{service.Args("a"), service.Default("a", []int{1})}, "a streaming input takes no default"},
		{"seq2 input without error", func(a iter.Seq2[int, int]) {}, []service.FuncOption{service.Args("a")}, `input "a": iter.Seq2[int,int] streams only`},
	}
	for _, c := range bad {
		err := s.Func("f", c.fn, c.opts...)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.msg)
		}
	}
}

func TestStreamArgs(t *testing.T) {
	s, _ := newLogged()
	var seen []int // what sum's loop got
	s.MustFunc("sum", func(xs iter.Seq[int], scale int) int {
		seen = nil
		n := 0
		for x := range xs {
			seen = append(seen, x)
			n += x
		}
		return n * scale
	}, service.Args("xs", "scale"), service.Default("scale", 1))
	s.MustFunc("report", func(xs iter.Seq2[int, error]) []string {
		var out []string
		for x, err := range xs {
			if err != nil {
				out = append(out, service.KindOf(err).String()+": "+err.Error())
				continue
			}
			out = append(out, string(rune('0'+x)))
		}
		return out
	}, service.Args("xs"))
	s.MustFunc("twice", func(xs iter.Seq[string]) []int {
		var n [2]int
		for i := range n {
			for range xs {
				n[i]++
			}
		}
		return n[:]
	}, service.Args("xs"))
	s.MustFunc("needs", func(xs iter.Seq[int], label string) string { return label }, service.Args("xs", "label"))
	s.MustFunc("double", func(xs iter.Seq[int]) iter.Seq[int] {
		return func(yield func(int) bool) {
			for x := range xs {
				if !yield(2 * x) {
					return
				}
			}
		}
	}, service.Args("xs"))

	streamed := func(path string, src iter.Seq2[any, error]) (*service.Result, error) {
		// A peer sets Positional (and maybe Args) from the first message
		// too: a function with a streaming input ignores them.
		return s.Serve(context.Background(), &service.Request{Method: "POST", Path: path, Stream: src,
			Positional: []any{"first message"}})
	}

	t.Run("form", func(t *testing.T) {
		f := formOf(t, s, "sum")
		if f.Values[0].Name != "xs" || f.Values[0].Type != "integer list/1" {
			t.Errorf("input %+v, want xs of type integer list/1", f.Values[0])
		}
	})
	t.Run("from a stream", func(t *testing.T) {
		res, err := streamed("sum", source(int64(1), int64(2), int64(3)))
		if err != nil || value(t, res) != int64(6) {
			t.Errorf("got %v, %v", res, err)
		}
	})
	t.Run("from a list", func(t *testing.T) {
		if v := value(t, mustDo(t, s, post("/sum", "xs", []any{int64(1), int64(2)}, "scale", int64(10)))); v != int64(30) {
			t.Errorf("named: got %v", v)
		}
		if v := value(t, mustDo(t, s, postPos("/sum", []any{int64(4)}))); v != int64(4) {
			t.Errorf("positional: got %v", v)
		}
	})
	t.Run("not a list", func(t *testing.T) {
		_, err := do(t, s, post("/sum", "xs", "1,2"))
		wantErr(t, err, service.KindInvalid, `sum: argument "xs": expected integer list/1, got unicode`)
		_, err = do(t, s, post("/sum"))
		wantErr(t, err, service.KindInvalid, `missing argument "xs"`)
	})
	for _, c := range []struct {
		name string
		src  iter.Seq2[any, error]
		kind service.Kind
		msg  string
	}{
		{"bad item", source(int64(1), "two", int64(3)), service.KindInvalid, `sum: argument "xs": item 1: expected integer, got unicode`},
		{"transport error", source(int64(1), context.Canceled), service.KindCanceled, "sum: canceled"},
	} {
		t.Run(c.name+" fails the call", func(t *testing.T) {
			_, err := streamed("sum", c.src)
			wantErr(t, err, c.kind, c.msg)
			if !reflect.DeepEqual(seen, []int{1}) {
				t.Errorf("the function saw %v, want the items before the failure", seen)
			}
		})
	}
	t.Run("bad item in a list", func(t *testing.T) {
		_, err := do(t, s, post("/sum", "xs", []any{int64(1), 2.5}))
		wantErr(t, err, service.KindInvalid, `argument "xs": item 1: expected integer, got float`)
	})
	t.Run("seq2 gets the errors", func(t *testing.T) {
		res, err := streamed("report", source(int64(1), "two", int64(3), errors.New("lost")))
		if err != nil {
			t.Fatal(err)
		}
		want := []any{"1", `invalid: report: argument "xs": item 1: expected integer, got unicode`, "3", "internal: report: lost"}
		got := value(t, res).([]any)
		if len(got) != len(want) {
			t.Fatalf("got %q, want %q", got, want)
		}
		for i := range want {
			if !strings.HasPrefix(got[i].(string), want[i].(string)) {
				t.Errorf("item %d: %q, want %q", i, got[i], want[i])
			}
		}
	})
	t.Run("ranged once", func(t *testing.T) {
		res, err := streamed("twice", source("a", "b", "c"))
		if err != nil || !reflect.DeepEqual(value(t, res), []any{int64(3), int64(0)}) {
			t.Errorf("stream: %v, %v", res, err)
		}
		res = mustDo(t, s, post("/twice", "xs", []any{"a"}))
		if !reflect.DeepEqual(value(t, res), []any{int64(1), int64(0)}) {
			t.Errorf("list: %v", value(t, res))
		}
	})
	t.Run("other inputs take their defaults", func(t *testing.T) {
		_, err := streamed("needs", source(int64(1)))
		wantErr(t, err, service.KindInvalid, `needs: missing argument "label"`)
	})
	t.Run("without a streaming input the stream is ignored", func(t *testing.T) {
		s.MustFunc("echo", func(a, b string) string { return a + b }, service.Args("a", "b"))
		res, err := s.Serve(context.Background(), &service.Request{Method: "POST", Path: "echo",
			Stream: source("x"), Positional: []any{"p", "q"}})
		if err != nil || value(t, res) != "pq" {
			t.Errorf("got %v, %v", res, err)
		}
	})
	t.Run("a stream that may be the arguments", func(t *testing.T) {
		// What a peer that cannot tell a stream of one item from the
		// call's arguments hands over: the message as both.
		either := func(path string, msg any, args ...any) (*service.Result, error) {
			req := &service.Request{Method: "POST", Path: path, Stream: source(msg), StreamOrArgs: true}
			if len(args) > 0 {
				req.Args = wire.NewOrderedDict(args...)
			} else {
				req.Positional = []any{msg}
			}
			return s.Serve(context.Background(), req)
		}
		for _, c := range []struct {
			name string
			msg  any
			args []any
			want any
		}{
			{"the named arguments", map[string]any{"xs": []any{int64(1), int64(2)}, "scale": int64(3)}, []any{"xs", []any{int64(1), int64(2)}, "scale", int64(3)}, int64(9)},
			{"a scalar is an item", int64(5), nil, int64(5)},
			{"a list is an item", []any{int64(5)}, nil, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				res, err := either("sum", c.msg, c.args...)
				if c.want == nil {
					wantErr(t, err, service.KindInvalid, `sum: argument "xs": item 0: expected integer, got list`)
					return
				}
				if err != nil || value(t, res) != c.want {
					t.Errorf("got %v, %v; want %v", res, err, c.want)
				}
			})
		}
		// Names that are not all inputs, or lack the streamed one: an item.
		_, err := either("sum", map[string]any{"scale": int64(2)}, "scale", int64(2))
		wantErr(t, err, service.KindInvalid, `sum: argument "xs": item 0: expected integer, got dict`)
		_, err = either("sum", map[string]any{"xs": int64(1), "z": int64(2)}, "xs", int64(1), "z", int64(2))
		wantErr(t, err, service.KindInvalid, `sum: argument "xs": item 0: expected integer, got dict`)
		// Without the mark a Stream is a stream, whatever Args hold.
		res, err := s.Serve(context.Background(), &service.Request{Method: "POST", Path: "sum", Stream: source(int64(4)),
			Args: wire.NewOrderedDict("xs", []any{int64(1)})})
		if err != nil || value(t, res) != int64(4) {
			t.Errorf("a stream with Args: %v, %v; want its item 4", res, err)
		}
	})
	t.Run("streaming in and out", func(t *testing.T) {
		res, err := streamed("double", source(int64(1), int64(2)))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := drain(t, streamOf(t, res)); err != nil || !reflect.DeepEqual(got, []any{int64(2), int64(4)}) {
			t.Errorf("got %v, %v", got, err)
		}
		// A bad item read while the result streams ends the stream with
		// its error.
		res, err = streamed("double", source(int64(1), "x", int64(3)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := drain(t, streamOf(t, res))
		if !reflect.DeepEqual(got, []any{int64(2)}) {
			t.Errorf("items %v", got)
		}
		wantErr(t, err, service.KindInvalid, `double: argument "xs": item 1: expected integer, got unicode`)
	})
}
