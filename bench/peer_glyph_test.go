package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// glyph is the glyph peer (package peer) over TCP, through its public API
// only: the server listens on a loopback TCP listener and runs peer.Server
// on every connection it accepts; the client is one *peer.Conn
// (peer.Client) shared by every caller, whose calls the engine
// multiplexes over the one connection, as the package is meant to be
// used. Both ends frame their *net.TCPConn with peer.NewStreamConn, as
// peer.Listen and peer.Dial do, so they take the same path as a user's
// connection.
//
// Both ends raise the frame limit (peer.WithMaxFrameSize, 4 MiB by
// default) to peerMaxMsgSize, so that the streams of 4 MiB items pass, as
// the grpc server's message limit is. The server's handler serves two
// methods:
//
//   - "echo": returns the argument it received (the []byte of 64 bytes).
//   - "sink": receives the streamed arguments until io.EOF, counts the
//     []byte messages, and returns the count. A stream with no messages
//     still starts the call with one req whose argument is null (the
//     protocol has no call without a first req), which is not counted.
//
// A call is Conn.Call(ctx, "echo", msg); a stream is Conn.NewStream(ctx,
// "sink"), n Sends of msg, CloseSend, and one Recv of the count. In
// BenchmarkPeerStream a stream also reports msgs/write, the messages sent
// per write system call of the client (on its socket, from opening the
// stream to the answer), and srv-writes/op, the write system calls of the
// server's end of the connection per message (flow-control credit and the
// answer). Writes are counted by the connections themselves
// (peer.Conn.Stats: Batches, one write system call each for the batches
// of up to 64 KiB these are).
//
// The system is registered three times: "glyph" with the default codec
// (glyph) and "glyph-msgpack" with the msgpack codec (the client offers
// only msgpack; the server speaks all of them), since the codec is the
// user's choice and changes the cost of every envelope; and
// "glyph-unbatched", glyph whose two ends write every frame with a write
// system call of its own instead of all the frames queued at once in one
// (see unbatchedFrameConn), to show what batching is worth.
type glyphPeerSystem struct {
	// codec is the one codec the client offers; "" offers the defaults,
	// of which the server picks the first, glyph.
	codec string
	// unbatched makes both ends write the frames of a batch one by one.
	unbatched bool
}

func init() {
	registerEchoSystem(rankGlyph, glyphPeerSystem{})
	registerEchoSystem(rankGlyph, glyphPeerSystem{codec: "msgpack"})
	registerEchoSystem(rankGlyph, glyphPeerSystem{unbatched: true})
}

func (s glyphPeerSystem) name() string {
	name := "glyph"
	if s.codec != "" {
		name += "-" + s.codec
	}
	if s.unbatched {
		name += "-unbatched"
	}
	return name
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
	return nil, service.Errorf(service.KindNotFound, "method not found: %s", s.Method())
}

// glyphServerConns holds the server's end of every connection the glyph
// servers serve, by its client's and server's addresses ("client
// server"), so that a client finds the server's counts of its connection.
var glyphServerConns sync.Map // string → *glyphServerEnd

// glyphServerEnd is the server's end of a connection; conn is set once
// its handshake is done.
type glyphServerEnd struct {
	conn atomic.Pointer[peer.Conn]
	ufc  *unbatchedFrameConn // for glyph-unbatched
}

// writes returns the write system calls of the server's end so far.
func (e *glyphServerEnd) writes() int64 {
	if e.ufc != nil {
		return e.ufc.writes.Load()
	}
	if c := e.conn.Load(); c != nil {
		return c.Stats().Batches
	}
	return 0
}

func (s glyphPeerSystem) start(tb testing.TB) string {
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	cfg := []peer.Option{peer.WithHandler(peer.HandlerFunc(glyphEchoHandler)), peer.WithMaxFrameSize(peerMaxMsgSize)}
	var (
		mu     sync.Mutex
		conns  = map[*peer.Conn]struct{}{}
		closed bool
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				fc := peer.NewStreamConn(nc, peerMaxMsgSize)
				end := &glyphServerEnd{}
				if s.unbatched {
					end.ufc = &unbatchedFrameConn{FrameConn: fc}
					fc = end.ufc
				}
				key := nc.RemoteAddr().String() + " " + nc.LocalAddr().String()
				glyphServerConns.Store(key, end)
				defer glyphServerConns.CompareAndDelete(key, end)
				c, err := peer.Server(ctx, fc, cfg...)
				if err != nil {
					return // fc is closed
				}
				end.conn.Store(c)
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
		cancel() // ends handshakes under way
		ln.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func (s glyphPeerSystem) newClient(tb testing.TB, addr string) echoClient {
	ctx := context.Background()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	fc := peer.NewStreamConn(nc, peerMaxMsgSize)
	var ufc *unbatchedFrameConn
	if s.unbatched {
		ufc = &unbatchedFrameConn{FrameConn: fc}
		fc = ufc
	}
	cfg := []peer.Option{peer.WithMaxFrameSize(peerMaxMsgSize)}
	if s.codec != "" {
		cfg = append(cfg, peer.WithCodecs(s.codec))
	}
	c, err := peer.Client(ctx, fc, cfg...)
	if err != nil {
		tb.Fatal(err)
	}
	if want := s.codec; want != "" && c.Codec() != want {
		c.Close()
		tb.Fatalf("%s: negotiated codec %q, want %q", s.name(), c.Codec(), want)
	}
	// The server stored its end before it answered the handshake.
	srv, ok := glyphServerConns.Load(nc.LocalAddr().String() + " " + nc.RemoteAddr().String())
	if !ok {
		c.Close()
		tb.Fatalf("%s: the server has no connection from %s", s.name(), nc.LocalAddr())
	}
	b, _ := tb.(*testing.B)
	return glyphPeerClient{c: c, b: b, ufc: ufc, srv: srv.(*glyphServerEnd)}
}

// unbatchedFrameConn is a FrameConn of peer.NewStreamConn over a
// *net.TCPConn that writes the frames of a batch one by one, each with a
// WriteFrames of its own and so with a write system call of its own, and
// counts those writes: the engine above is unchanged (it still queues
// frames and hands its writer all that are queued at once), but no write
// carries more than one frame.
type unbatchedFrameConn struct {
	peer.FrameConn
	writes atomic.Int64 // write system calls
}

func (c *unbatchedFrameConn) WriteFrames(ctx context.Context, frames []peer.Frame) error {
	for i := range frames {
		c.writes.Add(1)
		if err := c.FrameConn.WriteFrames(ctx, frames[i:i+1]); err != nil {
			return err
		}
	}
	return nil
}

// glyphPeerClient makes every call through one connection.
type glyphPeerClient struct {
	c *peer.Conn
	// b is the benchmark the client was made for, if it was made for
	// one: stream reports its counts to it.
	b   *testing.B
	ufc *unbatchedFrameConn // the client's transport, for glyph-unbatched
	srv *glyphServerEnd     // the server's end
}

// writes returns the write system calls of the client's end so far.
func (c glyphPeerClient) writes() int64 {
	if c.ufc != nil {
		return c.ufc.writes.Load()
	}
	return c.c.Stats().Batches
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
	writes, srvWrites := c.writes(), c.srv.writes()
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
	if c.b != nil && n > 0 && len(msg) == peerMsgSize {
		// BenchmarkPeerStream calls ResetTimer after its warm-up stream,
		// which drops what that one reported.
		c.b.ReportMetric(float64(n)/float64(c.writes()-writes), "msgs/write")
		c.b.ReportMetric(float64(c.srv.writes()-srvWrites)/float64(n), "srv-writes/op")
	}
	return nil
}

func (c glyphPeerClient) close() { c.c.Close() }
