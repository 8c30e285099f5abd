package jsonrpc_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
)

// ExampleNewHandler serves a function as JSON-RPC on a server with
// hyperhttp.NewServer's timeouts, and posts a request to it, as curl or
// any JSON-RPC client would.
func ExampleNewHandler() {
	svc := service.New()
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := hyperhttp.NewServer(ln.Addr().String(), jsonrpc.NewHandler(svc))
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	resp, err := http.Post("http://"+ln.Addr().String()+"/", "application/json",
		strings.NewReader(`{"jsonrpc":"2.0","method":"add","params":{"a":40,"b":2},"id":1}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Println(string(body))
	// Output:
	// 200 OK
	// {"jsonrpc":"2.0","result":42,"id":1}
}

// ExampleClient_Call calls a method, and gets back the kind of the
// server's error.
func ExampleClient_Call() {
	svc := service.New()
	svc.MustFunc("hello", func(name string) string { return "Hello, " + name + "!" },
		service.Args("name"), service.Default("name", "World"))
	srv := httptest.NewServer(jsonrpc.NewHandler(svc))
	defer srv.Close()

	c := jsonrpc.NewClient(srv.URL)
	var s string
	if err := c.Call(context.Background(), "hello", []any{"Ann"}, nil, &s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	err := c.Call(context.Background(), "hello", []any{42}, nil, &s)
	fmt.Println(service.KindOf(err), err)
	// Output:
	// Hello, Ann!
	// invalid hello: argument "name": expected unicode, got integer
}
