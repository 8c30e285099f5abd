package remote

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store"
)

// LoginPurpose is the purpose of the proof ([record.CheckProof]) a client
// signs to log in.
const LoginPurpose = "remote-login"

// NonceSize is the size of a login challenge's nonce.
const NonceSize = 32

// Bounds of logins.
const (
	MaxName       = 255     // bytes of a server's name
	maxChallenges = 1 << 16 // challenges outstanding at once
)

// A Challenge is what a client signs to log in: the server's name, which
// the client checks is the server it meant to reach, and a nonce that the
// server accepts once, until Expires.
type Challenge struct {
	Server  string    `glyph:"server"`
	Nonce   []byte    `glyph:"nonce"`
	Expires time.Time `glyph:"expires"`
}

// A Session is what a login gives: the token that every later call
// carries, the identity it speaks for and when it stops being accepted.
type Session struct {
	Token    string    `glyph:"token"`
	Identity []byte    `glyph:"identity"` // the identity's fingerprint
	Expires  time.Time `glyph:"expires"`
}

// LoginMessage returns the message a client proves to log in to the server
// named server with the challenge's nonce as the identity fp: the name,
// a zero byte, the nonce and the fingerprint (spec.md).
func LoginMessage(server string, nonce []byte, fp record.Address) []byte {
	m := make([]byte, 0, len(server)+1+len(nonce)+record.AddressSize)
	m = append(m, server...)
	m = append(m, 0)
	m = append(m, nonce...)
	return append(m, fp[:]...)
}

// challenges are the nonces handed out and not yet used.
type challenges struct {
	mu     sync.Mutex // guards issued
	issued map[[NonceSize]byte]time.Time
}

// issue makes a nonce valid until expires.
func (c *challenges) issue(now, expires time.Time) ([NonceSize]byte, error) {
	var n [NonceSize]byte
	rand.Read(n[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.issued == nil {
		c.issued = map[[NonceSize]byte]time.Time{}
	}
	if len(c.issued) >= maxChallenges {
		for k, exp := range c.issued {
			if !now.Before(exp) {
				delete(c.issued, k)
			}
		}
		if len(c.issued) >= maxChallenges {
			return n, fail(ReasonOverloaded, "too many logins in progress", nil)
		}
	}
	c.issued[n] = expires
	return n, nil
}

// use spends a nonce: it reports whether it was issued and had not
// expired at now, and forgets it either way.
func (c *challenges) use(nonce []byte, now time.Time) bool {
	if len(nonce) != NonceSize {
		return false
	}
	n := [NonceSize]byte(nonce)
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.issued[n]
	delete(c.issued, n)
	return ok && now.Before(exp)
}

// challenge hands out a login challenge.
func (s *Server) challenge() (Challenge, error) {
	now := s.now()
	exp := now.Add(s.cfg.challengeTTL)
	n, err := s.challenges.issue(now, exp)
	if err != nil {
		return Challenge{}, err
	}
	return Challenge{Server: s.name, Nonce: n[:], Expires: exp.UTC()}, nil
}

// LoginArgs are the inputs of login.
type LoginArgs struct {
	Identity []byte `glyph:"identity"`        // the identity record
	Device   []byte `glyph:"device,optional"` // the device record, when a device key signed
	Nonce    []byte `glyph:"nonce"`           // the challenge's nonce
	Proof    []byte `glyph:"proof"`           // the proof of LoginMessage
}

// login checks a proof of a challenge and opens a session; it stores the
// identity, so that the records it signs can be checked.
func (s *Server) login(ctx context.Context, a LoginArgs) (Session, error) {
	now := s.now()
	id, err := record.ParseIdentity(a.Identity)
	if err != nil {
		return Session{}, recordError(err)
	}
	var dev *record.Device
	if len(a.Device) > 0 {
		if dev, err = record.ParseDevice(a.Device); err != nil {
			return Session{}, recordError(err)
		}
	}
	// The nonce is spent before the proof is checked: a failed try costs a
	// challenge, so guesses cannot be repeated on one.
	if !s.challenges.use(a.Nonce, now) {
		return Session{}, fail(ReasonChallenge, "the challenge is unknown, used or expired; ask for another", nil)
	}
	fp := id.Fingerprint()
	if err := record.CheckProof(LoginPurpose, LoginMessage(s.name, a.Nonce, fp), a.Proof, id, dev, now); err != nil {
		return Session{}, recordError(err)
	}
	if _, err := s.putRecord(ctx, identityMeta(id), bytes.NewReader(id.Bytes())); err != nil {
		return Session{}, err
	}
	s.ids.put(fp, id)
	exp := now.Add(s.cfg.sessionTTL)
	if dev != nil && dev.Expires != nil && dev.Expires.Before(exp) {
		exp = *dev.Expires
	}
	exp = exp.UTC().Truncate(time.Second)
	return Session{Token: s.tokens.make(fp, exp), Identity: fp.Bytes(), Expires: exp}, nil
}

func identityMeta(id *record.Identity) store.Meta {
	fp := id.Fingerprint()
	return store.Meta{Addr: fp.Bytes(), Kind: store.KindIdentity, Owner: fp.Bytes(), Size: int64(len(id.Bytes()))}
}

// tokens make and check session tokens: "s1." and the unpadded base64url
// of the fingerprint (33 bytes), the expiry in Unix seconds (8, big
// endian) and an HMAC-SHA256 of both under the server's session key (32).
// Only the server reads them; to clients they are opaque.
type tokens struct{ key []byte }

const (
	tokenPrefix = "s1."
	tokenRaw    = record.AddressSize + 8 + sha256.Size
)

// tokenLen is the length of every token.
var tokenLen = len(tokenPrefix) + base64.RawURLEncoding.EncodedLen(tokenRaw)

func (t tokens) mac(body []byte) []byte {
	h := hmac.New(sha256.New, t.key)
	h.Write([]byte("glyph-remote:session\x00"))
	h.Write(body)
	return h.Sum(nil)
}

func (t tokens) make(fp record.Address, exp time.Time) string {
	b := make([]byte, 0, tokenRaw)
	b = append(b, fp[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(exp.Unix()))
	b = append(b, t.mac(b)...)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// check returns the identity a token speaks for, if the server made it
// and it has not expired at now.
func (t tokens) check(token string, now time.Time) (record.Address, error) {
	var fp record.Address
	if len(token) != tokenLen || !strings.HasPrefix(token, tokenPrefix) {
		return fp, fail(ReasonUnauthenticated, "no valid session token; log in", nil)
	}
	var b [tokenRaw]byte
	if n, err := base64.RawURLEncoding.Strict().Decode(b[:], []byte(token[len(tokenPrefix):])); err != nil || n != tokenRaw {
		return fp, fail(ReasonUnauthenticated, "no valid session token; log in", nil)
	}
	body, mac := b[:record.AddressSize+8], b[record.AddressSize+8:]
	if !hmac.Equal(mac, t.mac(body)) {
		return fp, fail(ReasonUnauthenticated, "the session token was not made by this server; log in", nil)
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(body[record.AddressSize:])), 0)
	if !now.Before(exp) {
		return fp, fail(ReasonUnauthenticated, "the session expired; log in again", nil)
	}
	copy(fp[:], body)
	return fp, nil
}
