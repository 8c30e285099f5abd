// Command example serves a glyph service traced and measured by package
// otelglyph, with its metrics on a Prometheus scrape endpoint: the
// service over HTTP at /, to peers over TCP, and the metrics at /metrics
// on the HTTP port.
//
//	go run ./example                        # in the otelglyph folder; on 127.0.0.1:8080
//	go run ./example -addr :9000 -peer-addr tcp://127.0.0.1:7001
//
// Then call it (from the repository's root) and scrape it:
//
//	go run ./cmd/glyph call http://127.0.0.1:8080/ hello name=Bob
//	curl -s http://127.0.0.1:8080/metrics | grep rpc_server
//
// Its spans go to the global tracer provider, which is OpenTelemetry's
// no-op one until a program sets another (an OTLP exporter's, say); the
// trace context of the calls is read and passed on all the same.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/otelglyph"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// run serves as args say until ctx ends, and prints the addresses it
// serves on to stdout.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "the HTTP address: the service at /, the metrics at /metrics")
	peerAddr := fs.String("peer-addr", "tcp://127.0.0.1:0", "accept peers here (port 0 picks one)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	// The metrics go to a Prometheus registry of this program's own; the
	// W3C trace context and baggage are read from the calls' headers.
	reg := promclient.NewRegistry()
	exporter, err := prometheus.New(prometheus.WithRegisterer(reg))
	if err != nil {
		return err
	}
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer meters.Shutdown(context.Background())
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	ic, err := otelglyph.New(otelglyph.WithMeterProvider(meters))
	if err != nil {
		return err
	}

	svc := service.New(service.WithInterceptors(ic))
	svc.MustFunc("hello", func(name string) string { return "Hello, " + name + "!" }, service.Args("name"))

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", hyperhttp.NewHandler(svc))
	hl, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := hyperhttp.NewServer(hl.Addr().String(), mux)
	pl, err := peer.Listen(ctx, *peerAddr)
	if err != nil {
		hl.Close()
		return err
	}
	fmt.Fprintf(stdout, "serving http://%s/ (metrics at /metrics)\n", hl.Addr())
	fmt.Fprintf(stdout, "serving peers at %s\n", pl.Addr())

	served := make(chan error, 2)
	go func() { served <- srv.Serve(hl) }()
	go func() {
		served <- peer.Serve(ctx, pl, peer.WithHandler(hyperpeer.NewHandler(svc)), peer.WithConnState(ic.PeerConnState))
	}()
	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
