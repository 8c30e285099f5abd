package intercepttest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/service"
)

// RPCCall is the Call method of a JSON-RPC or XML-RPC client.
type RPCCall func(ctx context.Context, method string, args []any, named map[string]any, result any) error

// CheckRPCClient checks the client interceptors of the JSON-RPC or XML-RPC
// transport (transport names it, as intercept.Peer does): they see the
// client's calls, the header one adds reaches the service's interceptors,
// both see the deadline, and an interceptor that refuses keeps the call
// from being sent. handler serves a service over the transport; client
// makes a client of url that runs ics.
func CheckRPCClient(t *testing.T, transport string, handler func(*service.Service) http.Handler,
	client func(url string, ics ...intercept.Interceptor) RPCCall) {
	t.Helper()
	srec := &Recorder{Name: "server"}
	svc := service.New(service.WithInterceptors(srec))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	srv := httptest.NewServer(handler(svc))
	t.Cleanup(srv.Close)
	crec := &Recorder{Name: "client", SetHeader: http.Header{"X-Caller": {"test"}}}
	call := client(srv.URL, crec)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var got string
	if err := call(ctx, "greet", []any{"ann"}, nil, &got); err != nil || got != "hello ann" {
		t.Fatalf("greet: %q, %v", got, err)
	}
	cc := crec.Calls()[0]
	if cc.Procedure != "greet" || cc.Side != intercept.SideClient || cc.Peer.Transport != transport || cc.Peer.Addr != srv.URL ||
		cc.Result != "hello ann" || !cc.Deadline.Equal(deadline) {
		t.Errorf("the client saw %+v", cc)
	}
	sc := srec.Calls()[0]
	if sc.Procedure != "greet" || sc.Header.Get("X-Caller") != "test" || sc.Peer.Transport != transport ||
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
	if err := client(srv.URL, refuse)(ctx, "greet", []any{"ann"}, nil, &got); service.KindOf(err) != service.KindPermissionDenied {
		t.Errorf("refused: %v", err)
	}
	if n := len(srec.Calls()); n != 0 {
		t.Errorf("the server saw %d calls", n)
	}
}
