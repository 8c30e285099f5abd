package peer

import (
	"math/bits"
	"sync"
)

// Large frames are encoded into buffers of size classes, pooled per class,
// so that a connection sending megabyte payloads reuses its buffers
// instead of allocating (and zeroing) one per frame. The classes step by a
// quarter between powers of two (1, 1.25, 1.5, 1.75 × 2ⁿ), so a buffer
// wastes at most a fifth of itself on a payload of any size; payloads of
// a power of two (4 MiB, and the few bytes of its envelope) take the
// class above it, 1.25 × 2ⁿ.
const (
	// minBigBuffer is the smallest class: smaller frames use framePool.
	minBigBuffer = maxKeptBuffer
	// maxBigBuffer is the largest class pooled; larger buffers are left
	// to the collector.
	maxBigBuffer = 64 << 20
)

// bigPools holds one pool per class, indexed by bigClass.
var bigPools [4 * 64]sync.Pool

// bigClass returns the smallest class holding n bytes (n > 0): its index
// and its size.
func bigClass(n int) (int, int) {
	e := bits.Len(uint(n-1)) - 1 // 2^e < n ≤ 2^(e+1)
	if e < 2 {
		return 4*max(e, 0) + 3, 1 << (max(e, 0) + 1) // tiny: a whole power of two
	}
	q := 1 << (e - 2)
	steps := (n - 1<<e + q - 1) / q // 1 to 4 quarters above 2^e
	return 4*e + steps - 1, 1<<e + steps*q
}

// bigFloorClass returns the largest class whose size is at most c, for a
// buffer of capacity c: every buffer in a class's pool holds at least the
// class's size.
func bigFloorClass(c int) int {
	e := bits.Len(uint(c)) - 1 // 2^e ≤ c < 2^(e+1)
	if e < 2 {
		return -1
	}
	q := 1 << (e - 2)
	steps := (c - 1<<e) / q // 0 to 3 quarters above 2^e
	if steps == 0 {
		return 4*(e-1) + 3 // 2^e is the top class of the octave below
	}
	return 4*e + steps - 1
}

// getBigBuffer returns an empty buffer with room for n bytes, from the
// pool of its class when it holds one.
func getBigBuffer(n int) *[]byte {
	i, size := bigClass(n)
	if size <= maxBigBuffer {
		if bp, ok := bigPools[i].Get().(*[]byte); ok {
			return bp
		}
	}
	b := make([]byte, 0, size)
	return &b
}

// putBigBuffer returns a buffer to the pool of the largest class it holds;
// one over maxBigBuffer is dropped.
func putBigBuffer(bp *[]byte) {
	c := cap(*bp)
	if c > maxBigBuffer || c < minBigBuffer {
		return
	}
	if i := bigFloorClass(c); i >= 0 {
		*bp = (*bp)[:0]
		bigPools[i].Put(bp)
	}
}

// payloadSizeHint is about the size of an envelope whose payload is a
// string or bytes, the payloads of megabytes; 0 for others, which encode
// into a buffer of framePool.
func payloadSizeHint(env *Envelope) int {
	switch p := env.Payload.(type) {
	case []byte:
		return len(p) + len(env.Method) + 64
	case string:
		return len(p) + len(env.Method) + 64
	}
	return 0
}
