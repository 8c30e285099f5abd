package peer

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/glyph-ipc/glyph/service"
)

// Bind listens on addr ("tcp://host:port", port 0 for any;
// "tls://host:port" with [WithTLS] among opts; or
// "unix:///path/to/socket") and accepts connections there until the peer
// shuts down. It returns the address to dial, with the port chosen.
// ctx bounds only the start of listening. opts configure the listener as
// for [Listen]; without [WithMaxFrameSize] among them, the connections'
// own frame limit applies.
func (p *Peer) Bind(ctx context.Context, addr string, opts ...ListenOption) (string, error) {
	if err := p.refusing("bind"); err != nil {
		return "", err
	}
	l, err := Listen(ctx, addr, append([]ListenOption{WithMaxFrameSize(p.cfg.MaxFrameSize)}, opts...)...)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	ok := p.goLocked(func() { p.acceptLoop(l) })
	if ok {
		p.listeners = append(p.listeners, l)
	}
	p.mu.Unlock()
	if !ok {
		l.Close()
		return "", errPeerClosed("bind")
	}
	return l.Addr(), nil
}

// acceptLoop adds the connections l accepts to the peer until it shuts
// down.
func (p *Peer) acceptLoop(l Listener) {
	accept(p.ctx, l, p.log, p.backoff, func(fc FrameConn) bool {
		p.mu.Lock()
		ok := p.goLocked(func() { p.AcceptConn(p.ctx, fc) })
		p.mu.Unlock()
		if !ok {
			fc.Close()
		}
		return ok
	})
}

// WebSocketHandler returns an http.Handler that accepts WebSocket
// connections for the peer (see [NewWebSocketHandler]): mount it on a path
// of a ServeMux. Without [WithMaxFrameSize] among opts, the connections'
// own frame limit applies.
func (p *Peer) WebSocketHandler(opts ...WebSocketOption) http.Handler {
	opts = append([]WebSocketOption{WithMaxFrameSize(p.cfg.MaxFrameSize), webSocketOption(func(w *webSocketConfig) { w.log = p.log })}, opts...)
	return NewWebSocketHandler(func(fc FrameConn) { p.AcceptConn(p.ctx, fc) }, opts...)
}

// AcceptConn runs the accepting side's handshake on fc, as for the
// connections of Bind, and adds the connection to the peer: a
// connection the caller already has, such as [Stdio] for a peer started as
// a child process. ctx bounds the handshake only. The connection is not
// redialled when it ends. On error fc is closed.
func (p *Peer) AcceptConn(ctx context.Context, fc FrameConn) (*Conn, error) {
	return p.join(ctx, fc, serverHandshake, "accept")
}

// ConnectConn runs the connecting side's handshake on fc and adds the
// connection to the peer, as AcceptConn does for the accepting side.
func (p *Peer) ConnectConn(ctx context.Context, fc FrameConn) (*Conn, error) {
	return p.join(ctx, fc, clientHandshake, "connect")
}

// join runs a handshake on fc and adds the connection.
func (p *Peer) join(ctx context.Context, fc FrameConn, handshake func(context.Context, FrameConn, connConfig) (*Conn, error), op string) (*Conn, error) {
	if !p.enter() {
		fc.Close()
		if p.cfgErr != nil {
			return nil, p.cfgErr
		}
		return nil, errPeerClosed(op)
	}
	defer p.wg.Done()
	c, err := handshake(ctx, fc, p.cfg)
	if err != nil {
		p.log.Info("peer: handshake failed", "op", op, "remote", fc.RemoteAddr(), "err", err)
		return nil, err
	}
	if !p.addConn(c, nil) {
		p.drop(c)
		return nil, errPeerClosed(op)
	}
	return c, nil
}

// enter counts an operation in progress that Shutdown and Close wait
// for, unless the peer is closing; the caller calls p.wg.Done.
func (p *Peer) enter() bool {
	if p.cfgErr != nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.wg.Add(1)
	return true
}

// drop shuts down a connection the peer came too late to take: the
// remote may have started calls on it already, which finish unless the
// peer is closed.
func (p *Peer) drop(c *Conn) {
	c.Shutdown(p.closeCtx)
}

// Connect keeps a connection to addr ("tcp://host:port",
// "unix:///path", "ws://host/path", "wss://host/path"): it returns at
// once and dials in the background, and redials whenever the connection
// fails or drops, until Disconnect or Shutdown. Connecting to an address
// already connected does nothing. Connect fails only for an address it
// cannot dial at all ([service.KindInvalid]) or a peer that is shutting down.
func (p *Peer) Connect(addr string) error {
	if err := checkAddr(addr); err != nil {
		return err
	}
	if p.cfgErr != nil {
		return p.cfgErr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return errPeerClosed("connect")
	}
	p.connectLocked(addr, connectOwner)
	return nil
}

// Disconnect stops keeping the connection of Connect to addr and shuts it
// down gracefully (see [Conn.Shutdown]): the calls in flight on it finish,
// no new ones go there. If ctx ends first the connection is closed at
// once and ctx's error returned. An address that a resolver also names
// stays connected for it.
func (p *Peer) Disconnect(ctx context.Context, addr string) error {
	p.mu.Lock()
	d := p.disconnectLocked(addr, connectOwner)
	var c *Conn
	if d != nil {
		c = d.conn
	}
	p.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.Shutdown(ctx)
}

// Conns returns the live connections, dialed and accepted, in the order
// they came up.
func (p *Peer) Conns() []*Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.conns)
}

// Waiting returns how many calls wait for a connection.
func (p *Peer) Waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// checkAddr reports an address that Dial can never dial.
func checkAddr(addr string) error {
	scheme, rest, ok := strings.Cut(addr, "://")
	switch {
	case !ok:
		return errorf(service.KindInvalid, "peer address %q has no scheme (ws://, wss://, tcp://, tls://, unix://)", addr)
	case scheme != "tcp" && scheme != "tls" && scheme != "unix" && scheme != "ws" && scheme != "wss":
		return errorf(service.KindInvalid, "peer address %q: unknown scheme %q", addr, scheme)
	case rest == "":
		return errorf(service.KindInvalid, "peer address %q names no host or path", addr)
	}
	return nil
}

// addConn makes c one of the peer's connections, for dialer d (nil for
// an accepted one), and sends the queue out on it. It reports false,
// leaving c to the caller to close, when the peer or the dialer stopped.
func (p *Peer) addConn(c *Conn, d *dialer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d != nil && d.ctx.Err() != nil {
		return false
	}
	if !p.goLocked(func() {
		<-c.Done()
		p.removeConn(c, d)
	}) {
		return false
	}
	p.conns = append(p.conns, c)
	if d != nil {
		d.conn = c
	}
	p.log.Debug("peer: connection up", "local", c.LocalAddr(), "remote", c.RemoteAddr())
	p.dispatchLocked()
	return true
}

func (p *Peer) removeConn(c *Conn, d *dialer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.conns, c); i >= 0 {
		p.conns = slices.Delete(p.conns, i, i+1)
		if p.next > i {
			p.next--
		}
	}
	if d != nil && d.conn == c {
		d.conn = nil
	}
}

// usable reports whether c takes new calls: it is open, not shutting
// down, and its remote is not going away.
func usable(c *Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refusingLocked("") == nil
}

// pickLocked returns the next usable connection round robin, or nil.
// p.mu is held.
func (p *Peer) pickLocked() *Conn {
	n := len(p.conns)
	for i := range n {
		j := (p.next + i) % n
		if c := p.conns[j]; usable(c) {
			p.next = (j + 1) % n
			return c
		}
	}
	return nil
}
