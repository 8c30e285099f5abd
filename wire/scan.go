package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// decodeState is the parser. It reads either from a byte slice held in
// memory (r == nil) or from a stream through its own buffer. Positions are
// never kept across fill, which may move the buffer, except where ensure
// guarantees the bytes stay put for the duration of one token.
type decodeState struct {
	buf  []byte
	pos  int
	r    io.Reader
	base int64 // stream offset of buf[0]
	rerr error // sticky read error; io.EOF at the end of the stream

	lim       Limits
	cfg       DecodeConfig
	rootStart int64 // where the message began, whitespace before it included
	wsOver    bool  // whitespace ran past MaxMessageBytes: see skipWSSlow
	depth     int

	msg      *message // blobs of the message being decoded; nil until one appears
	skipping int      // >0 while skipping a value the caller will never see
	fresh    bool     // decode as if the target were zero (it holds an earlier value)
	noBlobs  bool     // a blob is an error: the value is part of a message (UnmarshalPrefix)

	typeErrs       int   // type errors so far, the first kept in typeErr
	lastTypeErrOff int64 // offset of the latest type error

	keys map[string]any // interned short dict keys (strings, boxed), at most 256

	dig digester // digests for the duplicate checks of sets and dict keys

	typeErr error    // first UnmarshalTypeError of this message
	path    []string // struct field path for error messages
	scratch []byte
}

func (d *decodeState) off() int64 { return d.base + int64(d.pos) }

func (d *decodeState) syntax(format string, args ...any) error {
	return &SyntaxError{Offset: d.off(), Msg: fmt.Sprintf(format, args...)}
}

func (d *decodeState) syntaxAt(off int64, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// eofErr describes running out of input while expecting what.
func (d *decodeState) eofErr(what string) error {
	if d.wsOver {
		return &LimitError{Limit: "MaxMessageBytes", Max: d.lim.MaxMessageBytes, Offset: d.off()}
	}
	if d.rerr != nil && !errors.Is(d.rerr, io.EOF) {
		return fmt.Errorf("glyph: reading input at byte %d: %w", d.off(), d.rerr)
	}
	return &SyntaxError{Offset: d.off(), Msg: "unexpected end of input, expected " + what}
}

// fill reads more input into the buffer, compacting it first. It reports
// whether any new byte arrived.
func (d *decodeState) fill() bool {
	if d.r == nil || d.rerr != nil {
		return false
	}
	if d.pos > 0 {
		n := copy(d.buf, d.buf[d.pos:])
		d.buf = d.buf[:n]
		d.base += int64(d.pos)
		d.pos = 0
	}
	if len(d.buf) == cap(d.buf) {
		nb := make([]byte, len(d.buf), max(2*cap(d.buf), 512))
		copy(nb, d.buf)
		d.buf = nb
	}
	for i := 0; i < 100; i++ {
		n, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		d.buf = d.buf[:len(d.buf)+n]
		if err != nil {
			d.rerr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	d.rerr = io.ErrNoProgress
	return false
}

// ensure makes n bytes available at d.pos, growing the buffer as needed.
func (d *decodeState) ensure(n int) bool {
	for len(d.buf)-d.pos < n {
		if d.r != nil && cap(d.buf)-d.pos < n {
			// Grow to exactly what is needed so a declared length costs at
			// most itself; callers have checked it against the limits.
			nb := make([]byte, len(d.buf)-d.pos, n+4096)
			copy(nb, d.buf[d.pos:])
			d.base += int64(d.pos)
			d.pos = 0
			d.buf = nb
		}
		if !d.fill() {
			return false
		}
	}
	return true
}

func isWS(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
}

// skipWS skips whitespace; it reports false at the end of input.
func (d *decodeState) skipWS() bool {
	// Fast path: every type letter and ';' is above the space.
	if d.pos < len(d.buf) && d.buf[d.pos] > ' ' {
		return true
	}
	return d.skipWSSlow()
}

// skipWSSlow skips whitespace across refills. Whitespace counts toward
// MaxMessageBytes like any byte of the message (checkRoot counts it from
// rootStart); a run of it longer than the limit, in a message or between
// the chunks of its blobs, stops here, and the caller's end-of-input error
// becomes the limit's (eofErr), so that a stream of spaces is not read to
// its end.
func (d *decodeState) skipWSSlow() bool {
	start := d.off()
	for {
		for d.pos < len(d.buf) {
			if !isWS(d.buf[d.pos]) {
				return true
			}
			d.pos++
		}
		if d.off()-start > d.lim.MaxMessageBytes {
			d.wsOver = true
			return false
		}
		if !d.fill() {
			return false
		}
	}
}

// peek returns the next byte without consuming it.
func (d *decodeState) peek(what string) (byte, error) {
	if d.pos < len(d.buf) {
		return d.buf[d.pos], nil
	}
	return d.peekSlow(what)
}

func (d *decodeState) peekSlow(what string) (byte, error) {
	if d.fill() {
		return d.buf[d.pos], nil
	}
	return 0, d.eofErr(what)
}

// next consumes and returns the next byte.
func (d *decodeState) next(what string) (byte, error) {
	if d.pos < len(d.buf) {
		c := d.buf[d.pos]
		d.pos++
		return c, nil
	}
	return d.nextSlow(what)
}

func (d *decodeState) nextSlow(what string) (byte, error) {
	if d.fill() {
		c := d.buf[d.pos]
		d.pos++
		return c, nil
	}
	return 0, d.eofErr(what)
}

func (d *decodeState) expect(want byte, what string) error {
	c, err := d.next(what)
	if err != nil {
		return err
	}
	if c != want {
		d.pos--
		return d.syntax("found %s, expected %s", quoteByte(c), what)
	}
	return nil
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// checkRoot enforces MaxMessageBytes on the root object.
func (d *decodeState) checkRoot(extra int) error {
	if d.off()+int64(extra)-d.rootStart > d.lim.MaxMessageBytes {
		return &LimitError{Limit: "MaxMessageBytes", Max: d.lim.MaxMessageBytes, Offset: d.off()}
	}
	return nil
}

func (d *decodeState) enter() error {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return &LimitError{Limit: "MaxDepth", Max: int64(d.lim.MaxDepth), Offset: d.off()}
	}
	return d.checkRoot(0)
}

func (d *decodeState) leave() { d.depth-- }

func (d *decodeState) itemLimit(n int) error {
	if n > d.lim.MaxItems {
		return &LimitError{Limit: "MaxItems", Max: int64(d.lim.MaxItems), Offset: d.off()}
	}
	if n&63 == 0 {
		return d.checkRoot(0)
	}
	return nil
}

// integer parses the body of an integer after its `i`. It returns the
// value as int64, or as a big.Int when it does not fit.
func (d *decodeState) integer() (int64, *big.Int, error) {
	start := d.off() - 1
	neg := false
	c, err := d.next("integer digits")
	if err != nil {
		return 0, nil, err
	}
	if c == '+' || c == '-' {
		neg = c == '-'
		if c, err = d.next("integer digits"); err != nil {
			return 0, nil, err
		}
	}
	// Leading zeros carry no value.
	sawDigit := false
	for c == '0' {
		sawDigit = true
		if c, err = d.next("integer digits or ';'"); err != nil {
			return 0, nil, err
		}
	}
	var u uint64
	n := 0
	var long []byte
	for c >= '0' && c <= '9' {
		sawDigit = true
		if n < 19 {
			u = u*10 + uint64(c-'0')
		} else {
			if long == nil {
				long = strconv.AppendUint(d.scratch[:0], u, 10)
			}
			long = append(long, c)
			if len(long) > d.lim.MaxIntegerDigits {
				return 0, nil, &LimitError{Limit: "MaxIntegerDigits", Max: int64(d.lim.MaxIntegerDigits), Offset: start}
			}
		}
		n++
		if d.pos < len(d.buf) {
			c = d.buf[d.pos]
			d.pos++
		} else if c, err = d.next("integer digits or ';'"); err != nil {
			return 0, nil, err
		}
	}
	if n > d.lim.MaxIntegerDigits {
		// Integers short enough for the fast path are checked here.
		return 0, nil, &LimitError{Limit: "MaxIntegerDigits", Max: int64(d.lim.MaxIntegerDigits), Offset: start}
	}
	if c != ';' {
		d.pos--
		return 0, nil, d.syntax("found %s in integer, expected a digit or ';'", quoteByte(c))
	}
	if !sawDigit {
		return 0, nil, d.syntaxAt(start, "integer without digits")
	}
	if long == nil {
		if !neg && u <= math.MaxInt64 {
			return int64(u), nil, nil
		}
		if neg && u <= 1<<63 {
			return int64(-u), nil, nil
		}
		b := new(big.Int).SetUint64(u)
		if neg {
			b.Neg(b)
		}
		return 0, b, nil
	}
	d.scratch = long[:0]
	b, ok := new(big.Int).SetString(string(long), 10)
	if !ok {
		return 0, nil, d.syntaxAt(start, "malformed integer")
	}
	if neg {
		b.Neg(b)
	}
	return 0, b, nil
}

// lenPrefixed parses the body of a unicode or bytearray after its letter:
// `;` or len `:` bytes `;`. The returned slice aliases the buffer and is
// valid until the next read.
func (d *decodeState) lenPrefixed(kind string) ([]byte, error) {
	// Fast path: the whole value is in the buffer.
	if buf, p := d.buf, d.pos; p < len(buf) && buf[p] >= '1' && buf[p] <= '9' {
		n := int(buf[p] - '0')
		p++
		for p < len(buf) && buf[p] >= '0' && buf[p] <= '9' && n < 1<<40 {
			n = n*10 + int(buf[p]-'0')
			p++
		}
		if p < len(buf) && buf[p] == ':' && n <= d.lim.MaxStringBytes && p+1+n < len(buf) && buf[p+1+n] == ';' &&
			d.base+int64(p+1+n)-d.rootStart <= d.lim.MaxMessageBytes {
			d.pos = p + 2 + n
			return buf[p+1 : p+1+n], nil
		}
	}
	return d.lenPrefixedSlow(kind)
}

func (d *decodeState) lenPrefixedSlow(kind string) ([]byte, error) {
	start := d.off() - 1
	c, err := d.next("a length or ';'")
	if err != nil {
		return nil, err
	}
	if c == ';' {
		return d.buf[d.pos:d.pos], nil
	}
	if c < '0' || c > '9' {
		d.pos--
		return nil, d.syntax("found %s in %s, expected a length or ';'", quoteByte(c), kind)
	}
	n := int64(c - '0')
	digits := 1
	for {
		if c, err = d.next("a length digit or ':'"); err != nil {
			return nil, err
		}
		if c == ':' {
			break
		}
		if c < '0' || c > '9' {
			d.pos--
			return nil, d.syntax("found %s in %s length, expected a digit or ':'", quoteByte(c), kind)
		}
		if n == 0 {
			d.pos--
			return nil, d.syntax("%s length has a leading zero", kind)
		}
		digits++
		n = n*10 + int64(c-'0')
		if digits > 18 || n > int64(d.lim.MaxStringBytes) {
			return nil, &LimitError{Limit: "MaxStringBytes", Max: int64(d.lim.MaxStringBytes), Offset: start}
		}
	}
	if n > int64(d.lim.MaxStringBytes) {
		return nil, &LimitError{Limit: "MaxStringBytes", Max: int64(d.lim.MaxStringBytes), Offset: start}
	}
	if err := d.checkRoot(int(n)); err != nil {
		return nil, err
	}
	if !d.ensure(int(n) + 1) {
		d.pos = len(d.buf)
		return nil, d.eofErr(fmt.Sprintf("%d bytes of %s declared at byte %d and ';'", n, kind, start))
	}
	b := d.buf[d.pos : d.pos+int(n)]
	d.pos += int(n)
	if d.buf[d.pos] != ';' {
		return nil, d.syntax("found %s after %d bytes of %s, expected ';' (length mismatch)", quoteByte(d.buf[d.pos]), n, kind)
	}
	d.pos++
	return b, nil
}

// unicode parses a unicode body and returns its bytes, checked to be valid
// UTF-8.
func (d *decodeState) unicode() ([]byte, error) {
	start := d.off()
	b, err := d.lenPrefixed("unicode")
	if err != nil {
		return nil, err
	}
	if !validUTF8(b) {
		return nil, d.syntaxAt(start, "unicode is not valid UTF-8")
	}
	return b, nil
}

func validUTF8(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return utf8.Valid(b)
		}
	}
	return true
}

// token reads the body of a float, datetime or timedelta up to its `;`
// into scratch space.
func (d *decodeState) token(kind string) ([]byte, error) {
	// Fast path: the token and its ';' are in the buffer.
	rest := d.buf[d.pos:]
	if len(rest) > 129 {
		rest = rest[:129]
	}
	if i := bytes.IndexByte(rest, ';'); i >= 0 {
		tok := rest[:i]
		ok := true
		for _, c := range tok {
			if c <= ' ' || c >= 0x7f {
				ok = false
				break
			}
		}
		if ok {
			d.pos += i + 1
			return tok, nil
		}
	}
	tok := d.scratch[:0]
	for {
		var c byte
		if d.pos < len(d.buf) {
			c = d.buf[d.pos]
			d.pos++
		} else {
			var err error
			if c, err = d.next("';' closing the value"); err != nil {
				return nil, err
			}
		}
		if c == ';' {
			d.scratch = tok[:0]
			return tok, nil
		}
		if c <= ' ' || c >= 0x7f || len(tok) >= 128 {
			d.pos--
			return nil, d.syntax("found %s in %s, expected ';'", quoteByte(c), kind)
		}
		tok = append(tok, c)
	}
}

// floatValue parses the body of a float after its `f`.
func (d *decodeState) floatValue() (float64, error) {
	start := d.off() - 1
	tok, err := d.token("float")
	if err != nil {
		return 0, err
	}
	if f, ok := parseHexFloatFast(tok); ok {
		return f, nil
	}
	f, ok := parseGlyphFloat(tok)
	if !ok {
		return 0, d.syntaxAt(start, "malformed float %q", tok)
	}
	return f, nil
}

// parseHexFloatFast parses the hex floats our encoder writes for normal
// numbers, [-]0x1[.hhhh]p(+|-)dd, without strconv. It reports false for
// anything else, which then takes the general path.
func parseHexFloatFast(tok []byte) (float64, bool) {
	s := tok
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) < 6 || s[0] != '0' || s[1] != 'x' || s[2] != '1' {
		return 0, false
	}
	mant := uint64(1)
	i, digits := 3, 0
	if s[i] == '.' {
		i++
		for i < len(s) && s[i] != 'p' {
			c := s[i]
			var v byte
			switch {
			case c >= '0' && c <= '9':
				v = c - '0'
			case c >= 'a' && c <= 'f':
				v = c - 'a' + 10
			default:
				return 0, false
			}
			mant = mant<<4 | uint64(v)
			digits++
			i++
			if digits > 13 {
				return 0, false
			}
		}
		if digits == 0 {
			return 0, false
		}
	}
	if i+2 >= len(s) || s[i] != 'p' || (s[i+1] != '+' && s[i+1] != '-') {
		return 0, false
	}
	exp := 0
	for _, c := range s[i+2:] {
		if c < '0' || c > '9' || exp > 10000 {
			return 0, false
		}
		exp = exp*10 + int(c-'0')
	}
	if s[i+1] == '-' {
		exp = -exp
	}
	if exp < -1022 || exp > 1023 {
		return 0, false // subnormals and overflow: let strconv round
	}
	f := math.Ldexp(float64(mant), exp-4*digits)
	if neg {
		f = -f
	}
	return f, true
}

// parseGlyphFloat accepts hex floats, decimal floats and the names inf,
// infinity and nan in any case, each with an optional sign.
func parseGlyphFloat(tok []byte) (float64, bool) {
	s := tok
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	if lowerIs(s, "inf") || lowerIs(s, "infinity") {
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	if lowerIs(s, "nan") {
		return math.NaN(), true
	}
	if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		h := s[2:]
		mant, exp := h, []byte(nil)
		for i, c := range h {
			if c == 'p' || c == 'P' {
				mant, exp = h[:i], h[i+1:]
				break
			}
		}
		digits, dots := 0, 0
		for _, c := range mant {
			switch {
			case c == '.':
				dots++
			case isHex(c):
				digits++
			default:
				return 0, false
			}
		}
		if digits == 0 || dots > 1 {
			return 0, false
		}
		if exp != nil && !isSignedDigits(exp) {
			return 0, false
		}
		lit := string(tok)
		if exp == nil {
			lit += "p0"
		}
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		return f, true
	}
	// Decimal: digits [. digits] [e sign? digits], at least one digit.
	i, digits := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		if !isSignedDigits(s[i+1:]) {
			return 0, false
		}
		i = len(s)
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isSignedDigits(s []byte) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func lowerIs(s []byte, word string) bool {
	if len(s) != len(word) {
		return false
	}
	for i := range s {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[i] {
			return false
		}
	}
	return true
}

// letterName names the hyperglyph type introduced by a type letter.
func letterName(c byte) string {
	switch c {
	case 'i':
		return "integer"
	case 'u':
		return "unicode"
	case 'b':
		return "bytearray"
	case 'f':
		return "float"
	case 'd':
		return "datetime"
	case 'p':
		return "timedelta"
	case 'N':
		return "nil"
	case 'T', 'F':
		return "bool"
	case 'L':
		return "list"
	case 'S':
		return "set"
	case 'D':
		return "dict"
	case 'O':
		return "ordered_dict"
	case 'X':
		return "extension"
	case 'B':
		return "blob"
	}
	return quoteByte(c)
}

// singleton parses N; T; F; after their letter.
func (d *decodeState) singleton(letter byte) error {
	if d.pos < len(d.buf) && d.buf[d.pos] == ';' {
		d.pos++
		return nil
	}
	return d.expect(';', "';' after "+string(letter))
}

// valueAfterKey skips the whitespace after a dict key and checks that a
// value follows it.
func (d *decodeState) valueAfterKey() error {
	if !d.skipWS() {
		return d.eofErr("a value for the key")
	}
	if d.buf[d.pos] == ';' {
		return d.syntax("dict has a key without a value")
	}
	return nil
}
