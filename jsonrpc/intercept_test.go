package jsonrpc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/intercepttest"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
)

// TestClientInterceptors: the client's interceptors see its calls, the
// header one adds reaches the service's, and both see the deadline.
func TestClientInterceptors(t *testing.T) {
	srec := &intercepttest.Recorder{Name: "server"}
	svc := service.New(service.WithInterceptors(srec))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	srv := httptest.NewServer(jsonrpc.NewHandler(svc))
	t.Cleanup(srv.Close)
	crec := &intercepttest.Recorder{Name: "client", SetHeader: http.Header{"X-Caller": {"test"}}}
	c := jsonrpc.NewClient(srv.URL, jsonrpc.WithInterceptors(crec))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var got string
	if err := c.Call(ctx, "greet", []any{"ann"}, nil, &got); err != nil || got != "hello ann" {
		t.Fatalf("greet: %q, %v", got, err)
	}
	cc := crec.Calls()[0]
	if cc.Procedure != "greet" || cc.Side != intercept.SideClient || cc.Peer.Transport != "jsonrpc" || cc.Peer.Addr != srv.URL ||
		cc.Result != "hello ann" || !cc.Deadline.Equal(deadline) {
		t.Errorf("the client saw %+v", cc)
	}
	sc := srec.Calls()[0]
	if sc.Procedure != "greet" || sc.Header.Get("X-Caller") != "test" || sc.Peer.Transport != "jsonrpc" ||
		sc.Deadline.IsZero() || sc.Deadline.Sub(deadline).Abs() > time.Second || sc.Result != "hello ann" {
		t.Errorf("the server saw %+v", sc)
	}

	// An interceptor that refuses keeps the call from being sent.
	refuse := intercept.UnaryInterceptorFunc(func(intercept.UnaryFunc) intercept.UnaryFunc {
		return func(context.Context, *intercept.Call) (any, error) {
			return nil, service.Errorf(service.KindPermissionDenied, "no")
		}
	})
	srec.Reset()
	c = jsonrpc.NewClient(srv.URL, jsonrpc.WithInterceptors(refuse))
	if err := c.Call(ctx, "greet", []any{"ann"}, nil, &got); service.KindOf(err) != service.KindPermissionDenied {
		t.Errorf("refused: %v", err)
	}
	if n := len(srec.Calls()); n != 0 {
		t.Errorf("the server saw %d calls", n)
	}
}
