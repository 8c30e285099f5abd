package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// glyph is the glyph peer (package peer) over TCP, through its public API
// only: the server listens with peer.Listen on tcp://127.0.0.1:0 and runs
// peer.Server on every connection it accepts; the client is one
// *peer.Conn (peer.Dial, then peer.Client) shared by every caller, whose
// calls the engine multiplexes over the one connection, as the package is
// meant to be used.
//
// The server's Config.Handler serves two methods:
//
//   - "echo": returns the argument it received (the []byte of 64 bytes).
//   - "sink": receives the streamed arguments until io.EOF, counts the
//     []byte messages, and returns the count. A stream with no messages
//     still starts the call with one req whose argument is null (the
//     protocol has no call without a first req), which is not counted.
//
// A call is Conn.Call(ctx, "echo", msg); a stream is Conn.NewStream(ctx,
// "sink"), n Sends of msg, CloseSend, and one Recv of the count.
//
// The system is registered twice: "glyph" with the default codec (glyph)
// and "glyph-msgpack" with the msgpack codec (the client offers only
// msgpack; the server speaks all of them), since the codec is the user's
// choice and changes the cost of every envelope.
type glyphPeerSystem struct {
	// codec is the one codec the client offers; "" offers the defaults,
	// of which the server picks the first, glyph.
	codec string
}

func init() {
	registerEchoSystem(rankGlyph, glyphPeerSystem{})
	registerEchoSystem(rankGlyph, glyphPeerSystem{codec: "msgpack"})
}

func (s glyphPeerSystem) name() string {
	if s.codec == "" {
		return "glyph"
	}
	return "glyph-" + s.codec
}

const (
	glyphEchoMethod = "echo"
	glyphSinkMethod = "sink"
)

// glyphEchoHandler serves the methods of the glyph system.
func glyphEchoHandler(_ context.Context, s *peer.ServerStream) (any, error) {
	switch s.Method() {
	case glyphEchoMethod:
		return s.Recv()
	case glyphSinkMethod:
		var count int64
		for {
			v, err := s.Recv()
			if errors.Is(err, io.EOF) {
				return count, nil
			}
			if err != nil {
				return nil, err
			}
			if _, ok := v.([]byte); ok {
				count++
			}
		}
	}
	return nil, service.Errorf(service.NotFound, "method not found: %s", s.Method())
}

func (glyphPeerSystem) start(tb testing.TB) string {
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := peer.Listen(ctx, "tcp://127.0.0.1:0", nil)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	cfg := &peer.Config{Handler: peer.HandlerFunc(glyphEchoHandler)}
	var (
		mu     sync.Mutex
		conns  = map[*peer.Conn]struct{}{}
		closed bool
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		for {
			fc, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			wg.Go(func() {
				c, err := peer.Server(ctx, fc, cfg)
				if err != nil {
					return // fc is closed
				}
				mu.Lock()
				if closed {
					mu.Unlock()
					c.Close()
					return
				}
				conns[c] = struct{}{}
				mu.Unlock()
				<-c.Done()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			})
		}
	})
	tb.Cleanup(func() {
		cancel() // ends Accept and handshakes under way
		ln.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr()
}

func (s glyphPeerSystem) newClient(tb testing.TB, addr string) echoClient {
	ctx := context.Background()
	fc, err := peer.Dial(ctx, addr, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := &peer.Config{}
	if s.codec != "" {
		cfg.Codecs = []string{s.codec}
	}
	c, err := peer.Client(ctx, fc, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if want := s.codec; want != "" && c.Codec() != want {
		c.Close()
		tb.Fatalf("%s: negotiated codec %q, want %q", s.name(), c.Codec(), want)
	}
	return glyphPeerClient{c}
}

// glyphPeerClient makes every call through one connection.
type glyphPeerClient struct {
	c *peer.Conn
}

func (c glyphPeerClient) call(ctx context.Context, msg []byte) ([]byte, error) {
	v, err := c.c.Call(ctx, glyphEchoMethod, msg)
	if err != nil {
		return nil, err
	}
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("glyph: echo answered %T, want []byte", v)
	}
	return b, nil
}

func (c glyphPeerClient) stream(ctx context.Context, n int, msg []byte) error {
	s, err := c.c.NewStream(ctx, glyphSinkMethod)
	if err != nil {
		return err
	}
	defer s.Close() // cancels the call if it fails half way
	var m any = msg // boxed once, as the grpc client builds its message once
	for i := range n {
		if err := s.Send(m); err != nil {
			if errors.Is(err, io.EOF) { // the call ended: Recv says how
				v, rerr := s.Recv()
				if rerr != nil {
					return rerr
				}
				return fmt.Errorf("glyph: sink answered %v after %d of %d messages", v, i, n)
			}
			return err
		}
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	v, err := s.Recv()
	if err != nil {
		return err
	}
	var count int64
	switch x := v.(type) {
	case int64:
		count = x
	case uint64:
		count = int64(x)
	default:
		return fmt.Errorf("glyph: sink answered %T, want an integer", v)
	}
	if count != int64(n) {
		return fmt.Errorf("glyph: server counted %d messages, want %d", count, n)
	}
	return nil
}

func (c glyphPeerClient) close() { c.c.Close() }
