package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
)

// Person is the class of the examples' service.
type Person struct {
	Name string
}

// Greet says hello.
func (p Person) Greet(greeting string) string { return greeting + ", " + p.Name }

// exampleServer serves a small service on 127.0.0.1 and returns its URL.
func exampleServer() (url string, stop func()) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(service.WithLogger(quiet))
	svc.MustFunc("hello", func(name, greeting string) string { return greeting + ", " + name },
		service.Args("name", "greeting"), service.Default("greeting", "hello"))
	svc.MustFunc("find", func(name string) Person { return Person{Name: name} },
		service.Args("name"), service.Redirect())
	svc.MustClass("Person", Person{}, service.Method("greet", service.Args("greeting")))
	srv := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithLogger(quiet)))
	return srv.URL, srv.Close
}

func ExampleClient_Get() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	c := client.New()
	index, err := c.Get(ctx, url+"/")
	if err != nil {
		log.Fatal(err)
	}
	// Call the form "hello": positionally, then by name.
	hello, err := index.Get("hello")
	if err != nil {
		log.Fatal(err)
	}
	for _, args := range [][]any{{"bob"}, {client.Named{"name": "ann", "greeting": "hi"}}} {
		v, err := hello.Call(ctx, args...)
		if err != nil {
			log.Fatal(err)
		}
		var s string
		if err := v.Decode(&s); err != nil {
			log.Fatal(err)
		}
		fmt.Println(s)
	}
	// find answers with a redirect to a Person; greet is a form on it.
	v, err := index.Path(ctx, "find", "kim")
	if err != nil {
		log.Fatal(err)
	}
	greeting, err := v.Path(ctx, "greet", "welcome")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(greeting.Any())
	// A missing argument is rejected before any request is made.
	_, err = hello.Call(ctx)
	fmt.Println(err)
	// Output:
	// hello, bob
	// hi, ann
	// welcome, kim
	// hello: missing argument "name"
}

func ExampleBind() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	var api struct {
		Hello func(ctx context.Context, name string) (string, error)
		Find  func(ctx context.Context, name string) (Person, error)
		Bye   func(ctx context.Context) error `glyph:"bye,optional"`
	}
	if err := client.Bind(ctx, client.New(), url+"/", &api); err != nil {
		log.Fatal(err)
	}
	s, err := api.Hello(ctx, "bob")
	fmt.Println(s, err)
	p, err := api.Find(ctx, "kim")
	fmt.Println(p.Name, err)
	err = api.Bye(ctx)
	fmt.Println(service.KindOf(err), err)
	// Output:
	// hello, bob <nil>
	// kim <nil>
	// not_found bye: the server offers no "bye"
}

func ExampleIsClientError() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	_, err := client.New().Get(ctx, url+"/nowhere")
	var se *service.Error
	if errors.As(err, &se) {
		fmt.Println(se.Kind, client.StatusCode(err), client.IsClientError(err), client.IsServerError(err))
	}
	// Output:
	// not_found 404 true false
}
