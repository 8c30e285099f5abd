// Package ratelimit is a token bucket, alone ([Bucket]) and one per key
// ([Keyed]), for the request rate limits of the transports.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// A Bucket admits events at rate per second on average, and up to burst
// at once after a quiet spell. It is not safe for concurrent use; a
// [Keyed] guards its own.
type Bucket struct {
	rate   float64   // tokens per second
	burst  float64   // most tokens held
	tokens float64   // tokens at last
	last   time.Time // when tokens was computed
}

// NewBucket returns a full bucket of burst tokens (at least 1) refilled
// at rate per second (> 0).
func NewBucket(rate float64, burst int) *Bucket {
	b := &Bucket{rate: rate, burst: float64(max(burst, 1))}
	b.tokens = b.burst
	return b
}

// Take takes a token at now and reports whether there was one; when
// there was not, wait says how long until there is.
func (b *Bucket) Take(now time.Time) (ok bool, wait time.Duration) {
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	need := (1 - b.tokens) / b.rate
	return false, time.Duration(math.Ceil(need * float64(time.Second)))
}

func (b *Bucket) refill(now time.Time) {
	if !b.last.IsZero() {
		if d := now.Sub(b.last); d > 0 {
			b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		}
	}
	if now.After(b.last) {
		b.last = now
	}
}

// full reports whether the bucket is full at now: a key whose bucket is
// full may be forgotten, since a new bucket is the same.
func (b *Bucket) full(now time.Time) bool {
	b.refill(now)
	return b.tokens >= b.burst
}

// Keyed holds a [Bucket] per key (a remote address, say), with the same
// rate and burst, and forgets those that are full again. It holds at
// most max buckets: when it holds that many and none is full, a new key
// shares an overflow bucket, so that many keys cannot make it hold
// unbounded memory. It is safe for concurrent use.
type Keyed struct {
	rate  float64
	burst int
	max   int

	mu       sync.Mutex         // guards the fields below
	buckets  map[string]*Bucket //
	overflow *Bucket            // shared by keys past max
	sweep    time.Time          // when buckets was last swept of full ones
}

// NewKeyed returns buckets of rate and burst per key, at most n of them
// (at least 1).
func NewKeyed(rate float64, burst, n int) *Keyed {
	return &Keyed{rate: rate, burst: burst, max: max(n, 1), buckets: map[string]*Bucket{}, overflow: NewBucket(rate, burst)}
}

// Take takes a token from key's bucket at now, as [Bucket.Take] does.
func (k *Keyed) Take(key string, now time.Time) (ok bool, wait time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		// Sweeping is linear in the buckets: at most once a second when
		// they are all taken, once a minute otherwise.
		if since := now.Sub(k.sweep); since > time.Minute || (len(k.buckets) >= k.max && since > time.Second) {
			k.sweepLocked(now)
		}
		if len(k.buckets) >= k.max {
			return k.overflow.Take(now)
		}
		b = NewBucket(k.rate, k.burst)
		k.buckets[key] = b
	}
	return b.Take(now)
}

// sweepLocked forgets the buckets that are full at now. k.mu is held.
func (k *Keyed) sweepLocked(now time.Time) {
	k.sweep = now
	for key, b := range k.buckets {
		if b.full(now) {
			delete(k.buckets, key)
		}
	}
}

// Len returns how many keys have a bucket of their own now.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}
