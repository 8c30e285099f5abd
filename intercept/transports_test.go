package intercept_test

import (
	"context"
	"fmt"
	"iter"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/component/componenttest"
	"github.com/glyph-ipc/glyph/hypernats"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/internal/intercepttest"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// TestOneRegistrationEveryTransport: one interceptor, registered once on
// a service, sees the calls that reach the service over every transport,
// with the procedure, the caller's header, the transport, the deadline,
// the arguments and the result; and a call whose arguments and results
// stream over a peer as a stream whose messages it counts.
func TestOneRegistrationEveryTransport(t *testing.T) {
	rec := &intercepttest.Recorder{Name: "service"}
	svc := service.New(service.WithInterceptors(rec))
	svc.MustFunc("greet", func(name string) string { return "hello " + name }, service.Args("name"))
	svc.MustFunc("double", func(xs iter.Seq[int]) iter.Seq[int] {
		return func(yield func(int) bool) {
			for x := range xs {
				if !yield(2 * x) {
					return
				}
			}
		}
	}, service.Args("xs"))
	component.MustRegister[Greeter](svc, greeter{}, component.Method("Greet", component.Args("name")))

	httpURL := componenttest.ServeHTTP(t, svc)
	jsonSrv := httptest.NewServer(jsonrpc.NewHandler(svc))
	t.Cleanup(jsonSrv.Close)
	xmlSrv := httptest.NewServer(xmlrpc.NewHandler(svc))
	t.Cleanup(xmlSrv.Close)
	natsURL := runNATS(t)
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	startCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ns, err := hypernats.NewServer(startCtx, nc, svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(context.Background()) })
	t.Cleanup(component.ServeInProcess("intercept-test", svc))

	glyph := client.New()
	t.Cleanup(func() { glyph.Close() })
	viaClient := func(url string) func(ctx context.Context) (any, error) {
		return func(ctx context.Context) (any, error) {
			idx, err := glyph.Get(ctx, url)
			if err != nil {
				return nil, err
			}
			v, err := idx.Path(ctx, "greet", "ann")
			if err != nil {
				return nil, err
			}
			return v.Any(), nil
		}
	}
	var greeted string
	transports := []struct {
		name, transport string
		call            func(ctx context.Context) (any, error)
	}{
		{"http", "http", viaClient(httpURL)},
		{"ws", "ws", viaClient(componenttest.ServePeer(t, "ws", svc))},
		{"tcp", "tcp", viaClient(componenttest.ServePeer(t, "tcp", svc))},
		{"unix", "unix", viaClient(componenttest.ServePeer(t, "unix", svc))},
		{"nats", "nats", func(ctx context.Context) (any, error) {
			c := hypernats.NewClient(nc)
			defer c.Close()
			return greeted, c.Call(ctx, "greet", []any{"ann"}, nil, &greeted)
		}},
		{"jsonrpc", "jsonrpc", func(ctx context.Context) (any, error) {
			return greeted, jsonrpc.NewClient(jsonSrv.URL).Call(ctx, "greet", []any{"ann"}, nil, &greeted)
		}},
		{"xmlrpc", "xmlrpc", func(ctx context.Context) (any, error) {
			return greeted, xmlrpc.NewClient(xmlSrv.URL).Call(ctx, "greet", []any{"ann"}, nil, &greeted)
		}},
		{"inproc", "inproc", func(ctx context.Context) (any, error) {
			p, err := component.DialProvider(ctx, "inproc:intercept-test")
			if err != nil {
				return nil, err
			}
			var out string
			err = p.Call(ctx, &component.Call{Interface: "Greeter", Method: "greet", Args: []any{"ann"}, Header: client.CallHeader(ctx), Result: &out})
			return out, err
		}},
	}
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			rec.Reset()
			ctx, cancel := context.WithTimeout(client.WithCallHeader(context.Background(), "X-Trace", tc.name), time.Minute)
			defer cancel()
			deadline, _ := ctx.Deadline()
			if _, err := tc.call(ctx); err != nil {
				t.Fatal(err)
			}
			calls, err := rec.Wait(1)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(calls, func(c intercepttest.Seen) bool { return strings.HasSuffix(c.Procedure, "greet") })
			if i < 0 {
				t.Fatalf("no call of greet among %+v", calls)
			}
			c := calls[i]
			if c.Side != intercept.SideServer || c.StreamType != intercept.StreamUnary || c.Peer.Transport != tc.transport ||
				c.Header.Get("X-Trace") != tc.name || c.Args == nil || c.Result != "hello ann" || c.Err != nil ||
				c.Deadline.IsZero() || c.Deadline.Sub(deadline).Abs() > time.Second {
				t.Errorf("seen as %+v", c)
			}
			if tc.transport != "nats" && tc.transport != "inproc" && c.Peer.Addr == "" {
				t.Errorf("no remote address: %+v", c.Peer)
			}
		})
	}

	t.Run("peer streams", func(t *testing.T) {
		rec.Reset()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		idx, err := glyph.Get(ctx, componenttest.ServePeer(t, "tcp", svc))
		if err != nil {
			t.Fatal(err)
		}
		double, err := idx.Get("double")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for v, err := range double.Stream(ctx, iter.Seq[int](slices.Values([]int{1, 2, 3, 4}))) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprint(v.Any()))
		}
		if strings.Join(got, " ") != "2 4 6 8" {
			t.Fatalf("double: %v", got)
		}
		calls, err := rec.Wait(2)
		if err != nil {
			t.Fatal(err)
		}
		c := calls[len(calls)-1]
		if c.Procedure != "double" || c.StreamType != intercept.StreamBidi || c.Recvd != 4 || c.Sent != 4 || c.Err != nil {
			t.Errorf("the stream seen as %+v", c)
		}
	})
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

// Greeter is the interface the in-process provider calls.
type Greeter interface {
	Greet(ctx context.Context, name string) (string, error)
}

type greeter struct{}

func (greeter) Greet(_ context.Context, name string) (string, error) { return "hello " + name, nil }
