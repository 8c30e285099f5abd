package hypernats_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Search is a class whose methods are reached by their paths
// "Search/<method>" once an instance's URL has no state in its query,
// as a component's singleton has: here the tests reach the class's
// constructor, and its method through a function.
type Point struct {
	X, Y int
}

// testService is what the tests serve.
func testService(t testing.TB) *service.Service {
	t.Helper()
	svc := service.New()
	svc.MustFunc("hello", func(name string, excited bool) string {
		if excited {
			return "Hello, " + name + "!"
		}
		return "Hello, " + name
	}, service.Args("name", "excited"), service.Default("name", "World"), service.Default("excited", false))
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"))
	svc.MustFunc("reverse", func(b []byte) []byte {
		out := make([]byte, len(b))
		for i, c := range b {
			out[len(b)-1-i] = c
		}
		return out
	}, service.Args("data"))
	svc.MustFunc("later", func(t time.Time, d time.Duration) time.Time { return t.Add(d) }, service.Args("t", "d"))
	svc.MustFunc("sum", func(xs iter.Seq[int]) int {
		n := 0
		for x := range xs {
			n += x
		}
		return n
	}, service.Args("xs"))
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}
	}, service.Args("n"))
	svc.MustFunc("header", func(ctx context.Context, name string) string { return peer.Header(ctx)[name] }, service.Args("name"))
	svc.MustFunc("wait", func(ctx context.Context) (string, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return "", service.Errorf(service.KindInvalid, "no deadline")
		}
		<-ctx.Done()
		return fmt.Sprintf("%v", time.Until(dl) <= 0), ctx.Err()
	})
	svc.MustFunc("fail", func(kind int) error { return service.Errorf(service.Kind(kind), "failed as asked") }, service.Args("kind"))
	svc.MustFunc("crash", func() int { panic("boom") })
	svc.MustFunc("each", func(xs []int, f func(int) int) int {
		n := 0
		for _, x := range xs {
			n += f(x)
		}
		return n
	}, service.Args("xs", "f"))
	svc.MustFunc("point", func(x, y int) Point { return Point{x, y} }, service.Args("x", "y"))
	svc.MustFunc("version", func() string { return "1" }, service.Safe())
	svc.MustFunc("double", func(n int) int { return 2 * n }, service.Args("n"), service.Safe())
	svc.MustFunc("rows", func() []map[string]any { return []map[string]any{{"a": 1}, {"a": 2}} })
	svc.MustFunc("shapes", func() *wire.OrderedDict {
		return wire.NewOrderedDict("wait", 1500*time.Millisecond, "data", wire.BytesBlob("text/plain", []byte("hi")),
			"next", hyper.Link{URL: "/version"}, "squares", map[int]int{3: 9, 2: 4})
	})
	return svc
}

// setup serves testService on a fresh nats-server and returns a glyph
// client and a JSON client.
func setup(t testing.TB, opts ...hypernats.Option) (*nats.Conn, *hypernats.Client, *hypernats.Client) {
	t.Helper()
	ns := startNATS(t)
	serve(t, connect(t, ns.ClientURL()), testService(t), opts...)
	nc := connect(t, ns.ClientURL())
	g := hypernats.NewClient(nc)
	j := hypernats.NewClient(nc, hypernats.WithClientCodec(hypernats.CodecJSON))
	t.Cleanup(func() { g.Close(); j.Close() })
	return nc, g, j
}

func TestCalls(t *testing.T) {
	_, g, j := setup(t)
	ctx := context.Background()
	day := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		method string
		args   []any
		named  map[string]any
		glyph  any // what the glyph client decodes into any
		json   any // what the JSON client decodes into any
	}{
		{"positional", "hello", []any{"Ann", true}, nil, "Hello, Ann!", "Hello, Ann!"},
		{"named", "hello", nil, map[string]any{"name": "Bo"}, "Hello, Bo", "Hello, Bo"},
		{"defaults", "hello", nil, nil, "Hello, World", "Hello, World"},
		{"integers", "add", []any{2, 40}, nil, int64(42), float64(42)},
		{"bytes", "reverse", []any{[]byte("abc")}, nil, []byte("cba"), "Y2Jh"},
		{"datetime and timedelta", "later", nil, map[string]any{"t": day, "d": time.Hour}, day.Add(time.Hour), "2026-12-07T11:00:00Z"},
		{"streamed argument as a list", "sum", []any{[]int{1, 2, 3}}, nil, int64(6), float64(6)},
		{"streamed result as a list", "count", []any{3}, nil, []any{int64(0), int64(1), int64(2)}, []any{float64(0), float64(1), float64(2)}},
		{"struct result", "point", []any{1, 2}, nil, map[string]any{"X": int64(1), "Y": int64(2)}, map[string]any{"X": float64(1), "Y": float64(2)}},
		{"safe link", "version", nil, nil, "1", "1"},
		{"safe form (GET)", "double", nil, map[string]any{"n": 21}, int64(42), float64(42)},
		{"list of dicts", "rows", nil, nil, []any{map[string]any{"a": int64(1)}, map[string]any{"a": int64(2)}}, []any{map[string]any{"a": float64(1)}, map[string]any{"a": float64(2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gv, jv any
			if err := g.Call(ctx, tt.method, tt.args, tt.named, &gv); err != nil {
				t.Fatalf("glyph: %v", err)
			}
			if got, want := fmt.Sprintf("%#v", gv), fmt.Sprintf("%#v", tt.glyph); got != want {
				t.Errorf("glyph: got %s, want %s", got, want)
			}
			if tt.name == "datetime and timedelta" {
				// JSON has no timedelta: seconds or a Go duration string.
				tt.named["d"] = "1h"
			}
			if err := j.Call(ctx, tt.method, tt.args, tt.named, &jv); err != nil {
				t.Fatalf("json: %v", err)
			}
			if got, want := fmt.Sprintf("%#v", jv), fmt.Sprintf("%#v", tt.json); got != want {
				t.Errorf("json: got %s, want %s", got, want)
			}
		})
	}
}

// A JSON request without headers is what `nats req` sends.
func TestPlainNATSRequest(t *testing.T) {
	nc, _, _ := setup(t)
	tests := []struct{ subject, body, want string }{
		{"glyph.hello", `{"name":"Cy","excited":true}`, `"Hello, Cy!"`},
		{"glyph.hello", ``, `"Hello, World"`},
		{"glyph.hello", `"Di"`, `"Hello, Di"`},
		{"glyph.add", `[1, 2.0]`, `3`},
		{"glyph.reverse", `["YWJj"]`, `"Y2Jh"`},
		{"glyph.later", `{"t":"2026-01-01T00:00:00Z","d":90}`, `"2026-01-01T00:01:30Z"`},
		{"glyph.count", `[2]`, `[0,1]`},
	}
	for _, tt := range tests {
		m, err := nc.Request(tt.subject, []byte(tt.body), 5*time.Second)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.subject, tt.body, err)
		}
		if got := string(m.Data); got != tt.want || m.Header.Get(micro.ErrorCodeHeader) != "" {
			t.Errorf("%s %s: got %s (%v), want %s", tt.subject, tt.body, got, m.Header, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	nc, g, j := setup(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		method  string
		args    []any
		kind    service.Kind
		message string
	}{
		{"kind from the function", "fail", []any{int(service.KindConflict)}, service.KindConflict, "fail: failed as asked"},
		{"overloaded keeps its kind", "fail", []any{int(service.KindOverloaded)}, service.KindOverloaded, "failed as asked"},
		{"wrong type", "add", []any{"x", 1}, service.KindInvalid, `argument "a"`},
		{"missing argument", "add", []any{1}, service.KindInvalid, `"b"`},
		{"panic", "crash", nil, service.KindInternal, "crash: internal error"},
		{"callback", "each", []any{[]int{1}, "ref"}, service.KindUnsupported, "each: callback arguments do not travel over nats"},
		{"no such method", "nope", nil, service.KindUnavailable, "no responders"},
	}
	for _, tt := range tests {
		for _, c := range []*hypernats.Client{g, j} {
			err := c.Call(ctx, tt.method, tt.args, nil, nil)
			var e *service.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || !strings.Contains(e.Message, tt.message) {
				t.Errorf("%s: got %v (%#v), want %s containing %q", tt.name, err, e, tt.kind, tt.message)
				continue
			}
			if tt.kind == service.KindUnavailable {
				continue
			}
			var se *hypernats.ServiceError
			if !errors.As(err, &se) || se.Code != tt.kind.HTTPStatus() {
				t.Errorf("%s: the micro error is %#v, want code %d", tt.name, se, tt.kind.HTTPStatus())
			}
			if e.Logref == "" {
				t.Errorf("%s: no logref", tt.name)
			}
		}
	}
	// The micro headers, for NATS tools.
	m, err := nc.Request("glyph.add", []byte(`[1]`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(micro.ErrorCodeHeader) != "400" || !strings.Contains(m.Header.Get(micro.ErrorHeader), `"b"`) {
		t.Errorf("headers %v", m.Header)
	}
	var body struct{ Kind, Message, Logref string }
	if err := json.Unmarshal(m.Data, &body); err != nil || body.Kind != "invalid" || body.Logref == "" {
		t.Errorf("body %s: %v", m.Data, err)
	}
}

// Streamed arguments and callbacks fail in the caller, before sending.
func TestUnsupportedArguments(t *testing.T) {
	_, g, _ := setup(t)
	seq := func(yield func(int) bool) { yield(1) }
	tests := []struct {
		name string
		arg  any
		want string
	}{
		{"iterator", iter.Seq[int](seq), "each: streamed arguments do not travel over nats"},
		{"channel", make(chan int), "each: streamed arguments do not travel over nats"},
		{"callback", func(int) int { return 0 }, "each: callback arguments do not travel over nats"},
	}
	for _, tt := range tests {
		err := g.Call(context.Background(), "each", []any{tt.arg}, nil, nil)
		if service.KindOf(err) != service.KindUnsupported || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want KindUnsupported %q", tt.name, err, tt.want)
		}
	}
}

func TestBadPayloads(t *testing.T) {
	nc, _, _ := setup(t, hypernats.WithLimits(wireLimits()))
	tests := []struct {
		name   string
		ct     string
		body   string
		code   string
		reason string
	}{
		{"bad JSON", "", `{"name":`, "400", "bad payload"},
		{"trailing data", "", `{} {}`, "400", "data after the JSON value"},
		{"too deep", "", strings.Repeat("[", 20) + strings.Repeat("]", 20), "400", "nested deeper"},
		{"too many items", "", "[" + strings.Repeat("1,", 40) + "1]", "400", "over 32 items"},
		{"bad glyph", hypernats.MediaTypeGlyph, "L i1; ", "400", "bad payload"},
		{"bad base64", "", `["%%%"]`, "400", "base64"},
		{"bad datetime", "", `{"t":"yesterday","d":1}`, "400", "RFC 3339"},
		{"unknown content type", "text/plain", `x`, "415", "Content-Type"},
		{"bad timeout", "", ``, "400", "Glyph-Timeout"},
	}
	subject := map[string]string{"bad base64": "glyph.reverse", "bad datetime": "glyph.later"}
	for _, tt := range tests {
		msg := nats.NewMsg("glyph.hello")
		if s, ok := subject[tt.name]; ok {
			msg.Subject = s
		}
		if tt.ct != "" {
			msg.Header.Set("Content-Type", tt.ct)
		}
		if tt.name == "bad timeout" {
			msg.Header.Set("Glyph-Timeout", "soon")
		}
		msg.Data = []byte(tt.body)
		m, err := nc.RequestMsg(msg, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if m.Header.Get(micro.ErrorCodeHeader) != tt.code || !strings.Contains(m.Header.Get(micro.ErrorHeader), tt.reason) {
			t.Errorf("%s: got %q %q, want %s %q", tt.name, m.Header.Get(micro.ErrorCodeHeader), m.Header.Get(micro.ErrorHeader), tt.code, tt.reason)
		}
	}
}

func TestHeadersAndDeadlines(t *testing.T) {
	nc, _, _ := setup(t)
	c := hypernats.NewClient(nc, hypernats.WithClientHeader("X-Tenant", "blue"))
	defer c.Close()
	ctx := peer.WithHeader(context.Background(), map[string]string{"X-Trace": "t1"})
	for name, want := range map[string]string{"X-Tenant": "blue", "X-Trace": "t1", "Content-Type": ""} {
		var got string
		if err := c.Call(ctx, "header", []any{name}, nil, &got); err != nil || got != want {
			t.Errorf("header %s: got %q, %v; want %q", name, got, err, want)
		}
	}
	dctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := c.Call(dctx, "wait", nil, nil, nil)
	if service.KindOf(err) != service.KindDeadlineExceeded {
		t.Errorf("wait: got %v, want deadline exceeded", err)
	}
}

func TestSubjectsAndMicro(t *testing.T) {
	ns := startNATS(t)
	srv := serve(t, connect(t, ns.ClientURL()), testService(t), hypernats.WithPrefix("apps.demo"),
		hypernats.WithServiceName("demo"), hypernats.WithVersion("1.2.3"))
	got := strings.Join(srv.Subjects(), " ")
	for _, want := range []string{"apps.demo.hello", "apps.demo.add", "apps.demo.count", "apps.demo.version"} {
		if !strings.Contains(got, want) {
			t.Errorf("subjects %s lack %s", got, want)
		}
	}
	nc := connect(t, ns.ClientURL())
	m, err := nc.Request("$SRV.INFO.demo", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var info micro.Info
	if err := json.Unmarshal(m.Data, &info); err != nil {
		t.Fatal(err)
	}
	if info.Name != "demo" || info.Version != "1.2.3" || info.Metadata["glyph.prefix"] != "apps.demo" {
		t.Errorf("info %+v", info)
	}
	var hello *micro.EndpointInfo
	for i, e := range info.Endpoints {
		if e.Subject == "apps.demo.hello" {
			hello = &info.Endpoints[i]
		}
	}
	if hello == nil {
		t.Fatalf("no hello endpoint in %+v", info.Endpoints)
	}
	want := `[{"name":"name","type":"unicode","default":"World","optional":true},{"name":"excited","type":"bool","default":false,"optional":true}]`
	if hello.Metadata["glyph.inputs"] != want || hello.Metadata["glyph.method"] != "POST" || hello.QueueGroup != "q" {
		t.Errorf("hello endpoint %+v", hello)
	}
	c := hypernats.NewClient(nc, hypernats.WithClientPrefix("apps.demo"))
	defer c.Close()
	c.Call(context.Background(), "hello", nil, nil, nil)
	c.Call(context.Background(), "add", []any{1}, nil, nil)
	m, err = nc.Request("$SRV.STATS.demo", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var stats struct {
		Endpoints []struct {
			Subject string
			Data    struct{ Calls, Errors int }
		}
	}
	if err := json.Unmarshal(m.Data, &stats); err != nil {
		t.Fatal(err)
	}
	for _, e := range stats.Endpoints {
		switch e.Subject {
		case "apps.demo.hello":
			if e.Data.Calls != 1 || e.Data.Errors != 0 {
				t.Errorf("hello stats %+v", e.Data)
			}
		case "apps.demo.add":
			if e.Data.Calls != 1 || e.Data.Errors != 1 {
				t.Errorf("add stats %+v", e.Data)
			}
		}
	}
}

// With WithInlineCalls, calls run in their subscription's goroutine;
// streams still run on workers, and calls to other methods go on while
// one method is busy.
func TestInlineCalls(t *testing.T) {
	_, g, _ := setup(t, hypernats.WithInlineCalls())
	ctx := context.Background()
	var s string
	if err := g.Call(ctx, "hello", []any{"In"}, nil, &s); err != nil || s != "Hello, In" {
		t.Fatalf("hello: %q, %v", s, err)
	}
	var items []any
	for v, err := range g.Stream(ctx, "count", []any{40}, nil) {
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, v)
	}
	if len(items) != 40 {
		t.Errorf("count streamed %d items", len(items))
	}
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- g.Call(wctx, "wait", nil, nil, nil) }()
	time.Sleep(50 * time.Millisecond)
	var n int
	if err := g.Call(ctx, "add", []any{1, 2}, nil, &n); err != nil || n != 3 {
		t.Errorf("add while wait runs: %d, %v", n, err)
	}
	if err := <-done; service.KindOf(err) != service.KindDeadlineExceeded {
		t.Errorf("wait: %v", err)
	}
}

func TestClosedClient(t *testing.T) {
	nc, _, _ := setup(t)
	c := hypernats.NewClient(nc)
	if err := c.Call(context.Background(), "hello", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	err := c.Call(context.Background(), "hello", nil, nil, nil)
	if service.KindOf(err) != service.KindUnavailable || !strings.Contains(err.Error(), "closed") {
		t.Errorf("after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

// Calls that wait do not hold up the others: a method that calls this
// server again, deeper than there are processors, gets its answers, and
// slow calls made at once run at once, not one processor's worth at a
// time.
func TestCallsThatWait(t *testing.T) {
	ns := startNATS(t)
	var c *hypernats.Client
	svc := service.New()
	svc.MustFunc("chain", func(ctx context.Context, n int) (int, error) {
		if n == 0 {
			return 0, nil
		}
		var got int
		err := c.Call(ctx, "chain", []any{n - 1}, nil, &got)
		return got + 1, err
	}, service.Args("n"))
	svc.MustFunc("slow", func() int { time.Sleep(250 * time.Millisecond); return 1 })
	serve(t, connect(t, ns.ClientURL()), svc)
	c = hypernats.NewClient(connect(t, ns.ClientURL()))
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	if err := c.Call(ctx, "chain", []any{8}, nil, &n); err != nil || n != 8 {
		t.Fatalf("chain 8: %d, %v", n, err)
	}
	const calls = 32
	start := time.Now()
	errs := make(chan error, calls)
	for range calls {
		go func() { errs <- c.Call(ctx, "slow", nil, nil, nil) }()
	}
	for range calls {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > calls*250*time.Millisecond/4 {
		t.Errorf("%d calls of 250 ms at once took %v", calls, d)
	}
}

// WithAuthorize refuses a call before the service sees it.
func TestAuthorize(t *testing.T) {
	ns := startNATS(t)
	var called []string
	serve(t, connect(t, ns.ClientURL()), testService(t), hypernats.WithPrefix("auth"),
		hypernats.WithAuthorize(func(_ context.Context, h map[string][]string, target string) error {
			called = append(called, target)
			if len(h["X-Key"]) == 1 && h["X-Key"][0] == "open" {
				return nil
			}
			return &service.Error{Kind: service.KindUnauthenticated, Message: "no key"}
		}))
	nc := connect(t, ns.ClientURL())
	var got string
	bad := hypernats.NewClient(nc, hypernats.WithClientPrefix("auth"))
	defer bad.Close()
	if err := bad.Call(context.Background(), "hello", []any{"x"}, nil, &got); service.KindOf(err) != service.KindUnauthenticated {
		t.Fatalf("without the key: %v, want unauthenticated", err)
	}
	good := hypernats.NewClient(nc, hypernats.WithClientPrefix("auth"), hypernats.WithClientHeader("X-Key", "open"))
	defer good.Close()
	if err := good.Call(context.Background(), "hello", []any{"x"}, nil, &got); err != nil || got == "" {
		t.Fatalf("with the key: %q, %v", got, err)
	}
	if len(called) != 2 || called[0] != "hello" {
		t.Fatalf("authorize saw %v", called)
	}
}
