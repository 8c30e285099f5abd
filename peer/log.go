package peer

import (
	"context"
	"log/slog"
	"slices"
)

// defaultLogger returns the logger of a Peer or Conn configured without
// one. It logs through slog.Default() as it is when a line is logged,
// not as it was when the connection was made, so that slog.SetDefault in
// main decides where every peer logs, even one made before it.
func defaultLogger() *slog.Logger { return slog.New(defaultHandler{}) }

// defaultHandler is the slog.Handler of defaultLogger: it hands each
// record to the handler of slog.Default() of the moment, with what
// WithAttrs and WithGroup added.
type defaultHandler struct {
	with []handlerStep // in the order they were added
}

// handlerStep is one call of WithGroup (group set) or WithAttrs.
type handlerStep struct {
	group string
	attrs []slog.Attr
}

func (h defaultHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return slog.Default().Handler().Enabled(ctx, level)
}

func (h defaultHandler) Handle(ctx context.Context, r slog.Record) error {
	d := slog.Default().Handler()
	for _, s := range h.with {
		if s.group != "" {
			d = d.WithGroup(s.group)
		} else {
			d = d.WithAttrs(s.attrs)
		}
	}
	return d.Handle(ctx, r)
}

func (h defaultHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return defaultHandler{with: append(slices.Clip(h.with), handlerStep{attrs: slices.Clone(attrs)})}
}

func (h defaultHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return defaultHandler{with: append(slices.Clip(h.with), handlerStep{group: name})}
}
