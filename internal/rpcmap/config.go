package rpcmap

import (
	"log/slog"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// The defaults of a [HandlerConfig], which the transports export.
const (
	DefaultMaxRequestBytes = 8 << 20  // a request body
	DefaultMaxBlobBytes    = 16 << 20 // a blob in a result, before base64
	DefaultReadTimeout     = 30 * time.Second
)

// HandlerConfig is what the options of the JSON-RPC and XML-RPC handlers
// set.
type HandlerConfig struct {
	MaxRequestBytes int64
	MaxBatch        int // JSON-RPC's requests in a batch
	MaxBlobBytes    int64
	Limits          wire.Limits
	ReadTimeout     time.Duration
	Logger          *slog.Logger
}

// WithDefaults returns c with the defaults in the fields that are not
// positive (MaxBatch, whose default is JSON-RPC's, aside).
func (c HandlerConfig) WithDefaults() HandlerConfig {
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.MaxBlobBytes <= 0 {
		c.MaxBlobBytes = DefaultMaxBlobBytes
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	return c
}

// Limit returns a decoder's bound from an option's value: def for 0, no
// bound (the largest int) for a negative value, else n.
func Limit(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return int(^uint(0) >> 1)
	}
	return n
}
