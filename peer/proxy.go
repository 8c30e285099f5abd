package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/glyph-ipc/glyph/service"
)

// A Caller makes calls: [*Peer] (round robin over its connections) and
// [*Conn] (one connection) are Callers.
type Caller interface {
	Call(ctx context.Context, method string, args any, opts ...CallOption) (any, error)
	Notify(ctx context.Context, method string, args any, opts ...CallOption) error
	NewStream(ctx context.Context, method string, opts ...CallOption) (*ClientStream, error)
}

// A Route says where a proxy forwards the calls it matches: those whose
// method starts with Prefix and whose header Header is Value. An empty
// Prefix matches every method; an empty Header every call; an empty
// Value with a Header any value of that header, as long as it is there.
type Route struct {
	Prefix string
	Header string
	Value  string
	// Strip removes Prefix from the method name before forwarding:
	// "users.get" reaches the remote as "get" under Prefix "users.".
	Strip bool
	// To makes the forwarded calls, typically a [*Peer] connected to the
	// remotes that serve them.
	To Caller
}

// matches reports whether the route takes the call s.
func (r *Route) matches(s *ServerStream) bool {
	if !strings.HasPrefix(s.Method(), r.Prefix) {
		return false
	}
	if r.Header == "" {
		return true
	}
	v, ok := s.Header()[r.Header]
	return ok && (r.Value == "" || v == r.Value)
}

// NewProxy returns a [Handler] that forwards every call to the first of
// routes that matches it, and a call that none matches answers [service.KindNotFound]
// "method not found". Serve it with [WithHandler] on a [Peer], and the peer
// is a gateway in front of other peers.
//
// A call is forwarded as it came: a unary call as a unary call, streamed
// arguments and results item by item in both directions as they come
// (with the backpressure of each connection), a notification as a
// notification, and a reply shaped as the remote shaped it (a single
// result or a stream). The call's headers, deadline and "safe" mark go
// with it; canceling the call, or losing the caller's connection,
// cancels the forwarded one. The remote's errors come back with their
// kind, message and operation (the code and data too of a code this
// package does not know); a forwarded call that cannot be made fails
// as it failed, such as [service.KindUnavailable] while To has no connection.
//
// NewProxy panics if a route has no To.
func NewProxy(routes ...Route) Handler {
	for i, r := range routes {
		if r.To == nil {
			panic(fmt.Sprintf("peer: NewProxy: route %d (prefix %q, header %q) has no To", i, r.Prefix, r.Header))
		}
	}
	return &proxy{routes: append([]Route(nil), routes...)}
}

type proxy struct{ routes []Route }

func (p *proxy) ServePeer(ctx context.Context, s *ServerStream) (any, error) {
	var r *Route
	for i := range p.routes {
		if p.routes[i].matches(s) {
			r = &p.routes[i]
			break
		}
	}
	if r == nil {
		return nil, errorf(service.KindNotFound, "method not found: %s", s.Method())
	}
	method := s.Method()
	if r.Strip {
		method = strings.TrimPrefix(method, r.Prefix)
	}
	var opts []CallOption
	if s.Safe() {
		opts = append(opts, Safe())
	}
	// ctx carries the call's headers and deadline: the forwarded call
	// sends them on (see Header).
	if s.ID() == 0 {
		v, err := s.Recv()
		if err != nil {
			return nil, err
		}
		return nil, r.To.Notify(ctx, method, v, opts...)
	}
	cs, err := r.To.NewStream(ctx, method, opts...)
	if err != nil {
		return nil, err
	}
	defer cs.Close()
	go forwardArgs(s, cs)

	first, err := cs.Recv()
	switch {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		return nil, err
	case !cs.Streamed():
		return first, nil // a unary result stays one
	}
	if err := s.Send(first); err != nil {
		return nil, err
	}
	for {
		v, err := cs.Recv()
		if errors.Is(err, io.EOF) {
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

// forwardArgs sends the arguments of s on cs as they come, then closes
// cs's arguments. It ends when they end, when the call s ends (its
// context is canceled once the handler returns), or when cs ends.
func forwardArgs(s *ServerStream, cs *ClientStream) {
	for {
		v, err := s.Recv()
		if errors.Is(err, io.EOF) {
			cs.CloseSend()
			return
		}
		if err != nil {
			// The call was canceled or failed: so is the forwarded one,
			// through the context it was made with.
			return
		}
		if cs.Send(v) != nil {
			return // the forwarded call ended; its results say how
		}
	}
}
