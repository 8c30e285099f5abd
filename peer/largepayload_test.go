package peer_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
)

// TestLargePayloadsOverTCP echoes bytes values around the sizes where the
// stream transport and the glyph codec change their path (frames read
// into the reader's buffer, into a buffer of their own, bytes values left
// in that buffer instead of copied, encoding buffers of the size classes)
// and checks that every answer is the bytes sent, also once later calls
// have been read: no answer shares memory a later frame reuses.
func TestLargePayloadsOverTCP(t *testing.T) {
	ctx := ctxTimeout(t, 60*time.Second)
	const maxFrame = 12 << 20
	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0", peer.WithMaxFrameSize(maxFrame))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			fc, err := l.Accept(ctx)
			if err != nil {
				return
			}
			go peer.Server(ctx, fc, peer.WithHandler(services()), peer.WithMaxFrameSize(maxFrame))
		}
	}()
	fc, err := peer.Dial(ctx, l.Addr(), peer.WithMaxFrameSize(maxFrame))
	if err != nil {
		t.Fatal(err)
	}
	c, err := peer.Client(ctx, fc, peer.WithMaxFrameSize(maxFrame))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	type sent struct {
		payload, answer any
	}
	var all []sent
	for i, n := range []int{1, 64<<10 - 1, 64 << 10, 256 << 10, 256<<10 + 1, 300 << 10, 1 << 20, 4 << 20, 4<<20 + 3, 9 << 20} {
		p := bytes.Repeat([]byte{byte(i), byte(n), 0xff, ';'}, n/4+1)[:n]
		for _, payload := range []any{p, []any{p, "x"}, []any{p[:n/2], p[n/2:]}} {
			got, err := c.Call(ctx, "echo", payload)
			if err != nil {
				t.Fatalf("%d bytes: %v", n, err)
			}
			all = append(all, sent{payload, got})
		}
	}
	for _, s := range all {
		if !equalValues(s.payload, s.answer) {
			t.Errorf("a payload of %T came back different", s.payload)
		}
	}
}

// equalValues compares bytes values and lists of them.
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case string:
		return x == b
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return false
}
