package front_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/front"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
)

// Greeter is a component with one public method and one internal one.
type Greeter interface {
	Greet(ctx context.Context, name string) (string, error)
	Reload(ctx context.Context) error
}

type greeter struct{}

func (greeter) Greet(_ context.Context, name string) (string, error) {
	return "Hello, " + name + "!", nil
}
func (greeter) Reload(context.Context) error { return nil }

// The front serves the public methods of the components the router
// routes, here one in this process, to callers of any protocol: here
// JSON-RPC. Greeter.reload is not public, so the front answers it as a
// name that does not exist.
func ExampleNew() {
	svc := service.New()
	component.MustRegister[Greeter](svc, greeter{},
		component.Method("Greet", component.Args("name"), component.Public()))
	defer component.ServeInProcess("greeter", svc)()

	ctx := context.Background()
	r, err := component.NewRouter(component.WithRoutes(component.Routes{
		"Greeter": {Providers: []string{"inproc:greeter"}},
	}))
	if err != nil {
		panic(err)
	}
	defer r.Close()
	f, err := front.New(ctx, r, front.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(f)
	defer srv.Close()

	rpc := jsonrpc.NewClient(srv.URL + front.PathJSONRPC)
	var greeting string
	err = rpc.Call(ctx, "Greeter.greet", []any{"front"}, nil, &greeting)
	fmt.Println(greeting, err)
	err = rpc.Call(ctx, "Greeter.reload", nil, nil, nil)
	fmt.Println(service.KindOf(err), err)
	// Output:
	// Hello, front! <nil>
	// not_found Greeter.reload: no method "Greeter.reload"
}

// A component binary lists the front among its parts: run without a
// supervisor, as here, one process serves them all, the front on the
// address given; under `glyph run`, each process serves those its
// deployment assigns it, the front on the listener it is passed.
func ExamplePart() {
	ctx := context.Background()
	parts := []component.Part{
		{Name: "Greeter", Install: func(_ context.Context, svc *service.Service, _ *component.Router) error {
			return component.Register[Greeter](svc, greeter{},
				component.Method("Greet", component.Args("name"), component.Public()))
		}},
		front.Part(front.WithLogger(slog.New(slog.DiscardHandler))),
	}
	p, err := component.Start(ctx, parts, component.WithLogger(slog.New(slog.DiscardHandler)),
		component.WithListen(front.Name, "127.0.0.1:0"))
	if err != nil {
		panic(err)
	}
	defer p.Close()

	var greeting string
	err = jsonrpc.NewClient(p.Addr(front.Name)+"jsonrpc").Call(ctx, "Greeter.greet", []any{"part"}, nil, &greeting)
	fmt.Println(greeting, err)
	// Output:
	// Hello, part! <nil>
}
