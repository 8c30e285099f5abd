package peer

import (
	"context"
)

// A Resolver names the addresses a peer connects to "auto" (see
// [Peer.ConnectResolver]): service discovery. Resolve returns the current
// set, in the form Connect takes ("tcp://host:port", ...); an error
// means "unknown right now", and the peer keeps the connections it has.
type Resolver interface {
	Resolve(ctx context.Context) ([]string, error)
}

// A Watcher is a [Resolver] that notices changes itself. Watch returns a
// channel that receives a value when the addresses may have changed, so
// that the peer resolves again at once rather than at its next interval;
// the channel is closed when ctx ends.
type Watcher interface {
	Resolver
	Watch(ctx context.Context) <-chan struct{}
}
