package peer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// services is the handler set of the suite's serving side.
func services() mux {
	return mux{
		"echo": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			return s.Recv()
		},
		// count streams the integers 1..n.
		"count": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			n, _ := s.Recv()
			for i := int64(1); i <= n.(int64); i++ {
				if err := s.Send(i); err != nil {
					return nil, err
				}
			}
			return nil, nil
		},
		// sum adds streamed integer arguments.
		"sum": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			var total int64
			for {
				v, err := s.Recv()
				if err == io.EOF {
					return total, nil
				}
				if err != nil {
					return nil, err
				}
				n, _ := v.(int64)
				total += n
			}
		},
		// upper answers each streamed string in upper case as it comes.
		"upper": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			for {
				v, err := s.Recv()
				if err == io.EOF {
					return nil, nil
				}
				if err != nil {
					return nil, err
				}
				if err := s.Send(strings.ToUpper(v.(string))); err != nil {
					return nil, err
				}
			}
		},
		"fail": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			return nil, &service.Error{Kind: service.KindConflict, Message: "asked to"}
		},
		// failmid streams two items, then fails.
		"failmid": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			s.Send(int64(1))
			s.Send(int64(2))
			return nil, service.Errorf(service.KindInvalid, "broke after 2")
		},
		"panic": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			panic("boom")
		},
		// callback calls the caller back: [name, arg] → name(arg).
		"callback": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			v, _ := s.Recv()
			args := v.([]any)
			return s.Conn().Call(ctx, args[0].(string), args[1])
		},
		// headers returns the call's headers.
		"headers": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			out := map[string]any{}
			for k, v := range peer.Header(ctx) {
				out[k] = v
			}
			return out, nil
		},
		// relay calls the caller's "whoami" with the handler's context,
		// so the incoming headers travel on.
		"relay": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			return s.Conn().Call(ctx, "whoami", nil)
		},
	}
}

func TestUnary(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		c, _ := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(services())})
		ctx := ctxTimeout(t, 5*time.Second)
		for _, arg := range []any{"hi", int64(42), nil, []any{int64(1), "a"}, map[string]any{"foo": "bar"}, 1.5, true} {
			got, err := c.Call(ctx, "echo", arg)
			if err != nil {
				t.Fatalf("echo %v: %v", arg, err)
			}
			if !eq(got, arg) {
				t.Errorf("echo %#v = %#v", arg, got)
			}
		}
		if baseline && len(c.Extensions()) != 0 {
			t.Errorf("baseline connection negotiated %v", c.Extensions())
		}
		if !baseline && len(c.Extensions()) != 7 {
			t.Errorf("extensions %v", c.Extensions())
		}
	})
}

func TestNotification(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		got := make(chan any, 1)
		h := services()
		h["log"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
			if s.ID() != 0 {
				t.Errorf("notification id %d", s.ID())
			}
			v, _ := s.Recv()
			got <- v
			return "ignored", nil
		}
		c, _ := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(h)})
		ctx := ctxTimeout(t, 5*time.Second)
		if err := c.Notify(ctx, "log", "hello"); err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-got:
			if v != "hello" {
				t.Errorf("notified %v", v)
			}
		case <-ctx.Done():
			t.Fatal("notification not delivered")
		}
		// A notification of an unknown method is dropped silently; the
		// connection carries on.
		if err := c.Notify(ctx, "nosuch", nil); err != nil {
			t.Fatal(err)
		}
		if v, err := c.Call(ctx, "echo", "after"); err != nil || v != "after" {
			t.Fatalf("echo after notifications: %v, %v", v, err)
		}
	})
}

func TestStreamedResults(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		c, _ := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(services())})
		ctx := ctxTimeout(t, 5*time.Second)
		for _, n := range []int64{0, 1, 5, 200} {
			s, err := c.NewStream(ctx, "count")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(n); err != nil {
				t.Fatal(err)
			}
			if err := s.CloseSend(); err != nil {
				t.Fatal(err)
			}
			got, err := recvAll(s)
			if err != nil {
				t.Fatalf("count %d: %v", n, err)
			}
			if n == 0 {
				// A handler that sends nothing and returns nil replies
				// once, with null (see Handler).
				if len(got) != 1 || got[0] != nil {
					t.Errorf("count 0 = %v, want [nil]", got)
				}
				continue
			}
			if int64(len(got)) != n {
				t.Fatalf("count %d gave %d items", n, len(got))
			}
			for i, v := range got {
				if v != int64(i+1) {
					t.Fatalf("item %d = %v", i, v)
				}
			}
			s.Close()
		}
		// Call refuses a streamed reply.
		_, err := c.Call(ctx, "count", int64(3))
		if kindOf(t, err) != service.KindUnsupported {
			t.Errorf("Call of a streaming method: %v", err)
		}
	})
}

func TestStreamedArgs(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		c, _ := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(services())})
		ctx := ctxTimeout(t, 5*time.Second)
		for _, n := range []int64{0, 1, 3, 300} {
			s, err := c.NewStream(ctx, "sum")
			if err != nil {
				t.Fatal(err)
			}
			var want int64
			for i := int64(1); i <= n; i++ {
				want += i
				if err := s.Send(i); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.CloseSend(); err != nil {
				t.Fatal(err)
			}
			got, err := recvAll(s)
			if err != nil || len(got) != 1 || got[0] != want {
				t.Fatalf("sum 1..%d = %v, %v; want [%d]", n, got, err, want)
			}
		}
	})
}

func TestStreamedBoth(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		c, _ := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(services())})
		ctx := ctxTimeout(t, 5*time.Second)
		s, err := c.NewStream(ctx, "upper")
		if err != nil {
			t.Fatal(err)
		}
		words := []string{"a", "bc", "def"}
		if !baseline {
			// With extensions items go out at once: a real conversation.
			for _, w := range words {
				if err := s.Send(w); err != nil {
					t.Fatal(err)
				}
				v, err := s.Recv()
				if err != nil || v != strings.ToUpper(w) {
					t.Fatalf("upper %q = %v, %v", w, v, err)
				}
			}
			s.CloseSend()
			if _, err := s.Recv(); err != io.EOF {
				t.Fatalf("after the last: %v", err)
			}
			return
		}
		for _, w := range words {
			if err := s.Send(w); err != nil {
				t.Fatal(err)
			}
		}
		s.CloseSend()
		got, err := recvAll(s)
		if err != nil || fmt.Sprint(got) != "[A BC DEF]" {
			t.Fatalf("upper = %v, %v", got, err)
		}
	})
}

func TestCallbacks(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		c, srv := connect(t, tr, modeOptions(baseline, peer.WithHandler(services())), []peer.Option{peer.WithHandler(services())})
		ctx := ctxTimeout(t, 5*time.Second)
		upper := peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
			v, _ := s.Recv()
			return strings.ToUpper(v.(string)), nil
		})
		// Client → server → client.
		name := peer.NewCallbackName()
		if !strings.HasPrefix(name, "_callback.") || name == peer.NewCallbackName() {
			t.Fatalf("callback name %q", name)
		}
		release := c.Register(name, upper)
		got, err := c.Call(ctx, "callback", []any{name, "hello"})
		if err != nil || got != "HELLO" {
			t.Fatalf("callback = %v, %v", got, err)
		}
		// Server → client → server: the acceptor registers too.
		name2 := peer.NewCallbackName()
		release2 := srv.Register(name2, upper)
		defer release2()
		got, err = srv.Call(ctx, "callback", []any{name2, "back"})
		if err != nil || got != "BACK" {
			t.Fatalf("reverse callback = %v, %v", got, err)
		}
		// A released callback is gone.
		release()
		_, err = c.Call(ctx, "callback", []any{name, "again"})
		if kindOf(t, err) != service.KindNotFound || !strings.Contains(err.Error(), "method not found") {
			t.Fatalf("released callback: %v", err)
		}
	})
}

func TestHeaders(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		whoami := mux{"whoami": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			return peer.Header(ctx)["user"] + "@" + peer.Header(ctx)["trace"], nil
		}}
		c, _ := connect(t, tr, modeOptions(baseline, peer.WithHandler(whoami)), []peer.Option{peer.WithHandler(services())})
		ctx := peer.WithHeader(ctxTimeout(t, 5*time.Second), map[string]string{"trace": "abc123", "user": "ann"})
		got, err := c.Call(ctx, "headers", nil, peer.WithCallHeader(map[string]string{"user": "bob", "x": "1"}))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "map[trace:abc123 user:bob x:1]" {
			t.Errorf("headers = %v", got)
		}
		// The reply's ext echoes the request's.
		s, err := c.NewStream(ctx, "echo")
		if err != nil {
			t.Fatal(err)
		}
		s.Send("x")
		s.CloseSend()
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		if h := s.Header(); h["trace"] != "abc123" || h["user"] != "ann" {
			t.Errorf("reply header %v", h)
		}
		s.Close()
		// Calls made inside a handler carry the incoming headers on.
		got, err = c.Call(ctx, "relay", nil)
		if err != nil || got != "ann@abc123" {
			t.Errorf("relay = %v, %v", got, err)
		}
	})
}

func TestErrors(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		c, _ := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(services())})
		ctx := ctxTimeout(t, 5*time.Second)
		_, err := c.Call(ctx, "fail", nil)
		var se *service.Error
		if !errors.As(err, &se) || se.Kind != service.KindConflict || se.Message != "asked to" || se.Op != "fail" {
			t.Errorf("fail: %#v", err)
		}
		var re *peer.RemoteError
		if !errors.As(err, &re) || re.Code != 9 {
			t.Errorf("fail's remote error: %#v", re)
		}
		_, err = c.Call(ctx, "panic", nil)
		if !errors.As(err, &se) || se.Kind != service.KindInternal || se.Message != "internal error" || se.Logref == "" {
			t.Errorf("panic: %#v", err)
		}
		// Mid-stream: the items, then the error.
		s, _ := c.NewStream(ctx, "failmid")
		s.CloseSend()
		got, err := recvAll(s)
		if fmt.Sprint(got) != "[1 2]" || kindOf(t, err) != service.KindInvalid || !strings.Contains(err.Error(), "broke after 2") {
			t.Errorf("failmid: %v, %v", got, err)
		}
		// Without any handler every method is not found.
		c2, _ := connect(t, tr, modeOptions(baseline), nil)
		_, err = c2.Call(ctx, "anything", nil)
		if !errors.As(err, &se) || se.Kind != service.KindNotFound || se.Message != "method not found: anything" {
			t.Errorf("no handler: %#v", err)
		}
		// The connection is still fine.
		if v, err := c.Call(ctx, "echo", "ok"); err != nil || v != "ok" {
			t.Errorf("echo after errors: %v %v", v, err)
		}
	})
}

func TestConcurrentCalls(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport, baseline bool) {
		// A baseline caller is not told the server's limit on calls at
		// once (limits_test.go): the server takes them all.
		const n = 1000
		c, _ := connect(t, tr, modeOptions(baseline), []peer.Option{peer.WithHandler(services()), peer.WithMaxStreams(n)})
		ctx := ctxTimeout(t, 20*time.Second)
		var wg sync.WaitGroup
		var failed atomic.Int32
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := c.Call(ctx, "echo", int64(i))
				if err != nil || v != int64(i) {
					if failed.Add(1) == 1 {
						t.Errorf("call %d: %v, %v", i, v, err)
					}
				}
			}()
		}
		wg.Wait()
	})
}
