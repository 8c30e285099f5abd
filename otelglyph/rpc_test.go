package otelglyph_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// serveJSONRPC serves svc as JSON-RPC 2.0 over HTTP on 127.0.0.1:0,
// called by a jsonrpc.Client.
func serveJSONRPC(t *testing.T, tel *telemetry, svc *service.Service) endpoint {
	srv := httptest.NewServer(jsonrpc.NewHandler(svc))
	t.Cleanup(srv.Close)
	c := jsonrpc.NewClient(srv.URL, jsonrpc.WithInterceptors(tel.ic))
	call := func(ctx context.Context, method string, args ...any) (any, error) {
		var out any
		err := c.Call(ctx, method, args, nil, &out)
		return out, err
	}
	return endpoint{transport: "jsonrpc", system: "jsonrpc", serverAddr: "127.0.0.1", callerAddr: "127.0.0.1", call: call}
}

// serveXMLRPC serves svc as XML-RPC over HTTP on 127.0.0.1:0, called by
// an xmlrpc.Client.
func serveXMLRPC(t *testing.T, tel *telemetry, svc *service.Service) endpoint {
	srv := httptest.NewServer(xmlrpc.NewHandler(svc))
	t.Cleanup(srv.Close)
	c := xmlrpc.NewClient(srv.URL, xmlrpc.WithInterceptors(tel.ic))
	call := func(ctx context.Context, method string, args ...any) (any, error) {
		var out any
		err := c.Call(ctx, method, args, nil, &out)
		return out, err
	}
	return endpoint{transport: "xmlrpc", system: "xmlrpc", serverAddr: "127.0.0.1", callerAddr: "127.0.0.1", call: call}
}
