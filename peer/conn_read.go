package peer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

func (c *Conn) readLoop() {
	for {
		if !c.outboundRoom() {
			return
		}
		// The frame's data lasts until the next read: the codecs copy
		// what they decode, unless the transport says the frame's buffer
		// is the reader's to keep (a large frame over TCP: the glyph
		// codec's bytes values then point into it).
		f, err := c.fc.ReadFrame(context.Background())
		if err != nil {
			c.readFailed(err)
			return
		}
		c.lastRecv.Store(time.Now().UnixNano())
		c.stats.framesIn.Add(1)
		c.stats.bytesIn.Add(int64(len(f.Data)))
		if len(f.Data) == 0 {
			continue // keepalive
		}
		if len(f.Data) > c.cfg.MaxFrameSize {
			c.failTelling(errorf(service.KindTooLarge, "frame of %d bytes over the limit of %d", len(f.Data), c.cfg.MaxFrameSize))
			return
		}
		env := &c.rx
		if g, ok := c.codec.(glyphCodec); ok {
			g.keep = f.own
			err = g.unmarshalGlyph(f.Data, env, &c.names)
		} else {
			err = c.codec.Unmarshal(f.Data, env)
		}
		if err != nil {
			if !c.badEnvelope(env, err) {
				return
			}
			continue
		}
		c.rxSize = int64(len(f.Data))
		if !c.dispatch(env) {
			return
		}
	}
}

// readFailed ends the connection after its transport failed to read:
// for the reason the remote's goaway gave, else the read error's. A frame
// over the limit is told to the remote before closing (a WebSocket
// library has told it already, with status 1009).
func (c *Conn) readFailed(err error) {
	c.mu.Lock()
	remote := c.remoteReason
	c.mu.Unlock()
	if remote != nil {
		c.fail(remote)
		return
	}
	reason := readError(err)
	if _, ws := c.fc.(*wsConn); reason.Kind == service.KindTooLarge && !ws {
		c.failTelling(reason)
		return
	}
	c.fail(reason)
}

// badEnvelope handles an envelope that did not decode or validate: an
// error reply to a call whose id could be read, else the connection
// closes with the reason. It reports whether to keep reading.
func (c *Conn) badEnvelope(env *Envelope, err error) bool {
	se, ok := err.(*service.Error)
	if !ok {
		se = wrapErr(service.KindBadFrame, err.Error(), err)
	}
	if env.Type == TypeRep && env.ID == 0 {
		// No call can be waiting for it: duplex's JavaScript peer
		// answers notifications this way ("id":null).
		c.log.Debug("peer: reply without an id ignored", "err", err)
		return true
	}
	c.log.Warn("peer: bad envelope", "type", env.Type, "id", env.ID, "err", err)
	switch {
	case env.Type == TypeReq && env.ID != 0:
		c.mu.Lock()
		s := c.in[env.ID]
		_, refused := c.refused[env.ID]
		if s == nil && !refused {
			// Whether more arguments follow cannot be told: remember the
			// id, so that any that do are not taken for a new call.
			c.refuseLocked(env.ID)
		}
		c.mu.Unlock()
		switch {
		case s != nil:
			s.fail(se)
		case !refused:
			c.replyError(env.ID, nil, se)
		}
		return true
	case env.Type == TypeRep && env.ID != 0:
		c.mu.Lock()
		s := c.out[env.ID]
		c.mu.Unlock()
		if s != nil {
			s.abort(&service.Error{Op: s.method, Kind: se.Kind, Message: "bad reply: " + se.Message, Err: se})
		}
		return true
	}
	c.failTelling(se)
	return false
}

// typeExt is the extension each envelope type needs.
var typeExt = map[string]extSet{
	TypeCancel: extCancel, TypeReqEnd: extEnd, TypeRepEnd: extEnd,
	TypeReqCredit: extWindow, TypeRepCredit: extWindow, TypeCredit: extWindow,
	TypePing: extPing, TypePong: extPing, TypeGoaway: extGoaway,
}

// dispatch routes one envelope. The reader never blocks here: it only
// queues messages for streams and frames for the writer. It reports
// whether to keep reading.
func (c *Conn) dispatch(env *Envelope) bool {
	if e, ok := typeExt[env.Type]; ok && !c.has(e) {
		c.failTelling(badFrame("envelope type %q without the %q extension", env.Type, e.names()[0]))
		return false
	}
	fn := c.flowSize(env)
	if !c.admitConn(fn) {
		return false
	}
	switch env.Type {
	case TypeReq:
		c.incoming(env, fn)
	case TypeRep:
		if s := c.outStream(env.ID); s != nil {
			s.sizes.AddIn(c.rxSize)
			s.deliver(env, fn)
		} else {
			c.tookConn(fn)
		}
	case TypeRepEnd:
		if s := c.outStream(env.ID); s != nil {
			s.sizes.AddIn(c.rxSize)
			s.endResults()
		}
	case TypeReqCredit:
		if s := c.outStream(env.ID); s != nil {
			s.credit.add(env.Credit)
		}
	case TypeCancel:
		if s := c.inStream(env.ID); s != nil {
			s.canceled()
		}
	case TypeReqEnd:
		if s := c.inStream(env.ID); s != nil {
			s.endArgs()
		}
	case TypeRepCredit:
		if s := c.inStream(env.ID); s != nil {
			s.credit.add(env.Credit)
		}
	case TypeCredit:
		c.sendCredit.add(env.Credit)
	case TypePing:
		c.pushEnvelope(&Envelope{Type: TypePong, ID: env.ID})
	case TypePong:
	case TypeGoaway:
		c.mu.Lock()
		c.away = true
		if env.Error != nil {
			// The remote is closing because of us: that is the reason
			// the connection will end.
			re := remoteError("", env.Error)
			re.Message = "closed by the remote: " + re.Message
			c.remoteReason = re
		}
		c.mu.Unlock()
		if env.Error != nil {
			c.log.Warn("peer: remote is going away", "code", env.Error.Code, "message", env.Error.Message)
		}
	}
	return true
}

func (c *Conn) outStream(id uint64) *ClientStream {
	c.mu.Lock()
	s := c.out[id]
	c.mu.Unlock()
	if s == nil {
		c.log.Debug("peer: reply for an unknown call id", "id", id)
	}
	return s
}

func (c *Conn) inStream(id uint64) *ServerStream {
	c.mu.Lock()
	s := c.in[id]
	c.mu.Unlock()
	if s == nil {
		c.log.Debug("peer: message for an unknown incoming call id", "id", id)
	}
	return s
}

// incoming handles a req: the next argument of a call being served, or
// a new call (or notification) to start a handler for. fn is what it
// counts under flow control.
func (c *Conn) incoming(env *Envelope, fn int64) {
	c.mu.Lock()
	if env.ID != 0 {
		if s := c.in[env.ID]; s != nil {
			c.mu.Unlock()
			s.deliver(env, c.rxSize, fn)
			return
		}
		if _, ok := c.refused[env.ID]; ok {
			// The rest of a call already answered with an error.
			if !env.More {
				delete(c.refused, env.ID)
			}
			c.mu.Unlock()
			c.tookConn(fn)
			return
		}
		if env.ID > c.lastIn {
			c.lastIn = env.ID
		}
	}
	var refuse error
	var h Handler
	switch {
	case c.closing || c.ended:
		refuse = opErrorf(env.Method, service.KindUnavailable, "connection shutting down")
	case env.ID != 0 && c.calls.Load() >= int64(c.cfg.MaxStreams),
		env.ID == 0 && c.notifying.Load() >= int64(c.cfg.MaxStreams):
		refuse = opErrorf(env.Method, service.KindOverloaded, "too many calls at once (%d)", c.cfg.MaxStreams)
	case c.lingering.Load() >= int64(c.cfg.MaxStreams):
		refuse = opErrorf(env.Method, service.KindOverloaded, "too many handlers still running after their calls were canceled (%d)", c.cfg.MaxStreams)
	case len(c.in) >= 4*c.cfg.MaxStreams:
		// Calls answered whose caller has not ended their arguments, besides
		// those served and lingering, and those whose last reply is on its
		// way: a caller that never ends them is refused new calls.
		refuse = opErrorf(env.Method, service.KindOverloaded, "too many answered calls whose arguments never ended (%d)", len(c.in))
	case c.rate != nil && !c.admitRateLocked(env.Method):
		refuse = opErrorf(env.Method, service.KindOverloaded, "calls over the rate limit of %g a second", c.cfg.RatePerSecond)
	default:
		if r, ok := c.handlers[env.Method]; ok {
			h = r.h
		} else if c.cfg.Handler != nil {
			h = c.cfg.Handler
		} else {
			refuse = errorf(service.KindNotFound, "method not found: %s", env.Method)
		}
	}
	// Counted last, once nothing else refuses the call.
	if refuse == nil && !c.admitInbound(c.rxSize) {
		refuse = opErrorf(env.Method, service.KindOverloaded, "requests waiting for their handlers over the limit of %d bytes", c.cfg.MaxInboundBytes)
	}
	if refuse != nil {
		if env.ID != 0 && env.More {
			c.refuseLocked(env.ID)
		}
		c.mu.Unlock()
		c.tookConn(fn)
		if env.ID == 0 {
			c.log.Debug("peer: notification dropped", "method", env.Method, "err", refuse)
			return
		}
		c.replyError(env.ID, env.Ext, refuse)
		return
	}
	s := c.newServerStream(env, fn)
	s.firstBytes = c.rxSize
	s.sizes.AddIn(c.rxSize)
	if env.ID != 0 {
		c.in[env.ID] = s
		s.holdsPlace = true
		c.calls.Add(1)
	} else {
		c.notifying.Add(1)
	}
	c.running++
	c.mu.Unlock()
	go c.serve(s, h)
}

// admitRateLocked takes a token for a call or notification of method
// from the rate limit, or logs its refusal and reports false. c.mu is
// held.
func (c *Conn) admitRateLocked(method string) bool {
	ok, wait := c.rate.Take(time.Now())
	switch {
	case ok:
		c.rateRefusing = false
	case !c.rateRefusing:
		c.rateRefusing = true
		c.log.Info("peer: calls over the rate limit refused", "method", method, "rate", c.cfg.RatePerSecond, "burst", c.cfg.RateBurst, "next", wait)
	default:
		c.log.Debug("peer: call over the rate limit refused", "method", method)
	}
	return ok
}

// refuseLocked remembers a call answered with an error before its last
// argument arrived, so that its other arguments are dropped rather than
// taken for a new call (a caller never reuses an id). The memory is
// bounded: past MaxStreams ids, later arguments are answered again
// instead. c.mu is held.
func (c *Conn) refuseLocked(id uint64) {
	if len(c.refused) < c.cfg.MaxStreams {
		c.refused[id] = struct{}{}
	}
}

// serve runs a handler and sends its result.
func (c *Conn) serve(s *ServerStream, h Handler) {
	var v any
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				logref := newLogref()
				c.log.Error("peer: handler panic", "method", s.method, "panic", p, "logref", logref, "stack", string(debug.Stack()))
				v, err = nil, &service.Error{Op: s.method, Kind: service.KindInternal, Message: "internal error", Logref: logref}
			}
		}()
		v, err = h.ServePeer(s.ctx, s)
	}()
	s.finish(v, err)
	s.releaseInbound()
	s.mu.Lock()
	lingered := s.lingers
	s.mu.Unlock()
	switch {
	case s.id == 0:
		c.notifying.Add(-1)
	case lingered:
		c.lingering.Add(-1)
	}
	c.mu.Lock()
	c.running--
	c.checkDrainedLocked()
	c.mu.Unlock()
}

// admitInbound counts n more bytes of the remote's messages towards
// MaxInboundBytes and the shared InboundBudget, or reports false,
// counting nothing, when they would go past either.
func (c *Conn) admitInbound(n int64) bool {
	if !admit(&c.inbound, c.cfg.MaxInboundBytes, n) {
		return false
	}
	if b := c.cfg.InboundBudget; b != nil && !admit(&b.used, b.max, n) {
		c.inbound.Add(-n)
		return false
	}
	return true
}

// releaseInbound gives back n bytes admitInbound counted.
func (c *Conn) releaseInbound(n int64) {
	c.inbound.Add(-n)
	if b := c.cfg.InboundBudget; b != nil {
		b.used.Add(-n)
	}
}

// admit adds n to *used unless that would go past limit.
func admit(used *atomic.Int64, limit, n int64) bool {
	for {
		cur := used.Load()
		if cur+n > limit {
			return false
		}
		if used.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func newLogref() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
