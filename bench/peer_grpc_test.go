package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// grpc is google.golang.org/grpc with its defaults: HTTP/2 over one TCP
// connection (insecure credentials, 127.0.0.1), the default proto codec,
// and one grpc.ClientConn shared by every caller, as gRPC is normally
// used. The one setting changed is the server's largest message
// (grpc.MaxRecvMsgSize, 4 MiB by default), raised to peerMaxMsgSize so
// that the streams of 4 MiB items pass, as glyph's frame limit is.
//
// The service is written by hand instead of by protoc, the same as what
// protoc-gen-go-grpc generates for
//
//	service Echo {
//	  rpc Echo(google.protobuf.BytesValue) returns (google.protobuf.BytesValue);
//	  rpc Sink(stream google.protobuf.BytesValue) returns (google.protobuf.UInt64Value);
//	}
//
// with the messages of wrapperspb, so the messages are real protobuf
// messages. Echo returns the request message it decoded. Sink receives
// messages until the client closes its side (each Recv decodes into a new
// message, as generated code does) and answers their count; the client
// sends one BytesValue message n times.
type grpcSystem struct{}

func init() { registerEchoSystem(rankOther, grpcSystem{}) }

func (grpcSystem) name() string { return "grpc" }

const (
	grpcEchoMethod = "/bench.v1.Echo/Echo"
	grpcSinkMethod = "/bench.v1.Echo/Sink"
)

// grpcEchoServer is the server interface of the Echo service.
type grpcEchoServer interface {
	Echo(context.Context, *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error)
	Sink(grpc.ClientStreamingServer[wrapperspb.BytesValue, wrapperspb.UInt64Value]) error
}

var grpcEchoServiceDesc = grpc.ServiceDesc{
	ServiceName: "bench.v1.Echo",
	HandlerType: (*grpcEchoServer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Echo", Handler: grpcEchoHandler},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Sink", Handler: grpcSinkHandler, ClientStreams: true},
	},
	Metadata: "bench/v1/echo.proto",
}

func grpcEchoHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(wrapperspb.BytesValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(grpcEchoServer).Echo(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: grpcEchoMethod}
	handler := func(ctx context.Context, req any) (any, error) {
		return srv.(grpcEchoServer).Echo(ctx, req.(*wrapperspb.BytesValue))
	}
	return interceptor(ctx, in, info, handler)
}

func grpcSinkHandler(srv any, stream grpc.ServerStream) error {
	return srv.(grpcEchoServer).Sink(&grpc.GenericServerStream[wrapperspb.BytesValue, wrapperspb.UInt64Value]{ServerStream: stream})
}

// grpcEchoImpl implements grpcEchoServer.
type grpcEchoImpl struct{}

func (grpcEchoImpl) Echo(_ context.Context, in *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	return in, nil
}

func (grpcEchoImpl) Sink(stream grpc.ClientStreamingServer[wrapperspb.BytesValue, wrapperspb.UInt64Value]) error {
	var count uint64
	for {
		if _, err := stream.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return stream.SendAndClose(wrapperspb.UInt64(count))
			}
			return err
		}
		count++
	}
}

func (grpcSystem) start(tb testing.TB) string { return startGRPCServer(tb) }

// startGRPCServer starts a grpc.Server made with opts serving the Echo
// service on a new loopback listener, until tb's test ends, and returns
// its address.
func startGRPCServer(tb testing.TB, opts ...grpc.ServerOption) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := grpc.NewServer(append([]grpc.ServerOption{grpc.MaxRecvMsgSize(peerMaxMsgSize)}, opts...)...)
	s.RegisterService(&grpcEchoServiceDesc, grpcEchoImpl{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(ln)
	}()
	tb.Cleanup(func() {
		s.Stop()
		<-done
	})
	return ln.Addr().String()
}

func (grpcSystem) newClient(tb testing.TB, addr string) echoClient {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	return grpcClient{cc}
}

// grpcClient makes its calls as generated client code does.
type grpcClient struct {
	cc *grpc.ClientConn
}

func (c grpcClient) call(ctx context.Context, msg []byte) ([]byte, error) {
	out := new(wrapperspb.BytesValue)
	if err := c.cc.Invoke(ctx, grpcEchoMethod, &wrapperspb.BytesValue{Value: msg}, out, grpc.StaticMethod()); err != nil {
		return nil, err
	}
	return out.Value, nil
}

func (c grpcClient) stream(ctx context.Context, n int, msg []byte) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream if it fails half way
	cs, err := c.cc.NewStream(ctx, &grpcEchoServiceDesc.Streams[0], grpcSinkMethod, grpc.StaticMethod())
	if err != nil {
		return err
	}
	stream := &grpc.GenericClientStream[wrapperspb.BytesValue, wrapperspb.UInt64Value]{ClientStream: cs}
	m := &wrapperspb.BytesValue{Value: msg}
	for range n {
		if err := stream.Send(m); err != nil {
			if errors.Is(err, io.EOF) { // the server ended the stream: why is in its status
				_, err = stream.CloseAndRecv()
			}
			return err
		}
	}
	count, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	if count.Value != uint64(n) {
		return fmt.Errorf("grpc: server counted %d messages, want %d", count.Value, n)
	}
	return nil
}

func (c grpcClient) close() { c.cc.Close() }
