package service_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/service"
)

// peerCallbacks stands in for a peer transport's callbacks: references
// are names the caller registered, each answered by a function of the
// glyph arguments. It records every call.
type peerCallbacks struct {
	answer map[string]func(args []any) (any, error)

	mu    sync.Mutex // guards calls
	calls []string   // "name(args)" per call, with the context's ctxKey value
}

func (p *peerCallbacks) resolve(ref any) (service.CallbackFunc, error) {
	name, _ := ref.(string)
	answer, ok := p.answer[name]
	if !ok {
		return nil, fmt.Errorf("unknown callback %v", ref)
	}
	return func(ctx context.Context, args []any) (any, error) {
		p.mu.Lock()
		p.calls = append(p.calls, fmt.Sprintf("%s%v %v", name, args, ctx.Value(ctxKey{})))
		p.mu.Unlock()
		return answer(args)
	}, nil
}

func (p *peerCallbacks) called() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func TestCallbacks(t *testing.T) {
	s, logs := newLogged()
	var kept func(string) (int, error) // a callback the function keeps past its call
	s.MustFunc("shout", func(word string, measure func(string) (int, error)) (string, error) {
		kept = measure
		n, err := measure(strings.ToUpper(word))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s:%d", word, n), nil
	}, service.Args("word", "measure"))
	s.MustFunc("with_ctx", func(ctx context.Context, cb func(context.Context, int) error) error {
		return cb(context.WithValue(ctx, ctxKey{}, "the callback's"), 7)
	}, service.Args("cb"))
	s.MustFunc("no_error", func(cb func() int) int { return cb() + 1 }, service.Args("cb"))
	s.MustFunc("stream", func(cb func(int) bool) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := 0; cb(i) && yield(i); i++ {
			}
		}
	}, service.Args("cb"))
	var keptTick func(int) bool
	s.MustFunc("keep_tick", func(cb func(int) bool) { keptTick = cb }, service.Args("cb"))

	peer := &peerCallbacks{answer: map[string]func([]any) (any, error){
		"_callback.len":  func(args []any) (any, error) { return int64(len(args[0].(string))), nil },
		"_callback.word": func([]any) (any, error) { return "many", nil },
		"_callback.deny": func([]any) (any, error) {
			return nil, service.Errorf(service.KindPermissionDenied, "not now")
		},
		"_callback.fail":  func([]any) (any, error) { return nil, errors.New("peer crashed") },
		"_callback.nil":   func([]any) (any, error) { return nil, nil },
		"_callback.below": func(args []any) (any, error) { return args[0].(int) < 3, nil },
	}}
	ctx := context.WithValue(context.Background(), ctxKey{}, "the call's")
	serve := func(path string, pos ...any) (*service.Result, error) {
		return s.Serve(ctx, &service.Request{Method: "POST", Path: path, Positional: pos, Callback: peer.resolve})
	}

	t.Run("called with its arguments", func(t *testing.T) {
		peer.calls = nil
		res, err := serve("shout", "hey", "_callback.len")
		if err != nil || value(t, res) != "hey:3" {
			t.Fatalf("got %v, %v", res, err)
		}
		if got, want := peer.called(), []string{"_callback.len[HEY] the call's"}; !reflect.DeepEqual(got, want) {
			t.Errorf("calls %q, want %q", got, want)
		}
	})
	t.Run("used after its call", func(t *testing.T) {
		peer.calls = nil
		if _, err := serve("shout", "hey", "_callback.len"); err != nil {
			t.Fatal(err)
		}
		_, err := kept("late")
		wantErr(t, err, service.KindCanceled, "shout: callback used after its call ended")
		if len(peer.called()) != 1 {
			t.Errorf("the peer got a call after the call ended: %q", peer.called())
		}
	})
	t.Run("its context", func(t *testing.T) {
		peer.calls = nil
		peer.answer["_callback.ctx"] = func([]any) (any, error) { return nil, nil }
		if _, err := serve("with_ctx", "_callback.ctx"); err != nil {
			t.Fatal(err)
		}
		if got, want := peer.called(), []string{"_callback.ctx[7] the callback's"}; !reflect.DeepEqual(got, want) {
			t.Errorf("calls %q, want %q", got, want)
		}
	})
	errorCases := []struct {
		name, ref string
		kind      service.Kind
		msg       string
	}{
		{"its error's kind", "_callback.deny", service.KindPermissionDenied, "shout: not now"},
		{"other errors", "_callback.fail", service.KindInternal, "shout: peer crashed"},
		{"a result of the wrong type", "_callback.word", service.KindInvalid, `shout: callback "measure": result: expected integer, got unicode`},
		{"no result", "_callback.nil", service.KindInvalid, `callback "measure": result: expected integer, got nil`},
		{"an unknown reference", "_callback.nobody", service.KindInvalid, `shout: argument "measure": unknown callback _callback.nobody`},
	}
	for _, c := range errorCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := serve("shout", "hey", c.ref)
			wantErr(t, err, c.kind, c.msg)
		})
	}
	t.Run("without an error result", func(t *testing.T) {
		res, err := serve("no_error", "_callback.deny")
		if err != nil || value(t, res) != int64(1) {
			t.Errorf("got %v, %v; want the zero result plus one", res, err)
		}
		if !strings.Contains(logs.String(), `"level":"WARN","msg":"glyph: callback failed"`) ||
			!strings.Contains(logs.String(), "not now") {
			t.Errorf("the failure is not logged as a warning:\n%s", logs.String())
		}
	})
	t.Run("without a transport for them", func(t *testing.T) {
		_, err := do(t, s, postPos("/shout", "hey", "_callback.len"))
		wantErr(t, err, service.KindInvalid, `shout: argument "measure" is a callback: it needs a peer connection`)
	})
	t.Run("a Go func in process", func(t *testing.T) {
		res, err := s.Serve(ctx, &service.Request{Method: "POST", Path: "shout",
			Positional: []any{"hey", func(w string) (int, error) { return 42, nil }}})
		if err != nil || value(t, res) != "hey:42" {
			t.Errorf("got %v, %v", res, err)
		}
	})
	t.Run("valid while the result streams", func(t *testing.T) {
		peer.calls = nil
		res, err := serve("stream", "_callback.below")
		if err != nil {
			t.Fatal(err)
		}
		got, err := drain(t, streamOf(t, res))
		if err != nil || !reflect.DeepEqual(got, []any{int64(0), int64(1), int64(2)}) {
			t.Errorf("got %v, %v", got, err)
		}
		if n := len(peer.called()); n != 4 {
			t.Errorf("%d calls, want 4: %q", n, peer.called())
		}
	})
	t.Run("no error result after its call", func(t *testing.T) {
		if _, err := serve("keep_tick", "_callback.below"); err != nil {
			t.Fatal(err)
		}
		if keptTick(0) {
			t.Errorf("a callback used after its call returned true, want the zero result")
		}
		if !strings.Contains(logs.String(), "callback used after its call ended") {
			t.Errorf("the late use is not logged:\n%s", logs.String())
		}
	})
	t.Run("form", func(t *testing.T) {
		in := formOf(t, s, "shout").Values[1]
		if in.Name != "measure" || in.Type != "object" || in.HasDefault {
			t.Errorf("input %+v, want measure of type object without a default", in)
		}
	})
}

func TestCallbackRegistration(t *testing.T) {
	s := service.New()
	bad := []struct {
		name string
		fn   any
		opts []service.FuncOption
		msg  string
	}{
		{"default", func(cb func()) {}, []service.FuncOption{service.Args("cb"), service.Default("cb", func() {})}, `input "cb": a callback takes no default`},
		{"variadic", func(cb func(...int)) {}, []service.FuncOption{service.Args("cb")}, "variadic callbacks are not supported"},
		{"context not first", func(cb func(int, context.Context)) {}, []service.FuncOption{service.Args("cb")}, "a context.Context must be the callback's first parameter"},
		{"three results", func(cb func() (int, int, error)) {}, []service.FuncOption{service.Args("cb")}, "a callback returns at most a value and an error"},
		{"two values", func(cb func() (int, int)) {}, []service.FuncOption{service.Args("cb")}, "a callback returns at most a value and an error"},
	}
	for _, c := range bad {
		err := s.Func("f", c.fn, c.opts...)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.msg)
		}
	}
}
