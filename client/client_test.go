package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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
	svc.MustFunc("invalid", func() error { return service.Errorf(service.KindInvalid, "that will not do") })
	svc.MustFunc("missing", func() error { return service.Errorf(service.KindNotFound, "no such thing") })
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
func serve(t testing.TB, opts ...hyperhttp.Option) *server {
	opts = append([]hyperhttp.Option{hyperhttp.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	return newServer(t, hyperhttp.NewHandler(testService(t), opts...))
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
	srv := serve(t)
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

func TestClassWithURLState(t *testing.T) {
	srv := serve(t)
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	c := client.New()
	index := ok(c.Get(ctx, srv.URL+"/"))

	// The constructor is a form; its 303 is followed to the instance.
	user := ok(index.Path(ctx, "User", client.Named{"Name": "bob", "Age": 30}))
	res, isRes := user.Any().(hyper.Resource)
	if !isRes || res.Name != "User" {
		t.Fatalf("constructor gave %#v", user.Any())
	}
	if last := srv.last(); last.Method != http.MethodGet || !strings.HasPrefix(user.URL(), srv.URL+"/User/?") {
		t.Errorf("after the 303: last request %s %s, value URL %q", last.Method, last.URL, user.URL())
	}
	if got := decode[string](t, ok(user.Get("Name"))); got != "bob" {
		t.Errorf("Name = %q", got)
	}
	if got := decode[User](t, user); got != (User{"bob", 30}) {
		t.Errorf("Decode(resource) = %+v", got)
	}
	// A form method without arguments.
	if got := decode[string](t, ok(user.Path(ctx, "message"))); got != "hello bob" {
		t.Errorf("message = %q", got)
	}
	// A form method with a default.
	if got := decode[string](t, ok(user.Path(ctx, "greet", "hi"))); got != "hi bob!" {
		t.Errorf("greet = %q", got)
	}
	if got := decode[string](t, ok(user.Path(ctx, "greet", "hi", client.Named{"punct": "?"}))); got != "hi bob?" {
		t.Errorf("greet = %q", got)
	}
	// A method returning an instance: a resource, navigable further.
	older := ok(user.Path(ctx, "older", 5))
	if got := decode[User](t, older); got != (User{"bob", 35}) {
		t.Errorf("older = %+v", got)
	}
	if got := decode[string](t, ok(older.Path(ctx, "greet", "hey"))); got != "hey bob!" {
		t.Errorf("older → greet = %q", got)
	}
	// A safe method is a link, followed with GET.
	profile := ok(user.Get("profile"))
	if _, isLink := profile.Any().(hyper.Link); !isLink {
		t.Fatalf("profile is %#v", profile.Any())
	}
	before := srv.requests()
	p := decode[map[string]any](t, ok(profile.Call(ctx)))
	if p["name"] != "bob" || p["age"] != int64(30) || srv.requests() != before+1 || srv.last().Method != http.MethodGet {
		t.Errorf("profile = %v (requests %d → %d, last %s)", p, before, srv.requests(), srv.last().Method)
	}
	// An inline method's result comes without a request.
	before = srv.requests()
	if got := decode[string](t, ok(user.Path(ctx, "badge"))); got != "<bob>" || srv.requests() != before {
		t.Errorf("badge = %q, %d requests", got, srv.requests()-before)
	}
	// A link takes no arguments.
	if _, err := profile.Call(ctx, 1); service.KindOf(err) != service.KindInvalid {
		t.Errorf("link called with an argument: %v", err)
	}
}

func TestPersistentClass(t *testing.T) {
	srv := serve(t)
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	c := client.New()
	counter := ok(ok(c.Get(ctx, srv.URL+"/")).Path(ctx, "Counter", client.Named{"N": 10}))
	if strings.Contains(counter.URL(), "?") {
		t.Errorf("a persistent instance's URL holds state: %q", counter.URL())
	}
	for want := 11; want <= 13; want++ {
		if got := decode[int](t, ok(counter.Path(ctx, "add", 1))); got != want {
			t.Errorf("add = %d, want %d", got, want)
		}
	}
	// Read again through the instance's own URL.
	again := ok(c.Get(ctx, counter.URL()))
	if got := decode[int](t, ok(again.Path(ctx, "value"))); got != 13 {
		t.Errorf("value = %d", got)
	}
	if got := decode[Counter](t, again); got.N != 13 {
		t.Errorf("state = %+v", got)
	}
}

func TestRedirectAndReturnedFunction(t *testing.T) {
	srv := serve(t)
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	c := client.New()
	index := ok(c.Get(ctx, srv.URL+"/"))

	// find_user answers 303 to the user's URL; the resource is resolved
	// against that final URL.
	user := ok(index.Path(ctx, "find_user", "ann"))
	if !strings.HasPrefix(user.URL(), srv.URL+"/User/?") {
		t.Fatalf("user URL %q", user.URL())
	}
	msg := ok(user.Get("message"))
	if !strings.HasPrefix(msg.URL(), srv.URL+"/User/message?") {
		t.Errorf("method URL %q", msg.URL())
	}
	if got := decode[string](t, ok(msg.Call(ctx))); got != "hello ann" {
		t.Errorf("message = %q", got)
	}
	// The CLI's two steps: call, then a dotted name on the result.
	if got := decode[string](t, ok(ok(index.Path(ctx, "find_user", "joe")).Path(ctx, ".message"))); got != "hello joe" {
		t.Errorf("find_user then .message = %q", got)
	}
	// get_user embeds the resource instead.
	if got := decode[User](t, ok(index.Path(ctx, "get_user", "kim"))); got != (User{"kim", 7}) {
		t.Errorf("get_user = %+v", got)
	}
	// A function returning a function: its form, callable.
	greeter := ok(index.Path(ctx, "greeter"))
	if _, isForm := greeter.Any().(hyper.Form); !isForm {
		t.Fatalf("greeter returned %#v", greeter.Any())
	}
	if got := decode[string](t, ok(greeter.Call(ctx, "liz"))); got != "hello, liz" {
		t.Errorf("greeter()(liz) = %q", got)
	}
}

func TestNoContentAndSafeFunction(t *testing.T) {
	srv := serve(t)
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	index := ok(client.New().Get(ctx, srv.URL+"/"))
	v := ok(index.Path(ctx, "nothing"))
	if !v.IsNil() || v.Any() != nil {
		t.Errorf("nothing() = %#v", v.Any())
	}
	if got := decode[string](t, ok(index.Path(ctx, "now"))); got != "tick" || srv.last().Method != http.MethodGet {
		t.Errorf("now = %q with %s", got, srv.last().Method)
	}
}

func TestErrors(t *testing.T) {
	srv := serve(t)
	ctx := ctxT(t)
	index := must[*client.Value](t)(client.New().Get(ctx, srv.URL+"/"))
	cases := []struct {
		name    string
		status  int
		kind    service.Kind
		message string
		client  bool
	}{
		{"invalid", 400, service.KindInvalid, "invalid: that will not do", true},
		{"missing", 404, service.KindNotFound, "missing: no such thing", true},
		{"broken", 500, service.KindInternal, "broken: database on fire", false},
		{"panics", 500, service.KindInternal, "panics: internal error", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := index.Path(ctx, tc.name)
			var se *service.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *service.Error", err, err)
			}
			if se.Kind != tc.kind || se.Message != tc.message || se.Logref == "" {
				t.Errorf("got kind %v message %q logref %q; want %v %q", se.Kind, se.Message, se.Logref, tc.kind, tc.message)
			}
			if client.StatusCode(err) != tc.status || client.IsClientError(err) != tc.client || client.IsServerError(err) == tc.client {
				t.Errorf("status %d client %v server %v", client.StatusCode(err), client.IsClientError(err), client.IsServerError(err))
			}
			var st *client.StatusError
			if !errors.As(err, &st) || st.Body.Logref != se.Logref || st.Method != "POST" || st.URL != srv.URL+"/"+tc.name {
				t.Errorf("StatusError %+v", st)
			}
		})
	}
	// A 404 for a URL the server does not know.
	_, err := client.New().Get(ctx, srv.URL+"/nope")
	if service.KindOf(err) != service.KindNotFound || !client.IsClientError(err) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("GET /nope: %v", err)
	}
}

func TestContextAndNetworkErrors(t *testing.T) {
	srv := serve(t)
	index := must[*client.Value](t)(client.New().Get(ctxT(t), srv.URL+"/"))
	slow := must[*client.Value](t)(index.Get("slow"))

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := slow.Call(ctx)
	if service.KindOf(err) != service.KindDeadlineExceeded || !errors.Is(err, context.DeadlineExceeded) || client.StatusCode(err) != 0 {
		t.Errorf("deadline: %v (kind %v)", err, service.KindOf(err))
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = slow.Call(ctx)
	if service.KindOf(err) != service.KindCanceled || !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v (kind %v)", err, service.KindOf(err))
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	_, err = client.New().Get(ctxT(t), url)
	var se *service.Error
	if !errors.As(err, &se) || se.Kind != service.KindUnavailable || client.StatusCode(err) != 0 ||
		!strings.HasPrefix(err.Error(), "GET "+url+": dial tcp") {
		t.Errorf("closed server: %v", err)
	}
}
