package component

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// hashString hashes a provider URL for rendezvous hashing.
func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return mix(h.Sum64())
}

// keyHash hashes a routing key: strings and byte slices by their bytes,
// integers by their value, anything else by its canonical glyph
// encoding, so that equal keys hash equal in every process.
func keyHash(v any) uint64 {
	h := fnv.New64a()
	switch k := v.(type) {
	case string:
		h.Write([]byte(k))
	case []byte:
		h.Write(k)
	default:
		rv := reflect.ValueOf(v)
		switch {
		case rv.CanInt():
			return mix(uint64(rv.Int()))
		case rv.CanUint():
			return mix(rv.Uint())
		}
		b, err := wire.Marshal(v)
		if err != nil {
			return 0
		}
		h.Write(b)
	}
	return mix(h.Sum64())
}

// mix is splitmix64's finaliser: it spreads the bits of x, so that
// scores of one key against several providers are independent.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// retryBudget bounds retries to about a tenth of the calls that succeed
// at first, with room for ten at once: a token bucket that every first
// success fills by a tenth of a token and every retry empties by one, so
// that retries cannot multiply the load on providers that are failing.
type retryBudget struct {
	mu     sync.Mutex // guards tenths
	tenths int        // tokens, in tenths
}

const budgetMax = 100 // ten tokens

func (b *retryBudget) init() { b.tenths = budgetMax }

func (b *retryBudget) deposit() {
	b.mu.Lock()
	if b.tenths < budgetMax {
		b.tenths++
	}
	b.mu.Unlock()
}

func (b *retryBudget) withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tenths < 10 {
		return false
	}
	b.tenths -= 10
	return true
}

// backoff returns the wait before retry n (0 for the first): base
// doubled n times, capped at a second, with ±50% jitter.
func backoff(base time.Duration, n int) time.Duration {
	d := float64(base) * math.Pow(2, float64(n))
	d = math.Min(d, float64(time.Second))
	return time.Duration(d * (0.5 + rand.Float64()))
}
