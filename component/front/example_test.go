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
