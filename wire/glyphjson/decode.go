package glyphjson

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/wire"
)

// Unmarshal decodes one JSON value, as spec.md maps it, into v, which is
// what [wire.Unmarshal] would decode the same glyph value into: any Go
// value, or a pointer to one. Only white space may follow the value. It
// is bounded by [wire.DefaultLimits]; errors are a *[wire.SyntaxError]
// (offsets count bytes of the JSON), a *[wire.LimitError] or a
// *[wire.UnmarshalTypeError].
func Unmarshal(data []byte, v any) error {
	return UnmarshalConfig(data, v, wire.DecodeConfig{})
}

// UnmarshalConfig is [Unmarshal] with the limits and blob spooling of cfg.
func UnmarshalConfig(data []byte, v any, cfg wire.DecodeConfig) error {
	d := NewDecoderConfig(bytes.NewReader(data), cfg)
	if err := d.Decode(v); err != nil {
		if err == io.EOF {
			return &wire.SyntaxError{Offset: int64(len(data)), Msg: "no JSON value"}
		}
		return err
	}
	if err := d.p.skipSpace(); err != io.EOF {
		if err == nil {
			err = d.p.syntax("JSON value followed by more than white space")
		}
		return err
	}
	return nil
}

// A Decoder reads JSON values from a stream, one per [Decoder.Decode],
// optionally separated by white space (JSON Lines, or a JSON text
// sequence without its separators).
type Decoder struct {
	p   parser
	cfg wire.DecodeConfig
}

// NewDecoder returns a Decoder reading r with [wire.DefaultLimits].
func NewDecoder(r io.Reader) *Decoder { return NewDecoderConfig(r, wire.DecodeConfig{}) }

// NewDecoderConfig returns a Decoder reading r, bounded by cfg.Limits
// (the JSON of each value by MaxMessageBytes; strings, base64 included, by
// MaxStringBytes; and so on), its blobs spooled as cfg says.
func NewDecoderConfig(r io.Reader, cfg wire.DecodeConfig) *Decoder {
	br, ok := r.(io.ByteScanner)
	if !ok {
		br = bufio.NewReader(r)
	}
	d := &Decoder{cfg: cfg}
	d.p.r = br
	d.p.lim = cfg.Limits.Resolved()
	if cfg.Limits.MaxDepth < 0 {
		d.p.lim.MaxDepth = maxDepth
	}
	return d
}

// Decode reads the next JSON value and decodes it into v as [Unmarshal]
// does. At the end of the stream, before a value, it returns [io.EOF].
func (d *Decoder) Decode(v any) error {
	g, err := d.p.message()
	if err != nil {
		return err
	}
	cfg := d.cfg
	// The JSON was bounded; its glyph encoding is a few times as long at
	// most (a number of n bytes is at most about 4n in hex).
	cfg.Limits = d.p.lim
	cfg.Limits.MaxMessageBytes = -1
	if len(d.p.blobs) > 0 {
		// The decoded blobs may read from g: the next message gets a
		// buffer of its own.
		d.p.out = nil
	}
	return wire.UnmarshalConfig(g, v, cfg)
}

// parser reads JSON and writes its glyph encoding.
type parser struct {
	r     io.ByteScanner
	lim   wire.Limits
	off   int64 // bytes read of the stream
	start int64 // offset of the current value
	depth int   // glyph nesting
	out   []byte
	blobs [][]byte // content of the blobs of the current value, by id
	total int64    // their bytes
	sbuf  []byte   // the string being read
}

func (p *parser) syntax(format string, args ...any) error {
	return &wire.SyntaxError{Offset: p.off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) limit(name string, max int64) error {
	return &wire.LimitError{Limit: name, Max: max, Offset: p.off}
}

func (p *parser) read() (byte, error) {
	c, err := p.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, p.syntax("JSON ends early")
		}
		return 0, err
	}
	p.off++
	if max := p.lim.MaxMessageBytes; max >= 0 && p.off-p.start > max {
		return 0, p.limit("MaxMessageBytes", max)
	}
	return c, nil
}

func (p *parser) unread() {
	p.r.UnreadByte()
	p.off--
}

// skipSpace skips JSON white space; io.EOF at the end of the input.
func (p *parser) skipSpace() error {
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			return err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			p.off++
			continue
		}
		p.r.UnreadByte()
		return nil
	}
}

// next returns the next byte that is not white space.
func (p *parser) next() (byte, error) {
	for {
		c, err := p.read()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

// message reads one JSON value and returns its glyph encoding, blobs'
// chunks after the root.
func (p *parser) message() ([]byte, error) {
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	p.start, p.depth, p.out, p.blobs, p.total = p.off, 0, p.out[:0], p.blobs[:0], 0
	if err := p.value(); err != nil {
		return nil, err
	}
	for id, b := range p.blobs {
		p.out = append(p.out, 'c')
		p.out = strconv.AppendInt(p.out, int64(id), 10)
		if len(b) > 0 {
			p.out = append(p.out, ':')
			p.out = strconv.AppendInt(p.out, int64(len(b)), 10)
			p.out = append(p.out, ':')
			p.out = append(p.out, b...)
			p.out = append(p.out, ";c"...)
			p.out = strconv.AppendInt(p.out, int64(id), 10)
		}
		p.out = append(p.out, ';')
	}
	return p.out, nil
}

func (p *parser) value() error {
	c, err := p.next()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		return p.object()
	case '[':
		return p.array('L', false)
	case '"':
		s, err := p.string()
		if err != nil {
			return err
		}
		p.unicode(s)
		return nil
	case 't':
		return p.literal("rue", "T;")
	case 'f':
		return p.literal("alse", "F;")
	case 'n':
		return p.literal("ull", "N;")
	}
	if c == '-' || c >= '0' && c <= '9' {
		p.unread()
		num, isFloat, err := p.number()
		if err != nil {
			return err
		}
		if isFloat {
			return p.float(num)
		}
		p.integer(num)
		return nil
	}
	return p.syntax("unexpected %q where a JSON value is expected", c)
}

func (p *parser) literal(rest, glyph string) error {
	for i := 0; i < len(rest); i++ {
		c, err := p.read()
		if err != nil {
			return err
		}
		if c != rest[i] {
			return p.syntax("bad literal: unexpected %q", c)
		}
	}
	p.out = append(p.out, glyph...)
	return nil
}

func (p *parser) unicode(s []byte) {
	p.out = append(p.out, 'u')
	p.out = strconv.AppendInt(p.out, int64(len(s)), 10)
	p.out = append(p.out, ':')
	p.out = append(p.out, s...)
	p.out = append(p.out, ';')
}

// maxDepth bounds the nesting of a reader without a MaxDepth, whose
// recursion must stop somewhere.
const maxDepth = 10000

// enter counts one more level of glyph nesting.
func (p *parser) enter() error {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		return p.limit("MaxDepth", int64(p.lim.MaxDepth))
	}
	return nil
}

// items counts the n-th item of a collection.
func (p *parser) items(n int) error {
	if max := p.lim.MaxItems; max >= 0 && n > max {
		return p.limit("MaxItems", int64(max))
	}
	return nil
}

// array reads the rest of a JSON array (after its '[') as the glyph
// collection letter: a list, a set, or with pairs the entries of a dict
// or ordered dict, each a [key, value] array.
func (p *parser) array(letter byte, pairs bool) error {
	if err := p.enter(); err != nil {
		return err
	}
	p.out = append(p.out, letter)
	for n := 0; ; n++ {
		c, err := p.next()
		if err != nil {
			return err
		}
		if c == ']' && n == 0 {
			break
		}
		if n > 0 {
			if c == ']' {
				break
			}
			if c != ',' {
				return p.syntax("unexpected %q in an array: want , or ]", c)
			}
		} else {
			p.unread()
		}
		if err := p.items(n + 1); err != nil {
			return err
		}
		if pairs {
			err = p.pair()
		} else {
			err = p.value()
		}
		if err != nil {
			return err
		}
	}
	p.out = append(p.out, ';')
	p.depth--
	return nil
}

// pair reads [key, value].
func (p *parser) pair() error {
	if err := p.expect('['); err != nil {
		return err
	}
	if err := p.value(); err != nil {
		return err
	}
	if err := p.expect(','); err != nil {
		return err
	}
	if err := p.value(); err != nil {
		return err
	}
	return p.expect(']')
}

func (p *parser) expect(want byte) error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c != want {
		if want == '[' || want == ']' {
			return p.syntax("unexpected %q: a dict's entry is a [key, value] array", c)
		}
		return p.syntax("unexpected %q: want %q", c, want)
	}
	return nil
}

// object reads the rest of an object (after its '{'): a dict with string
// keys, or a tagged value when its first key starts with a single "$".
func (p *parser) object() error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c == '}' {
		if err := p.enter(); err != nil {
			return err
		}
		p.depth--
		p.out = append(p.out, "D;"...)
		return nil
	}
	if c != '"' {
		return p.syntax("unexpected %q where an object key is expected", c)
	}
	key, err := p.string()
	if err != nil {
		return err
	}
	if len(key) > 0 && key[0] == '$' && (len(key) == 1 || key[1] != '$') {
		return p.tagged(string(key[1:]))
	}
	if err := p.enter(); err != nil {
		return err
	}
	p.out = append(p.out, 'D')
	for n := 1; ; n++ {
		if err := p.items(n); err != nil {
			return err
		}
		if len(key) > 0 && key[0] == '$' {
			if len(key) == 1 || key[1] != '$' {
				return p.syntax("key %q in a dict: a key that starts with $ is written with one more $", key)
			}
			key = key[1:]
		}
		p.unicode(key)
		if err := p.expect(':'); err != nil {
			return err
		}
		if err := p.value(); err != nil {
			return err
		}
		c, err := p.next()
		if err != nil {
			return err
		}
		if c == '}' {
			break
		}
		if c != ',' {
			return p.syntax("unexpected %q in an object: want , or }", c)
		}
		if err := p.expect('"'); err != nil {
			return err
		}
		if key, err = p.string(); err != nil {
			return err
		}
	}
	p.out = append(p.out, ';')
	p.depth--
	return nil
}

// tagged reads the rest of a tagged value, after its tag's key.
func (p *parser) tagged(tag string) error {
	if err := p.expect(':'); err != nil {
		return err
	}
	var err error
	switch tag {
	case "integer":
		err = p.taggedInteger()
	case "float":
		err = p.taggedFloat()
	case "bytearray":
		var b []byte
		if b, err = p.base64(); err == nil {
			p.out = append(p.out, 'b')
			p.out = strconv.AppendInt(p.out, int64(len(b)), 10)
			p.out = append(p.out, ':')
			p.out = append(p.out, b...)
			p.out = append(p.out, ';')
		}
	case "set":
		err = p.taggedArray('S', false)
	case "dict":
		err = p.taggedArray('D', true)
	case "ordered_dict":
		err = p.taggedArray('O', true)
	case "datetime":
		err = p.text('d', "0123456789-:.TZz+")
	case "timedelta":
		err = p.text('p', "0123456789-.PYMWDTHS")
	case "blob":
		return p.blob()
	case "extension":
		err = p.genericExtension()
	case "content":
		return p.syntax(`"$content" comes with an extension's or a blob's tag`)
	default:
		return p.extension(tag)
	}
	if err != nil {
		return err
	}
	return p.end(tag)
}

// end reads the '}' that closes a tagged value.
func (p *parser) end(tag string) error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c != '}' {
		return p.syntax("a tagged value {\"$%s\": ...} has no other keys", tag)
	}
	return nil
}

func (p *parser) taggedArray(letter byte, pairs bool) error {
	if err := p.expect('['); err != nil {
		return err
	}
	return p.array(letter, pairs)
}

// taggedInteger reads an integer's decimal string, or a JSON integer.
func (p *parser) taggedInteger() error {
	c, err := p.next()
	if err != nil {
		return err
	}
	var num []byte
	if c == '"' {
		if num, err = p.string(); err != nil {
			return err
		}
		// wire reads the digits; only they may reach it.
		if err := p.only(num, "0123456789+-", "$integer"); err != nil {
			return err
		}
	} else {
		p.unread()
		var isFloat bool
		if num, isFloat, err = p.number(); err != nil {
			return err
		}
		if isFloat {
			return p.syntax("$integer %s is not an integer", num)
		}
	}
	digits := len(bytes.TrimLeft(bytes.TrimLeft(num, "+-"), "0"))
	if max := p.lim.MaxIntegerDigits; max >= 0 && digits > max {
		return p.limit("MaxIntegerDigits", int64(max))
	}
	p.integer(num)
	return nil
}

// taggedFloat reads "nan", "inf", "-inf", or a JSON number as a float.
func (p *parser) taggedFloat() error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c == '"' {
		s, err := p.string()
		if err != nil {
			return err
		}
		switch string(s) {
		case "nan", "inf", "-inf":
			p.out = append(p.out, 'f')
			p.out = append(p.out, s...)
			p.out = append(p.out, ';')
			return nil
		}
		return p.syntax(`$float %q: want "nan", "inf", "-inf" or a number`, s)
	}
	p.unread()
	num, _, err := p.number()
	if err != nil {
		return err
	}
	return p.float(num)
}

// text reads the hyperglyph text of a datetime or timedelta, made of the
// bytes allowed only, which the glyph decoder then parses.
func (p *parser) text(letter byte, allowed string) error {
	if err := p.expect('"'); err != nil {
		return err
	}
	s, err := p.string()
	if err != nil {
		return err
	}
	if err := p.only(s, allowed, map[byte]string{'d': "$datetime", 'p': "$timedelta"}[letter]); err != nil {
		return err
	}
	p.out = append(p.out, letter)
	p.out = append(p.out, s...)
	p.out = append(p.out, ';')
	return nil
}

// only fails unless s is made of the bytes allowed, so that the text of
// a tag, which wire parses, holds nothing but its own value.
func (p *parser) only(s []byte, allowed, tag string) error {
	for _, c := range s {
		if strings.IndexByte(allowed, c) < 0 {
			return p.syntax("unexpected %q in a %s", c, tag)
		}
	}
	return nil
}

// base64 reads a base64 string: the standard or URL alphabet, padded or
// not.
func (p *parser) base64() ([]byte, error) {
	if err := p.expect('"'); err != nil {
		return nil, err
	}
	s, err := p.string()
	if err != nil {
		return nil, err
	}
	enc := base64.StdEncoding
	if bytes.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	b, err := enc.Strict().AppendDecode(nil, s)
	if err != nil {
		return nil, p.syntax("bad base64: %v", err)
	}
	return b, nil
}

// extension reads {"$name": attrs} or {"$name": attrs, "$content": v}.
func (p *parser) extension(name string) error {
	if err := p.enter(); err != nil {
		return err
	}
	p.out = append(p.out, 'X')
	p.unicode([]byte(name))
	if err := p.value(); err != nil {
		return err
	}
	c, err := p.next()
	if err != nil {
		return err
	}
	switch c {
	case '}':
		p.out = append(p.out, "N;"...)
	case ',':
		if err := p.contentKey(name); err != nil {
			return err
		}
		if err := p.value(); err != nil {
			return err
		}
		if err := p.end(name); err != nil {
			return err
		}
	default:
		return p.syntax("unexpected %q in an object: want , or }", c)
	}
	p.out = append(p.out, ';')
	p.depth--
	return nil
}

// contentKey reads the key "$content" and its colon.
func (p *parser) contentKey(tag string) error {
	if err := p.expect('"'); err != nil {
		return err
	}
	k, err := p.string()
	if err != nil {
		return err
	}
	if string(k) != "$content" {
		return p.syntax("key %q after the tag $%s: only \"$content\" may follow it", k, tag)
	}
	return p.expect(':')
}

// genericExtension reads [name, attrs, content].
func (p *parser) genericExtension() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.out = append(p.out, 'X')
	if err := p.expect('['); err != nil {
		return err
	}
	if err := p.expect('"'); err != nil {
		return err
	}
	name, err := p.string()
	if err != nil {
		return err
	}
	p.unicode(name)
	for range 2 {
		if err := p.expect(','); err != nil {
			return err
		}
		if err := p.value(); err != nil {
			return err
		}
	}
	if err := p.expect(']'); err != nil {
		return err
	}
	p.out = append(p.out, ';')
	p.depth--
	return nil
}

// blob reads {"$blob": attrs, "$content": base64}: the blob goes in the
// root, its content after it.
func (p *parser) blob() error {
	if err := p.enter(); err != nil {
		return err
	}
	id := len(p.blobs)
	if max := p.lim.MaxBlobs; max >= 0 && id >= max {
		return p.limit("MaxBlobs", int64(max))
	}
	p.out = append(p.out, 'B')
	p.out = strconv.AppendInt(p.out, int64(id), 10)
	p.out = append(p.out, ':')
	if err := p.value(); err != nil {
		return err
	}
	p.out = append(p.out, ';')
	if err := p.expect(','); err != nil {
		return err
	}
	if err := p.contentKey("blob"); err != nil {
		return err
	}
	data, err := p.base64()
	if err != nil {
		return err
	}
	p.total += int64(len(data))
	if max := p.lim.MaxBlobBytes; max >= 0 && p.total > max {
		return p.limit("MaxBlobBytes", max)
	}
	p.blobs = append(p.blobs, data)
	p.depth--
	return p.end("blob")
}

// number reads a JSON number and reports whether it has a fraction or an
// exponent, which makes it a float.
func (p *parser) number() (num []byte, isFloat bool, err error) {
	start := len(p.sbuf)
	defer func() { num = p.sbuf[start:]; p.sbuf = p.sbuf[:start] }()
	c, err := p.read()
	if err != nil {
		return nil, false, err
	}
	if c == '-' {
		p.sbuf = append(p.sbuf, c)
		if c, err = p.read(); err != nil {
			return nil, false, err
		}
	}
	digits := func(first byte) (byte, error) {
		if first < '0' || first > '9' {
			return 0, p.syntax("bad number: %q where a digit is expected", first)
		}
		p.sbuf = append(p.sbuf, first)
		for {
			c, err := p.r.ReadByte()
			if err == io.EOF {
				return 0, nil
			}
			if err != nil {
				return 0, err
			}
			if c < '0' || c > '9' {
				p.r.UnreadByte()
				return c, nil
			}
			if p.off++; p.lim.MaxMessageBytes >= 0 && p.off-p.start > p.lim.MaxMessageBytes {
				return 0, p.limit("MaxMessageBytes", p.lim.MaxMessageBytes)
			}
			if max := p.lim.MaxIntegerDigits; max >= 0 && len(p.sbuf)-start > max+2 {
				return 0, p.limit("MaxIntegerDigits", int64(max))
			}
			p.sbuf = append(p.sbuf, c)
		}
	}
	if c == '0' {
		p.sbuf = append(p.sbuf, c)
		c, err = p.r.ReadByte()
		if err == io.EOF {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		p.r.UnreadByte()
		if c >= '0' && c <= '9' {
			return nil, false, p.syntax("bad number: a leading zero")
		}
	} else if c, err = digits(c); err != nil {
		return nil, false, err
	}
	if c == '.' {
		isFloat = true
		p.read()
		p.sbuf = append(p.sbuf, '.')
		d, err := p.read()
		if err != nil {
			return nil, false, err
		}
		if c, err = digits(d); err != nil {
			return nil, false, err
		}
	}
	if c == 'e' || c == 'E' {
		isFloat = true
		p.read()
		p.sbuf = append(p.sbuf, 'e')
		d, err := p.read()
		if err != nil {
			return nil, false, err
		}
		if d == '+' || d == '-' {
			p.sbuf = append(p.sbuf, d)
			if d, err = p.read(); err != nil {
				return nil, false, err
			}
		}
		if _, err = digits(d); err != nil {
			return nil, false, err
		}
	}
	return nil, isFloat, nil
}

func (p *parser) integer(num []byte) {
	p.out = append(p.out, 'i')
	p.out = append(p.out, num...)
	p.out = append(p.out, ';')
}

func (p *parser) float(num []byte) error {
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsInf(f, 0) {
		return p.syntax("number %s is out of the range of a float", num)
	}
	p.out = append(p.out, 'f')
	p.out = strconv.AppendFloat(p.out, f, 'x', -1, 64)
	p.out = append(p.out, ';')
	return nil
}

// string reads the rest of a JSON string (after its opening quote) and
// returns its content, valid UTF-8; the slice is valid until the next
// string.
func (p *parser) string() ([]byte, error) {
	b := p.sbuf[:0]
	defer func() { p.sbuf = b[:0] }()
	max := p.lim.MaxStringBytes
	for {
		if max >= 0 && len(b) > max {
			return nil, p.limit("MaxStringBytes", int64(max))
		}
		c, err := p.read()
		if err != nil {
			return nil, err
		}
		switch {
		case c == '"':
			if !utf8.Valid(b) {
				return nil, p.syntax("string is not valid UTF-8")
			}
			return b, nil
		case c < 0x20:
			return nil, p.syntax("control character %q in a string: escape it", c)
		case c != '\\':
			b = append(b, c)
			continue
		}
		if c, err = p.read(); err != nil {
			return nil, err
		}
		switch c {
		case '"', '\\', '/':
			b = append(b, c)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return nil, err
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 {
					return nil, p.syntax("lone surrogate \\u%04x in a string", r)
				}
				if c, err := p.read(); err != nil || c != '\\' {
					return nil, p.syntax("lone surrogate \\u%04x in a string", r)
				}
				if c, err := p.read(); err != nil || c != 'u' {
					return nil, p.syntax("lone surrogate \\u%04x in a string", r)
				}
				r2, err := p.hex4()
				if err != nil {
					return nil, err
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return nil, p.syntax("lone surrogate in a string")
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return nil, p.syntax("bad escape \\%c in a string", c)
		}
	}
}

func (p *parser) hex4() (rune, error) {
	var r rune
	for range 4 {
		c, err := p.read()
		if err != nil {
			return 0, err
		}
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, p.syntax("bad \\u escape: %q is not a hex digit", c)
		}
		r = r<<4 | rune(c)
	}
	return r, nil
}
