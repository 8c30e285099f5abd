package client_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// api is a typed stub of the test service.
type api struct {
	Hello      func(ctx context.Context, name string) (string, error)
	Greet      func(ctx context.Context, name, greeting string) (string, error) `glyph:"hello"`
	HelloNamed func(ctx context.Context, args client.Named) (string, error)     `glyph:"hello"`
	Add        func(ctx context.Context, a, b int) (int, error)
	Sum        func(ctx context.Context, args ...any) (int64, error) `glyph:"add"`
	Now        func() (string, error)
	FindUser   func(ctx context.Context, name string) (User, error)
	GetUser    func(ctx context.Context, name string) (*client.Value, error)
	Nothing    func(ctx context.Context) error
	Invalid    func(ctx context.Context) error
	Download   func(ctx context.Context, name string) (io.ReadCloser, error)
	Upload     func(ctx context.Context, file io.Reader) (string, error)
	Future     func(ctx context.Context) (string, error) `glyph:"future,optional"`

	Ignored func() error `glyph:"-"`
	//lint:ignore U1000 an unexported field, which Bind must leave alone
	data int
}

func TestBind(t *testing.T) {
	srv := serve(t)
	ctx := ctxT(t)
	c := client.New()
	var a api
	if err := client.Bind(ctx, c, srv.URL+"/", &a); err != nil {
		t.Fatal(err)
	}
	if a.Ignored != nil {
		t.Error("a field tagged - was bound")
	}
	check := func(name string, got, want any, err error) {
		t.Helper()
		if err != nil || got != want {
			t.Errorf("%s = %#v, %v; want %#v", name, got, err, want)
		}
	}
	s, err := a.Hello(ctx, "bob")
	check("Hello", s, "hello, bob", err)
	s, err = a.Greet(ctx, "bob", "hi")
	check("Greet", s, "hi, bob", err)
	s, err = a.HelloNamed(ctx, client.Named{"name": "ann", "greeting": "yo"})
	check("HelloNamed", s, "yo, ann", err)
	n, err := a.Add(ctx, 2, 40)
	check("Add", n, 42, err)
	n64, err := a.Sum(ctx, 1, 2)
	check("Sum", n64, int64(3), err)
	s, err = a.Now()
	check("Now", s, "tick", err)
	u, err := a.FindUser(ctx, "zoe")
	check("FindUser", u, User{"zoe", 42}, err)
	v, err := a.GetUser(ctx, "kai")
	if err != nil {
		t.Fatal(err)
	}
	// A *Value result navigates further, and binds too.
	var user struct {
		Message func(context.Context) (string, error)
		Greet   func(context.Context, string) (string, error)
		Older   func(context.Context, int) (User, error)
		Name    func(context.Context) (string, error) `glyph:"Name,optional"`
	}
	if err := v.Bind(&user); err == nil || !strings.Contains(err.Error(), `"Name" is a unicode, not a link or a form`) {
		t.Errorf("binding a data field: %v", err)
	}
	user.Name = nil
	var user2 struct {
		Message func(context.Context) (string, error)
		Greet   func(context.Context, string) (string, error)
		Older   func(context.Context, int) (User, error)
	}
	if err := v.Bind(&user2); err != nil {
		t.Fatal(err)
	}
	s, err = user2.Message(ctx)
	check("Message", s, "hello kai", err)
	s, err = user2.Greet(ctx, "hey")
	check("Greet", s, "hey kai!", err)
	u, err = user2.Older(ctx, 3)
	check("Older", u, User{"kai", 10}, err)

	check("Nothing", nil, nil, a.Nothing(ctx))
	err = a.Invalid(ctx)
	if service.KindOf(err) != service.KindInvalid || !client.IsClientError(err) {
		t.Errorf("Invalid: %v", err)
	}
	// Client-side rejections come back as the error result.
	if _, err := a.Add(ctx, 1, 2); err != nil {
		t.Error(err)
	}
	if _, err := a.Greet(ctx, "x", "y"); err != nil {
		t.Error(err)
	}
	_, err = a.Sum(ctx, 1, 2, 3)
	if service.KindOf(err) != service.KindInvalid || !strings.Contains(err.Error(), "takes 2 argument(s), got 3") {
		t.Errorf("Sum(1, 2, 3): %v", err)
	}
	// Blobs both ways.
	rc, err := a.Download(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	content, err := io.ReadAll(rc)
	rc.Close()
	check("Download", string(content), "content of x", err)
	s, err = a.Upload(ctx, strings.NewReader("up"))
	check("Upload", s, `file: 2 bytes of application/octet-stream: "up"`, err)
	// An optional method the server lacks.
	_, err = a.Future(ctx)
	if service.KindOf(err) != service.KindNotFound || !strings.Contains(err.Error(), `no "future"`) || client.StatusCode(err) != 0 {
		t.Errorf("Future: %v", err)
	}
	// A result that does not decode.
	var wrong struct {
		Hello func(context.Context, string) (int, error)
	}
	if err := client.Bind(ctx, c, srv.URL+"/", &wrong); err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Hello(ctx, "x"); err == nil || !strings.Contains(err.Error(), "cannot decode the result into int") {
		t.Errorf("wrong result type: %v", err)
	}
}

func TestBindFailures(t *testing.T) {
	srv := serve(t)
	ctx := ctxT(t)
	c := client.New()
	var missing struct {
		Hello   func(context.Context, string) (string, error)
		Gone    func(context.Context) error
		AlsoOut func(context.Context) error
	}
	err := client.Bind(ctx, c, srv.URL+"/", &missing)
	if service.KindOf(err) != service.KindNotFound || !strings.Contains(err.Error(), `resource "index" has no "gone", "also_out"`) {
		t.Errorf("missing methods: %v", err)
	}
	var noErr struct{ Hello func(string) string }
	if err := client.Bind(ctx, c, srv.URL+"/", &noErr); err == nil || !strings.Contains(err.Error(), "must return an error last") {
		t.Errorf("no error result: %v", err)
	}
	if err := client.Bind(ctx, c, srv.URL+"/", missing); err == nil || !strings.Contains(err.Error(), "pointer to a struct") {
		t.Errorf("not a pointer: %v", err)
	}
	if err := client.Bind(ctx, c, srv.URL+"/nope", &missing); service.KindOf(err) != service.KindNotFound || !client.IsClientError(err) {
		t.Errorf("bad URL: %v", err)
	}
}

func TestValueAccessors(t *testing.T) {
	srv := echoServer(t, hyper.Resource{URL: "/r", Name: "R", Content: map[string]any{
		"od":   wire.NewOrderedDict("x", int64(1), "y", []any{"a"}),
		"link": hyper.Link{URL: "/l", Inline: true, Content: map[string]any{"k": "v"}},
	}})
	ctx := ctxT(t)
	ok := must[*client.Value](t)
	v := ok(client.New().Get(ctx, srv.URL+"/"))
	if v.URL() != srv.URL+"/r" {
		t.Errorf("resource URL %q", v.URL())
	}
	if got := decode[string](t, ok(v.Path(ctx, "od.y.0"))); got != "a" {
		t.Errorf("od.y.0 = %q", got)
	}
	// An inline link: Path follows it without a request.
	before := srv.requests()
	if got := decode[string](t, ok(v.Path(ctx, "link.k"))); got != "v" || srv.requests() != before {
		t.Errorf("link.k = %q", got)
	}
	var self *client.Value
	if err := v.Decode(&self); err != nil || self != v {
		t.Errorf("Decode(*Value) = %p, %v", self, err)
	}
	var r hyper.Resource
	if err := v.Decode(&r); err != nil || r.Name != "R" {
		t.Errorf("Decode(Resource) = %+v, %v", r, err)
	}
	var anything any
	if err := v.Decode(&anything); err != nil {
		t.Error(err)
	} else if _, isRes := anything.(hyper.Resource); !isRes {
		t.Errorf("Decode(any) = %T", anything)
	}
	if err := v.Decode(r); err == nil {
		t.Error("Decode into a non-pointer")
	}
	if _, err := v.Path(ctx, "od..x"); service.KindOf(err) != service.KindInvalid {
		t.Errorf("empty name: %v", err)
	}
	if _, err := v.Path(ctx, "od.x", 1); service.KindOf(err) != service.KindInvalid {
		t.Errorf("arguments for data: %v", err)
	}
	if got, err := v.Path(ctx, ""); err != nil || got != v {
		t.Errorf("empty path: %v", err)
	}
	if err := v.Close(); err != nil {
		t.Error(err)
	}
}
