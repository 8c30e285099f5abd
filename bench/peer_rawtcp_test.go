package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// rawtcp is the floor of the peer benchmarks: bare TCP with nothing a
// real RPC system does (no framing beyond the fixed message size, no
// method names, no headers, no encoding).
//
// The first byte a client sends on a new connection chooses what the
// connection is for:
//
//   - rawModeEcho: the server reads 64-byte messages and writes each back,
//     until the connection closes. A call is one 64-byte write and one
//     64-byte read on each side.
//   - rawModeStream: the server reads streams until the connection closes.
//     A stream is an 8-byte big-endian count n and an 8-byte size m, then
//     n messages of m bytes (at most peerMaxMsgSize), which the server
//     reads into one buffer; when it has read all n, it writes one byte,
//     rawAck. The
//     client writes the stream through a 32 KiB bufio.Writer, so many
//     messages go in one write.
//
// The client keeps one connection per concurrent caller: a caller takes an
// idle echo connection (or dials a new one when none is idle), makes its
// call and puts the connection back, as http.Transport does with HTTP/1.1
// connections. At conc64 that means 64 connections, each carrying one call
// at a time. This favours the floor over the other systems, which share
// one connection among all callers (gRPC multiplexes its calls over one
// HTTP/2 connection, net/rpc over one gob stream): the raw calls never
// wait behind one another for a connection's writer or reader, and the
// kernel and the runtime's network poller see 64 independent sockets.
type rawTCPSystem struct{}

func init() { registerEchoSystem(rankFloor, rawTCPSystem{}) }

const (
	rawModeEcho   byte = 'e'
	rawModeStream byte = 's'
	rawAck        byte = 'k'
)

func (rawTCPSystem) name() string { return "rawtcp" }

func (rawTCPSystem) start(tb testing.TB) string {
	return serveLoopback(tb, serveRawTCP)
}

// serveRawTCP serves one connection.
func serveRawTCP(c net.Conn) {
	var mode [1]byte
	if _, err := io.ReadFull(c, mode[:]); err != nil {
		return
	}
	switch mode[0] {
	case rawModeEcho:
		var msg [peerMsgSize]byte
		for {
			if _, err := io.ReadFull(c, msg[:]); err != nil {
				return
			}
			if _, err := c.Write(msg[:]); err != nil {
				return
			}
		}
	case rawModeStream:
		r := bufio.NewReaderSize(c, 32<<10)
		var hdr [16]byte
		var msg []byte
		ack := []byte{rawAck}
		for {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				return
			}
			n := binary.BigEndian.Uint64(hdr[:8])
			m := binary.BigEndian.Uint64(hdr[8:])
			if m > peerMaxMsgSize {
				return
			}
			if uint64(cap(msg)) < m {
				msg = make([]byte, m)
			}
			msg = msg[:m]
			var count uint64
			for ; count < n; count++ {
				if _, err := io.ReadFull(r, msg); err != nil {
					return
				}
			}
			if _, err := c.Write(ack); err != nil {
				return
			}
		}
	}
}

func (rawTCPSystem) newClient(tb testing.TB, addr string) echoClient {
	return &rawTCPClient{
		echoPool:   rawPool{addr: addr, mode: rawModeEcho},
		streamPool: rawPool{addr: addr, mode: rawModeStream},
	}
}

// rawTCPClient is the client of rawtcp: a pool of echo connections and a
// pool of stream connections.
type rawTCPClient struct {
	echoPool, streamPool rawPool
}

func (c *rawTCPClient) call(ctx context.Context, msg []byte) ([]byte, error) {
	if len(msg) != peerMsgSize {
		return nil, fmt.Errorf("rawtcp: message of %d bytes, want %d", len(msg), peerMsgSize)
	}
	rc, err := c.echoPool.get(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := rc.c.Write(msg); err != nil {
		rc.c.Close()
		return nil, err
	}
	reply := make([]byte, peerMsgSize)
	if _, err := io.ReadFull(rc.c, reply); err != nil {
		rc.c.Close()
		return nil, err
	}
	c.echoPool.put(rc)
	return reply, nil
}

func (c *rawTCPClient) stream(ctx context.Context, n int, msg []byte) error {
	if len(msg) > peerMaxMsgSize {
		return fmt.Errorf("rawtcp: message of %d bytes, want at most %d", len(msg), peerMaxMsgSize)
	}
	rc, err := c.streamPool.get(ctx)
	if err != nil {
		return err
	}
	err = func() error {
		var hdr [16]byte
		binary.BigEndian.PutUint64(hdr[:8], uint64(n))
		binary.BigEndian.PutUint64(hdr[8:], uint64(len(msg)))
		if _, err := rc.w.Write(hdr[:]); err != nil {
			return err
		}
		for range n {
			if _, err := rc.w.Write(msg); err != nil {
				return err
			}
		}
		if err := rc.w.Flush(); err != nil {
			return err
		}
		var ack [1]byte
		if _, err := io.ReadFull(rc.c, ack[:]); err != nil {
			return err
		}
		if ack[0] != rawAck {
			return fmt.Errorf("rawtcp: acknowledgement %q, want %q", ack[0], rawAck)
		}
		return nil
	}()
	if err != nil {
		rc.c.Close()
		return err
	}
	c.streamPool.put(rc)
	return nil
}

func (c *rawTCPClient) close() {
	c.echoPool.close()
	c.streamPool.close()
}

// rawPool holds the idle connections of one mode to one server.
type rawPool struct {
	addr string
	mode byte

	mu     sync.Mutex
	idle   []*rawConn
	closed bool
}

type rawConn struct {
	c net.Conn
	w *bufio.Writer // for a stream connection
	// deadline is whether c has a deadline set.
	deadline bool
}

var errClientClosed = errors.New("client closed")

// get returns an idle connection, or a new one if none is idle, with the
// deadline of ctx (if it has one).
func (p *rawPool) get(ctx context.Context) (*rawConn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errClientClosed
	}
	var rc *rawConn
	if n := len(p.idle); n > 0 {
		rc = p.idle[n-1]
		p.idle = p.idle[:n-1]
	}
	p.mu.Unlock()
	if rc == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", p.addr)
		if err != nil {
			return nil, err
		}
		if _, err := c.Write([]byte{p.mode}); err != nil {
			c.Close()
			return nil, err
		}
		rc = &rawConn{c: c}
		if p.mode == rawModeStream {
			rc.w = bufio.NewWriterSize(c, 32<<10)
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		rc.c.SetDeadline(dl)
		rc.deadline = true
	} else if rc.deadline {
		rc.c.SetDeadline(time.Time{})
		rc.deadline = false
	}
	return rc, nil
}

// put makes rc idle again, or closes it if the pool is closed.
func (p *rawPool) put(rc *rawConn) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		rc.c.Close()
		return
	}
	p.idle = append(p.idle, rc)
	p.mu.Unlock()
}

func (p *rawPool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, rc := range idle {
		rc.c.Close()
	}
}
