package bench

import (
	"context"
	"fmt"
	"net"
	"net/rpc"
	"testing"
)

// netrpc is net/rpc from the standard library with its default gob codec:
// a service Echo whose method Echo returns its []byte argument, served
// over TCP (rpc.Server.ServeConn on every accepted connection), and one
// rpc.Client shared by every caller (its calls are multiplexed over one
// connection, as the package intends).
//
// net/rpc has no streams, so BenchmarkPeerStream skips it (its figure is
// n/a). Emulating a stream with back-to-back asynchronous calls (Client.Go
// without waiting) would still send a request header for every message
// and get an answer back for every one: that measures pipelined calls,
// not a one-way stream, and would look comparable when it is not.
type netRPCSystem struct{}

func init() { registerEchoSystem(rankOther, netRPCSystem{}) }

func (netRPCSystem) name() string { return "netrpc" }

// NetRPCEcho is the net/rpc service (its methods must be exported).
type NetRPCEcho struct{}

// Echo sets *reply to msg.
func (NetRPCEcho) Echo(msg []byte, reply *[]byte) error {
	*reply = msg
	return nil
}

func (netRPCSystem) start(tb testing.TB) string {
	s := rpc.NewServer()
	if err := s.RegisterName("Echo", NetRPCEcho{}); err != nil {
		tb.Fatal(err)
	}
	return serveLoopback(tb, func(c net.Conn) { s.ServeConn(c) })
}

func (netRPCSystem) newClient(tb testing.TB, addr string) echoClient {
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	return netRPCClient{c}
}

type netRPCClient struct {
	c *rpc.Client
}

// call is Client.Call, which net/rpc has no context for, made to give up
// waiting when ctx is done.
func (c netRPCClient) call(ctx context.Context, msg []byte) ([]byte, error) {
	var reply []byte
	call := c.c.Go("Echo.Echo", msg, &reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error != nil {
			return nil, call.Error
		}
		return reply, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (netRPCClient) stream(context.Context, int, []byte) error {
	return fmt.Errorf("net/rpc: %w (n/a: net/rpc has only calls, each answered)", errNoStream)
}

func (c netRPCClient) close() { c.c.Close() }
