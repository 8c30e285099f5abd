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
// peer.Listen and peer.Dial do, and wrap the FrameConn it returns in a
// countingFrameConn, which counts the write system calls.
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
// "sink"), n Sends of msg, CloseSend, and one Recv of the count. In
// BenchmarkPeerStream a stream also reports msgs/write, the messages sent
// per write system call of the client (on its socket, from opening the
// stream to the answer), and srv-writes/op, the write system calls of the
// server's end of the connection per message (flow-control credit and the
// answer).
//
// The system is registered three times: "glyph" with the default codec
// (glyph) and "glyph-msgpack" with the msgpack codec (the client offers
// only msgpack; the server speaks all of them), since the codec is the
// user's choice and changes the cost of every envelope; and
// "glyph-unbatched", glyph whose two ends write every frame with a write
// system call of its own instead of all the frames queued at once in one
// (see countingFrameConn), to show what batching is worth.
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
	return nil, service.Errorf(service.NotFound, "method not found: %s", s.Method())
}

// glyphServerConns holds the countingFrameConn of every connection the
// glyph servers serve, by its client's and server's addresses ("client
// server"), so that a client finds the server's counts of its connection.
var glyphServerConns sync.Map // string → *countingFrameConn

func (s glyphPeerSystem) start(tb testing.TB) string {
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				fc := &countingFrameConn{FrameConn: peer.NewStreamConn(nc, 0), unbatched: s.unbatched}
				key := nc.RemoteAddr().String() + " " + nc.LocalAddr().String()
				glyphServerConns.Store(key, fc)
				defer glyphServerConns.CompareAndDelete(key, fc)
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
	fc := &countingFrameConn{FrameConn: peer.NewStreamConn(nc, 0), unbatched: s.unbatched}
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
	// The server stored its end before it answered the handshake.
	srv, ok := glyphServerConns.Load(nc.LocalAddr().String() + " " + nc.RemoteAddr().String())
	if !ok {
		c.Close()
		tb.Fatalf("%s: the server has no connection from %s", s.name(), nc.LocalAddr())
	}
	b, _ := tb.(*testing.B)
	return glyphPeerClient{c: c, b: b, fc: fc, srv: srv.(*countingFrameConn)}
}

// countingFrameConn is a FrameConn of peer.NewStreamConn over a
// *net.TCPConn that counts the write system calls it makes.
//
// The count is taken here, not by wrapping the *net.TCPConn: the stream
// transport writes a batch over 64 KiB with net.Buffers.WriteTo on the
// net.Conn, which uses writev only when the conn implements net's
// unexported writeBuffers method. A wrapper that does not embed the
// *net.TCPConn loses writev (WriteTo then calls Write once per header and
// per frame), and one that embeds it keeps writev but its writes go to
// the embedded conn's method, past the wrapper. So the transport gets the
// bare *net.TCPConn and its path is the same as through peer.Dial and
// peer.Listen. Every WriteFrames (the transport has no other write; the
// handshake goes through WriteFrames too) is one write of a buffer with
// the whole batch when it holds up to 64 KiB (4-byte headers included),
// and otherwise one net.Buffers.WriteTo, which internal/poll writes with
// one writev per 1024 buffers: a header and, unless the frame is empty,
// its data per frame. The count misses only a write that the kernel takes
// part of (a full socket send buffer), which internal/poll then writes on
// with another; under strace -f -yy, streams of 20000 messages (batched
// and unbatched) and a few calls made exactly the counted write and
// writev calls on each socket.
//
// With unbatched, WriteFrames writes the frames of a batch one by one,
// each with its own WriteFrames of the transport, so each frame costs a
// write system call: the engine above is unchanged (it still queues
// frames and hands its writer all that are queued at once).
type countingFrameConn struct {
	peer.FrameConn
	unbatched bool
	writes    atomic.Int64 // write system calls
}

const (
	// maxWritev is the most buffers internal/poll passes to one writev.
	maxWritev = 1024
	// maxCopiedBatch is the largest batch the stream transport copies
	// into one buffer for one write (peer's maxCopiedBatch).
	maxCopiedBatch = 64 << 10
)

func (c *countingFrameConn) WriteFrames(ctx context.Context, frames []peer.Frame) error {
	if !c.unbatched {
		c.count(frames)
		return c.FrameConn.WriteFrames(ctx, frames)
	}
	for i := range frames {
		c.count(frames[i : i+1])
		if err := c.FrameConn.WriteFrames(ctx, frames[i:i+1]); err != nil {
			return err
		}
	}
	return nil
}

// count counts the writev calls the transport makes for frames.
func (c *countingFrameConn) count(frames []peer.Frame) {
	bufs, size := 0, 0
	for _, f := range frames {
		bufs++ // the header
		if len(f.Data) > 0 {
			bufs++
		}
		size += 4 + len(f.Data)
	}
	if size <= maxCopiedBatch {
		c.writes.Add(1)
		return
	}
	c.writes.Add(int64((bufs + maxWritev - 1) / maxWritev))
}

// glyphPeerClient makes every call through one connection.
type glyphPeerClient struct {
	c *peer.Conn
	// b is the benchmark the client was made for, if it was made for
	// one: stream reports its counts to it.
	b       *testing.B
	fc, srv *countingFrameConn // the client's and the server's ends
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
	writes, srvWrites := c.fc.writes.Load(), c.srv.writes.Load()
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
	if c.b != nil && n > 0 {
		// BenchmarkPeerStream calls ResetTimer after its warm-up stream,
		// which drops what that one reported.
		c.b.ReportMetric(float64(n)/float64(c.fc.writes.Load()-writes), "msgs/write")
		c.b.ReportMetric(float64(c.srv.writes.Load()-srvWrites)/float64(n), "srv-writes/op")
	}
	return nil
}

func (c glyphPeerClient) close() { c.c.Close() }
