// Package literal parses the argument syntax of glyph call: glyph values
// written for a command line.
//
// The syntax is JSON with a few conveniences:
//
//	123  -4  18446744073709551616    integers (any size)
//	1.5  1e3  -0.25                  floats (a '.' or an exponent makes a float)
//	"a b"  'a b'                     strings, with the escapes \\ \" \' \n \r \t \0 \xHH \uHHHH \UHHHHHHHH
//	true  false  nil                 (null is nil too)
//	[1, "two", [3]]                  lists
//	{"a": 1, b: [2]}                 dicts; keys may be any value, bare words included
//	bob                              bare words are strings
//
// A bare word starts with a letter or '_' and goes on with letters, digits
// and "_-./@+". An argument that starts with a letter or '_' and is not true,
// false, nil or null is a string as it stands, spaces, commas and all
// (Bob Smith, https://example.com/?a=1), so that the shell's quoting is
// usually all a string needs; inside lists and dicts a bare word ends at
// the first character it cannot hold.
//
// Anything else after the value is an error, as are unterminated strings,
// malformed numbers and nesting deeper than MaxDepth. Parse never panics.
package literal

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/wire"
)

// MaxDepth bounds how deeply lists and dicts may nest.
const MaxDepth = 100

// SyntaxError describes where and why an argument does not parse.
type SyntaxError struct {
	Offset int    // byte offset in the argument
	Msg    string // what was wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("at byte %d: %s", e.Offset, e.Msg)
}

// Parse parses one argument into a glyph value: nil, bool, int64 (or
// *big.Int when it does not fit), float64, string, []any, map[string]any
// (a dict whose keys are all strings) or [wire.Dict] (any other dict).
func Parse(s string) (any, error) {
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return nil, &SyntaxError{Offset: i, Msg: "invalid UTF-8"}
	}
	if r, _ := utf8.DecodeRuneInString(s); r == '_' || unicode.IsLetter(r) {
		if v, ok := keywords[strings.TrimSpace(s)]; ok {
			return v, nil
		}
		return s, nil
	}
	p := &parser{s: s}
	p.space()
	if p.pos == len(s) {
		return nil, p.errorf("empty argument: write \"\" for an empty string")
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(s) {
		return nil, p.errorf("unexpected %s after the value", p.describe())
	}
	return v, nil
}

var keywords = map[string]any{"true": true, "false": false, "nil": nil, "null": nil}

type parser struct {
	s   string
	pos int
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

// describe names the character at pos for an error message.
func (p *parser) describe() string {
	if p.pos >= len(p.s) {
		return "end of argument"
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *parser) space() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if p.pos >= len(p.s) {
		return nil, p.errorf("unexpected end of argument, expected a value")
	}
	c := p.s[p.pos]
	switch {
	case c == '"' || c == '\'':
		return p.str()
	case c == '[':
		return p.list(depth + 1)
	case c == '{':
		return p.dict(depth + 1)
	case c == '-' || c == '+' || c == '.' || '0' <= c && c <= '9':
		return p.number()
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	if r == '_' || unicode.IsLetter(r) {
		w := p.word()
		if v, ok := keywords[w]; ok {
			return v, nil
		}
		return w, nil
	}
	return nil, p.errorf("unexpected %s, expected a value", p.describe())
}

// word reads a bare word.
func (p *parser) word() string {
	start := p.pos
	for p.pos < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.pos:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-./@+", r)) {
			break
		}
		p.pos += n
	}
	return p.s[start:p.pos]
}

// isDelim reports whether c ends a number.
func isDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f', ',', ':', ']', '}':
		return true
	}
	return false
}

// number reads a token up to a delimiter and checks that it is a number:
// [+-] digits [. digits] [(e|E) [+-] digits].
func (p *parser) number() (any, error) {
	start := p.pos
	for p.pos < len(p.s) && !isDelim(p.s[p.pos]) {
		p.pos++
	}
	tok := p.s[start:p.pos]
	bad := func(why string) error {
		return &SyntaxError{Offset: start, Msg: fmt.Sprintf("bad number %s: %s", strconv.Quote(tok), why)}
	}
	i := 0
	if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(tok) && '0' <= tok[i] && tok[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return nil, bad("expected a digit")
	}
	isFloat := false
	if i < len(tok) && tok[i] == '.' {
		i++
		isFloat = true
		if digits() == 0 {
			return nil, bad("expected a digit after '.'")
		}
	}
	if i < len(tok) && (tok[i] == 'e' || tok[i] == 'E') {
		i++
		isFloat = true
		if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil, bad("expected a digit in the exponent")
		}
	}
	if i < len(tok) {
		r, _ := utf8.DecodeRuneInString(tok[i:])
		return nil, bad("unexpected " + strconv.QuoteRune(r) + ` (quote it to pass a string)`)
	}
	if isFloat {
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, bad("out of range for a float")
		}
		return f, nil
	}
	if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
		return n, nil
	}
	if len(tok) > 10000 {
		return nil, bad("too many digits")
	}
	b, ok := new(big.Int).SetString(strings.TrimPrefix(tok, "+"), 10)
	if !ok {
		return nil, bad("not an integer")
	}
	return b, nil
}

// str reads a string quoted with " or '.
func (p *parser) str() (string, error) {
	start := p.pos
	q := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for {
		if p.pos >= len(p.s) {
			return "", &SyntaxError{Offset: start, Msg: "unterminated string: no closing " + string(q)}
		}
		c := p.s[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), nil
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

// escape reads one backslash escape at pos into b.
func (p *parser) escape(b *strings.Builder) error {
	start := p.pos
	p.pos++
	if p.pos >= len(p.s) {
		return &SyntaxError{Offset: start, Msg: "unterminated escape at the end of the argument"}
	}
	c := p.s[p.pos]
	p.pos++
	switch c {
	case '\\', '"', '\'', '/':
		b.WriteByte(c)
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case '0':
		b.WriteByte(0)
	case 'x', 'u', 'U':
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if p.pos+n > len(p.s) {
			return &SyntaxError{Offset: start, Msg: fmt.Sprintf(`\%c needs %d hex digits`, c, n)}
		}
		v, err := strconv.ParseUint(p.s[p.pos:p.pos+n], 16, 32)
		if err != nil {
			return &SyntaxError{Offset: start, Msg: fmt.Sprintf(`\%c needs %d hex digits`, c, n)}
		}
		p.pos += n
		r := rune(v)
		if c == 'x' && r >= 0x80 {
			return &SyntaxError{Offset: start, Msg: `\x escapes are for ASCII (00 to 7f); use \u for other characters`}
		}
		if !utf8.ValidRune(r) {
			return &SyntaxError{Offset: start, Msg: fmt.Sprintf("U+%04X is not a valid character", v)}
		}
		b.WriteRune(r)
	default:
		p.pos--
		return &SyntaxError{Offset: start, Msg: "unknown escape \\" + p.describe()}
	}
	return nil
}

func (p *parser) list(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, p.errorf("nested more than %d deep", MaxDepth)
	}
	start := p.pos
	p.pos++ // [
	out := []any{}
	for {
		p.space()
		if p.pos >= len(p.s) {
			return nil, &SyntaxError{Offset: start, Msg: "unterminated list: no closing ]"}
		}
		if p.s[p.pos] == ']' {
			p.pos++
			return out, nil
		}
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if err := p.separator(start, ']', "list"); err != nil {
			return nil, err
		}
	}
}

// separator reads what follows an item: a comma, or the closing bracket
// (left for the caller to read).
func (p *parser) separator(start int, closing byte, what string) error {
	p.space()
	if p.pos >= len(p.s) {
		return &SyntaxError{Offset: start, Msg: fmt.Sprintf("unterminated %s: no closing %c", what, closing)}
	}
	switch p.s[p.pos] {
	case ',':
		p.pos++
		return nil
	case closing:
		return nil
	}
	return p.errorf("unexpected %s in %s, expected ',' or '%c'", p.describe(), what, closing)
}

func (p *parser) dict(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, p.errorf("nested more than %d deep", MaxDepth)
	}
	start := p.pos
	p.pos++ // {
	var entries []wire.Entry
	seen := map[string]bool{}
	allStrings := true
	for {
		p.space()
		if p.pos >= len(p.s) {
			return nil, &SyntaxError{Offset: start, Msg: "unterminated dict: no closing }"}
		}
		if p.s[p.pos] == '}' {
			p.pos++
			break
		}
		keyAt := p.pos
		k, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		enc, err := wire.Marshal(k)
		if err != nil {
			return nil, &SyntaxError{Offset: keyAt, Msg: "bad key: " + err.Error()}
		}
		if seen[string(enc)] {
			return nil, &SyntaxError{Offset: keyAt, Msg: "duplicate key " + p.s[keyAt:p.pos]}
		}
		seen[string(enc)] = true
		if _, ok := k.(string); !ok {
			allStrings = false
		}
		p.space()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			if p.pos >= len(p.s) {
				return nil, &SyntaxError{Offset: start, Msg: "unterminated dict: no closing }"}
			}
			return nil, p.errorf("unexpected %s in dict, expected ':' after the key", p.describe())
		}
		p.pos++
		p.space()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		entries = append(entries, wire.Entry{Key: k, Value: v})
		if err := p.separator(start, '}', "dict"); err != nil {
			return nil, err
		}
	}
	if !allStrings {
		return wire.Dict{Entries: entries}, nil
	}
	m := make(map[string]any, len(entries))
	for _, e := range entries {
		m[e.Key.(string)] = e.Value
	}
	return m, nil
}
