package peer

import (
	"github.com/glyph-ipc/glyph/wire"
)

// The glyph codec reads the envelopes it writes field by field: the
// envelope dict is scanned here and by scanFields (which go generate
// writes from envelopeFields), with only payload, ext and error handed
// to package wire (wire.UnmarshalPrefix), instead of decoding the whole
// frame into a map and reading the map. The scan understands only the
// canonical shape appendGlyphEnvelope writes, and leaves everything else
// to the general path (wire.UnmarshalConfig, then fromMap), which gives
// every error: both give the same envelope and the same error on every
// input (FuzzGlyphEnvelopeFast checks it).

// nameCache interns method names read by one connection's reader (one
// goroutine only), so that the calls of a connection do not each
// allocate their method's name. It is bounded: it keeps at most
// nameCacheMax names of at most nameCacheLen bytes, the first ones seen,
// and then stops adding. The zero value is ready to use.
type nameCache struct {
	m map[string]string
}

const (
	nameCacheMax = 128
	nameCacheLen = 64
)

// intern returns b as a string, the same string for the same bytes
// while the cache holds them.
func (c *nameCache) intern(b []byte) string {
	if s, ok := c.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= nameCacheLen && len(c.m) < nameCacheMax {
		if c.m == nil {
			c.m = make(map[string]string)
		}
		c.m[s] = s
	}
	return s
}

// unmarshalGlyph is glyphCodec.Unmarshal with an optional name cache
// for method names (nil = none): the scan when it reads the frame, the
// general path otherwise.
func (g glyphCodec) unmarshalGlyph(data []byte, env *Envelope, names *nameCache) error {
	if g.fastLimits(len(data)) && g.scanEnvelope(data, env, names) {
		// Every field was read as the general path reads it, so the only
		// error left is the one it would give too: the rules tying fields
		// to types.
		return env.validate()
	}
	*env = Envelope{}
	return g.unmarshalGeneral(data, env)
}

// Floors on the limits for the scan: above them, nothing it accepts can
// cross a limit outside the values it gives to wire (an envelope's
// entries and keys fit under fastMinItems and fastMinString, as init
// checks; its types have at most 9 bytes and its integers at most 18
// digits). Lower limits take the general path.
const (
	fastMinDepth  = 2 // the envelope, and one level for wire to count from
	fastMinItems  = 16
	fastMinString = 16
	fastMinDigits = 19
)

// fastLimits reports whether the codec's limits allow the scan of a
// frame of n bytes. A negative limit is none; zero (a glyphCodec not
// made by codecFor) takes the general path, which fills in the default.
func (g glyphCodec) fastLimits(n int) bool {
	l := &g.limits
	return atLeast(l.MaxDepth, fastMinDepth) && atLeast(l.MaxItems, fastMinItems) &&
		atLeast(l.MaxStringBytes, fastMinString) && atLeast(l.MaxIntegerDigits, fastMinDigits) &&
		(l.MaxMessageBytes < 0 || l.MaxMessageBytes > 0 && int64(n) <= l.MaxMessageBytes)
}

func atLeast(limit, floor int) bool { return limit < 0 || limit >= floor }

// The floors hold only while every envelope fits under them.
func init() {
	if len(envelopeFields) > fastMinItems {
		panic("peer: more envelope fields than fastMinItems")
	}
	for _, f := range envelopeFields {
		if len(f.key) > fastMinString {
			panic("peer: envelope key " + f.key + " longer than fastMinString")
		}
	}
}

// valueConfig is the configuration for a value inside the envelope: the
// codec's limits, with the depth counted from the level inside the
// envelope dict, so that wire counts it as the general path does.
func (g glyphCodec) valueConfig() wire.DecodeConfig {
	l := g.limits
	if l.MaxDepth > 0 {
		l.MaxDepth-- // fastLimits: ≥ 1 still
	}
	return wire.DecodeConfig{Limits: l}
}

// scanEnvelope reads data as the canonical envelope dict into env; it
// reports false, with env in any state, when data is anything else: not
// a dict of known keys each at most once, with values of the canonical
// forms the scan functions below read; whitespace; something after the
// dict.
func (g glyphCodec) scanEnvelope(data []byte, env *Envelope, names *nameCache) bool {
	*env = Envelope{}
	if len(data) < 2 || data[0] != 'D' || data[len(data)-1] != ';' {
		return false
	}
	p, seen, ok := g.scanFields(data, env, names)
	return ok && p == len(data)-1 && seen&requiredFields == requiredFields
}

// scanError reads an error body.
func (g glyphCodec) scanError(data []byte, p int) (*ErrorBody, int, bool) {
	v, p, ok := g.scanValue(data, p)
	if !ok || v == nil {
		return nil, p, ok
	}
	eb, err := errorBodyFromMap(v)
	return eb, p, err == nil
}

// scanType reads a known envelope type, as its constant.
func scanType(data []byte, p int) (string, int, bool) {
	b, q, ok := scanASCII(data, p, fastMinString)
	if !ok {
		return "", p, false
	}
	var t string
	switch string(b) {
	case TypeReq:
		t = TypeReq
	case TypeRep:
		t = TypeRep
	case TypeCancel:
		t = TypeCancel
	case TypeReqEnd:
		t = TypeReqEnd
	case TypeRepEnd:
		t = TypeRepEnd
	case TypeReqCredit:
		t = TypeReqCredit
	case TypeRepCredit:
		t = TypeRepCredit
	case TypeCredit:
		t = TypeCredit
	case TypePing:
		t = TypePing
	case TypePong:
		t = TypePong
	case TypeGoaway:
		t = TypeGoaway
	default:
		return "", p, false // the general path names it
	}
	return t, q, true
}

// scanASCII reads a non-empty unicode value of ASCII bytes, of at most
// max bytes (negative: any), with its length in canonical form; it
// returns the content (aliasing data) and the offset after the value.
func scanASCII(data []byte, p, max int) ([]byte, int, bool) {
	b, q, ok := scanLen(data, p, 'u', max)
	if !ok {
		return nil, p, false
	}
	for _, c := range b {
		if c >= 0x80 {
			return nil, p, false
		}
	}
	return b, q, true
}

// scanLen reads letter, a length without leading zeros (so not 0), ':',
// that many bytes and ';'.
func scanLen(data []byte, p int, letter byte, max int) ([]byte, int, bool) {
	if p+3 >= len(data) || data[p] != letter || data[p+1] < '1' || data[p+1] > '9' {
		return nil, p, false
	}
	q := p + 1
	n := 0
	for ; q < len(data) && data[q] >= '0' && data[q] <= '9'; q++ {
		n = n*10 + int(data[q]-'0')
		if n > len(data) {
			return nil, p, false
		}
	}
	if max >= 0 && n > max {
		return nil, p, false // the general path reports the limit
	}
	end := q + 1 + n // the ';'
	if q >= len(data) || data[q] != ':' || end >= len(data) || data[end] != ';' {
		return nil, p, false
	}
	return data[q+1 : end], end + 1, true
}

// scanUint reads a canonical non-negative integer of at most 18 digits.
func scanUint(data []byte, p int) (int64, int, bool) {
	if p >= len(data) || data[p] != 'i' {
		return 0, p, false
	}
	n, q, ok := scanDigits(data, p+1)
	if !ok {
		return 0, p, false
	}
	return n, q, true
}

// scanDigits reads at most 18 digits without leading zeros (but 0) and
// the ';' after them, from p.
func scanDigits(data []byte, p int) (int64, int, bool) {
	if p+1 >= len(data) {
		return 0, p, false
	}
	if data[p] == '0' {
		return 0, p + 2, data[p+1] == ';'
	}
	var n int64
	q := p
	for ; q < len(data) && data[q] >= '0' && data[q] <= '9'; q++ {
		if q-p == 18 {
			return 0, p, false
		}
		n = n*10 + int64(data[q]-'0')
	}
	if q == p || q >= len(data) || data[q] != ';' {
		return 0, p, false
	}
	return n, q + 1, true
}

// scanBool reads T; or F;.
func scanBool(data []byte, p int) (bool, int, bool) {
	if p+1 >= len(data) || data[p+1] != ';' {
		return false, p, false
	}
	switch data[p] {
	case 'T':
		return true, p + 2, true
	case 'F':
		return false, p + 2, true
	}
	return false, p, false
}

// scanValue reads the value of payload, ext or error: the common small
// values inline (bytes, an ASCII string, null, a boolean, a small
// integer), anything else through wire.UnmarshalPrefix at the depth of a
// value inside the envelope. Errors are left to the general path, which
// gives them with their offsets in the frame.
func (g glyphCodec) scanValue(data []byte, p int) (any, int, bool) {
	if p >= len(data) || data[p] <= ' ' {
		return nil, p, false // whitespace: the general path
	}
	if v, q, ok := g.scanInline(data, p); ok {
		return v, q, true
	}
	var v any
	n, err := wire.UnmarshalPrefix(data[p:], &v, g.valueConfig())
	if err != nil {
		return nil, p, false
	}
	return v, p + n, true
}

// minKeptBytes is the smallest bytes value scanInline leaves in a frame it
// may keep instead of copying.
const minKeptBytes = 64 << 10

// scanInline reads the payloads that need no help from wire, as wire
// decodes them; it reports false for every other form, which wire then
// reads.
func (g glyphCodec) scanInline(data []byte, p int) (any, int, bool) {
	if p+1 >= len(data) {
		return nil, p, false
	}
	switch data[p] {
	case 'b':
		if data[p+1] == ';' {
			return []byte{}, p + 2, true // as wire: empty, not nil
		}
		b, q, ok := scanLen(data, p, 'b', g.limits.MaxStringBytes)
		if !ok {
			return nil, p, false
		}
		if g.keep && len(b) >= minKeptBytes && 2*len(b) >= len(data) {
			// Most of a frame that is ours: keeping all of it costs
			// little, copying the item much.
			return b[:len(b):len(b)], q, true
		}
		return append([]byte{}, b...), q, true
	case 'u':
		if data[p+1] == ';' {
			return "", p + 2, true
		}
		b, q, ok := scanASCII(data, p, g.limits.MaxStringBytes)
		if !ok {
			return nil, p, false
		}
		return string(b), q, true
	case 'N', 'T', 'F':
		if data[p+1] != ';' {
			return nil, p, false
		}
		switch data[p] {
		case 'T':
			return true, p + 2, true
		case 'F':
			return false, p + 2, true
		}
		return nil, p + 2, true
	case 'i':
		q := p + 1
		neg := data[q] == '-'
		if neg {
			q++
		}
		n, q, ok := scanDigits(data, q)
		if !ok || neg && n == 0 { // i-0; is not canonical
			return nil, p, false
		}
		if neg {
			n = -n
		}
		return n, q, true
	}
	return nil, p, false
}
