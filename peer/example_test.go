package peer_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/glyph-ipc/glyph/peer"
)

// A server and a client over TCP: a unary call and a call whose result
// streams.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // ends Serve, which closes its connections
	handlers := peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
		arg, err := s.Recv()
		if err != nil {
			return nil, err
		}
		switch s.Method() {
		case "greet":
			return "hello, " + arg.(string), nil
		case "countdown":
			for i := arg.(int64); i > 0; i-- {
				if err := s.Send(i); err != nil {
					return nil, err
				}
			}
			return "liftoff", nil // the last item
		}
		return nil, fmt.Errorf("no method %s", s.Method())
	})

	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go peer.Serve(ctx, l, peer.WithHandler(handlers))

	fc, err := peer.Dial(ctx, l.Addr())
	if err != nil {
		log.Fatal(err)
	}
	conn, err := peer.Client(ctx, fc)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	v, err := conn.Call(ctx, "greet", "world")
	fmt.Println(v, err)

	s, err := conn.NewStream(ctx, "countdown")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	s.Send(3)
	s.CloseSend()
	for {
		v, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(v)
	}
	// Output:
	// hello, world <nil>
	// 3
	// 2
	// 1
	// liftoff
}

// Two connected peers in one process, over a pipe: the connector is
// called back by the acceptor on the same connection.
func ExampleConn_Register() {
	ctx := context.Background()
	a, b := peer.Pipe()
	// The acceptor's "visit" calls whatever callback name it is given.
	visit := peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
		arg, _ := s.Recv()
		args := arg.([]any)
		return s.Conn().Call(ctx, args[0].(string), args[1])
	})
	go peer.Server(ctx, b, peer.WithHandler(visit))
	conn, err := peer.Client(ctx, a)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	name := peer.NewCallbackName()
	release := conn.Register(name, peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
		v, _ := s.Recv()
		return strings.ToUpper(v.(string)), nil
	}))
	defer release()
	v, err := conn.Call(ctx, "visit", []any{name, "shout"})
	fmt.Println(v, err, conn.Codec())
	// Output: SHOUT <nil> glyph
}

// A server that asks every peer for a client certificate (mutual TLS),
// and whose handler answers with the name in it. The configs' certificates
// come from files, a secret store or an ACME client.
func ExampleWithTLS() {
	serverTLS := &tls.Config{
		Certificates: []tls.Certificate{ /* the server's */ },
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    x509.NewCertPool(), // the CAs of the clients
	}
	ctx := context.Background()
	l, err := peer.Listen(ctx, "tls://127.0.0.1:9443", peer.WithTLS(serverTLS))
	if err != nil {
		log.Fatal(err)
	}
	whoami := peer.HandlerFunc(func(ctx context.Context, s *peer.ServerStream) (any, error) {
		// VerifiedChains[0][0] is the client's certificate, verified
		// against ClientCAs during the handshake.
		return s.Conn().TLS().VerifiedChains[0][0].Subject.CommonName, nil
	})
	go peer.Serve(ctx, l, peer.WithHandler(whoami))

	// The client: the server's CA, and its own certificate.
	fc, err := peer.Dial(ctx, "tls://127.0.0.1:9443", peer.WithTLS(&tls.Config{
		RootCAs:      x509.NewCertPool(),
		Certificates: []tls.Certificate{ /* the client's */ },
	}))
	if err != nil {
		log.Fatal(err)
	}
	conn, err := peer.Client(ctx, fc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(conn.Call(ctx, "whoami", nil))
}
