package peer_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// Items far larger than both windows pass, one at a time, both ways, on
// every transport.
func TestWindowLargerMessages(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.Name, func(t *testing.T) {
			opts := []peer.Option{peer.WithStreamWindow(1 << 10), peer.WithConnWindow(4 << 10)}
			h := services()
			h["bytes"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
				for {
					v, err := s.Recv()
					if err == io.EOF {
						return nil, nil
					}
					if err != nil {
						return nil, err
					}
					if err := s.Send(v); err != nil {
						return nil, err
					}
				}
			}
			c, _ := connect(t, tr, opts, append(opts, peer.WithHandler(h)))
			ctx := ctxTimeout(t, 20*time.Second)
			// 64 KiB items, and items over the size a stream transport
			// reads into a buffer it keeps (each then has its own).
			for _, size := range []int{64 << 10, 300 << 10} {
				s, err := c.NewStream(ctx, "bytes")
				if err != nil {
					t.Fatal(err)
				}
				const n = 12
				item := func(i int) []byte {
					b := make([]byte, size)
					for j := range b {
						b[j] = byte(i*7 + j)
					}
					return b
				}
				go func() {
					for i := range n {
						if err := s.Send(item(i)); err != nil {
							t.Errorf("send %d: %v", i, err)
							return
						}
					}
					s.CloseSend()
				}()
				got, err := recvAll(s)
				if err != nil || len(got) != n {
					t.Fatalf("items of %d bytes: %d, %v", size, len(got), err)
				}
				for i, v := range got {
					if b, _ := v.([]byte); !bytes.Equal(b, item(i)) {
						t.Fatalf("item %d of %d bytes: got %d bytes, not what was sent", i, size, len(b))
					}
				}
			}
		})
	}
}

// Every way a call can end gives what it counted back to the connection's
// window: with a window of 2 KiB, a few hundred calls that each leaked
// their messages' bytes would stall the connection for good.
func TestConnWindowReturned(t *testing.T) {
	read := make(chan struct{})
	h := services()
	h["ignore"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return "ignored", nil // never reads its arguments
	}
	h["block"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		select {
		case <-read:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	}
	opts := []peer.Option{peer.WithStreamWindow(512), peer.WithConnWindow(2 << 10)}
	c, _ := connect(t, transports[0], opts, append(opts, peer.WithHandler(h)))
	ctx := ctxTimeout(t, 30*time.Second)
	payload := strings.Repeat("x", 100)
	cases := []struct {
		name string
		run  func(t *testing.T) error
	}{
		{"unary", func(t *testing.T) error {
			_, err := c.Call(ctx, "echo", payload)
			return err
		}},
		{"error reply", func(t *testing.T) error {
			_, err := c.Call(ctx, "fail", payload)
			if kindOf(t, err) != service.KindConflict {
				return err
			}
			return nil
		}},
		{"unknown method", func(t *testing.T) error {
			_, err := c.Call(ctx, "nosuch", payload)
			if kindOf(t, err) != service.KindNotFound {
				return err
			}
			return nil
		}},
		{"arguments never read", func(t *testing.T) error {
			s, err := c.NewStream(ctx, "ignore")
			if err != nil {
				return err
			}
			defer s.Close()
			for range 3 {
				if err := s.Send(payload); err != nil && err != io.EOF {
					return err
				}
			}
			s.CloseSend()
			_, err = recvAll(s)
			return err
		}},
		{"results never read", func(t *testing.T) error {
			s, err := c.CallStream(ctx, "count", int64(50))
			if err != nil {
				return err
			}
			if _, err := s.Recv(); err != nil {
				return err
			}
			return s.Close()
		}},
		{"canceled while sending", func(t *testing.T) error {
			cctx, cancel := context.WithCancel(ctx)
			s, err := c.NewStream(cctx, "block")
			if err != nil {
				cancel()
				return err
			}
			s.Send(payload)
			s.Send(payload)
			cancel()
			recvAll(s)
			return nil
		}},
		{"failed midway", func(t *testing.T) error {
			s, err := c.CallStream(ctx, "failmid", payload)
			if err != nil {
				return err
			}
			if _, err := recvAll(s); kindOf(t, err) != service.KindInvalid {
				return err
			}
			return nil
		}},
		{"notification", func(t *testing.T) error {
			return c.Notify(ctx, "echo", payload)
		}},
		{"stream read to the end", func(t *testing.T) error {
			s, err := c.NewStream(ctx, "upper")
			if err != nil {
				return err
			}
			go func() {
				// Results come while arguments go: both windows are far
				// smaller than the stream.
				for range 10 {
					if s.Send(payload) != nil {
						return
					}
				}
				s.CloseSend()
			}()
			got, err := recvAll(s)
			if err == nil && len(got) != 10 {
				t.Errorf("upper: %d results", len(got))
			}
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 60 {
				if err := tc.run(t); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			// What the calls counted came back: a call that needs the
			// whole window still goes through.
			s, err := c.CallStream(ctxTimeout(t, 5*time.Second), "count", int64(300))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := recvAll(s); err != nil || len(got) != 300 {
				t.Fatalf("after %s: %d results, %v", tc.name, len(got), err)
			}
		})
	}
	close(read)
}

// A remote that starts a message while the connection's window is used
// up breaks the protocol: the connection closes, telling it why.
func TestConnWindowViolation(t *testing.T) {
	read := make(chan struct{})
	defer close(read)
	h := services()
	h["lazy"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		<-read
		return nil, nil
	}
	r, c := rawToServer(t, []peer.Option{peer.WithHandler(h), peer.WithConnWindow(100)}, "SIMPLEX/1.0;json;glyph-codecs=json;glyph-ext=goaway,window")
	// 61 bytes each, on two calls within their stream windows: the
	// second starts with 61 of 100 held, the third with 122.
	r.send(`{"type":"req","method":"lazy","payload":0,"id":1,"more":true}`)
	r.send(`{"type":"req","method":"lazy","payload":0,"id":2,"more":true}`)
	r.send(`{"type":"req","method":"lazy","payload":0,"id":3,"more":true}`)
	r.expect(`{"type":"goaway","error":{"code":8,"message":"the remote sent past the connection's window of 100 bytes"},"id":2}`)
	<-c.Done()
	if kindOf(t, c.Err()) != service.KindOverloaded {
		t.Errorf("Err = %v", c.Err())
	}
}
