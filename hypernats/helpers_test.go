package hypernats_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// startNATS runs a nats-server in the test process on 127.0.0.1 and a
// random port, stopped when the test ends.
func startNATS(t testing.TB) *server.Server {
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
	return s
}

// startCluster runs n nats-servers routed to each other on loopback.
func startCluster(t testing.TB, n int) []*server.Server {
	t.Helper()
	var out []*server.Server
	var routes []*url.URL
	for i := range n {
		o := &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, ServerName: fmt.Sprintf("n%d", i+1),
			Cluster: server.ClusterOpts{Name: "glyph", Host: "127.0.0.1", Port: -1}, Routes: routes}
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats-server did not start")
		}
		t.Cleanup(s.Shutdown)
		routes = append(routes, &url.URL{Scheme: "nats", Host: s.ClusterAddr().String()})
		out = append(out, s)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, s := range out {
		for s.NumRoutes() < n-1 {
			if time.Now().After(deadline) {
				t.Fatalf("the cluster did not form: %s has %d routes", s.Name(), s.NumRoutes())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return out
}

// connect connects to the servers at urls, closed when the test ends.
func connect(t testing.TB, urls string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(urls, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// serve serves svc on nc, shut down when the test ends.
func serve(t testing.TB, nc *nats.Conn, svc *service.Service, opts ...hypernats.Option) *hypernats.Server {
	t.Helper()
	opts = append([]hypernats.Option{hypernats.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	srv, err := hypernats.NewServer(context.Background(), nc, svc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv
}

// wireLimits are small limits for the tests of bad payloads.
func wireLimits() wire.Limits {
	return wire.Limits{MaxDepth: 16, MaxItems: 32, MaxStringBytes: 1024, MaxIntegerDigits: 40}
}

func serviceName(n string) hypernats.Option { return hypernats.WithServiceName(n) }
