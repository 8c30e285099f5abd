package jsonrpc_test

import (
	"net/http"
	"testing"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/intercepttest"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
)

// TestClientInterceptors: the client's interceptors see its calls, the
// header one adds reaches the service's, and both see the deadline.
func TestClientInterceptors(t *testing.T) {
	intercepttest.CheckRPCClient(t, "jsonrpc",
		func(svc *service.Service) http.Handler { return jsonrpc.NewHandler(svc) },
		func(url string, ics ...intercept.Interceptor) intercepttest.RPCCall {
			return jsonrpc.NewClient(url, jsonrpc.WithInterceptors(ics...)).Call
		})
}
