// Command auth shows a service whose callers authenticate with a bearer
// token (package intercept/bearer), served over HTTP and to peers over
// TCP, and a client that calls it both ways: one interceptor registered on
// the service guards every transport, and one on the client sends the
// token with every call. The function learns who is calling, and how,
// from its context.
//
//	go run ./examples/auth
//
// The token is made at random when the program starts, as a real service
// reads its tokens from a secret store: never from its command line, where
// other users of the machine can read it. Send tokens only over TLS
// (https://, wss://, tls://) or a Unix socket; here both ends are this
// process, on the loopback interface.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/intercept/bearer"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "auth:", err)
		os.Exit(1)
	}
}

// newService returns the service, logging on log: whoami, for callers
// with a token tokens knows.
func newService(tokens map[string]string, log *slog.Logger) *service.Service {
	svc := service.New(service.WithLogger(log), service.WithInterceptors(bearer.Server(bearer.Static(tokens))))
	svc.MustFunc("whoami", func(ctx context.Context) string {
		id, _ := bearer.Identity(ctx)
		p, _ := intercept.PeerFromContext(ctx)
		return fmt.Sprintf("%v, over %s", id, p.Transport)
	})
	return svc
}

// run serves the service over HTTP and TCP on free loopback ports, calls
// it both ways with the token and once without, and prints the answers.
func run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	token, err := newToken()
	if err != nil {
		return err
	}
	// Refused calls are logged at info level; this demo keeps its output
	// to the answers.
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc := newService(map[string]string{token: "alice"}, quiet)

	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: hyperhttp.NewHandler(svc, hyperhttp.WithLogger(quiet))}
	go hs.Serve(hl)
	defer hs.Close()
	pl, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() {
		served <- peer.Serve(ctx, pl, peer.WithHandler(hyperpeer.NewHandler(svc)), peer.WithLogger(quiet))
	}()
	defer func() { cancel(); <-served }()

	c := client.New(client.WithInterceptors(bearer.Client(func(context.Context) (string, error) { return token, nil })))
	defer c.Close()
	for _, url := range []string{"http://" + hl.Addr().String() + "/", pl.Addr()} {
		answer, err := whoami(ctx, c, url)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "whoami at %s: %s\n", url, answer)
	}
	anonymous := client.New()
	defer anonymous.Close()
	_, err = whoami(ctx, anonymous, pl.Addr())
	var se *service.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("a call without a token: %v, want a refusal", err)
	}
	fmt.Fprintf(out, "without a token: %s: %s\n", se.Kind, strings.TrimPrefix(se.Message, "whoami: "))
	return nil
}

// whoami calls the service's whoami at url.
func whoami(ctx context.Context, c *client.Client, url string) (any, error) {
	idx, err := c.Get(ctx, url)
	if err != nil {
		return nil, err
	}
	v, err := idx.Path(ctx, "whoami")
	if err != nil {
		return nil, err
	}
	return v.Any(), nil
}

// newToken returns 32 random bytes in hex.
func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
