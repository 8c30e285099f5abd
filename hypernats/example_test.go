package hypernats_test

import (
	"context"
	"fmt"
	"iter"
	"log"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/service"
)

// A service served over NATS, called by a glyph client, streamed, and
// called as NATS tools call it: plain JSON without headers.
func Example() {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		log.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		log.Fatal("nats-server did not start")
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()

	svc := service.New()
	svc.MustFunc("greet", func(name string) string { return "Hello, " + name }, service.Args("name"))
	svc.MustFunc("countdown", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := n; i > 0 && yield(i); i-- {
			}
		}
	}, service.Args("n"))
	ctx := context.Background()
	srv, err := hypernats.NewServer(ctx, nc, svc, hypernats.WithPrefix("demo"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	fmt.Println(srv.Subjects())

	c := hypernats.NewClient(nc, hypernats.WithClientPrefix("demo"))
	defer c.Close()
	var s string
	if err := c.Call(ctx, "greet", []any{"Ann"}, nil, &s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	for v, err := range c.Stream(ctx, "countdown", []any{3}, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(v)
	}

	m, err := nc.Request("demo.greet", []byte(`{"name":"Bo"}`), 5*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(m.Data))
	// Output:
	// [demo.countdown demo.greet]
	// Hello, Ann
	// 3
	// 2
	// 1
	// "Hello, Bo"
}
