package peer

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Pauses after a failed accept (out of file descriptors, say) before
// Serve accepts again: doubled per failure, as net/http's Serve does.
const (
	serveBackoffMin = 5 * time.Millisecond
	serveBackoffMax = time.Second
)

// Serve accepts connections on l and serves each on its own goroutines,
// the accepting side's handshake then the calls the remote makes, until
// ctx ends or l fails: the shape of net/http's Serve, for a [Listener]
// from [Listen]. opts configure every connection, as for Server; the
// handler of [WithHandler] serves the calls.
//
// Serve always returns a non-nil error, and closes l: ctx's error
// (ctx.Err()) when ctx ended, and otherwise why l failed (a
// [*service.Error] of kind [service.KindUnavailable] for a closed
// listener), or why opts cannot work. A failed handshake is logged and
// ends only its connection; an accept that fails otherwise (out of file
// descriptors, say) is logged and retried after a pause.
//
// When it returns, Serve has closed every connection it accepted: at
// once, as net/http's Server.Close and gRPC's Server.Stop do, so that
// calls in flight fail on the remote with a retryable
// [service.KindUnavailable] error and handlers see their contexts
// canceled. To end gracefully instead (goaway, then the calls in flight
// finish), serve with a [Peer] (Bind) and call [Peer.Shutdown], whose ctx
// bounds the wait, as net/http's Server.Shutdown does.
func Serve(ctx context.Context, l Listener, opts ...Option) error {
	defer l.Close()
	cfg := connConfigOf(opts)
	if cfg.InboundBudget == nil {
		cfg.InboundBudget = NewBudget(DefaultServerInboundBytes)
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	connCtx, closeConns := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		closeConns()
		wg.Wait()
	}()
	return accept(ctx, l, c.Logger, serveBackoff, func(fc FrameConn) bool {
		wg.Go(func() { serveConn(connCtx, fc, cfg, c.Logger) })
		return true
	})
}

// serveConn runs the accepting side's handshake on fc and lets the
// connection serve until it ends, or closes it when ctx ends first (ctx
// bounds the handshake too).
func serveConn(ctx context.Context, fc FrameConn, cfg connConfig, log *slog.Logger) {
	c, err := serverHandshake(ctx, fc, cfg)
	if err != nil {
		if ctx.Err() == nil {
			log.Info("peer: handshake failed", "op", "accept", "remote", fc.RemoteAddr(), "err", err)
		}
		return
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		c.Close()
	}
}

// accept hands each connection l accepts to serve until ctx ends, l is
// closed, or serve reports false; it returns ctx's error, l's, or nil. An
// accept that fails otherwise (out of file descriptors, say) is logged
// and retried after backoff(failures), failures counting those in a row.
func accept(ctx context.Context, l Listener, log *slog.Logger, backoff func(failures int) time.Duration, serve func(FrameConn) bool) error {
	if ll, ok := l.(*listener); ok {
		ll.log.Store(log) // its refusals are logged where its connections are
	}
	failures := 0
	for {
		fc, err := l.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			log.Warn("peer: accept failed", "addr", l.Addr(), "err", err)
			if !sleep(ctx, backoff(failures)) {
				return ctx.Err()
			}
			failures++
			continue
		}
		failures = 0
		if !serve(fc) {
			return nil
		}
	}
}

// serveBackoff is Serve's pause after failures failed accepts in a row.
func serveBackoff(failures int) time.Duration {
	return backoff(serveBackoffMin, serveBackoffMax, failures)
}

// backoff returns the wait before the next attempt after failures
// failed ones: least doubled per failure up to most, with "equal
// jitter" (between half and all of it).
func backoff(least, most time.Duration, failures int) time.Duration {
	d := least << min(failures, 32)
	if d > most || d <= 0 {
		d = most
	}
	return d/2 + rand.N(d/2+1)
}
