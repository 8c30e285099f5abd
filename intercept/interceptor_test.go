package intercept_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/glyph-ipc/glyph/intercept"
)

// journaling returns an interceptor that journals around both kinds of
// step under name.
func journaling(j *[]string, name string) intercept.Interceptor {
	return funcs{
		unary: func(next intercept.UnaryFunc) intercept.UnaryFunc {
			return func(ctx context.Context, c *intercept.Call) (any, error) {
				*j = append(*j, name+" unary "+c.Procedure)
				v, err := next(ctx, c)
				*j = append(*j, name+" unary done")
				return v, err
			}
		},
		stream: func(next intercept.StreamFunc) intercept.StreamFunc {
			return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
				*j = append(*j, name+" stream "+c.Procedure)
				return next(ctx, c)
			}
		},
	}
}

type funcs struct {
	unary  func(intercept.UnaryFunc) intercept.UnaryFunc
	stream func(intercept.StreamFunc) intercept.StreamFunc
}

func (f funcs) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc    { return f.unary(next) }
func (f funcs) WrapStream(next intercept.StreamFunc) intercept.StreamFunc { return f.stream(next) }

// nilWrapper returns nil from both wraps: it leaves the steps as they are.
type nilWrapper struct{}

func (nilWrapper) WrapUnary(intercept.UnaryFunc) intercept.UnaryFunc    { return nil }
func (nilWrapper) WrapStream(intercept.StreamFunc) intercept.StreamFunc { return nil }

func TestChainOrder(t *testing.T) {
	var j []string
	c := intercept.Chain(journaling(&j, "a"), nil, nilWrapper{},
		intercept.Chain(journaling(&j, "b"), journaling(&j, "c")))
	unary := c.WrapUnary(func(ctx context.Context, call *intercept.Call) (any, error) {
		j = append(j, "call")
		return "v", nil
	})
	v, err := unary(context.Background(), &intercept.Call{Procedure: "p"})
	if v != "v" || err != nil {
		t.Fatalf("unary: %v, %v", v, err)
	}
	want := []string{"a unary p", "b unary p", "c unary p", "call", "c unary done", "b unary done", "a unary done"}
	if !slices.Equal(j, want) {
		t.Errorf("unary order: %q, want %q", j, want)
	}
	j = nil
	stream := c.WrapStream(func(ctx context.Context, call *intercept.Call) (intercept.Stream, error) {
		j = append(j, "open")
		return nil, errors.New("refused")
	})
	if _, err := stream(context.Background(), &intercept.Call{Procedure: "s"}); err == nil || err.Error() != "refused" {
		t.Errorf("stream's error: %v", err)
	}
	if want := []string{"a stream s", "b stream s", "c stream s", "open"}; !slices.Equal(j, want) {
		t.Errorf("stream order: %q, want %q", j, want)
	}
}

func TestUnaryInterceptorFuncPassesStreams(t *testing.T) {
	short := intercept.UnaryInterceptorFunc(func(next intercept.UnaryFunc) intercept.UnaryFunc {
		return func(ctx context.Context, c *intercept.Call) (any, error) { return "cached", nil }
	})
	v, err := intercept.Chain(short).WrapUnary(func(context.Context, *intercept.Call) (any, error) {
		t.Error("next ran after a short circuit")
		return nil, nil
	})(context.Background(), &intercept.Call{})
	if v != "cached" || err != nil {
		t.Errorf("short circuit: %v, %v", v, err)
	}
	base := &sliceStream{in: []any{1}}
	s, err := short.WrapStream(func(context.Context, *intercept.Call) (intercept.Stream, error) { return base, nil })(context.Background(), &intercept.Call{})
	if err != nil || s != intercept.Stream(base) {
		t.Errorf("a unary interceptor changed a stream: %v, %v", s, err)
	}
}

// sliceStream is a Stream that receives in and records what is sent.
type sliceStream struct {
	in, out []any
	closed  error
}

func (s *sliceStream) Send(m any) error { s.out = append(s.out, m); return nil }
func (s *sliceStream) CloseSend() error { return nil }
func (s *sliceStream) Receive() (any, error) {
	if len(s.in) == 0 {
		return nil, io.EOF
	}
	m := s.in[0]
	s.in = s.in[1:]
	return m, nil
}
func (s *sliceStream) Close(err error) { s.closed = err }

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{intercept.StreamUnary.String(), "unary"},
		{intercept.StreamClient.String(), "client_stream"},
		{intercept.StreamServer.String(), "server_stream"},
		{intercept.StreamBidi.String(), "bidi_stream"},
		{intercept.StreamType(9).String(), "unknown"},
		{intercept.SideClient.String(), "client"},
		{intercept.SideServer.String(), "server"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
}

func TestPeerContext(t *testing.T) {
	if _, ok := intercept.PeerFromContext(context.Background()); ok {
		t.Error("a peer in an empty context")
	}
	p := intercept.Peer{Transport: intercept.TransportUnix, Addr: "/run/x.sock", Cred: &intercept.PeerCred{UID: 1, GID: 2, PID: 3}}
	got, ok := intercept.PeerFromContext(intercept.WithPeer(context.Background(), p))
	if !ok || got.Transport != "unix" || got.Addr != p.Addr || *got.Cred != *p.Cred {
		t.Errorf("peer from context: %+v, %v", got, ok)
	}
}
