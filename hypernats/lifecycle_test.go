package hypernats_test

import (
	"context"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/service"
)

// Results and arguments over the NATS server's max_payload fail with
// KindTooLarge, on the server's side and on the client's.
func TestMaxPayload(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, MaxPayload: 2048})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	svc := service.New()
	svc.MustFunc("text", func(n int) string { return strings.Repeat("x", n) }, service.Args("n"))
	svc.MustFunc("forever", func() iter.Seq[string] {
		return func(yield func(string) bool) {
			for yield("item") {
			}
		}
	})
	serve(t, connect(t, ns.ClientURL()), svc)
	c := hypernats.NewClient(connect(t, ns.ClientURL()))
	defer c.Close()
	ctx := context.Background()
	var s string
	if err := c.Call(ctx, "text", []any{1000}, nil, &s); err != nil || len(s) != 1000 {
		t.Fatalf("1000 bytes: %d, %v", len(s), err)
	}
	err = c.Call(ctx, "text", []any{4000}, nil, &s)
	if service.KindOf(err) != service.KindTooLarge || !strings.Contains(err.Error(), "over the 2048") {
		t.Errorf("a 4000-byte result: %v", err)
	}
	// A stream sent whole stops at the size of a message.
	err = c.Call(ctx, "forever", nil, nil, nil)
	if service.KindOf(err) != service.KindTooLarge || !strings.Contains(err.Error(), "call it as a stream") {
		t.Errorf("an endless stream called whole: %v", err)
	}
	err = c.Call(ctx, "text", []any{strings.Repeat("y", 4000)}, nil, &s)
	if service.KindOf(err) != service.KindTooLarge {
		t.Errorf("a 4000-byte argument: %v", err)
	}
}

// Shutdown lets the calls being served finish and answer; afterwards
// nothing answers on the subjects.
func TestShutdown(t *testing.T) {
	ns := startNATS(t)
	svc := service.New()
	started := make(chan struct{})
	svc.MustFunc("slow", func() string { close(started); time.Sleep(200 * time.Millisecond); return "done" })
	srv, err := hypernats.NewServer(context.Background(), connect(t, ns.ClientURL()), svc)
	if err != nil {
		t.Fatal(err)
	}
	c := hypernats.NewClient(connect(t, ns.ClientURL()))
	defer c.Close()
	got := make(chan error, 1)
	go func() {
		var s string
		err := c.Call(context.Background(), "slow", nil, nil, &s)
		if err == nil && s != "done" {
			err = service.Errorf(service.KindInternal, "got %q", s)
		}
		got <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("the call in flight: %v", err)
	}
	if err := c.Call(context.Background(), "slow", nil, nil, nil); service.KindOf(err) != service.KindUnavailable {
		t.Errorf("after Shutdown: %v", err)
	}
}
