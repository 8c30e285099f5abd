package logtest

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// Counter returns a logger that keeps nothing and counts in n the lines
// logged with message msg, at any level: for a test that logs too many
// lines to keep.
func Counter(n *atomic.Int64, msg string) *slog.Logger {
	return slog.New(counter{n: n, msg: msg})
}

type counter struct {
	n   *atomic.Int64
	msg string
}

func (c counter) Enabled(context.Context, slog.Level) bool { return true }

func (c counter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == c.msg {
		c.n.Add(1)
	}
	return nil
}

func (c counter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c counter) WithGroup(string) slog.Handler      { return c }
