//go:build !linux

package peer

import "net"

// peerCred is nil where SO_PEERCRED is not available (see [Conn.PeerCred]).
func peerCred(*net.UnixConn) *PeerCred { return nil }
