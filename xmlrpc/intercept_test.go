package xmlrpc_test

import (
	"net/http"
	"testing"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/intercepttest"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// TestClientInterceptors: the client's interceptors see its calls, the
// header one adds reaches the service's, and both see the deadline.
func TestClientInterceptors(t *testing.T) {
	intercepttest.CheckRPCClient(t, "xmlrpc",
		func(svc *service.Service) http.Handler { return xmlrpc.NewHandler(svc) },
		func(url string, ics ...intercept.Interceptor) intercepttest.RPCCall {
			return xmlrpc.NewClient(url, xmlrpc.WithInterceptors(ics...)).Call
		})
}
