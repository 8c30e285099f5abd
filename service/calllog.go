package service

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/intercept"
)

// WithCallLog sets the level of the line the service logs for each call
// it serves (see [LogCalls]); the default is slog.LevelDebug.
func WithCallLog(level slog.Level) Option {
	return func(s *Service) { s.callLevel, s.noCallLog = level, false }
}

// WithoutCallLog turns off the line the service logs for each call.
// Failures are still logged by the transports, with their logrefs.
func WithoutCallLog() Option {
	return func(s *Service) { s.noCallLog = true }
}

// LogCalls returns the interceptor that logs one line per call on log
// (slog.Default as it is when the line is logged, when log is nil) at
// level: "glyph: call", with the call's method (without its query, which
// may hold an instance's state), side, transport and remote address, its
// duration, the messages of a stream sent and received, the bytes that
// came in and went out (bytes_in, bytes_out) when the transport counts
// them ([intercept.Call.Sizes]), and for a failed call its kind and
// logref. On the serving side the line waits for the reply to be written
// ([intercept.Sizes.OnEnd]) when the transport counts, so that its bytes
// and duration are the whole call's. A failure without a logref gets one here, so
// that the line the transport logs for the failure and the reply the
// caller gets carry the same one.
//
// Every [Service] runs it first, outermost, around the interceptors of
// [WithInterceptors], on its own logger ([WithLogger]) at
// slog.LevelDebug: [WithCallLog] changes the level and [WithoutCallLog]
// turns it off. When the logger does not log at that level it costs
// nothing. A client may register it too (client.WithInterceptors), to
// log the calls it makes.
func LogCalls(log *slog.Logger, level slog.Level) intercept.Interceptor {
	return callLog{log: func() *slog.Logger { return log }, level: level}
}

// callLog is the interceptor of LogCalls; log returns the logger (nil:
// slog.Default).
type callLog struct {
	log   func() *slog.Logger
	level slog.Level
}

func (l callLog) logger() *slog.Logger {
	if lg := l.log(); lg != nil {
		return lg
	}
	return slog.Default()
}

func (l callLog) WrapUnary(next intercept.UnaryFunc) intercept.UnaryFunc {
	return func(ctx context.Context, c *intercept.Call) (any, error) {
		log := l.logger()
		if !log.Enabled(ctx, l.level) {
			return next(ctx, c)
		}
		start := time.Now()
		v, err := next(ctx, c)
		err = withLogref(err)
		l.lineAtEnd(ctx, log, c, start, nil, err)
		return v, err
	}
}

func (l callLog) WrapStream(next intercept.StreamFunc) intercept.StreamFunc {
	return func(ctx context.Context, c *intercept.Call) (intercept.Stream, error) {
		log := l.logger()
		if !log.Enabled(ctx, l.level) {
			return next(ctx, c)
		}
		start := time.Now()
		st, err := next(ctx, c)
		if err != nil {
			err = withLogref(err)
			l.lineAtEnd(ctx, log, c, start, nil, err)
			return nil, err
		}
		return &loggedStream{Stream: st, l: l, log: log, ctx: ctx, call: c, start: start}, nil
	}
}

// lineAtEnd logs the call now, or on the serving side of a transport
// that counts its bytes once the transport has written the reply.
func (l callLog) lineAtEnd(ctx context.Context, log *slog.Logger, c *intercept.Call, start time.Time, st *loggedStream, err error) {
	if c.Side == intercept.SideServer && c.Sizes.OnEnd(func(int64, int64) {
		l.line(ctx, log, c, time.Since(start), st, err)
	}) {
		return
	}
	l.line(ctx, log, c, time.Since(start), st, err)
}

// line logs the call.
func (l callLog) line(ctx context.Context, log *slog.Logger, c *intercept.Call, d time.Duration, st *loggedStream, err error) {
	method, _, _ := strings.Cut(c.Procedure, "?")
	attrs := make([]slog.Attr, 0, 11)
	attrs = append(attrs, slog.String("method", method), slog.String("side", c.Side.String()))
	if c.Peer.Transport != "" {
		attrs = append(attrs, slog.String("transport", c.Peer.Transport))
	}
	if c.Peer.Addr != "" {
		attrs = append(attrs, slog.String("remote", c.Peer.Addr))
	}
	attrs = append(attrs, slog.Duration("duration", d))
	if st != nil {
		st.mu.Lock()
		sent, received := st.sent, st.received
		st.mu.Unlock()
		attrs = append(attrs, slog.String("stream", c.StreamType.String()), slog.Int("sent", sent), slog.Int("received", received))
	}
	if c.Sizes != nil {
		attrs = append(attrs, slog.Int64("bytes_in", c.Sizes.In()), slog.Int64("bytes_out", c.Sizes.Out()))
	}
	if err != nil {
		attrs = append(attrs, slog.String("kind", KindOf(err).String()))
		var e *Error
		if errors.As(err, &e) && e.Logref != "" {
			attrs = append(attrs, slog.String("logref", e.Logref))
		}
	}
	log.LogAttrs(ctx, l.level, "glyph: call", attrs...)
}

// withLogref returns err with a logref: a copy of its *Error with a new
// one when it has none (a plain error becomes an *Error of its kind).
// Context errors are left as they are: nobody waits for their answer.
func withLogref(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var e *Error
	if !errors.As(err, &e) {
		k := KindOf(err)
		if k == KindOther {
			k = KindInternal
		}
		e = &Error{Kind: k, Message: err.Error(), Err: err}
	} else if e.Logref != "" {
		return err
	} else {
		c := *e
		e = &c
	}
	e.Logref = newLogref()
	return e
}

// loggedStream counts a stream's messages and logs its line at its end.
type loggedStream struct {
	intercept.Stream
	l     callLog
	log   *slog.Logger
	ctx   context.Context
	call  *intercept.Call
	start time.Time

	mu             sync.Mutex // guards the counts: Send and Receive may run at once
	sent, received int
	once           sync.Once
}

func (s *loggedStream) Send(m any) error {
	err := s.Stream.Send(m)
	if err == nil {
		s.mu.Lock()
		s.sent++
		s.mu.Unlock()
	}
	return err
}

func (s *loggedStream) Receive() (any, error) {
	m, err := s.Stream.Receive()
	if err == nil {
		s.mu.Lock()
		s.received++
		s.mu.Unlock()
	}
	return m, err
}

func (s *loggedStream) Close(err error) {
	s.once.Do(func() {
		s.l.lineAtEnd(s.ctx, s.log, s.call, s.start, s, err)
	})
	s.Stream.Close(err)
}
