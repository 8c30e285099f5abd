package record

import (
	"crypto/sha256"
	"sync"
)

// verifiedDevices remembers the device records whose signature verified:
// every frame, binding and share a device signs carries its device
// record, so a remote or a daemon checking a device's records would
// otherwise verify the same device signature (an Ed25519 verification,
// most of what checking a frame costs) once per record.
var verifiedDevices = sigCache{max: 1024}

// sigCache is a set of signatures known to verify, each remembered by the
// SHA-256 of everything its verification reads: the signed message, the
// public key and the signature. Only successes are kept, so a hit means
// ed25519.Verify of the same inputs returned true. When full, it starts
// over.
type sigCache struct {
	mu  sync.Mutex
	max int
	set map[[sha256.Size]byte]struct{}
}

func sigKey(msg, signer, sig []byte) [sha256.Size]byte {
	h := sha256.New()
	// Lengths first, so that no two inputs make the same stream.
	var n [12]byte
	putUint32(n[0:], len(msg))
	putUint32(n[4:], len(signer))
	putUint32(n[8:], len(sig))
	h.Write(n[:])
	h.Write(msg)
	h.Write(signer)
	h.Write(sig)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func putUint32(b []byte, n int) {
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
}

func (c *sigCache) has(k [sha256.Size]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.set[k]
	return ok
}

func (c *sigCache) add(k [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set == nil || len(c.set) >= c.max {
		c.set = make(map[[sha256.Size]byte]struct{}, c.max)
	}
	c.set[k] = struct{}{}
}
