package store

import "time"

// Settings are what the options of every [Store] implementation set; an
// implementation's Open builds them with [NewSettings].
type Settings struct {
	Clock              func() time.Time
	TombstoneRetention time.Duration
	Grace              time.Duration
	DefaultQuota       Quota
	InlineLimit        int64
	MaxSize            int64
}

// Defaults of [Settings].
const (
	DefaultTombstoneRetention = 180 * 24 * time.Hour
	DefaultGrace              = time.Hour
	DefaultInlineLimit        = 64 << 10
	DefaultMaxSize            = 1 << 30
)

// An Option changes a store's [Settings].
type Option func(*Settings)

// NewSettings returns the defaults changed by opts.
func NewSettings(opts ...Option) Settings {
	s := Settings{
		Clock:              time.Now,
		TombstoneRetention: DefaultTombstoneRetention,
		Grace:              DefaultGrace,
		InlineLimit:        DefaultInlineLimit,
		MaxSize:            DefaultMaxSize,
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// WithClock makes the store read the time from now (for tests of
// retention); the default is time.Now.
func WithClock(now func() time.Time) Option { return func(s *Settings) { s.Clock = now } }

// WithTombstoneRetention keeps debindings for d before [Store.GC] may
// remove them (default [DefaultTombstoneRetention]); once removed, the
// record they deleted may be put again.
func WithTombstoneRetention(d time.Duration) Option {
	return func(s *Settings) { s.TombstoneRetention = d }
}

// WithGrace keeps every record for d after it was stored, bound or not
// (default [DefaultGrace]), so that content uploaded before the frame or
// binding that keeps it alive survives a sweep in between.
func WithGrace(d time.Duration) Option { return func(s *Settings) { s.Grace = d } }

// WithDefaultQuota bounds every identity that has no quota of its own
// (default: unlimited).
func WithDefaultQuota(q Quota) Option { return func(s *Settings) { s.DefaultQuota = q } }

// WithInlineLimit keeps records of up to n bytes in the database itself
// and larger ones as streamed content (default [DefaultInlineLimit]).
func WithInlineLimit(n int64) Option { return func(s *Settings) { s.InlineLimit = n } }

// WithMaxSize refuses records larger than n bytes with [ErrTooLarge]
// (default [DefaultMaxSize]).
func WithMaxSize(n int64) Option { return func(s *Settings) { s.MaxSize = n } }
