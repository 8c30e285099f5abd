package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// User is a class whose state travels in its URLs.
type User struct {
	Name string
	Age  int
}

// Message is a form (POST) without arguments.
func (u User) Message() string { return "hello " + u.Name }

// Greet is a form with an argument and a default.
func (u User) Greet(greeting string, punct string) string {
	return greeting + " " + u.Name + punct
}

// Older returns another instance: a resource.
func (u User) Older(years int) User { return User{Name: u.Name, Age: u.Age + years} }

// Profile is offered as a link (safe).
func (u User) Profile() map[string]any { return map[string]any{"name": u.Name, "age": u.Age} }

// Badge is offered inline.
func (u User) Badge() string { return "<" + u.Name + ">" }

// Counter is a persistent class: its state lives on the server.
type Counter struct {
	N int
}

// Add changes the instance.
func (c *Counter) Add(by int) int { c.N += by; return c.N }

// Value reads it.
func (c *Counter) Value() int { return c.N }

func hello(name, greeting string) string { return greeting + ", " + name }

// testService is the service most tests run against.
func testService(t testing.TB) *service.Service {
	svc := service.New(service.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	svc.MustFunc("hello", hello, service.Args("name", "greeting"), service.Default("greeting", "hello"))
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"))
	svc.MustFunc("scale", func(xs []float64, by float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = x * by
		}
		return out
	}, service.Args("xs", "by"))
	svc.MustFunc("now", func() string { return "tick" }, service.Safe())
	svc.MustFunc("find_user", func(name string) User { return User{Name: name, Age: 42} },
		service.Args("name"), service.Redirect())
	svc.MustFunc("get_user", func(name string) User { return User{Name: name, Age: 7} }, service.Args("name"))
	svc.MustFunc("greeter", func() any { return hello })
	svc.MustFunc("download", func(name string) *wire.Blob {
		return wire.BytesBlob("text/plain", []byte("content of "+name))
	}, service.Args("name"))
	svc.MustFunc("upload", func(file *wire.Blob, label string) (string, error) {
		b, err := io.ReadAll(file)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: %d bytes of %s: %q", label, len(b), file.ContentType, truncate(b)), nil
	}, service.Args("file", "label"), service.Default("label", "file"))
	svc.MustFunc("nothing", func() {})
	svc.MustFunc("invalid", func() error { return service.Errorf(service.Invalid, "that will not do") })
	svc.MustFunc("missing", func() error { return service.Errorf(service.NotFound, "no such thing") })
	svc.MustFunc("broken", func() error { return errors.New("database on fire") })
	svc.MustFunc("panics", func() error { panic("boom") })
	svc.MustFunc("slow", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	svc.MustClass("User", User{},
		service.Method("greet", service.Args("greeting", "punct"), service.Default("punct", "!")),
		service.Method("older", service.Args("years")),
		service.Method("profile", service.Safe()),
		service.Method("badge", service.Inline()),
	)
	svc.MustClass("Counter", Counter{},
		service.Persistent(service.NewMemoryStore()),
		service.Method("add", service.Args("by")),
		service.Method("value", service.Safe()),
	)
	return svc
}

func truncate(b []byte) string {
	if len(b) > 20 {
		return string(b[:20]) + "..."
	}
	return string(b)
}

// server is an httptest server on 127.0.0.1 that counts its requests.
type server struct {
	*httptest.Server
	n atomic.Int64

	mu   sync.Mutex // guards reqs
	reqs []*http.Request
}

// requests returns how many requests the server has seen.
func (s *server) requests() int64 { return s.n.Load() }

// last returns the last request the server saw (its body already read).
func (s *server) last() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		return nil
	}
	return s.reqs[len(s.reqs)-1]
}

func newServer(t testing.TB, h http.Handler) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.n.Add(1)
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve starts the test service behind hyperhttp.
func serve(t testing.TB, cfg hyperhttp.Config) *server {
	return newServer(t, hyperhttp.NewHandler(testService(t), cfg))
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// must fails the test on err.
func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func decode[T any](t testing.TB, v *client.Value) T {
	t.Helper()
	var out T
	if err := v.Decode(&out); err != nil {
		t.Fatalf("Decode into %T: %v", out, err)
	}
	return out
}

func TestGetIndexAndCall(t *testing.T) {
	srv := serve(t, hyperhttp.Config{})
	ctx := ctxT(t)
	c := client.New()
	ok := must[*client.Value](t)
	index := ok(c.Get(ctx, srv.URL+"/"))
	if r, isRes := index.Any().(hyper.Resource); !isRes || r.Name != "index" {
		t.Fatalf("index is %#v", index.Any())
	}
	hello := ok(index.Get("hello"))
	form, isForm := hello.Any().(hyper.Form)
	if !isForm {
		t.Fatalf("hello is %#v", hello.Any())
	}
	if form.URL != srv.URL+"/hello" || hello.URL() != form.URL {
		t.Errorf("form URL %q, want it absolute: %q", form.URL, srv.URL+"/hello")
	}
	cases := []struct {
		name string
		args []any
		want string
	}{
		{"positional", []any{"bob"}, "hello, bob"},
		{"two positional", []any{"bob", "hi"}, "hi, bob"},
		{"named", []any{client.Named{"name": "bob", "greeting": "hey"}}, "hey, bob"},
		{"mixed", []any{"bob", client.Named{"greeting": "yo"}}, "yo, bob"},
		{"default applied", []any{client.Named{"name": "ann"}}, "hello, ann"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decode[string](t, must[*client.Value](t)(hello.Call(ctx, tc.args...)))
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	sum := decode[int](t, ok(ok(index.Get("add")).Call(ctx, 2, 3)))
	if sum != 5 {
		t.Errorf("add(2, 3) = %d", sum)
	}
	scaled := decode[[]float64](t, ok(index.Path(ctx, "scale", []float64{1, 2.5}, 2)))
	if fmt.Sprint(scaled) != "[2 5]" {
		t.Errorf("scale = %v", scaled)
	}
}
