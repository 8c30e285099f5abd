package hyperhttp_test

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// ExampleLimitListener serves a service as a server facing the network
// would: NewServer's timeouts, at most one connection at once (10,000 by
// default) and five requests a second per address. A second client,
// while the first holds its connection, is answered 503 at once.
func ExampleLimitListener() {
	svc := service.New()
	svc.MustFunc("hello", func() string { return "Hello!" }, service.Safe())
	h := hyperhttp.NewHandler(svc, hyperhttp.WithRateLimit(5, 10))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := hyperhttp.NewServer("", h)
	quiet := slog.New(slog.DiscardHandler) // refusals are logged at info level
	go srv.Serve(hyperhttp.LimitListener(ln, hyperhttp.ConnLimits{Max: 1, Logger: quiet}))
	defer srv.Close()

	first, err := net.Dial("tcp", ln.Addr().String()) // holds the one place
	if err != nil {
		log.Fatal(err)
	}
	defer first.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/hello")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e hyper.Error // the body is a hyperglyph error, with a logref
	if err := wire.Unmarshal(body, &e); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, "Retry-After:", resp.Header.Get("Retry-After"))
	fmt.Println(e.Code, e.Message)
	// Output:
	// 503 Service Unavailable Retry-After: 1
	// 503 connect: too many connections (limit 1)
}
