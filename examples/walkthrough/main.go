// Command walkthrough serves the glyph walkthrough over HTTP: hello,
// goodbye, woo, types, greeting, salut and find_user with its User
// resources (see package app).
//
//	go run ./examples/walkthrough               # the evolved version, on 127.0.0.1:8080
//	go run ./examples/walkthrough -v 1          # the first version
//	go run ./examples/walkthrough -addr :9000
//
// Then look around with the glyph tool:
//
//	go run ./cmd/glyph get http://127.0.0.1:8080/
//	go run ./cmd/glyph call http://127.0.0.1:8080/ hello name=Bob
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/glyph-ipc/glyph/examples/walkthrough/app"
	"github.com/glyph-ipc/glyph/hyperhttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	version := flag.Int("v", 2, "version of the service to serve: 1 (the first) or 2 (the evolved one)")
	flag.Parse()
	svc, err := app.Service(*version)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:           hyperhttp.NewHandler(svc, hyperhttp.Config{}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	fmt.Printf("walkthrough v%d serving on http://%s/ (Ctrl-C stops it)\n", *version, ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
