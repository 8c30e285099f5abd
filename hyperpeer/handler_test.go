package hyperpeer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

type user struct {
	ID   int
	Name string
}

func (u user) Greet(greeting string) string { return greeting + ", " + u.Name }
func (u user) Bio() string                  { return fmt.Sprintf("%s is user %d", u.Name, u.ID) }

// piece is the item type of a streamed input of structs.
type piece struct {
	Name string
	Qty  int
}

// testService registers a bit of everything a service result can be.
func testService(t *testing.T) *service.Service {
	svc := service.New(service.WithName("test"))
	svc.MustFunc("hello", func(name string) string { return "Hello " + name },
		service.Args("name"), service.Default("name", "World"))
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"), service.Safe())
	svc.MustFunc("echo", func(v any) any { return v }, service.Args("v"))
	svc.MustClass("User", user{}, service.Method("bio", service.Safe()), service.Method("greet", service.Args("greeting")))
	svc.MustFunc("find_user", func(name string) (*user, error) {
		if name != "bob" {
			return nil, service.Errorf(service.KindNotFound, "no user named %q", name)
		}
		return &user{ID: 2, Name: name}, nil
	}, service.Args("name"), service.Redirect())
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i + 1) {
					return
				}
			}
		}
	}, service.Args("n"))
	svc.MustFunc("broken", func() iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			if yield(1, nil) {
				yield(0, service.Errorf(service.KindConflict, "gave up"))
			}
		}
	})
	svc.MustFunc("sum", func(xs iter.Seq[int]) int {
		total := 0
		for x := range xs {
			total += x
		}
		return total
	}, service.Args("xs"))
	svc.MustFunc("total", func(ps iter.Seq[piece]) int {
		n := 0
		for p := range ps {
			n += p.Qty
		}
		return n
	}, service.Args("pieces"))
	svc.MustFunc("shout", func(ctx context.Context, s string, cb func(string) (string, error)) (string, error) {
		r, err := cb(strings.ToUpper(s))
		return "callback said " + r, err
	}, service.Args("s", "cb"))
	svc.MustFunc("trace", func(ctx context.Context) string { return peer.Header(ctx)["trace"] })
	svc.MustFunc("made", func() service.Created { return service.Created{URL: "/User/?x"} })
	svc.MustFunc("nothing", func() {})
	svc.MustFunc("file", func(size int) *wire.Blob {
		return wire.NewBlob("text/plain", strings.NewReader(strings.Repeat("x", size)))
	}, service.Args("size"))
	return svc
}

// serve connects a client to a server that serves svc over tr.
func serve(t *testing.T, tr peertest.Transport, svc *service.Service, copts []peer.Option, opts ...hyperpeer.Option) *peer.Conn {
	t.Helper()
	c, _ := peertest.Connect(t, tr, copts, []peer.Option{peer.WithHandler(hyperpeer.NewHandler(svc, opts...))})
	return c
}

func TestServiceCalls(t *testing.T) {
	svc := testService(t)
	for _, tr := range peertest.Transports {
		t.Run(tr.Name, func(t *testing.T) {
			c := serve(t, tr, svc, nil)
			ctx := peertest.Timeout(t, 5*time.Second)
			tests := []struct {
				method string
				args   any
				safe   bool
				want   any
			}{
				{"hello", nil, false, "Hello World"},
				{"/hello", []any{"Bob"}, false, "Hello Bob"},
				{"hello", map[string]any{"name": "Ann"}, false, "Hello Ann"},
				{"hello", "Eve", false, "Hello Eve"}, // a single argument
				{"add", []any{int64(2), int64(3)}, true, int64(5)},
				{"add", map[string]any{"b": int64(1), "a": int64(2)}, false, int64(3)}, // safe, called with POST
				{"echo", []any{map[string]any{"foo": "bar"}}, false, map[string]any{"foo": "bar"}},
				{"echo", []any{[]any{map[string]any{"foo": "bar"}}}, false, []any{map[string]any{"foo": "bar"}}}, // a list of maps
				{"nothing", nil, false, nil},
				{"made", nil, false, hyper.Link{URL: "/User/?x"}},
				{"count", []any{int64(0)}, false, []any{}}, // a stream without items
			}
			for _, tt := range tests {
				var opts []peer.CallOption
				if tt.safe {
					opts = append(opts, peer.Safe())
				}
				got, err := c.Call(ctx, tt.method, tt.args, opts...)
				if err != nil {
					t.Errorf("%s(%v): %v", tt.method, tt.args, err)
					continue
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s(%v) = %#v, want %#v", tt.method, tt.args, got, tt.want)
				}
			}
		})
	}
}

func TestServiceNavigation(t *testing.T) {
	c := serve(t, peertest.Transports[1], testService(t), nil)
	ctx := peertest.Timeout(t, 5*time.Second)
	v, err := c.Call(ctx, "/", nil, peer.Safe())
	if err != nil {
		t.Fatal(err)
	}
	r, ok := v.(hyper.Resource)
	if !ok || r.Name != "test" {
		t.Fatalf("index is %#v", v)
	}
	if f, ok := r.Content["hello"].(hyper.Form); !ok || f.URL != "/hello" {
		t.Errorf("hello is %#v", r.Content["hello"])
	}
	// The index without the safe mark, as a baseline peer reads it.
	if v, err := c.Call(ctx, "/", nil); err != nil {
		t.Errorf("index with POST: %v", err)
	} else if _, ok := v.(hyper.Resource); !ok {
		t.Errorf("index with POST is %#v", v)
	}

	// find_user answers See Other: the handler follows it.
	v, err = c.Call(ctx, "find_user", []any{"bob"})
	if err != nil {
		t.Fatal(err)
	}
	u, ok := v.(hyper.Resource)
	if !ok || u.Name != "User" || !strings.HasPrefix(u.URL, "/User/?") {
		t.Fatalf("find_user gave %#v", v)
	}
	greet := u.Content["greet"].(hyper.Form)
	got, err := c.Call(ctx, greet.URL, map[string]any{"greeting": "Hi"})
	if err != nil || got != "Hi, bob" {
		t.Errorf("%s: %v, %v", greet.URL, got, err)
	}
	bio := u.Content["bio"].(hyper.Link)
	got, err = c.Call(ctx, bio.URL, nil, peer.Safe())
	if err != nil || got != "bob is user 2" {
		t.Errorf("%s: %v, %v", bio.URL, got, err)
	}
	// The instance itself, at its URL.
	got, err = c.Call(ctx, u.URL, nil, peer.Safe())
	if r, ok := got.(hyper.Resource); err != nil || !ok || r.URL != u.URL {
		t.Errorf("%s: %#v, %v", u.URL, got, err)
	}
}

func TestServiceStreams(t *testing.T) {
	svc := testService(t)
	peertest.ForEach(t, func(t *testing.T, tr peertest.Transport, baseline bool) {
		c := serve(t, tr, svc, peertest.ModeOptions(baseline))
		ctx := peertest.Timeout(t, 5*time.Second)

		for _, n := range []int{1, 3} {
			s, err := c.NewStream(ctx, "count")
			if err != nil {
				t.Fatal(err)
			}
			s.Send([]any{int64(n)})
			s.CloseSend()
			items, err := peertest.RecvAll(s)
			if err != nil || len(items) != n || items[n-1] != int64(n) {
				t.Errorf("count(%d): %v, %v", n, items, err)
			}
			if want := !baseline || n > 1; s.Streamed() != want {
				t.Errorf("count(%d): Streamed() = %v", n, s.Streamed())
			}
		}

		s, err := c.NewStream(ctx, "broken")
		if err != nil {
			t.Fatal(err)
		}
		s.CloseSend()
		items, err := peertest.RecvAll(s)
		if len(items) != 1 || peertest.KindOf(t, err) != service.KindConflict {
			t.Errorf("broken: %v, %v", items, err)
		}

		// Streamed arguments.
		s, err = c.NewStream(ctx, "sum")
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 4; i++ {
			s.Send(int64(i))
		}
		s.CloseSend()
		items, err = peertest.RecvAll(s)
		if err != nil || len(items) != 1 || items[0] != int64(10) {
			t.Errorf("sum: %v, %v", items, err)
		}

		// No streamed arguments at all: with extension "end" the handler
		// sees none; a baseline caller can only send one null item.
		s, err = c.NewStream(ctx, "sum")
		if err != nil {
			t.Fatal(err)
		}
		s.CloseSend()
		items, err = peertest.RecvAll(s)
		if baseline {
			if peertest.KindOf(t, err) != service.KindInvalid {
				t.Errorf("sum() over baseline: %v, %v; want the null item refused", items, err)
			}
		} else if err != nil || len(items) != 1 || items[0] != int64(0) {
			t.Errorf("sum(): %v, %v; want 0", items, err)
		}
	})
}

// TestServiceStreamedInputArgs: a call whose arguments are one message
// binds them as HTTP does, so a list for an iter.Seq input gives its
// items. A baseline caller sends a stream of one item as that same one
// message: then the message is the arguments only when it is a map
// whose names are all inputs, the streamed one among them, and a stream
// of one item otherwise.
func TestServiceStreamedInputArgs(t *testing.T) {
	svc := testService(t)
	peertest.ForEach(t, func(t *testing.T, tr peertest.Transport, baseline bool) {
		c := serve(t, tr, svc, peertest.ModeOptions(baseline))
		ctx := peertest.Timeout(t, 5*time.Second)
		call := func(method string, args any) (any, error) {
			t.Helper()
			return c.Call(ctx, method, args)
		}
		xs := []any{int64(1), int64(2), int64(3)}
		if got, err := call("sum", map[string]any{"xs": xs}); err != nil || got != int64(6) {
			t.Errorf("sum(xs=[1, 2, 3]): %v, %v; want 6", got, err)
		}
		pieces := []any{map[string]any{"Name": "a", "Qty": int64(2)}, map[string]any{"Name": "b", "Qty": int64(5)}}
		if got, err := call("total", map[string]any{"pieces": pieces}); err != nil || got != int64(7) {
			t.Errorf("total(pieces=[a, b]): %v, %v; want 7", got, err)
		}
		// A list holding the list: its one positional argument.
		if got, err := call("sum", []any{xs}); baseline {
			// The baseline cannot tell it from a stream whose one item
			// is a list of three.
			if service.KindOf(err) != service.KindInvalid || !strings.Contains(fmt.Sprint(err), "item 0: expected integer, got list") {
				t.Errorf("sum([[1, 2, 3]]) over baseline: %v, %v; want item 0 refused", got, err)
			}
		} else if err != nil || got != int64(6) {
			t.Errorf("sum([[1, 2, 3]]): %v, %v; want 6", got, err)
		}
		// A lone scalar or a map of other names: over baseline the one
		// item of a stream, as duplex's peers send a stream of one.
		got, err := call("sum", int64(42))
		if baseline {
			if err != nil || got != int64(42) {
				t.Errorf("sum(42) over baseline: %v, %v; want the one item 42", got, err)
			}
		} else if service.KindOf(err) != service.KindInvalid || !strings.Contains(fmt.Sprint(err), `argument "xs": expected integer list/1, got integer`) {
			t.Errorf("sum(42): %v, %v; want the argument refused, as over HTTP", got, err)
		}
		got, err = call("total", map[string]any{"Name": "a", "Qty": int64(4)})
		if baseline {
			if err != nil || got != int64(4) {
				t.Errorf("total({Name: a, Qty: 4}) over baseline: %v, %v; want the one item", got, err)
			}
		} else if service.KindOf(err) != service.KindInvalid || !strings.Contains(fmt.Sprint(err), `unknown argument`) {
			t.Errorf("total(Name=a, Qty=4): %v, %v; want unknown arguments, as over HTTP", got, err)
		}
		// Streamed arguments stream, one item included, whatever it is.
		for _, items := range [][]any{{map[string]any{"Name": "c", "Qty": int64(3)}}, pieces} {
			s, err := c.NewStream(ctx, "total")
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				s.Send(it)
			}
			s.CloseSend()
			got, err := peertest.RecvAll(s)
			want := int64(3)
			if len(items) == 2 {
				want = 7
			}
			if err != nil || len(got) != 1 || got[0] != want {
				t.Errorf("total streaming %d items: %v, %v; want %d", len(items), got, err, want)
			}
		}
	})
}

func TestServiceCallback(t *testing.T) {
	svc := testService(t)
	peertest.ForEach(t, func(t *testing.T, tr peertest.Transport, baseline bool) {
		c := serve(t, tr, svc, peertest.ModeOptions(baseline))
		ctx := peertest.Timeout(t, 5*time.Second)
		name := peer.NewCallbackName()
		release := c.Register(name, peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
			v, err := s.Recv()
			if err != nil {
				return nil, err
			}
			return fmt.Sprintf("<%v>", v), nil
		}))
		defer release()
		got, err := c.Call(ctx, "shout", []any{"hey", name})
		if err != nil || got != "callback said <HEY>" {
			t.Errorf("shout: %v, %v", got, err)
		}
		_, err = c.Call(ctx, "shout", []any{"hey", int64(3)})
		if peertest.KindOf(t, err) != service.KindInvalid {
			t.Errorf("a callback that is not a name: %v", err)
		}
		_, err = c.Call(ctx, "shout", []any{"hey", "_callback.nobody"})
		if peertest.KindOf(t, err) != service.KindNotFound {
			t.Errorf("a callback nobody registered: %v", err)
		}
	})
}

func TestServiceErrorsAndHeaders(t *testing.T) {
	c := serve(t, peertest.Transports[0], testService(t), nil)
	ctx := peertest.Timeout(t, 5*time.Second)
	_, err := c.Call(ctx, "find_user", []any{"zed"})
	var se *service.Error
	if !errors.As(err, &se) || se.Kind != service.KindNotFound || se.Op != "find_user" || se.Message != `no user named "zed"` {
		t.Errorf("find_user(zed): %#v", err)
	}
	_, err = c.Call(ctx, "nope", nil)
	if peertest.KindOf(t, err) != service.KindNotFound {
		t.Errorf("nope: %v", err)
	}
	_, err = c.Call(ctx, "hello", []any{int64(1)})
	if peertest.KindOf(t, err) != service.KindInvalid {
		t.Errorf("hello(1): %v", err)
	}
	got, err := c.Call(peer.WithHeader(ctx, map[string]string{"trace": "abc"}), "trace", nil)
	if err != nil || got != "abc" {
		t.Errorf("trace: %v, %v", got, err)
	}
}

func TestServiceBlobs(t *testing.T) {
	svc := testService(t)
	c := serve(t, peertest.Transports[1], svc, nil, hyperpeer.WithMaxBlobBytes(100))
	ctx := peertest.Timeout(t, 5*time.Second)
	v, err := c.Call(ctx, "file", []any{int64(100)})
	if err != nil {
		t.Fatal(err)
	}
	b, ok := v.(*wire.Blob)
	if !ok {
		t.Fatalf("file gave %T", v)
	}
	data, _ := io.ReadAll(b)
	if b.ContentType != "text/plain" || len(data) != 100 {
		t.Errorf("blob %s of %d bytes", b.ContentType, len(data))
	}
	_, err = c.Call(ctx, "file", []any{int64(101)})
	if peertest.KindOf(t, err) != service.KindTooLarge {
		t.Errorf("a blob over the bound: %v", err)
	}
}

// TestServicePlainCodecs: a baseline peer with the json or msgpack codec
// calls plain functions as usual, and gets hyper values in their plain
// form.
func TestServicePlainCodecs(t *testing.T) {
	svc := testService(t)
	for _, codec := range []string{"json", "msgpack"} {
		t.Run(codec, func(t *testing.T) {
			c := serve(t, peertest.Transports[0], svc, []peer.Option{peer.WithBaseline(), peer.WithCodecs(codec)})
			ctx := peertest.Timeout(t, 5*time.Second)
			got, err := c.Call(ctx, "hello", "Bob")
			if err != nil || got != "Hello Bob" {
				t.Errorf("hello: %v, %v", got, err)
			}
			got, err = c.Call(ctx, "made", nil)
			want := map[string]any{"extension": "link", "attrs": map[string]any{"url": "/User/?x", "method": "GET"}}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("made: %#v, %v", got, err)
			}
			got, err = c.Call(ctx, "/", nil)
			if err != nil {
				t.Fatal(err)
			}
			idx, _ := got.(map[string]any)
			content, _ := idx["content"].(map[string]any)
			hello, _ := content["hello"].(map[string]any)
			if idx["extension"] != "resource" || hello["extension"] != "form" {
				t.Errorf("index: %#v", got)
			}
			got, err = c.Call(ctx, "file", []any{int64(3)})
			want = map[string]any{"extension": "blob", "attrs": map[string]any{"content-type": "text/plain"}, "content": []byte("xxx")}
			if codec == "json" {
				want["content"] = "eHh4" // base64, as encoding/json writes bytes
			}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("file: %#v, %v", got, err)
			}
		})
	}
}
