package peer_test

import (
	"context"
	"io"
	"testing"

	"github.com/glyph-ipc/glyph/peer"
)

// BenchmarkCall measures unary calls, one at a time and many in
// parallel, over each transport and codec.
func BenchmarkCall(b *testing.B) {
	for _, tr := range []string{"pipe", "tcp"} {
		for _, codec := range []string{"glyph", "msgpack", "json"} {
			b.Run(tr+"/"+codec, func(b *testing.B) {
				c := benchConnect(b, tr, codec)
				ctx := context.Background()
				arg := map[string]any{"name": "ann", "n": int64(42)}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := c.Call(ctx, "echo", arg); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(tr+"/"+codec+"/parallel", func(b *testing.B) {
				c := benchConnect(b, tr, codec)
				ctx := context.Background()
				b.ReportAllocs()
				b.SetParallelism(16)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := c.Call(ctx, "echo", "x"); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkStream measures streamed results: items per second through
// one stream, with flow control (ext) and without (baseline).
func BenchmarkStream(b *testing.B) {
	for _, baseline := range []bool{false, true} {
		name := "ext"
		if baseline {
			name = "baseline"
		}
		b.Run("tcp/"+name, func(b *testing.B) {
			// Without flow control a fast producer outruns the reader: let the
			// buffer hold the whole stream.
			c := benchConnectCfg(b, "tcp", modeOptions(baseline, peer.WithMaxBuffered(1<<30)), []peer.Option{peer.WithHandler(services())})
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			s, err := c.NewStream(ctx, "count")
			if err != nil {
				b.Fatal(err)
			}
			s.Send(int64(b.N))
			s.CloseSend()
			n := 0
			for {
				_, err := s.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != b.N && !(b.N == 0 && n == 1) {
				b.Fatalf("%d items, want %d", n, b.N)
			}
		})
	}
}

func benchConnect(b *testing.B, tr, codec string) *peer.Conn {
	return benchConnectCfg(b, tr, []peer.Option{peer.WithCodecs(codec)}, []peer.Option{peer.WithHandler(services())})
}

func benchConnectCfg(b *testing.B, tr string, copts, sopts []peer.Option) *peer.Conn {
	ctx := context.Background()
	var cfc, sfc peer.FrameConn
	switch tr {
	case "pipe":
		cfc, sfc = peer.Pipe()
	case "tcp":
		l, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		ch := make(chan peer.FrameConn, 1)
		go func() {
			fc, _ := l.Accept(ctx)
			ch <- fc
		}()
		if cfc, err = peer.Dial(ctx, l.Addr()); err != nil {
			b.Fatal(err)
		}
		sfc = <-ch
	}
	sc := make(chan *peer.Conn, 1)
	go func() {
		s, _ := peer.Server(ctx, sfc, sopts...)
		sc <- s
	}()
	c, err := peer.Client(ctx, cfc, copts...)
	if err != nil {
		b.Fatal(err)
	}
	s := <-sc
	b.Cleanup(func() { c.Close(); s.Close() })
	return c
}
