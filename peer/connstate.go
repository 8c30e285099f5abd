package peer

// ConnState is a change in a connection's life, as [WithConnState]
// reports it.
type ConnState uint8

const (
	// ConnStateOpen: the handshake succeeded and the connection serves.
	ConnStateOpen ConnState = iota
	// ConnStateClosed: the connection ended ([Conn.Done] is closed).
	ConnStateClosed
)

// String returns "open" or "closed".
func (s ConnState) String() string {
	if s == ConnStateClosed {
		return "closed"
	}
	return "open"
}

// WithConnState makes f hear of each connection as it opens and as it
// ends, in that order and once each, in the manner of net/http's
// Server.ConnState: what a gauge of open connections needs (package
// otelglyph's). f runs on the connection's own goroutines, so it must
// not block; a connection whose handshake fails is never reported. Given
// to [Serve] or a [Peer], it hears of every connection they accept or
// make.
func WithConnState(f func(*Conn, ConnState)) Option {
	return connOption(func(c *connConfig) { c.ConnState = f })
}
