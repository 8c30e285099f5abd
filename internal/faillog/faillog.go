// Package faillog logs the failed calls of every transport the same way:
// one line per failure, at error level when the server is at fault (the
// kind's HTTP status, the one table in package service, is a 5xx) and at
// info level when the caller is, with the logref the caller got.
package faillog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"

	"github.com/glyph-ipc/glyph/service"
)

// Error returns err as the *[service.Error] a transport answers with: a
// copy, which the caller may change, whose kind is
// [service.KindInternal] when err has none.
func Error(err error) *service.Error {
	var e *service.Error
	if !errors.As(err, &e) {
		e = &service.Error{Kind: service.KindOf(err), Err: err}
	}
	c := *e
	if c.Kind == service.KindOther {
		c.Kind = service.KindInternal
	}
	return &c
}

// NewLogref returns a new logref: sixteen random hex digits.
func NewLogref() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Log logs the failure e with msg on log (slog.Default when nil). The
// line's attributes are e's logref and op when it has them, its kind,
// then attrs (what the transport names the call by), its message as the
// caller got it, and its cause when it has one.
func Log(ctx context.Context, log *slog.Logger, msg string, e *service.Error, attrs ...slog.Attr) {
	if log == nil {
		log = slog.Default()
	}
	level := slog.LevelInfo
	if e.Kind.HTTPStatus() >= 500 {
		level = slog.LevelError
	}
	if !log.Enabled(ctx, level) {
		return
	}
	all := make([]slog.Attr, 0, 5+len(attrs))
	if e.Logref != "" {
		all = append(all, slog.String("logref", e.Logref))
	}
	if e.Op != "" {
		all = append(all, slog.String("op", e.Op))
	}
	all = append(all, slog.String("kind", e.Kind.String()))
	all = append(all, attrs...)
	all = append(all, slog.String("error", e.Hyper().Message))
	if e.Err != nil {
		all = append(all, slog.String("cause", e.Err.Error()))
	}
	log.LogAttrs(ctx, level, msg, all...)
}
