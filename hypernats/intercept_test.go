package hypernats_test

import (
	"context"
	"iter"
	"net/http"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/intercepttest"
	"github.com/glyph-ipc/glyph/service"
)

// TestClientInterceptors: the client's interceptors see its calls and
// streams, the header one adds reaches the service's, and both see the
// deadline.
func TestClientInterceptors(t *testing.T) {
	ns := startNATS(t)
	srec := &intercepttest.Recorder{Name: "server"}
	svc := service.New(service.WithInterceptors(srec))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	svc.MustFunc("count", func(n int) iter.Seq[int] {
		return func(yield func(int) bool) {
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}
	}, service.Args("n"))
	serve(t, connect(t, ns.ClientURL()), svc)
	crec := &intercepttest.Recorder{Name: "client", SetHeader: http.Header{"X-Caller": {"test"}}}
	c := hypernats.NewClient(connect(t, ns.ClientURL()), hypernats.WithClientInterceptors(crec))
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	deadline, _ := ctx.Deadline()

	var got string
	if err := c.Call(ctx, "greet", []any{"ann"}, nil, &got); err != nil || got != "hello ann" {
		t.Fatalf("greet: %q, %v", got, err)
	}
	cc := crec.Calls()[0]
	if cc.Procedure != "greet" || cc.Side != intercept.SideClient || cc.Peer.Transport != "nats" || cc.Result != "hello ann" || !cc.Deadline.Equal(deadline) {
		t.Errorf("the client saw %+v", cc)
	}
	scs, err := srec.Wait(1)
	if err != nil {
		t.Fatal(err)
	}
	sc := scs[0]
	if sc.Procedure != "greet" || sc.Header.Get("X-Caller") != "test" || sc.Peer.Transport != "nats" ||
		sc.Deadline.IsZero() || sc.Deadline.Sub(deadline).Abs() > time.Second || sc.Result != "hello ann" {
		t.Errorf("the server saw %+v", sc)
	}

	crec.Reset()
	srec.Reset()
	n := 0
	for _, err := range c.Stream(ctx, "count", []any{3}, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if c := crec.Calls()[0]; n != 3 || c.StreamType != intercept.StreamServer || c.Recvd != 3 || !c.Ended || c.Err != nil {
		t.Errorf("%d items; the client saw the stream as %+v", n, c)
	}
	scs, err = srec.Wait(1)
	if err != nil {
		t.Fatal(err)
	}
	if c := scs[0]; c.StreamType != intercept.StreamServer || c.Sent != 3 || c.Err != nil {
		t.Errorf("the server saw the stream as %+v", c)
	}
}
