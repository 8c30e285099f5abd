package otelglyph_test

import (
	"context"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/service"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// serveNATS serves svc over a NATS server of the test's own, on
// 127.0.0.1, called by a hypernats.Client.
func serveNATS(t *testing.T, tel *telemetry, svc *service.Service) endpoint {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx := context.Background()
	srv, err := hypernats.NewServer(ctx, nc, svc, hypernats.WithPrefix("otel"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(ctx) })
	c := hypernats.NewClient(nc, hypernats.WithClientPrefix("otel"), hypernats.WithClientInterceptors(tel.ic))
	t.Cleanup(func() { c.Close() })
	call := func(ctx context.Context, method string, args ...any) (any, error) {
		var out any
		if args == nil {
			args = []any{}
		}
		err := c.Call(ctx, method, args, nil, &out)
		return out, err
	}
	return endpoint{transport: "nats", call: call}
}
