package service_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// A plain function, its form in the index, and a call. Transports build
// the Request from their wire; this is what they all hand to Serve.
func Example_function() {
	svc := service.New()
	svc.MustFunc("greet", func(name string, excited bool) string {
		if excited {
			return "Hello, " + name + "!"
		}
		return "Hello, " + name
	}, service.Args("name", "excited"), service.Default("excited", false))

	ctx := context.Background()
	index, _ := svc.Serve(ctx, &service.Request{Method: "GET"})
	form := index.Value.(hyper.Resource).Content["greet"].(hyper.Form)
	fmt.Println(form.Method, form.URL)
	for _, in := range form.Values {
		fmt.Printf("  %s: %s (default %v)\n", in.Name, in.Type, in.Default)
	}

	res, err := svc.Serve(ctx, &service.Request{
		Method: "POST",
		Path:   "greet",
		Args:   wire.NewOrderedDict("name", "Ada"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := wire.Marshal(res.Value)
	fmt.Printf("%s\n", b)
	// Output:
	// POST /greet
	//   name: unicode (default <nil>)
	//   excited: bool (default false)
	// u10:Hello, Ada;
}

// A struct parameter: its fields are the inputs, and a field tagged
// optional may be omitted.
func ExampleService_Func() {
	type Search struct {
		Query string `glyph:"q"`
		Limit int    `glyph:"limit,optional"`
	}
	svc := service.New()
	svc.MustFunc("search", func(ctx context.Context, s Search) []string {
		if s.Limit == 0 {
			s.Limit = 2
		}
		return []string{s.Query + " 1", s.Query + " 2", s.Query + " 3"}[:s.Limit]
	}, service.Safe())

	// A safe function with inputs is a form called with GET: its
	// arguments come in the query.
	res, _ := svc.Serve(context.Background(), &service.Request{
		Method: "GET",
		Path:   "search",
		Query:  "Ou1%3Aq%3Bu5%3Aglyph%3B%3B", // O u1:q; u5:glyph; ;
	})
	fmt.Println(res.Value, res.Cacheable)
	// Output: [glyph 1 glyph 2] true
}

// Vec's state travels in its URLs: the server keeps nothing.
type Vec struct{ X, Y int }

func (v Vec) Scale(k int) Vec { return Vec{v.X * k, v.Y * k} }

func (v Vec) Len2() int { return v.X*v.X + v.Y*v.Y }

// A class: the constructor answers 303 to the new instance's URL, which
// holds its state; the instance's resource has its state and a form or
// link per method.
func ExampleService_Class() {
	svc := service.New()
	svc.MustClass("Vec", Vec{},
		service.Method("scale", service.Args("k")),
		service.Method("len2", service.Safe()))
	ctx := context.Background()

	res, _ := svc.Serve(ctx, &service.Request{Method: "POST", Path: "Vec", Args: wire.NewOrderedDict("X", 3, "Y", 4)})
	fmt.Println(res.Status == service.StatusSeeOther, res.Location)

	path, query, _ := strings.Cut(strings.TrimPrefix(res.Location, "/"), "?")
	res, _ = svc.Serve(ctx, &service.Request{Method: "GET", Path: path, Query: query})
	r := res.Value.(hyper.Resource)
	var keys []string
	for k := range r.Content {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println(r.Name, keys)
	fmt.Println(r.Content["len2"].(hyper.Link).URL)

	res, _ = svc.Serve(ctx, &service.Request{Method: "POST", Path: "Vec/scale", Query: query, Args: wire.NewOrderedDict("k", 2)})
	fmt.Println(res.Value.(hyper.Resource).Content["X"])
	// Output:
	// true /Vec/?Du1%3AX%3Bi3%3Bu1%3AY%3Bi4%3B%3B
	// Vec [X Y len2 scale]
	// /Vec/len2?Du1%3AX%3Bi3%3Bu1%3AY%3Bi4%3B%3B
	// 6
}

// Tally is kept on the server.
type Tally struct{ N int }

func (t *Tally) Add(n int) { t.N += n }

// A persistent class: instances live in a Store under an opaque id, and
// methods that change them are saved.
func ExamplePersistent() {
	svc := service.New()
	svc.MustClass("Tally", Tally{}, service.Persistent(service.NewMemoryStore()),
		service.Method("add", service.Args("n"), service.Default("n", 1)))
	ctx := context.Background()

	res, _ := svc.Serve(ctx, &service.Request{Method: "POST", Path: "Tally", Args: wire.NewOrderedDict("N", 0)})
	inst := strings.TrimPrefix(res.Location, "/") // "Tally/<id>/"
	for i := 0; i < 3; i++ {
		svc.Serve(ctx, &service.Request{Method: "POST", Path: inst + "add"})
	}
	res, _ = svc.Serve(ctx, &service.Request{Method: "GET", Path: inst})
	fmt.Println(res.Value.(hyper.Resource).Content["N"])
	// Output: 3
}

// Bad arguments are Invalid errors that name the input; a transport sends
// the kind's HTTP status.
func ExampleError() {
	svc := service.New()
	svc.MustFunc("sum", func(xs []int) int { return len(xs) }, service.Args("xs"))
	_, err := svc.Serve(context.Background(), &service.Request{
		Method: "POST",
		Path:   "sum",
		Args:   wire.NewOrderedDict("xs", []any{1, "two"}),
	})
	var e *service.Error
	if errors.As(err, &e) {
		fmt.Println(e.Kind, e.Kind.HTTPStatus())
		fmt.Println(e)
	}
	// Output:
	// invalid 400
	// sum: argument "xs": item 1: expected integer, got unicode
}

// Go code chooses the kind its caller sees with Errorf; any other error
// is Internal.
func ExampleErrorf() {
	svc := service.New()
	svc.MustFunc("user", func(id int) (string, error) {
		return "", service.Errorf(service.KindNotFound, "no user %d", id)
	}, service.Args("id"))
	_, err := svc.Serve(context.Background(), &service.Request{Method: "POST", Path: "user", Positional: []any{7}})
	fmt.Println(service.KindOf(err).HTTPStatus(), err)
	// Output: 404 user: no user 7
}

// A function that streams its result and takes a streaming input: the
// transport hands Serve the input as a Stream (a peer, one value per
// message) and ranges over the Stream it answers, sending each item as it
// comes.
func ExampleStream() {
	svc := service.New()
	svc.MustFunc("running_total", func(xs iter.Seq[int]) iter.Seq[int] {
		return func(yield func(int) bool) {
			n := 0
			for x := range xs {
				n += x
				if !yield(n) {
					return
				}
			}
		}
	}, service.Args("xs"))

	in := func(yield func(any, error) bool) {
		_ = yield(int64(1), nil) && yield(int64(2), nil) && yield("three", nil)
	}
	res, err := svc.Serve(context.Background(), &service.Request{Method: "POST", Path: "running_total", Stream: in})
	if err != nil {
		fmt.Println(err)
		return
	}
	for v, err := range res.Value.(service.Stream) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(v)
	}
	// Output:
	// 1
	// 3
	// error: running_total: argument "xs": item 2: expected integer, got unicode
}
