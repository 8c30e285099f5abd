package xmlrpc_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// ExampleNewHandler serves a function as XML-RPC and calls it, and asks
// the server what it offers. (A server facing the network is made with
// hyperhttp.NewServer, for its timeouts.)
func ExampleNewHandler() {
	svc := service.New()
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"))
	srv := httptest.NewServer(xmlrpc.NewHandler(svc))
	defer srv.Close()

	c := xmlrpc.NewClient(srv.URL)
	var sum int
	if err := c.Call(context.Background(), "add", []any{40, 2}, nil, &sum); err != nil {
		log.Fatal(err)
	}
	var methods []string
	if err := c.Call(context.Background(), "system.listMethods", nil, nil, &methods); err != nil {
		log.Fatal(err)
	}
	var help string
	if err := c.Call(context.Background(), "system.methodHelp", []any{"add"}, nil, &help); err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum)
	fmt.Println(methods)
	fmt.Println(help)
	// Output:
	// 42
	// [add system.listMethods system.methodHelp system.methodSignature system.multicall]
	// add(a integer, b integer)
}

// ExampleClient_Call shows a fault coming back as a service error of the
// kind its code says.
func ExampleClient_Call() {
	svc := service.New()
	svc.MustFunc("get", func(id int) (string, error) {
		return "", service.Errorf(service.KindNotFound, "no user %d", id)
	}, service.Args("id"))
	srv := httptest.NewServer(xmlrpc.NewHandler(svc))
	defer srv.Close()

	err := xmlrpc.NewClient(srv.URL).Call(context.Background(), "get", []any{7}, nil, nil)
	fmt.Println(service.KindOf(err))
	fmt.Println(err)
	// Output:
	// not_found
	// get: no user 7
}
