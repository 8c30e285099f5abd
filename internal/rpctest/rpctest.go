// Package rpctest is the service that the tests of the method-name
// transports (jsonrpc, xmlrpc) serve: a function per glyph type, errors
// of every kind, and the capabilities those transports lack.
package rpctest

import (
	"context"
	"iter"
	"slices"
	"time"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// User is a registered class whose constructor the service offers.
type User struct {
	Name string
}

// Greet is a method of a User, offered only on instances (whose state is
// in their URL), so not by method name.
func (u User) Greet() string { return "Hello, " + u.Name }

// Point is a struct result, a dict of its glyph fields.
type Point struct {
	X, Y int
	Tag  string `glyph:"tag"`
}

// Service returns a new service with the test functions.
func Service() *service.Service {
	svc := service.New()
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"))
	svc.MustFunc("hello", func(name string) string { return "Hello, " + name + "!" },
		service.Args("name"), service.Default("name", "World"))
	svc.MustFunc("echo", func(v any) any { return v }, service.Args("v"))
	svc.MustFunc("half", func(f float64) float64 { return f / 2 }, service.Args("f"))
	svc.MustFunc("negate", func(b bool) bool { return !b }, service.Args("b"))
	svc.MustFunc("reverse", func(b []byte) []byte {
		c := slices.Clone(b)
		slices.Reverse(c)
		return c
	}, service.Args("b"))
	svc.MustFunc("later", func(t time.Time, d time.Duration) time.Time { return t.Add(d) }, service.Args("t", "d"))
	svc.MustFunc("double", func(d time.Duration) time.Duration { return 2 * d }, service.Args("d"))
	svc.MustFunc("sum", func(xs []int) int {
		n := 0
		for _, x := range xs {
			n += x
		}
		return n
	}, service.Args("xs"))
	svc.MustFunc("members", func(s wire.Set[string]) []string {
		out := make([]string, 0, len(s))
		for k := range s {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}, service.Args("s"))
	svc.MustFunc("squares", func(m map[int]string) map[int]int {
		out := make(map[int]int, len(m))
		for k := range m {
			out[k] = k * k
		}
		return out
	}, service.Args("m"))
	svc.MustFunc("keys", func(o *wire.OrderedDict) []any { return o.Keys() }, service.Args("o"))
	svc.MustFunc("maybe", func(s *string) *string {
		if s == nil {
			return nil
		}
		t := *s + "!"
		return &t
	}, service.Args("s"))
	svc.MustFunc("point", func(x, y int) Point { return Point{X: x, Y: y, Tag: "p"} }, service.Args("x", "y"))
	svc.MustFunc("nothing", func() {})
	svc.MustFunc("blob", func(b *wire.Blob) *wire.Blob {
		data, err := b.Bytes()
		if err != nil {
			return nil
		}
		return wire.BytesBlob("text/plain", append(data, '.'))
	}, service.Args("b"))
	svc.MustFunc("fail", func(kind int, msg string) error {
		return &service.Error{Kind: service.Kind(kind), Message: msg}
	}, service.Args("kind", "msg"))
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}
	}, service.Args("n"))
	svc.MustFunc("total", func(xs iter.Seq[int]) int {
		n := 0
		for x := range xs {
			n += x
		}
		return n
	}, service.Args("xs"))
	svc.MustFunc("apply", func(f func(int) int, x int) int { return f(x) }, service.Args("f", "x"))
	svc.MustFunc("sleep", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	svc.MustFunc("now", func() string { return "now" }, service.Safe())
	svc.MustClass("User", User{})
	return svc
}
