package component_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/componenttest"
	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// The conformance suite over JSON-RPC and XML-RPC: providers by URL
// scheme, which bind unchecked (the transports describe no interface).
func TestConformanceJSONRPC(t *testing.T) {
	componenttest.Run(t, componenttest.Transport{
		Serve: func(t *testing.T, svc *service.Service) (string, component.Provider) {
			srv := httptest.NewServer(jsonrpc.NewHandler(svc))
			t.Cleanup(srv.Close)
			return "jsonrpc+" + srv.URL, nil
		},
		Copies: true, Deadlines: true, Headers: true,
	})
}

func TestConformanceXMLRPC(t *testing.T) {
	componenttest.Run(t, componenttest.Transport{
		Serve: func(t *testing.T, svc *service.Service) (string, component.Provider) {
			srv := httptest.NewServer(xmlrpc.NewHandler(svc))
			t.Cleanup(srv.Close)
			return "xmlrpc+" + srv.URL, nil
		},
		Copies: true, Deadlines: true, Headers: true,
	})
}

// The conformance suite over NATS, with a real server in this process:
// streams too.
func TestConformanceNATS(t *testing.T) {
	url := runNATS(t)
	n := 0
	componenttest.Run(t, componenttest.Transport{
		Serve: func(t *testing.T, svc *service.Service) (string, component.Provider) {
			n++
			prefix := "conformance" + strings.Repeat("x", n) // one per service
			nc, err := nats.Connect(url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(nc.Close)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := hypernats.NewServer(ctx, nc, svc, hypernats.WithPrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Shutdown(context.Background()) })
			return url + "/" + prefix, nil
		},
		Copies: true, Deadlines: true, Streams: true, Headers: true,
	})
}

// A provider whose server cannot be reached at all is unreachable, and the
// call provably was not sent.
func TestRPCProviderUnreachable(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	for _, scheme := range []string{"jsonrpc+", "xmlrpc+"} {
		p, err := component.DialProvider(context.Background(), scheme+url)
		if err != nil {
			t.Fatal(err)
		}
		err = p.Call(context.Background(), &component.Call{Interface: "Echo", Method: "echo", Args: []any{"x"}})
		if unreachable, notSent := component.IsUnreachable(err); !unreachable || !notSent || service.KindOf(err) != service.KindUnavailable {
			t.Errorf("%s: %v, want unreachable and not sent", scheme, err)
		}
		p.Close()
	}
}

// runNATS runs a NATS server on a free loopback port until the test ends
// and returns its nats:// URL.
func runNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}
