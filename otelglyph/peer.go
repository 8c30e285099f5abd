package otelglyph

import (
	"context"
	"strings"

	"github.com/glyph-ipc/glyph/peer"
	"go.opentelemetry.io/otel/metric"
)

// PeerConnState counts c in glyph.peer.connections while it is open. Give
// it to the peers and listeners to count, with peer.WithConnState:
//
//	peer.Serve(ctx, l, peer.WithHandler(h), peer.WithConnState(ic.PeerConnState))
//
// The connection's glyph.transport is the scheme of its remote address
// ("tcp", "unix", "ws", ...).
func (i *Interceptor) PeerConnState(c *peer.Conn, s peer.ConnState) {
	n := int64(1)
	if s == peer.ConnStateClosed {
		n = -1
	}
	var opts []metric.AddOption
	if scheme, _, ok := strings.Cut(c.RemoteAddr(), "://"); ok {
		opts = append(opts, metric.WithAttributes(transportKey.String(scheme)))
	}
	i.conns.Add(context.Background(), n, opts...)
}
