package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// The payload-size benchmarks (issue 18): one unary call whose request and
// answer each carry a bytes value of 64 B, 4 KiB, 256 KiB or 4 MiB, over
// HTTP (glyph against net/http + encoding/json and connect-go, the servers
// and clients of http_test.go) and over one multiplexed TCP connection
// (glyph's peer against grpc-go, the systems of peer_glyph_test.go and
// peer_grpc_test.go). The payload is what a program that moves a file, an
// image or a serialised record through an RPC sends: a byte string
// ([]byte in Go, bytes in protobuf, base64 in JSON, which is how
// encoding/json carries a []byte), of pseudo-random content, which neither
// gzip nor anything else makes smaller. See README.md for the command and
// the results.

// payloadSizes are the sizes of the bytes value each request and each
// answer carries.
var payloadSizes = []struct {
	name string
	n    int
}{
	{"64B", 64},
	{"4KiB", 4 << 10},
	{"256KiB", 256 << 10},
	{"4MiB", 4 << 20},
}

// sizedPayload returns n pseudo-random bytes (the generator of the wire
// codec's blob benchmark), the same for every system.
func sizedPayload(n int) []byte {
	p := make([]byte, n)
	if _, err := io.ReadFull(newGenReader(blobSeed, int64(n)), p); err != nil {
		panic(err)
	}
	return p
}

// maxSizedMessage bounds every message of these benchmarks: the largest
// payload with room for its encoding (base64 in JSON takes 4/3 of it).
const maxSizedMessage = 8 << 20

// bytesCaller calls echo(data) once and returns the answer, which the
// caller owns.
type bytesCaller func(ctx context.Context, data []byte) ([]byte, error)

// sizedHTTPSystem is an echo of a bytes value over HTTP: its server and
// its client.
type sizedHTTPSystem struct {
	name    string
	handler func() http.Handler
	dial    func(ctx context.Context, hc *http.Client, baseURL string) (bytesCaller, error)
}

// sizedHTTPSystems are the HTTP systems of BenchmarkHTTPSizes, with the
// defaults a user gets: glyph's handler gzips answers of 1 KiB and more
// for clients that accept gzip (Go's http.Transport asks for it), and so
// do connect-go's handlers with every answer; net/http with
// encoding/json compresses nothing.
var sizedHTTPSystems = []sizedHTTPSystem{
	{name: "nethttp-json", handler: netHTTPEchoHandler, dial: netHTTPEchoDial},
	{name: "glyph", handler: glyphEchoHTTPHandler, dial: glyphEchoHTTPDial},
	{name: "connect-proto", handler: connectEchoHandler(), dial: connectEchoDial()},
	// connect-go tuned as glyph's handler is: answers under 1 KiB are
	// not gzipped.
	{name: "connect-proto-min1k", handler: connectEchoHandler(connect.WithCompressMinBytes(1024)), dial: connectEchoDial()},
}

// echoData is the JSON body of the net/http system, both ways:
// {"data":"<base64>"}.
type echoData struct {
	Data []byte `json:"data"`
}

// netHTTPEchoHandler is POST /echo with encoding/json, as netHTTPHandler.
func netHTTPEchoHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var req echoData
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSizedMessage)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(echoData{Data: req.Data})
	})
	return mux
}

func netHTTPEchoDial(_ context.Context, hc *http.Client, baseURL string) (bytesCaller, error) {
	url := baseURL + "/echo"
	return func(ctx context.Context, data []byte) ([]byte, error) {
		body, err := json.Marshal(echoData{Data: data})
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
			return nil, &statusError{code: res.StatusCode, msg: strings.TrimSpace(string(msg))}
		}
		var out echoData
		err = json.NewDecoder(res.Body).Decode(&out)
		io.Copy(io.Discard, res.Body) // so that the connection is reused
		return out.Data, err
	}, nil
}

// glyphEchoHTTPHandler serves echo(data bytes) → bytes with hyperhttp.
func glyphEchoHTTPHandler() http.Handler {
	s := service.New()
	s.MustFunc("echo", func(data []byte) []byte { return data }, service.Args("data"))
	return hyperhttp.NewHandler(s)
}

// glyphEchoHTTPDial takes the echo form from the index once; a call is
// Value.Call with the []byte and Decode of the answer into a []byte.
func glyphEchoHTTPDial(ctx context.Context, hc *http.Client, baseURL string) (bytesCaller, error) {
	c := client.New(client.WithHTTPClient(hc))
	index, err := c.Get(ctx, baseURL+"/")
	if err != nil {
		return nil, err
	}
	echo, err := index.Get("echo")
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, data []byte) ([]byte, error) {
		v, err := echo.Call(ctx, data)
		if err != nil {
			return nil, err
		}
		var out []byte
		err = v.Decode(&out)
		return out, err
	}, nil
}

// connectEchoProcedure is the connect-go echo of a
// google.protobuf.BytesValue.
const connectEchoProcedure = "/bench.v1.Echo/Echo"

func connectEchoHandler(opts ...connect.HandlerOption) func() http.Handler {
	opts = append([]connect.HandlerOption{connect.WithReadMaxBytes(maxSizedMessage)}, opts...)
	return func() http.Handler {
		mux := http.NewServeMux()
		mux.Handle(connectEchoProcedure, connect.NewUnaryHandler(connectEchoProcedure,
			func(_ context.Context, req *connect.Request[wrapperspb.BytesValue]) (*connect.Response[wrapperspb.BytesValue], error) {
				return connect.NewResponse(req.Msg), nil
			}, opts...))
		return mux
	}
}

func connectEchoDial(opts ...connect.ClientOption) func(context.Context, *http.Client, string) (bytesCaller, error) {
	opts = append([]connect.ClientOption{connect.WithReadMaxBytes(maxSizedMessage)}, opts...)
	return func(_ context.Context, hc *http.Client, baseURL string) (bytesCaller, error) {
		c := connect.NewClient[wrapperspb.BytesValue, wrapperspb.BytesValue](hc, baseURL+connectEchoProcedure, opts...)
		return func(ctx context.Context, data []byte) ([]byte, error) {
			res, err := c.CallUnary(ctx, connect.NewRequest(wrapperspb.Bytes(data)))
			if err != nil {
				return nil, err
			}
			return res.Msg.GetValue(), nil
		}, nil
	}
}

// startSized starts s's server on a loopback listener and dials its client
// over a transport of its own (newTransport), as start does.
func startSized(ctx context.Context, tb testing.TB, s sizedHTTPSystem) bytesCaller {
	srv := httptest.NewServer(s.handler())
	tr := newTransport()
	tb.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	call, err := s.dial(ctx, &http.Client{Transport: tr}, srv.URL)
	if err != nil {
		tb.Fatalf("%s: %v", s.name, err)
	}
	return call
}

// BenchmarkHTTPSizes times echo(data) → data over HTTP, calls one after
// the other, for every payload size and system: sec/op is the mean time of
// a call, MB/s the payload bytes carried (request and answer: twice the
// size) per second, p50-µs the median call, cpu-ns/op the CPU time of the
// process (client and server) per call, allocs/op and B/op those of client
// and server together.
func BenchmarkHTTPSizes(b *testing.B) {
	ctx := context.Background()
	calls := make([]bytesCaller, len(sizedHTTPSystems))
	for i, s := range sizedHTTPSystems {
		calls[i] = startSized(ctx, b, s)
	}
	for _, size := range payloadSizes {
		payload := sizedPayload(size.n)
		for i, s := range sizedHTTPSystems {
			b.Run("size="+size.name+"/sys="+s.name, func(b *testing.B) {
				benchSizedCalls(b, payload, func(ctx context.Context, p []byte) ([]byte, error) { return calls[i](ctx, p) })
			})
		}
	}
}

// benchSizedCalls makes b.N echo calls of payload one after the other and
// reports what BenchmarkHTTPSizes and BenchmarkPeerSizes say.
func benchSizedCalls(b *testing.B, payload []byte, call bytesCaller) {
	ctx := context.Background()
	check := func(got []byte, err error) {
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(got, payload) {
			b.Fatalf("the answer has %d bytes, not the %d sent", len(got), len(payload))
		}
	}
	for range 3 {
		check(call(ctx, payload))
	}
	durations := make([]time.Duration, b.N)
	b.SetBytes(2 * int64(len(payload)))
	b.ReportAllocs()
	cpu := startCPU()
	b.ResetTimer()
	for i := range durations {
		t0 := time.Now()
		got, err := call(ctx, payload)
		durations[i] = time.Since(t0)
		if err != nil || len(got) != len(payload) {
			check(got, err)
		}
	}
	b.StopTimer()
	cpu.report(b)
	slices.Sort(durations)
	b.ReportMetric(micros(percentile(durations, 50)), "p50-µs")
}

// BenchmarkPeerSizes times echo(data) → data through one multiplexed TCP
// connection, calls one after the other, for every payload size: glyph's
// peer (peer.Conn.Call of a []byte, the glyph codec, over tcp:// and over
// ws://) against grpc-go (Invoke of a BytesValue), both with their message limits raised
// to 8 MiB (grpc-go's default is 4 MiB, glyph's 4 MiB frames), since the
// largest payload with its envelope is just over 4 MiB. It reports what
// BenchmarkHTTPSizes does.
func BenchmarkPeerSizes(b *testing.B) {
	systems := []struct {
		name string
		c    echoClient
	}{
		{"glyph", newSizedGlyphPeer(b)},
		{"glyph-ws", newSizedGlyphWS(b)},
		{"grpc", newSizedGRPC(b)},
	}
	for _, size := range payloadSizes {
		payload := sizedPayload(size.n)
		for _, s := range systems {
			b.Run("size="+size.name+"/sys="+s.name, func(b *testing.B) {
				benchSizedCalls(b, payload, s.c.call)
			})
		}
	}
}

// newSizedGlyphPeer starts the glyph peer system's server with frames of
// up to 8 MiB and returns a client of it.
func newSizedGlyphPeer(tb testing.TB) echoClient {
	s := glyphPeerSystem{} // its frame limit is peerMaxMsgSize
	c := s.newClient(tb, s.start(tb))
	tb.Cleanup(c.close)
	return c
}

// newSizedGlyphWS serves the glyph peer system's methods over WebSocket
// (peer.NewWebSocketHandler on a loopback httptest.Server) with frames of
// up to 8 MiB and returns a client of it dialled at its ws:// URL: the same
// engine and codec as the glyph system, WebSocket framing (masked client
// frames) instead of length prefixes.
func newSizedGlyphWS(tb testing.TB) echoClient {
	ctx := context.Background()
	h := peer.NewWebSocketHandler(func(fc peer.FrameConn) {
		c, err := peer.Server(ctx, fc, peer.WithHandler(peer.HandlerFunc(glyphEchoHandler)), peer.WithMaxFrameSize(maxSizedMessage))
		if err != nil {
			return
		}
		<-c.Done()
	}, peer.WithMaxFrameSize(maxSizedMessage))
	srv := httptest.NewServer(h)
	fc, err := peer.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/", peer.WithMaxFrameSize(maxSizedMessage))
	if err != nil {
		srv.Close()
		tb.Fatal(err)
	}
	c, err := peer.Client(ctx, fc, peer.WithMaxFrameSize(maxSizedMessage))
	if err != nil {
		srv.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c.Close()
		srv.Close()
	})
	return glyphPeerClient{c: c}
}

// newSizedGRPC starts a grpc-go server of the grpc system's Echo service
// whose messages may be up to 8 MiB and returns a client of it with the
// same limit.
func newSizedGRPC(tb testing.TB) echoClient {
	addr := startGRPCServer(tb, grpc.MaxRecvMsgSize(maxSizedMessage), grpc.MaxSendMsgSize(maxSizedMessage))
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxSizedMessage), grpc.MaxCallSendMsgSize(maxSizedMessage)))
	if err != nil {
		tb.Fatal(err)
	}
	c := grpcClient{cc}
	tb.Cleanup(c.close)
	return c
}

// TestSizedSystems checks that every system of the payload-size benchmarks
// answers the bytes it was sent, at every size.
func TestSizedSystems(t *testing.T) {
	ctx := context.Background()
	type sys struct {
		name string
		call bytesCaller
	}
	var all []sys
	for _, s := range sizedHTTPSystems {
		all = append(all, sys{"http/" + s.name, startSized(ctx, t, s)})
	}
	all = append(all, sys{"peer/glyph", newSizedGlyphPeer(t).call}, sys{"peer/glyph-ws", newSizedGlyphWS(t).call},
		sys{"peer/grpc", newSizedGRPC(t).call})
	for _, size := range payloadSizes {
		payload := sizedPayload(size.n)
		for _, s := range all {
			t.Run(fmt.Sprintf("%s/%s", size.name, s.name), func(t *testing.T) {
				for range 2 {
					got, err := s.call(ctx, payload)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, payload) {
						t.Fatalf("the answer has %d bytes, not the %d sent, or other bytes", len(got), len(payload))
					}
				}
			})
		}
	}
}
