package otelglyph

import (
	"context"
	"strings"
	"sync"

	"github.com/glyph-ipc/glyph/peer"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// PeerConnState counts c in glyph.peer.connections while it is open, and
// its calls in glyph.peer.streams. Give it to the peers and listeners to
// count, with peer.WithConnState:
//
//	peer.Serve(ctx, l, peer.WithHandler(h), peer.WithConnState(ic.PeerConnState))
//
// A connection's glyph.transport is the scheme of its remote address
// ("tcp", "unix", "ws", ...).
func (i *Interceptor) PeerConnState(c *peer.Conn, s peer.ConnState) {
	attrs := connAttrs(c)
	if s == peer.ConnStateClosed {
		i.open.remove(c)
		i.conns.Add(context.Background(), -1, attrs)
		return
	}
	i.open.add(c)
	i.conns.Add(context.Background(), 1, attrs)
}

// connAttrs is the attributes of c's gauges.
func connAttrs(c *peer.Conn) metric.MeasurementOption {
	if scheme, _, ok := strings.Cut(c.RemoteAddr(), "://"); ok {
		return metric.WithAttributeSet(attribute.NewSet(transportKey.String(scheme)))
	}
	return metric.WithAttributeSet(*attribute.EmptySet())
}

// openConns is the peer connections open, for the streams gauge.
type openConns struct {
	mu    sync.Mutex // guards conns
	conns map[*peer.Conn]struct{}
}

func (o *openConns) add(c *peer.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conns == nil {
		o.conns = map[*peer.Conn]struct{}{}
	}
	o.conns[c] = struct{}{}
}

func (o *openConns) remove(c *peer.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.conns, c)
}

// observeStreams reports the calls open on the connections open, by
// transport.
func (o *openConns) observeStreams(_ context.Context, obs metric.Int64Observer) error {
	o.mu.Lock()
	conns := make([]*peer.Conn, 0, len(o.conns))
	for c := range o.conns {
		conns = append(conns, c)
	}
	o.mu.Unlock()
	byTransport := map[string]int64{}
	for _, c := range conns {
		scheme, _, _ := strings.Cut(c.RemoteAddr(), "://")
		byTransport[scheme] += int64(c.Stats().Streams)
	}
	for scheme, n := range byTransport {
		if scheme == "" {
			obs.Observe(n)
			continue
		}
		obs.Observe(n, metric.WithAttributes(transportKey.String(scheme)))
	}
	return nil
}
