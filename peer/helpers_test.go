package peer_test

import (
	"context"
	"fmt"

	"github.com/glyph-ipc/glyph/internal/peertest"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// The suite's connection types and helpers, shared with the packages that
// serve over peers (package peertest).
type transport = peertest.Transport

var (
	transports   = peertest.Transports
	modes        = peertest.Modes
	connect      = peertest.Connect
	handshake    = peertest.Handshake
	forEach      = peertest.ForEach
	kindOf       = peertest.KindOf
	ctxTimeout   = peertest.Timeout
	recvAll      = peertest.RecvAll
	shortTempDir = peertest.ShortTempDir
	modeOptions  = peertest.ModeOptions
)

// mux is a Handler dispatching on the method name.
type mux map[string]peer.HandlerFunc

func (m mux) ServePeer(ctx context.Context, s *peer.ServerStream) (any, error) {
	if h, ok := m[s.Method()]; ok {
		return h(ctx, s)
	}
	return nil, service.Errorf(service.KindNotFound, "method not found: %s", s.Method())
}

func eq(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
