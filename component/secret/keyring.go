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
	"strconv"
	"strings"
	"sync"
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

// maxSeen bounds the proofs one generation of the replay cache holds
// (two generations, each 2×Window long): past it, calls are refused as
// overloaded until the generation turns, rather than replays let in.
const maxSeen = 1 << 19

// Keyring holds a deployment's secrets: the current one, which proofs
// are made with, and those still accepted until a deadline after a
// rotation. Its methods are safe for concurrent use.
type Keyring struct {
	now func() time.Time

	mu       sync.RWMutex // guards current, accepted, set
	current  Key
	set      bool
	accepted []Accepted

	seenMu   sync.Mutex         // guards the fields below
	seen     map[nonce]struct{} // proofs accepted in this generation
	old      map[nonce]struct{} // and in the one before
	turnedAt time.Time          // when seen started
}

type nonce [12]byte

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
	return &Keyring{now: time.Now, seen: map[nonce]struct{}{}, old: map[nonce]struct{}{}}
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
}

// Rotate makes next the current key and keeps the one it replaces
// accepted for grace; keys whose grace is over are dropped.
func (r *Keyring) Rotate(next Key, grace time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	keep := r.accepted[:0]
	for _, a := range r.accepted {
		if a.Until.After(now) {
			keep = append(keep, a)
		}
	}
	if r.set {
		keep = append(keep, Accepted{Key: r.current, Until: now.Add(grace)})
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
// time, a random nonce and their HMAC-SHA256 under the key. It is
// accepted once, within [Window] of the checker's clock.
func (r *Keyring) Proof() string {
	r.mu.RLock()
	k := r.current
	r.mu.RUnlock()
	var n nonce
	rand.Read(n[:])
	return formatProof(k, r.now().UnixMilli(), n)
}

// ProofAt returns the proof of key k at time t with the given nonce:
// what [Keyring.Proof] makes with a random nonce at the current time
// (spec.md has examples).
func ProofAt(k Key, t time.Time, nonce [12]byte) string {
	return formatProof(k, t.UnixMilli(), nonce)
}

func formatProof(k Key, ms int64, n nonce) string {
	mac := sign(k, ms, n)
	var b strings.Builder
	b.Grow(2 + 14 + 1 + 16 + 1 + 43)
	b.WriteString("1.")
	b.WriteString(strconv.FormatInt(ms, 10))
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(n[:]))
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(mac))
	return b.String()
}

func sign(k Key, ms int64, n nonce) []byte {
	m := hmac.New(sha256.New, k[:])
	var msg [len("glyph-auth/1\n") + 8 + len(n)]byte
	copy(msg[:], "glyph-auth/1\n")
	binary.BigEndian.PutUint64(msg[13:], uint64(ms))
	copy(msg[21:], n[:])
	m.Write(msg[:])
	return m.Sum(nil)
}

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
	r.mu.RLock()
	match := r.set && hmac.Equal(mac, sign(r.current, ms, n))
	for _, a := range r.accepted {
		if a.Until.After(now) && hmac.Equal(mac, sign(a.Key, ms, n)) {
			match = true
		}
	}
	r.mu.RUnlock()
	if !match {
		return refused(ErrWrongKey)
	}
	return r.remember(now, n)
}

// remember records a nonce, refusing one seen before.
func (r *Keyring) remember(now time.Time, n nonce) error {
	r.seenMu.Lock()
	defer r.seenMu.Unlock()
	if el := now.Sub(r.turnedAt); el > 2*Window {
		if el > 4*Window {
			clear(r.seen) // what it holds has expired too
		}
		r.old, r.seen, r.turnedAt = r.seen, make(map[nonce]struct{}, len(r.seen)), now
	}
	if _, dup := r.seen[n]; dup {
		return refused(ErrReplayed)
	}
	if _, dup := r.old[n]; dup {
		return refused(ErrReplayed)
	}
	if len(r.seen) >= maxSeen {
		return &service.Error{Kind: service.KindOverloaded, Message: "too many calls within the proof window to check for replays; retry"}
	}
	r.seen[n] = struct{}{}
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
