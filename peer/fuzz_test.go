package peer_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// The seed corpora are in testdata/fuzz; the f.Add calls add a few
// more. Run a target with, for example:
//
//	go test ./peer -run '^$' -fuzz FuzzDecodeEnvelope -fuzztime 1m

var fuzzCodecs = []string{"json", "msgpack", "glyph"}

// small limits, so that the fuzzer reaches them.
var fuzzLimits = wire.Limits{MaxDepth: 16, MaxItems: 64, MaxStringBytes: 256}

// FuzzDecodeEnvelope feeds every codec's decoder arbitrary bytes. A
// decoder must never panic; it either fails with a *service.Error of
// kind BadFrame or TooLarge, or gives a valid envelope, which then
// encodes, decodes again, and encodes to the same bytes.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(uint8(0), []byte(`{"type":"req","method":"echo","payload":{"foo":"bar"},"id":1}`))
	f.Add(uint8(0), []byte(`{"type":"rep","error":{"code":1000,"message":"Test message","data":{"why":"asked to"}},"id":4}`))
	f.Add(uint8(1), []byte("\x84\xa4type\xa3req\xa6method\xa4echo\xa7payload\xa2hi\xa2id\x01"))
	f.Add(uint8(2), []byte("Du2:id;i1;u6:method;u4:echo;u7:payload;u2:hi;u4:type;u3:req;;"))
	f.Add(uint8(0), []byte(`{"type":"credit","credit":524288}`))
	f.Add(uint8(2), []byte("Du6:credit;i524288;u2:id;i3;u4:type;u9:repcredit;;"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := fuzzCodecs[int(which)%len(fuzzCodecs)]
		c := fuzzCodec(t, name)
		var env peer.Envelope
		if err := c.Unmarshal(data, &env); err != nil {
			var se *service.Error
			if !errors.As(err, &se) || (se.Kind != service.KindBadFrame && se.Kind != service.KindTooLarge) {
				t.Fatalf("%s: error %#v is not bad_frame or too_large", name, err)
			}
			return
		}
		b1, err := c.Marshal(&env)
		if err != nil {
			// Some decoded values have no form in the same codec (a
			// msgpack map with a float key, ...): a clear error is fine.
			if _, ok := err.(*service.Error); !ok {
				t.Fatalf("%s: marshal error %#v", name, err)
			}
			return
		}
		var env2 peer.Envelope
		if err := c.Unmarshal(b1, &env2); err != nil {
			t.Fatalf("%s: our own encoding %q does not decode: %v", name, b1, err)
		}
		b2, err := c.Marshal(&env2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("%s: encodings differ:\n%q\n%q (%v)", name, b1, b2, err)
		}
	})
}

// fuzzCodec returns a codec with small limits.
func fuzzCodec(t *testing.T, name string) peer.Codec {
	c, ok := peer.NewCodec(name, fuzzLimits)
	if !ok {
		t.Fatal(name)
	}
	return c
}

// FuzzStreamFrames reads arbitrary bytes as length-prefixed frames. The
// reader never panics and never returns a frame over its limit; the
// frames it returns, written again, give exactly the bytes they came
// from.
func FuzzStreamFrames(f *testing.F) {
	f.Add([]byte("\x80\x00\x00\x03+OK"))
	f.Add([]byte("\x00\x00\x00\x02hi\x80\x00\x00\x00\x00\x00\x00\x01x"))
	f.Add([]byte("\x7f\xff\xff\xff"))
	f.Add([]byte("\x00\x00\x04\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 1024
		r := bytes.NewReader(data)
		fc := peer.NewStreamConn(rwc{r, io.Discard}, max)
		var frames []peer.Frame
		for {
			fr, err := fc.ReadFrame(context.Background())
			if err != nil {
				var se *service.Error
				if err != io.EOF && err != io.ErrUnexpectedEOF && !(errors.As(err, &se) && se.Kind == service.KindTooLarge) {
					t.Fatalf("read error %#v", err)
				}
				break
			}
			if len(fr.Data) > max {
				t.Fatalf("frame of %d bytes", len(fr.Data))
			}
			fr.Data = bytes.Clone(fr.Data) // valid until the next read
			frames = append(frames, fr)
		}
		var out bytes.Buffer
		if err := peer.NewStreamConn(rwc{nil, &out}, max).WriteFrames(context.Background(), frames); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, out.Bytes()) {
			t.Fatalf("frames re-encode to %x, not a prefix of the input %x", out.Bytes(), data)
		}
	})
}

// FuzzServerConn completes a handshake with a Server over a pipe, then
// sends it the input's lines as frames. The connection must never
// panic; it answers what it can, and when it closes by itself it says
// why with a protocol error, never by hanging.
func FuzzServerConn(f *testing.F) {
	f.Add(uint8(0), []byte(`{"type":"req","method":"echo","payload":1,"id":1}`+"\n"+`{"type":"req","method":"count","payload":3,"id":2}`))
	f.Add(uint8(4), []byte(`{"type":"req","method":"sum","payload":1,"id":1,"more":true}`+"\n"+`{"type":"reqend","id":1}`+"\n"+`{"type":"cancel","id":1}`))
	f.Add(uint8(3), []byte(`{"type":"ping","id":1}`+"\n"+`{"type":"goaway","id":0}`+"\n"+`{"type":"repcredit","id":9,"credit":5}`))
	f.Add(uint8(5), []byte("\x84\xa4type\xa3req\xa6method\xa4echo\xa7payload\xa2hi\xa2id\x01"))
	f.Add(uint8(1), []byte("not json\n{}"))
	// Past the stream window of 64 bytes, then past the connection's 256.
	f.Add(uint8(4), []byte(`{"type":"req","method":"sum","payload":"`+strings.Repeat("x", 60)+`","id":1,"more":true}`+"\n"+`{"type":"req","method":"sum","payload":2,"id":1,"more":true}`+"\n"+`{"type":"req","method":"sum","payload":3,"id":1,"more":true}`+"\n"+`{"type":"credit","credit":7}`))
	f.Add(uint8(4), []byte(`{"type":"req","method":"echo","payload":"`+strings.Repeat("y", 200)+`","id":1}`+"\n"+`{"type":"req","method":"echo","payload":"`+strings.Repeat("z", 200)+`","id":2}`+"\n"+`{"type":"req","method":"echo","payload":1,"id":3}`))
	f.Fuzz(func(t *testing.T, mode uint8, data []byte) {
		codec := fuzzCodecs[int(mode)%len(fuzzCodecs)]
		extended := mode&4 != 0
		glyph, raw := peer.Pipe()
		defer raw.Close()
		cfg := []peer.Option{
			peer.WithCodecs(codec),
			peer.WithHandler(fuzzHandlers()),
			peer.WithMaxFrameSize(512),
			peer.WithStreamWindow(64),
			peer.WithConnWindow(256),
			peer.WithMaxBuffered(4),
			peer.WithMaxStreams(4),
			peer.WithLimits(fuzzLimits),
			peer.WithoutKeepAlive(),
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conns := make(chan *peer.Conn, 1)
		go func() {
			c, _ := peer.Server(ctx, glyph, cfg...)
			conns <- c
		}()
		greeting := "SIMPLEX/1.0;" + codec
		if extended {
			greeting += ";glyph-codecs=" + codec + ";glyph-ext=cancel,deadline,end,goaway,ping,safe,window;glyph-stream-window=64;glyph-conn-window=256"
		}
		raw.WriteFrames(ctx, []peer.Frame{{Data: []byte(greeting), Text: true}})
		if _, err := raw.ReadFrame(ctx); err != nil {
			t.Fatal(err)
		}
		c := <-conns
		if c == nil {
			t.Fatal("no connection")
		}
		// Drain what the connection writes, as a real peer would.
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for {
				if _, err := raw.ReadFrame(ctx); err != nil {
					return
				}
			}
		}()
		for _, line := range bytes.Split(data, []byte("\n")) {
			if err := raw.WriteFrames(ctx, []peer.Frame{{Data: line, Text: codec == "json"}}); err != nil {
				break
			}
		}
		// Let the connection work through the frames, then see whether it
		// closed by itself.
		time.Sleep(time.Millisecond)
		select {
		case <-c.Done():
			var se *service.Error
			if !errors.As(c.Err(), &se) {
				t.Fatalf("closed without a reason: %v", c.Err())
			}
			switch se.Kind {
			case service.KindBadFrame, service.KindTooLarge, service.KindOverloaded:
			default:
				t.Fatalf("closed by itself with %v", c.Err())
			}
		default:
		}
		raw.Close()
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the connection did not end after its remote closed")
		}
		<-drained
	})
}

// fuzzHandlers are quick handlers that exercise streaming both ways.
func fuzzHandlers() mux {
	return mux{
		"echo": func(ctx context.Context, s *peer.ServerStream) (any, error) { return s.Recv() },
		"count": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			v, _ := s.Recv()
			n, _ := v.(int64)
			for i := int64(0); i < min(n, 20); i++ {
				if err := s.Send(i); err != nil {
					return nil, err
				}
			}
			return nil, nil
		},
		"sum": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			var n int64
			for {
				v, err := s.Recv()
				if err == io.EOF {
					return n, nil
				}
				if err != nil {
					return nil, err
				}
				i, _ := v.(int64)
				n += i
			}
		},
		"fail": func(ctx context.Context, s *peer.ServerStream) (any, error) {
			return nil, service.Errorf(service.KindConflict, "no")
		},
		"panic": func(ctx context.Context, s *peer.ServerStream) (any, error) { panic("fuzz") },
	}
}
