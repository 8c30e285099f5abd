package service_test

import (
	"context"
	"errors"
	"io"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

func greet(name string, excited bool) string {
	if excited {
		return "Hello, " + name + "!"
	}
	return "Hello, " + name
}

func TestFuncBinding(t *testing.T) {
	s := service.New()
	s.MustFunc("greet", greet, service.Args("name", "excited"), service.Default("excited", false))
	s.MustFunc("small", func(n int8) int8 { return n }, service.Args("n"))
	s.MustFunc("sum", func(xs []int) int {
		n := 0
		for _, x := range xs {
			n += x
		}
		return n
	}, service.Args("xs"))
	s.MustFunc("half", func(f float64) float64 { return f / 2 }, service.Args("f"))
	s.MustFunc("when", func(t time.Time, d time.Duration) time.Time { return t.Add(d) }, service.Args("t", "d"))
	s.MustFunc("maybe", func(p *int) bool { return p == nil }, service.Args("p"))
	s.MustFunc("scores", func(m map[string]float64) int { return len(m) }, service.Args("m"))
	s.MustFunc("big", func(n *big.Int) string { return n.String() }, service.Args("n"))
	s.MustFunc("arr", func(b [4]byte) int { return int(b[0]) }, service.Args("b"))
	s.MustFunc("f32", func(x float32) float32 { return x }, service.Args("x"))
	s.MustFunc("dist", func(p Point) int { return p.X }, service.Args("p"))

	day := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		call call
		want any    // the decoded result, when no error
		kind string // the error's kind, when an error
		msgs []string
	}{
		{"named", post("/greet", "name", "Ada", "excited", true), "Hello, Ada!", "", nil},
		{"default", post("/greet", "name", "Ada"), "Hello, Ada", "", nil},
		{"positional", postPos("/greet", "Ada", true), "Hello, Ada!", "", nil},
		{"positional then named", call{method: "POST", url: "/greet", pos: []any{"Ada"}, args: []any{"excited", true}}, "Hello, Ada!", "", nil},
		{"missing", post("/greet", "excited", true), nil, "invalid", []string{"greet", `missing argument "name"`}},
		{"unknown", post("/greet", "name", "Ada", "shout", true), nil, "invalid", []string{`unknown argument "shout"`}},
		{"both ways", call{method: "POST", url: "/greet", pos: []any{"Ada"}, args: []any{"name", "Bob"}}, nil, "invalid", []string{`argument "name" given twice`}},
		{"too many", postPos("/greet", "Ada", true, 3), nil, "invalid", []string{"takes 2 argument(s), got 3"}},
		{"wrong type", post("/greet", "name", int64(7)), nil, "invalid", []string{`argument "name": expected unicode, got integer`}},
		{"nil for string", post("/greet", "name", nil), nil, "invalid", []string{`argument "name": expected unicode, got nil`}},
		{"overflow", post("/small", "n", int64(300)), nil, "invalid", []string{`argument "n"`, "300"}},
		{"fits", post("/small", "n", int64(-128)), int64(-128), "", nil},
		{"list", post("/sum", "xs", []any{int64(1), int64(2), int64(3)}), int64(6), "", nil},
		{"list item", post("/sum", "xs", []any{int64(1), "two"}), nil, "invalid", []string{`argument "xs": item 1: expected integer, got unicode`}},
		{"not a list", post("/sum", "xs", "1,2"), nil, "invalid", []string{`argument "xs": expected integer list/1, got unicode`}},
		{"nil list", post("/sum", "xs", nil), nil, "invalid", []string{`argument "xs"`, "got nil"}},
		{"int as float", post("/half", "f", int64(3)), 1.5, "", nil},
		{"inexact int as float", post("/half", "f", int64(1)<<53+1), nil, "invalid", []string{`argument "f"`, "expected float"}},
		{"datetime and timedelta", post("/when", "t", day, "d", time.Hour), day.Add(time.Hour), "", nil},
		{"string as datetime", post("/when", "t", "2024-05-01", "d", time.Hour), nil, "invalid", []string{`argument "t": expected datetime, got unicode`}},
		{"nullable nil", post("/maybe", "p", nil), true, "", nil},
		{"nullable value", post("/maybe", "p", int64(1)), false, "", nil},
		{"dict", post("/scores", "m", map[string]any{"a": 1.0, "b": int64(2)}), int64(2), "", nil},
		{"dict value", post("/scores", "m", map[string]any{"a": "x"}), nil, "invalid", []string{`argument "m": key "a": expected float, got unicode`}},
		{"short array", post("/arr", "b", []byte{1, 2}), nil, "invalid", []string{`argument "b": bytearray does not fit [4]uint8`}},
		{"array", post("/arr", "b", []byte{1, 2, 3, 4}), int64(1), "", nil},
		{"float32 overflow", post("/f32", "x", 1e300), nil, "invalid", []string{`argument "x": float does not fit float32`}},
		{"struct field", post("/dist", "p", map[string]any{"X": "three"}), nil, "invalid", []string{`argument "p": field Point.X: expected integer, got unicode`}},
		{"big integer", post("/big", "n", new(big.Int).Lsh(big.NewInt(1), 70)), "1180591620717411303424", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := do(t, s, tt.call)
			if tt.kind != "" {
				if err == nil {
					t.Fatalf("no error, want %s; result %#v", tt.kind, res)
				}
				k, text := errKind(t, err)
				if k.String() != tt.kind {
					t.Errorf("kind %v, want %s (%s)", k, tt.kind, text)
				}
				for _, m := range tt.msgs {
					if !strings.Contains(text, m) {
						t.Errorf("error %q does not contain %q", text, m)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := value(t, res); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// A new parameter with a default must not break clients that do not know
// it: they omit it.
func TestNewParameterWithDefault(t *testing.T) {
	v1 := service.New()
	v1.MustFunc("hello", func(name string) string { return "Hello, " + name }, service.Args("name"))
	v2 := service.New()
	v2.MustFunc("hello", func(name, greeting string) string { return greeting + ", " + name },
		service.Args("name", "greeting"), service.Default("greeting", "Hello"))

	old := post("/hello", "name", "Ada") // what a client of v1 sends
	for _, s := range []*service.Service{v1, v2} {
		if got := value(t, mustDo(t, s, old)); got != "Hello, Ada" {
			t.Errorf("old call: got %v", got)
		}
	}
	if got := value(t, mustDo(t, v2, post("/hello", "name", "Ada", "greeting", "Hi"))); got != "Hi, Ada" {
		t.Errorf("new call: got %v", got)
	}
	form := formOf(t, v2, "hello")
	want := []hyper.Input{
		{Name: "name", Type: "unicode"},
		{Name: "greeting", Type: "unicode", Default: "Hello", HasDefault: true},
	}
	if !reflect.DeepEqual(form.Values, want) {
		t.Errorf("form inputs %#v, want %#v", form.Values, want)
	}
}

// formOf returns the form of a function from the index.
func formOf(t testing.TB, s *service.Service, name string) hyper.Form {
	t.Helper()
	f, ok := resource(t, mustDo(t, s, get("/"))).Content[name].(hyper.Form)
	if !ok {
		t.Fatalf("index entry %q is %T, want a form", name, f)
	}
	return f
}

type Point struct{ X, Y int }

type Base struct {
	Verbose bool `glyph:"verbose,optional"`
}

type SearchArgs struct {
	*Base
	Query    string   `glyph:"q"`
	Limit    int      `glyph:"limit,optional"`
	Tags     []string `glyph:",omitempty"`
	Internal string   `glyph:"-"`
	//lint:ignore U1000 an unexported field, which is not an input
	private int
}

func TestStructParameter(t *testing.T) {
	s := service.New()
	var got SearchArgs
	s.MustFunc("search", func(a SearchArgs) int { got = a; return a.Limit })
	form := formOf(t, s, "search")
	want := []hyper.Input{
		{Name: "verbose", Type: "bool", Default: false, HasDefault: true},
		{Name: "q", Type: "unicode"},
		{Name: "limit", Type: "integer", Default: int64(0), HasDefault: true},
		{Name: "Tags", Type: "unicode list/1", Default: []any{}, HasDefault: true},
	}
	if !reflect.DeepEqual(form.Values, want) {
		t.Errorf("form inputs\n got %#v\nwant %#v", form.Values, want)
	}
	mustDo(t, s, post("/search", "q", "go", "verbose", true, "Tags", []any{"a"}))
	if got.Query != "go" || got.Base == nil || !got.Verbose || len(got.Tags) != 1 {
		t.Errorf("bound %+v (base %+v)", got, got.Base)
	}
	mustDo(t, s, post("/search", "q", "go"))
	if got.Query != "go" || got.Limit != 0 || got.Tags != nil {
		t.Errorf("bound %+v", got)
	}
	_, err := do(t, s, post("/search", "q", "go", "Internal", "x"))
	wantErr(t, err, service.KindInvalid, `unknown argument "Internal"`)
	_, err = do(t, s, post("/search", "limit", int64(3)))
	wantErr(t, err, service.KindInvalid, `missing argument "q"`)

	// With Args, a struct parameter is one input.
	s.MustFunc("dist", func(p Point) float64 { return float64(p.X*p.X + p.Y*p.Y) }, service.Args("p"))
	if got := value(t, mustDo(t, s, post("/dist", "p", map[string]any{"X": int64(3), "Y": int64(4)}))); got != 25.0 {
		t.Errorf("dist: got %v", got)
	}
	if typ := formOf(t, s, "dist").Values[0].Type; typ != "object unicode dict/2" {
		t.Errorf("struct input type %q", typ)
	}
}

func TestInputTypes(t *testing.T) {
	tests := []struct {
		fn   any
		want string
	}{
		{func(bool) {}, "bool"},
		{func(int) {}, "integer"},
		{func(uint16) {}, "integer"},
		{func(float32) {}, "float"},
		{func(string) {}, "unicode"},
		{func([]byte) {}, "bytearray"},
		{func([]string) {}, "unicode list/1"},
		{func(map[string]float64) {}, "float unicode dict/2"},
		{func(map[string][]int) {}, "integer list/1 unicode dict/2"},
		{func(*int) {}, "integer?"},
		{func(time.Time) {}, "datetime"},
		{func(time.Duration) {}, "timedelta"},
		{func(*wire.Blob) {}, "blob"},
		{func(io.Reader) {}, "blob"},
		{func(any) {}, "object"},
		{func(wire.Set[string]) {}, "unicode set/1"},
	}
	for _, tt := range tests {
		s := service.New()
		s.MustFunc("f", tt.fn, service.Args("x"))
		if got := formOf(t, s, "f").Values[0].Type; got != tt.want {
			t.Errorf("%T: input type %q, want %q", tt.fn, got, tt.want)
		}
	}
}

// Each call gets its own copy of a default: a call that changes it does
// not change it for the next one, nor the form.
func TestDefaultsNotShared(t *testing.T) {
	s := service.New()
	s.MustFunc("grab", func(xs []int, m map[string]int, p *Point) []int {
		out := append([]int(nil), xs...)
		xs[0], m["a"], p.X = 99, 99, 99
		return append(out, m["a"], p.X)
	}, service.Args("xs", "m", "p"),
		service.Default("xs", []int{1, 2}), service.Default("m", map[string]int{"a": 1}), service.Default("p", &Point{X: 1}))
	want := []any{int64(1), int64(2), int64(99), int64(99)}
	for i := 0; i < 3; i++ {
		if got := value(t, mustDo(t, s, post("/grab"))); !reflect.DeepEqual(got, want) {
			t.Fatalf("call %d: got %v, want %v", i, got, want)
		}
	}
	if d := formOf(t, s, "grab").Values[0].Default; !reflect.DeepEqual(d, []any{int64(1), int64(2)}) {
		t.Errorf("form default changed: %v", d)
	}
}

type ctxKey struct{}

func TestContextAndErrors(t *testing.T) {
	s, logs := newLogged()
	s.MustFunc("who", func(ctx context.Context) string { return ctx.Value(ctxKey{}).(string) })
	s.MustFunc("find", func(ctx context.Context, id int) (string, error) {
		return "", service.Errorf(service.KindNotFound, "no user %d", id)
	}, service.Args("id"))
	s.MustFunc("broken", func() error { return errors.New("disk on fire") })
	s.MustFunc("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })

	ctx := context.WithValue(context.Background(), ctxKey{}, "ada")
	res, err := s.Serve(ctx, post("/who").request())
	if err != nil || value(t, res) != "ada" {
		t.Errorf("who: %v, %v", res, err)
	}

	_, err = do(t, s, post("/find", "id", int64(7)))
	wantErr(t, err, service.KindNotFound, "find: no user 7")
	var e *service.Error
	if errors.As(err, &e) && e.Logref != "" {
		t.Errorf("a NotFound error got logref %q", e.Logref)
	}

	_, err = do(t, s, post("/broken"))
	wantErr(t, err, service.KindInternal, "broken: disk on fire")
	if !errors.As(err, &e) || e.Logref == "" {
		t.Fatalf("internal error without a logref: %v", err)
	}
	if log := logs.String(); !strings.Contains(log, e.Logref) || !strings.Contains(log, "disk on fire") {
		t.Errorf("logref %s not logged with its cause:\n%s", e.Logref, log)
	}

	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Serve(cctx, post("/slow").request())
	wantErr(t, err, service.KindCanceled, "slow: canceled")
	dctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err = s.Serve(dctx, post("/slow").request())
	wantErr(t, err, service.KindDeadlineExceeded)
}

func TestBlobArgument(t *testing.T) {
	s := service.New()
	s.MustFunc("upload", func(name string, body io.Reader) (string, error) {
		b, err := io.ReadAll(body)
		return name + ":" + string(b), err
	}, service.Args("name", "body"), service.Default("name", "anon"))
	s.MustFunc("first", func(b *wire.Blob) string { return b.ContentType }, service.Args("b"))
	s.MustFunc("none", func() {})

	req := post("/upload").request()
	req.Blob, req.BlobName = wire.BytesBlob("text/plain", []byte("hi")), "body"
	res, err := s.Serve(context.Background(), req)
	if err != nil || value(t, res) != "anon:hi" {
		t.Errorf("upload: %v, %v", res, err)
	}

	req = post("/first").request()
	req.Blob = wire.BytesBlob("image/png", nil)
	res, err = s.Serve(context.Background(), req)
	if err != nil || value(t, res) != "image/png" {
		t.Errorf("first: %v, %v", res, err)
	}

	req = post("/upload", "body", wire.BytesBlob("text/plain", nil)).request()
	req.Blob, req.BlobName = wire.BytesBlob("text/plain", []byte("hi")), "body"
	_, err = s.Serve(context.Background(), req)
	wantErr(t, err, service.KindInvalid, `argument "body" given twice`)

	req = post("/upload").request()
	req.Blob, req.BlobName = wire.BytesBlob("text/plain", nil), "file"
	_, err = s.Serve(context.Background(), req)
	wantErr(t, err, service.KindInvalid, `no input "file" for the request body`)

	req = post("/none").request()
	req.Blob = wire.BytesBlob("text/plain", nil)
	_, err = s.Serve(context.Background(), req)
	wantErr(t, err, service.KindInvalid, "takes no arguments, got a request body")
}

func TestFuncKinds(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	count := func(name string) func() string {
		return func() string {
			mu.Lock()
			defer mu.Unlock()
			calls[name]++
			return name
		}
	}
	s := service.New()
	s.MustFunc("unsafe", count("unsafe"))
	s.MustFunc("safe", count("safe"), service.Safe(), service.CacheControl("max-age=60"))
	s.MustFunc("inline", count("inline"), service.Inline())
	s.MustFunc("hidden", count("hidden"), service.Hidden())
	s.MustFunc("hidden_safe", count("hidden_safe"), service.Hidden(), service.Safe())
	s.MustFunc("search", func(q string, n int) string { return q }, service.Args("q", "n"), service.Default("n", 10), service.Safe())
	s.MustFunc("unsafe_again", count("unsafe_again"), service.Safe(), service.SideEffects())

	index := resource(t, mustDo(t, s, get("/")))
	if f, ok := index.Content["unsafe"].(hyper.Form); !ok || f.URL != "/unsafe" || f.HTTPMethod() != "POST" {
		t.Errorf("unsafe: %#v", index.Content["unsafe"])
	}
	if l, ok := index.Content["safe"].(hyper.Link); !ok || l.URL != "/safe" || l.Inline {
		t.Errorf("safe: %#v", index.Content["safe"])
	}
	if l, ok := index.Content["inline"].(hyper.Link); !ok || !l.Inline || l.Content != "inline" {
		t.Errorf("inline: %#v", index.Content["inline"])
	}
	if f, ok := index.Content["search"].(hyper.Form); !ok || f.HTTPMethod() != "GET" || len(f.Values) != 2 {
		t.Errorf("safe with inputs: %#v", index.Content["search"])
	}
	if f, ok := index.Content["unsafe_again"].(hyper.Form); !ok || f.HTTPMethod() != "POST" {
		t.Errorf("Unsafe after Safe: %#v", index.Content["unsafe_again"])
	}
	for _, name := range []string{"hidden", "hidden_safe"} {
		if _, ok := index.Content[name]; ok {
			t.Errorf("hidden function %s is listed", name)
		}
	}

	// Unsafe: GET shows the form, GET with arguments is refused, POST calls.
	res := mustDo(t, s, get("/unsafe"))
	if f, ok := res.Value.(hyper.Form); !ok || f.URL != "/unsafe" {
		t.Errorf("GET /unsafe: %#v", res.Value)
	}
	_, err := do(t, s, getQuery("/unsafe", "x", int64(1)))
	wantErr(t, err, service.KindMethodNotAllowed, "POST")
	if res := mustDo(t, s, post("/unsafe")); res.Cacheable {
		t.Error("a POST answer is cacheable")
	}

	// Safe: GET calls and may be cached; arguments come in the query.
	res = mustDo(t, s, get("/safe"))
	if value(t, res) != "safe" || !res.Cacheable || res.CacheControl != "max-age=60" {
		t.Errorf("GET /safe: %+v", res)
	}
	if res := mustDo(t, s, call{method: "HEAD", url: "/safe"}); value(t, res) != "safe" || !res.Cacheable {
		t.Errorf("HEAD /safe: %+v", res)
	}
	if _, ok := mustDo(t, s, call{method: "HEAD", url: "/unsafe"}).Value.(hyper.Form); !ok {
		t.Error("HEAD on an unsafe function called it")
	}
	res = mustDo(t, s, getQuery("/search", "q", "glyph"))
	if value(t, res) != "glyph" || !res.Cacheable {
		t.Errorf("GET /search?q: %+v", res)
	}
	_, err = do(t, s, call{method: "GET", url: "/search?%ZZ"})
	wantErr(t, err, service.KindInvalid, "bad query arguments")
	if value(t, mustDo(t, s, post("/search", "q", "post"))) != "post" {
		t.Error("POST to a safe function failed")
	}

	// Hidden: callable at its URL, as its kind says.
	if value(t, mustDo(t, s, post("/hidden"))) != "hidden" {
		t.Error("POST /hidden")
	}
	if _, ok := mustDo(t, s, get("/hidden")).Value.(hyper.Form); !ok {
		t.Error("GET on a hidden unsafe function did not show its form")
	}
	if value(t, mustDo(t, s, get("/hidden_safe"))) != "hidden_safe" {
		t.Error("GET /hidden_safe")
	}

	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"unsafe": 1, "safe": 2, "inline": 1, "hidden": 1, "hidden_safe": 1}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
}

func TestIndex(t *testing.T) {
	s := service.New(service.WithName("api"))
	s.MustFunc("a", func() {})
	s.MustFunc("b", func() {}, service.Hidden())
	s.MustClass("C", Point{})

	for _, root := range []string{"/", "/v1/", "/v1"} {
		res, err := s.Serve(context.Background(), &service.Request{Method: "GET", Root: root})
		if err != nil {
			t.Fatal(err)
		}
		r := resource(t, res)
		base := strings.TrimSuffix(root, "/") + "/"
		if r.Name != "api" || r.URL != base || len(r.Content) != 2 {
			t.Errorf("root %q: index %#v", root, r)
		}
		if f := r.Content["a"].(hyper.Form); f.URL != base+"a" {
			t.Errorf("root %q: function URL %q", root, f.URL)
		}
		if f := r.Content["C"].(hyper.Form); f.URL != base+"C" || len(f.Values) != 2 {
			t.Errorf("root %q: class %#v", root, f)
		}
		if !res.Cacheable {
			t.Error("the index is not cacheable")
		}
	}
	_, err := do(t, s, post("/"))
	wantErr(t, err, service.KindMethodNotAllowed)
}

func TestNotFound(t *testing.T) {
	s := service.New()
	s.MustFunc("a", func() {})
	s.MustClass("C", Point{})
	for _, url := range []string{"/nope", "/a/", "/a/b", "/C/nope?x", "/nope/x"} {
		_, err := do(t, s, get(url))
		wantErr(t, err, service.KindNotFound)
	}
}

func TestResults(t *testing.T) {
	s, _ := newLogged()
	s.MustClass("Point", Point{})
	target := func() string { return "target" }
	s.MustFunc("target", target)
	blob := wire.BytesBlob("text/plain", []byte("raw"))
	tests := []struct {
		name   string
		fn     any
		opts   []service.FuncOption
		status service.Status
		loc    string
		check  func(t *testing.T, v any)
		kind   service.Kind
	}{
		{name: "no result", fn: func() {}, status: service.StatusNoContent},
		{name: "nil error", fn: func() error { return nil }, status: service.StatusNoContent},
		{name: "nil value", fn: func() any { return nil }, status: service.StatusNoContent},
		{name: "nil pointer", fn: func() *Point { return nil }, status: service.StatusNoContent},
		{name: "value", fn: func() []int { return []int{1, 2} }, check: func(t *testing.T, v any) {
			if !reflect.DeepEqual(v, []any{int64(1), int64(2)}) {
				t.Errorf("got %#v", v)
			}
		}},
		{name: "blob", fn: func() *wire.Blob { return blob }, check: func(t *testing.T, v any) {
			if v != blob {
				t.Errorf("the blob did not pass through: %#v", v)
			}
		}},
		{name: "see other", fn: func() service.SeeOther { return service.SeeOther{URL: "/elsewhere"} }, status: service.StatusSeeOther, loc: "/elsewhere"},
		{name: "see other pointer", fn: func() *service.SeeOther { return &service.SeeOther{URL: "x"} }, status: service.StatusSeeOther, loc: "x"},
		{name: "nil see other", fn: func() *service.SeeOther { return nil }, status: service.StatusNoContent},
		{name: "created", fn: func() service.Created { return service.Created{URL: "/new/1"} }, status: service.StatusCreated, loc: "/new/1"},
		{name: "created pointer", fn: func() any { return &service.Created{URL: "/new/2"} }, status: service.StatusCreated, loc: "/new/2"},
		{name: "function", fn: func() func() string { return target }, check: func(t *testing.T, v any) {
			if f, ok := v.(hyper.Form); !ok || f.URL != "/target" {
				t.Errorf("got %#v, want the form of target", v)
			}
		}},
		{name: "unregistered function", fn: func() func() { return func() {} }, kind: service.KindInternal},
		{name: "instance", fn: func() Point { return Point{1, 2} }, check: func(t *testing.T, v any) {
			r, ok := v.(hyper.Resource)
			if !ok || r.Name != "Point" || r.Content["X"] != int64(1) || !strings.HasPrefix(r.URL, "/Point/?") {
				t.Errorf("got %#v, want a Point resource", v)
			}
		}},
		{name: "instance redirect", fn: func() *Point { return &Point{1, 2} }, opts: []service.FuncOption{service.Redirect()},
			status: service.StatusSeeOther, loc: "/Point/?Du1%3AX%3Bi1%3Bu1%3AY%3Bi2%3B%3B"},
		{name: "redirect of a plain value", fn: func() int { return 1 }, opts: []service.FuncOption{service.Redirect()}, check: func(t *testing.T, v any) {
			if v != int64(1) {
				t.Errorf("got %#v", v)
			}
		}},
		{name: "instances in a slice", fn: func() []*Point { return []*Point{{1, 1}, nil, {2, 2}} }, check: func(t *testing.T, v any) {
			l, ok := v.([]any)
			if !ok || len(l) != 3 || l[1] != nil {
				t.Fatalf("got %#v", v)
			}
			if r, ok := l[2].(hyper.Resource); !ok || r.Content["Y"] != int64(2) {
				t.Errorf("item 2: %#v", l[2])
			}
		}},
		{name: "instances in a map", fn: func() map[string][]Point { return map[string][]Point{"a": {{3, 4}}} }, check: func(t *testing.T, v any) {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("got %#v", v)
			}
			if l, ok := m["a"].([]any); !ok || len(l) != 1 {
				t.Fatalf("a: %#v", m["a"])
			} else if r, ok := l[0].(hyper.Resource); !ok || r.Content["X"] != int64(3) {
				t.Errorf("a[0]: %#v", l[0])
			}
		}},
		{name: "instances behind a pointer", fn: func() *[]Point { return &[]Point{{8, 8}} }, check: func(t *testing.T, v any) {
			if l, ok := v.([]any); !ok || len(l) != 1 {
				t.Fatalf("got %#v", v)
			} else if _, ok := l[0].(hyper.Resource); !ok {
				t.Errorf("item 0: %#v", l[0])
			}
		}},
		{name: "instances behind any", fn: func() any { return []any{Point{5, 6}, "x"} }, check: func(t *testing.T, v any) {
			if l, ok := v.([]any); !ok || len(l) != 2 {
				t.Fatalf("got %#v", v)
			} else if _, ok := l[0].(hyper.Resource); !ok {
				t.Errorf("item 0: %#v", l[0])
			}
		}},
		{name: "instances under int keys", fn: func() map[int]Point { return map[int]Point{7: {7, 7}} }, check: func(t *testing.T, v any) {
			m, ok := v.(map[any]any)
			if !ok {
				t.Fatalf("got %#v", v)
			}
			if _, ok := m[int64(7)].(hyper.Resource); !ok {
				t.Errorf("7: %#v", m[int64(7)])
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "r" + string(rune('a'+i))
			if err := s.Func(name, tt.fn, tt.opts...); err != nil {
				t.Fatal(err)
			}
			res, err := do(t, s, post("/"+name))
			if tt.kind != service.KindOther {
				wantErr(t, err, tt.kind)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status || res.Location != tt.loc {
				t.Fatalf("status %v location %q, want %v %q", res.Status, res.Location, tt.status, tt.loc)
			}
			if tt.check != nil {
				v := res.Value
				if _, isBlob := v.(*wire.Blob); !isBlob {
					v = value(t, res)
				}
				tt.check(t, v)
			}
		})
	}
}

// Closures of one function literal share their code pointer: returning
// one of two registered closures cannot say which form it is.
func TestAmbiguousFunctionResult(t *testing.T) {
	s, _ := newLogged()
	one, two := constant(1), constant(2)
	s.MustFunc("one", one)
	s.MustFunc("two", two)
	s.MustFunc("which", func() func() int { return one })
	_, err := do(t, s, post("/which"))
	wantErr(t, err, service.KindInternal, "several names")
}

//go:noinline
func constant(n int) func() int { return func() int { return n } }

// Panics anywhere in serving, also outside the function (here in encoding
// its result), are recovered into Internal errors whose logref is logged
// with the panic; the caller sees neither the panic value nor the stack.
func TestPanics(t *testing.T) {
	s, logs := newLogged()
	s.MustFunc("boom", func(n int) int { panic("secret detail") }, service.Args("n"))
	s.MustClass("Bad", Bad{})
	s.MustFunc("bad", func() Bad { return Bad{} })
	s.MustFunc("inline_boom", func() int { panic("inline secret") }, service.Inline())

	for _, c := range []call{post("/boom", "n", int64(1)), post("/bad")} {
		_, err := do(t, s, c)
		wantErr(t, err, service.KindInternal, "internal error")
		var e *service.Error
		errors.As(err, &e)
		if strings.Contains(e.Error(), "secret") {
			t.Errorf("the panic value reached the caller: %v", e)
		}
		if e.Logref == "" || !strings.Contains(logs.String(), e.Logref) {
			t.Errorf("logref %q not in the log:\n%s", e.Logref, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "secret detail") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the log lacks the panic value or stack:\n%s", logs.String())
	}

	// An inline function that panics leaves an error in the page, which
	// still renders.
	l := resource(t, mustDo(t, s, get("/"))).Content["inline_boom"].(hyper.Link)
	e, ok := l.Content.(hyper.Error)
	if !ok || e.Logref == "" || strings.Contains(e.Message, "secret") || !strings.Contains(logs.String(), e.Logref) {
		t.Errorf("inline panic: %#v", l.Content)
	}
}

// Bad panics when it is encoded.
type Bad struct{}

func (Bad) MarshalGlyph() (any, error) { panic("secret marshal") }

// An inline function that returns itself would embed itself without end.
func TestInlineRecursion(t *testing.T) {
	s, _ := newLogged()
	var self func() any
	self = func() any { return self }
	s.MustFunc("self", self, service.Inline())
	r := resource(t, mustDo(t, s, get("/")))
	var depth int
	for v := r.Content["self"]; ; depth++ {
		l, ok := v.(hyper.Link)
		if !ok {
			if e, ok := v.(hyper.Error); !ok || !strings.Contains(e.Message, "nested") {
				t.Errorf("at depth %d: %#v", depth, v)
			}
			break
		}
		v = l.Content
	}
	if depth < 2 {
		t.Errorf("depth %d", depth)
	}
}

type Inner struct {
	A int
	B int `glyph:"b"`
}

type Other struct {
	A int
	C int
}

type Stamp struct{ time.Time }

type Wide struct {
	Inner               // promoted: b; A is ambiguous with Other.A
	*Other              // promoted: C
	Stamp         Stamp `glyph:"stamp"`
	time.Duration       // embedded non-struct: a field named Duration
	D             int   `glyph:"A"` // tagged at depth 0: wins over the promoted A's
	E             []int `glyph:"e"`
}

// The inputs of a struct parameter are named as package wire names the
// struct's fields, so a dict a client sends and the state in a URL agree.
func TestStructInputsMatchWire(t *testing.T) {
	for _, v := range []any{Wide{}, Inner{}, Counter{}} {
		typ := reflect.TypeOf(v)
		fn := reflect.MakeFunc(reflect.FuncOf([]reflect.Type{typ}, nil, false), func([]reflect.Value) []reflect.Value { return nil })
		s := service.New()
		if err := s.Func("f", fn.Interface()); err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		var inputs []string
		for _, in := range formOf(t, s, "f").Values {
			inputs = append(inputs, in.Name)
		}
		// Encode a value with every embedded pointer set.
		full := reflect.New(typ).Elem()
		for i := 0; i < typ.NumField(); i++ {
			if f := full.Field(i); f.Kind() == reflect.Pointer && f.CanSet() {
				f.Set(reflect.New(f.Type().Elem()))
			}
		}
		var dict map[string]any
		if err := wire.Unmarshal([]byte(encoded(t, full.Interface())), &dict); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range dict {
			keys = append(keys, k)
		}
		slices.Sort(inputs)
		slices.Sort(keys)
		if !reflect.DeepEqual(inputs, keys) {
			t.Errorf("%T: inputs %v, wire keys %v", v, inputs, keys)
		}
	}

	s := service.New()
	var got Wide
	s.MustFunc("wide", func(w Wide) { got = w })
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	mustDo(t, s, post("/wide", "b", int64(1), "C", int64(2), "stamp", map[string]any{"Time": day}, "Duration", time.Second, "A", int64(3), "e", []any{}))
	if got.B != 1 || got.Other == nil || got.C != 2 || !got.Stamp.Equal(day) || got.Duration != time.Second || got.D != 3 {
		t.Errorf("bound %+v", got)
	}
}

type Tagged2 struct {
	Tags  []string
	Count [2]map[string]int
}

func TestStructDefaultsNotShared(t *testing.T) {
	s := service.New()
	s.MustFunc("f", func(t Tagged2) int {
		n := len(t.Tags) + len(t.Count[0])
		t.Tags[0], t.Count[0]["x"] = "changed", 99
		return n
	}, service.Args("t"), service.Default("t", Tagged2{Tags: []string{"a"}, Count: [2]map[string]int{{"x": 1}, nil}}))
	for i := 0; i < 2; i++ {
		if got := value(t, mustDo(t, s, post("/f"))); got != int64(2) {
			t.Fatalf("call %d: %v", i, got)
		}
	}
	d := formOf(t, s, "f").Values[0].Default.(map[string]any)
	if tags := d["Tags"].([]any); tags[0] != "a" {
		t.Errorf("the form's default changed: %v", d)
	}
}

// TestDirectSignatures calls functions of one string, which the service
// calls without reflection when the request holds just that string, with
// every shape of request: each signature must answer exactly as the
// general path does.
func TestDirectSignatures(t *testing.T) {
	s, _ := newLogged()
	s.MustFunc("plain", func(name string) string { return "Hi " + name }, service.Args("name"))
	s.MustFunc("withCtx", func(ctx context.Context, name string) string { return "Hi " + name }, service.Args("name"))
	s.MustFunc("withErr", func(name string) (string, error) {
		if name == "" {
			return "", service.Errorf(service.KindInvalid, "no name")
		}
		return "Hi " + name, nil
	}, service.Args("name"))
	s.MustFunc("both", func(ctx context.Context, name string) (string, error) {
		if name == "" {
			return "", service.Errorf(service.KindInvalid, "no name")
		}
		return "Hi " + name, nil
	}, service.Args("name"))
	s.MustFunc("defaulted", func(name string) string { return "Hi " + name }, service.Args("name"), service.Default("name", "you"))
	s.MustFunc("panics", func(name string) string { panic("boom") }, service.Args("name"))
	type named string
	s.MustFunc("namedType", func(n named) named { return "Hi " + n }, service.Args("name"))

	for _, fn := range []string{"plain", "withCtx", "withErr", "both", "namedType"} {
		t.Run(fn, func(t *testing.T) {
			for _, c := range []call{post("/"+fn, "name", "Ada"), postPos("/"+fn, "Ada")} {
				if got := value(t, mustDo(t, s, c)); got != "Hi Ada" {
					t.Errorf("%v: got %#v", c, got)
				}
			}
			_, err := do(t, s, post("/"+fn, "name", int64(7)))
			wantErr(t, err, service.KindInvalid, `argument "name": expected unicode, got integer`)
			_, err = do(t, s, post("/"+fn, "nom", "Ada"))
			wantErr(t, err, service.KindInvalid, `unknown argument "nom"`)
			_, err = do(t, s, post("/"+fn))
			wantErr(t, err, service.KindInvalid, `missing argument "name"`)
			_, err = do(t, s, call{method: "POST", url: "/" + fn, pos: []any{"Ada"}, args: []any{"name", "Bob"}})
			wantErr(t, err, service.KindInvalid, `argument "name" given twice`)
		})
	}
	for _, fn := range []string{"withErr", "both"} {
		_, err := do(t, s, post("/"+fn, "name", ""))
		wantErr(t, err, service.KindInvalid, fn+": no name")
	}
	if got := value(t, mustDo(t, s, post("/defaulted"))); got != "Hi you" {
		t.Errorf("defaulted: got %#v", got)
	}
	if got := value(t, mustDo(t, s, post("/defaulted", "name", "Ada"))); got != "Hi Ada" {
		t.Errorf("defaulted: got %#v", got)
	}
	_, err := do(t, s, post("/panics", "name", "Ada"))
	wantErr(t, err, service.KindInternal, "internal error")
}
