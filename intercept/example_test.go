package intercept_test

import (
	"context"
	"fmt"
	"io"

	"github.com/glyph-ipc/glyph/intercept"
)

// counting counts the messages of every stream in both directions and
// reports them when the stream ends.
type counting struct{}

func (counting) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	return func(ctx context.Context, c *intercept.Call) (any, error) {
		c.Header.Set("X-Seen-By", "counting") // sent with the call on the calling side
		return next(ctx, c)
	}
}

func (counting) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
		s, err := next(ctx, c)
		if err != nil {
			return nil, err
		}
		return &countedStream{Stream: s, procedure: c.Procedure}, nil
	}
}

type countedStream struct {
	intercept.Stream
	procedure string
	sent, got int
}

func (s *countedStream) Send(m any) error { s.sent++; return s.Stream.Send(m) }

func (s *countedStream) Receive() (any, error) {
	m, err := s.Stream.Receive()
	if err == nil {
		s.got++
	}
	return m, err
}

func (s *countedStream) Close(err error) {
	fmt.Printf("%s: %d sent, %d received, error %v\n", s.procedure, s.sent, s.got, err)
	s.Stream.Close(err)
}

// An interceptor that counts a stream's messages: here a stream is
// driven by hand, as a transport drives the ones it serves.
func Example() {
	open := intercept.Chain(counting{}).WrapStream(func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
		return &sliceStream{in: []any{1, 2, 3}}, nil
	})
	s, _ := open(context.Background(), &intercept.Call{Procedure: "sum", Side: intercept.SideServer, StreamType: intercept.StreamClient})
	total := 0
	for {
		m, err := s.Receive()
		if err == io.EOF {
			break
		}
		total += m.(int)
	}
	s.Send(total)
	s.Close(nil)
	// Output:
	// sum: 1 sent, 3 received, error <nil>
}
