package secret

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glyph-ipc/glyph/service"
)

// Header is the call header that carries the proof.
const Header = "Glyph-Auth"

// KeySize is the size of a secret in bytes.
const KeySize = 32

// Key is a deployment secret.
type Key [KeySize]byte

// NewKey returns a random key from crypto/rand.
func NewKey() Key {
	var k Key
	rand.Read(k[:]) // never fails (crypto/rand panics if it cannot read)
	return k
}

// String hides the key: a Key printed by mistake (in a log) shows
// nothing of it.
func (Key) String() string { return "secret.Key(…)" }

// Window is how far a proof's time may be from the checker's clock.
const Window = 10 * time.Second

// replayWindow is how many counters below the highest seen from a sender
// are still accepted (once each): how far out of order a sender's
// concurrent requests may arrive.
const replayWindow = 4096

// maxSenders bounds the senders remembered at once (each for 2×Window
// after its last proof): past it, calls from new senders are refused as
// overloaded until old ones expire, rather than replays let in.
const maxSenders = 1 << 16

// Keyring holds a deployment's secrets: the current one, which proofs
// are made with, and those still accepted until a deadline after a
// rotation. Its methods are safe for concurrent use.
type Keyring struct {
	now func() time.Time

	mu       sync.RWMutex // guards current, accepted, set
	current  Key
	set      bool
	accepted []Accepted

	sender  [6]byte       // this keyring's sender id in its proofs
	counter atomic.Uint64 // the counter of its last proof

	seenMu  sync.Mutex          // guards the fields below
	senders map[[6]byte]*replay // the senders whose proofs were accepted
	swept   time.Time           // when expired senders were last dropped
}

// A nonce is a sender's id (6 random bytes) and its counter (6 bytes,
// big-endian), which goes up by one with every proof it makes.
type nonce [12]byte

// replay is what a checker remembers of one sender: the highest counter
// accepted, which of the replayWindow below it were, and when.
type replay struct {
	highest uint64
	seen    [replayWindow / 64]uint64 // bit i: highest-i was accepted
	last    time.Time
}

// accept records counter c, reporting false when it was seen before or
// is too far below the highest to tell.
func (w *replay) accept(c uint64) bool {
	switch {
	case c > w.highest:
		w.shift(c - w.highest)
		w.highest = c
		w.seen[0] |= 1
		return true
	case w.highest-c >= replayWindow:
		return false
	}
	i := w.highest - c
	word, bit := i/64, uint64(1)<<(i%64)
	if w.seen[word]&bit != 0 {
		return false
	}
	w.seen[word] |= bit
	return true
}

// shift moves the window up by n counters.
func (w *replay) shift(n uint64) {
	if n >= replayWindow {
		w.seen = [replayWindow / 64]uint64{}
		return
	}
	words, bits := int(n/64), n%64
	for i := len(w.seen) - 1; i >= 0; i-- {
		var v uint64
		if j := i - words; j >= 0 {
			v = w.seen[j] << bits
			if bits > 0 && j > 0 {
				v |= w.seen[j-1] >> (64 - bits)
			}
		}
		w.seen[i] = v
	}
}

// Accepted is a previous secret that is still accepted until a time.
type Accepted struct {
	Key   Key
	Until time.Time
}

// NewKeyring returns a keyring whose current key is k.
func NewKeyring(k Key) *Keyring {
	r := newKeyring()
	r.current, r.set = k, true
	return r
}

// newKeyring returns a keyring without a key: it refuses every proof
// and makes none until [Keyring.Set].
func newKeyring() *Keyring {
	r := &Keyring{now: time.Now, senders: map[[6]byte]*replay{}}
	rand.Read(r.sender[:])
	return r
}

// Current returns the key proofs are made with.
func (r *Keyring) Current() Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.current
}

// Set replaces the keys: current, and those accepted until their
// deadlines (the state a supervisor's line describes).
func (r *Keyring) Set(current Key, accepted []Accepted) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.current, r.set = current, true
	r.accepted = append([]Accepted(nil), accepted...)
	if len(r.accepted) > maxAccepted {
		r.accepted = r.accepted[len(r.accepted)-maxAccepted:]
	}
}

// maxAccepted bounds the previous keys accepted at once, so that a line
// of the secret pipe stays under its limit.
const maxAccepted = 15

// Rotate makes next the current key and keeps the one it replaces
// accepted for grace; keys whose grace is over are dropped, and so are
// the oldest when more than 15 would be left.
func (r *Keyring) Rotate(next Key, grace time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	keep := r.accepted[:0]
	for _, a := range r.accepted {
		if a.Until.After(now) {
			keep = append(keep, a)
		} else {
			forget(a.Key)
		}
	}
	if r.set {
		keep = append(keep, Accepted{Key: r.current, Until: now.Add(grace)})
	}
	for len(keep) > maxAccepted {
		forget(keep[0].Key)
		keep = keep[1:]
	}
	r.accepted = keep
	r.current, r.set = next, true
}

// Accepted returns the previous keys still accepted, with their
// deadlines.
func (r *Keyring) Accepted() []Accepted {
	r.mu.RLock()
	defer r.mu.RUnlock()
	now := r.now()
	var out []Accepted
	for _, a := range r.accepted {
		if a.Until.After(now) {
			out = append(out, a)
		}
	}
	return out
}

// Proof returns a fresh proof of the current key for one request: the
// time, a nonce (this keyring's sender id and a counter) and their
// HMAC-SHA256 under the key. It is accepted once, within [Window] of the
// checker's clock.
func (r *Keyring) Proof() string {
	r.mu.RLock()
	k := r.current
	r.mu.RUnlock()
	n := nonce{}
	copy(n[:6], r.sender[:])
	c := r.counter.Add(1)
	for i := range 6 {
		n[11-i] = byte(c >> (8 * i))
	}
	return formatProof(k, r.now().UnixMilli(), n)
}

// ProofAt returns the proof of key k at time t with the given nonce (a
// sender id and a counter, spec.md): what [Keyring.Proof] makes at the
// current time with its own sender id and next counter.
func ProofAt(k Key, t time.Time, nonce [12]byte) string {
	return formatProof(k, t.UnixMilli(), nonce)
}

func formatProof(k Key, ms int64, n nonce) string {
	var mac [sha256.Size]byte
	sign(&mac, k, ms, n)
	var buf [2 + 20 + 1 + 16 + 1 + 43]byte
	b := append(buf[:0], "1."...)
	b = strconv.AppendInt(b, ms, 10)
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, n[:])
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, mac[:])
	return string(b)
}

// macs holds HMAC-SHA256 states by key, to reuse: making one allocates
// more than the rest of a proof.
var macs sync.Map // Key → *sync.Pool of hash.Hash

// sign puts the MAC of (ms, n) under k into mac.
func sign(mac *[sha256.Size]byte, k Key, ms int64, n nonce) {
	v, ok := macs.Load(k)
	if !ok {
		v, _ = macs.LoadOrStore(k, &sync.Pool{New: func() any { return hmac.New(sha256.New, k[:]) }})
	}
	pool := v.(*sync.Pool)
	m := pool.Get().(hash.Hash)
	var msg [len("glyph-auth/1\n") + 8 + len(n)]byte
	copy(msg[:], "glyph-auth/1\n")
	binary.BigEndian.PutUint64(msg[13:], uint64(ms))
	copy(msg[21:], n[:])
	m.Reset()
	m.Write(msg[:])
	m.Sum(mac[:0])
	pool.Put(m)
}

// forget drops the MAC states of a key no longer used.
func forget(k Key) { macs.Delete(k) }

// The reasons a proof is refused, as [Check] wraps them.
var (
	ErrMissing   = errors.New("no proof of the deployment secret")
	ErrMalformed = errors.New("a malformed proof")
	ErrExpired   = errors.New("a proof outside the time window (clocks apart, or a replay)")
	ErrWrongKey  = errors.New("a proof made with a wrong or retired secret")
	ErrReplayed  = errors.New("a proof already used (a replay)")
)

// Check verifies a proof (the value of the [Header]): made with the
// current key or one still accepted, within [Window] of now, and not seen
// before. It returns nil, or a [service.KindUnauthenticated]
// *[service.Error] wrapping one of the Err values (or a
// [service.KindOverloaded] one when too many proofs arrive within the
// window to remember them all). The MAC is compared in constant time.
func (r *Keyring) Check(proof string) error { return r.CheckAt(proof, r.now()) }

// CheckAt is [Keyring.Check] with now as the time.
func (r *Keyring) CheckAt(proof string, now time.Time) error {
	if proof == "" {
		return refused(ErrMissing)
	}
	ms, n, mac, ok := parseProof(proof)
	if !ok {
		return refused(ErrMalformed)
	}
	if d := now.Sub(time.UnixMilli(ms)); d > Window || d < -Window {
		return refused(ErrExpired)
	}
	var want [sha256.Size]byte
	r.mu.RLock()
	match := false
	if r.set {
		sign(&want, r.current, ms, n)
		match = hmac.Equal(mac, want[:])
	}
	for _, a := range r.accepted {
		if a.Until.After(now) {
			sign(&want, a.Key, ms, n)
			match = hmac.Equal(mac, want[:]) || match
		}
	}
	r.mu.RUnlock()
	if !match {
		return refused(ErrWrongKey)
	}
	return r.remember(now, n)
}

// remember records a nonce, refusing one seen before. A sender is
// forgotten 2×Window after its last proof, when none of its proofs can
// pass the time check any more.
func (r *Keyring) remember(now time.Time, n nonce) error {
	var id [6]byte
	copy(id[:], n[:6])
	var c uint64
	for _, b := range n[6:] {
		c = c<<8 | uint64(b)
	}
	r.seenMu.Lock()
	defer r.seenMu.Unlock()
	if now.Sub(r.swept) > Window {
		for k, w := range r.senders {
			if now.Sub(w.last) > 2*Window {
				delete(r.senders, k)
			}
		}
		r.swept = now
	}
	w := r.senders[id]
	if w == nil {
		if len(r.senders) >= maxSenders {
			return &service.Error{Kind: service.KindOverloaded, Message: "too many callers within the proof window to check for replays; retry"}
		}
		w = &replay{}
		r.senders[id] = w
	}
	if !w.accept(c) {
		return refused(ErrReplayed)
	}
	w.last = now
	return nil
}

func refused(why error) error {
	return &service.Error{Kind: service.KindUnauthenticated, Message: why.Error(), Err: why}
}

// parseProof splits "1.<ms>.<nonce>.<mac>".
func parseProof(p string) (ms int64, n nonce, mac []byte, ok bool) {
	if len(p) > 100 {
		return 0, n, nil, false
	}
	parts := strings.Split(p, ".")
	if len(parts) != 4 || parts[0] != "1" || len(parts[1]) > 16 {
		return 0, n, nil, false
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || ms < 0 {
		return 0, n, nil, false
	}
	nb, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(nb) != len(n) {
		return 0, n, nil, false
	}
	copy(n[:], nb)
	mac, err = base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || len(mac) != sha256.Size {
		return 0, n, nil, false
	}
	return ms, n, mac, true
}

// LinePrefix starts every line of the secret pipe.
const LinePrefix = "glyph-secret/1"

// maxLine bounds a line of the secret pipe (the current key and 16
// accepted ones).
const maxLine = 4096

// Line returns the keyring as one line of the secret pipe (spec.md),
// newline included.
func (r *Keyring) Line() string {
	r.mu.RLock()
	cur := r.current
	r.mu.RUnlock()
	var b strings.Builder
	b.WriteString(LinePrefix)
	b.WriteByte(' ')
	b.WriteString(hex.EncodeToString(cur[:]))
	for _, a := range r.Accepted() {
		b.WriteByte(' ')
		b.WriteString(hex.EncodeToString(a.Key[:]))
		b.WriteByte(' ')
		b.WriteString(a.Until.UTC().Format(time.RFC3339Nano))
	}
	b.WriteByte('\n')
	return b.String()
}

// ParseLine reads one line of the secret pipe (with or without its
// newline): the current key and the accepted ones.
func ParseLine(line string) (current Key, accepted []Accepted, err error) {
	if len(line) > maxLine {
		return current, nil, fmt.Errorf("secret: a line of %d bytes, more than %d", len(line), maxLine)
	}
	f := strings.Fields(strings.TrimSuffix(line, "\n"))
	if len(f) < 2 || f[0] != LinePrefix || len(f)%2 != 0 {
		return current, nil, fmt.Errorf("secret: want %q, a key, then pairs of key and deadline", LinePrefix)
	}
	if current, err = parseKey(f[1]); err != nil {
		return current, nil, err
	}
	for i := 2; i+1 < len(f); i += 2 {
		k, err := parseKey(f[i])
		if err != nil {
			return current, nil, err
		}
		until, err := time.Parse(time.RFC3339Nano, f[i+1])
		if err != nil {
			return current, nil, fmt.Errorf("secret: bad deadline %q", f[i+1])
		}
		accepted = append(accepted, Accepted{Key: k, Until: until})
	}
	return current, accepted, nil
}

func parseKey(s string) (Key, error) {
	var k Key
	if len(s) != 2*KeySize {
		return k, fmt.Errorf("secret: a key is %d hex digits, got %d", 2*KeySize, len(s))
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return k, errors.New("secret: a key is hex digits")
	}
	return k, nil
}
