package peer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// A Codec turns envelopes into frames and back. Binary codecs travel in
// binary frames, the others in text frames. Codecs are safe for
// concurrent use.
//
// Unmarshal never panics on input and is bounded by the frame it is given
// and the codec's decoding limits; on an envelope that breaks the
// protocol it returns a *service.Error of kind [service.KindBadFrame], with env's Type
// and ID filled in when they could be read.
type Codec interface {
	Name() string                      // "glyph", "msgpack" or "json"
	Binary() bool                      // whether frames are binary rather than text
	Marshal(*Envelope) ([]byte, error) // the frame's content
	Unmarshal([]byte, *Envelope) error
}

// CodecByName returns the codec called name ("glyph", "msgpack", "json")
// with the default decoding limits, and whether there is one.
func CodecByName(name string) (Codec, bool) {
	return codecFor(name, wire.Limits{})
}

// NewCodec returns the codec called name whose decoder is bounded by l
// (zero fields take wire.DefaultLimits), and whether there is one.
func NewCodec(name string, l wire.Limits) (Codec, bool) { return codecFor(name, l) }

// codecFor returns the codec called name with decoding limits l.
func codecFor(name string, l wire.Limits) (Codec, bool) {
	l = fillLimits(l)
	switch name {
	case "glyph":
		return glyphCodec{limits: l}, true
	case "msgpack":
		return msgpackCodec{limits: l}, true
	case "json":
		return jsonCodec{limits: l}, true
	}
	return nil, false
}

// codecNames lists every codec, in the default order of preference.
var codecNames = []string{"glyph", "msgpack", "json"}

// fillLimits replaces zero fields by the defaults.
func fillLimits(l wire.Limits) wire.Limits {
	d := wire.DefaultLimits()
	if l.MaxMessageBytes == 0 {
		l.MaxMessageBytes = d.MaxMessageBytes
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxItems == 0 {
		l.MaxItems = d.MaxItems
	}
	if l.MaxStringBytes == 0 {
		l.MaxStringBytes = d.MaxStringBytes
	}
	if l.MaxIntegerDigits == 0 {
		l.MaxIntegerDigits = d.MaxIntegerDigits
	}
	if l.MaxBlobs == 0 {
		l.MaxBlobs = d.MaxBlobs
	}
	if l.MaxBlobBytes == 0 {
		l.MaxBlobBytes = d.MaxBlobBytes
	}
	return l
}

// decodeError wraps a codec's syntax error as [service.KindBadFrame].
func decodeError(codec string, err error) error {
	var se *service.Error
	if errors.As(err, &se) {
		return err
	}
	var le *wire.LimitError
	if errors.As(err, &le) {
		return wrapErr(service.KindTooLarge, codec+": "+err.Error(), err)
	}
	return wrapErr(service.KindBadFrame, codec+": "+err.Error(), err)
}

// encodeError wraps a payload that a codec cannot carry as [service.KindInvalid].
func encodeError(codec string, err error) error {
	return wrapErr(service.KindInvalid, codec+": cannot encode: "+err.Error(), err)
}

// envelopeFromValue fills env from a decoded envelope value.
func envelopeFromValue(v any, env *Envelope) error {
	m, ok := v.(map[string]any)
	if !ok {
		*env = Envelope{}
		return badFrame("envelope is %s, want a map with string keys", typeName(v))
	}
	return env.fromMap(m)
}

// ---- glyph ----

// glyphCodec writes the envelope as a hyperglyph dict (package wire), so
// payloads may hold every glyph value.
type glyphCodec struct{ limits wire.Limits }

func (glyphCodec) Name() string { return "glyph" }
func (glyphCodec) Binary() bool { return true }

func (g glyphCodec) Marshal(env *Envelope) ([]byte, error) {
	return appendEnvelope(g, nil, env)
}

func (g glyphCodec) Unmarshal(data []byte, env *Envelope) error {
	return g.unmarshalGlyph(data, env, nil)
}

// unmarshalGeneral decodes any frame: the whole envelope into a map, then
// the fields from it. unmarshalGlyph takes it for what its scan does not
// read.
func (g glyphCodec) unmarshalGeneral(data []byte, env *Envelope) error {
	var v any
	if err := wire.UnmarshalConfig(data, &v, wire.DecodeConfig{Limits: g.limits}); err != nil {
		*env = Envelope{}
		return decodeError("glyph", err)
	}
	return envelopeFromValue(v, env)
}

// ---- JSON ----

// jsonCodec is duplex's JSON codec. Envelope fields are written in the
// order type, method, payload or error, id, more, ext, then the extension
// fields timeout, safe, credit, open, as the duplex peers write them; payloads
// follow encoding/json (so []byte becomes base64 and glyph-only values
// such as sets become what encoding/json makes of them). Decoding accepts
// any order and ignores unknown fields; integral numbers become int64
// (*big.Int beyond int64), the others float64.
type jsonCodec struct{ limits wire.Limits }

func (jsonCodec) Name() string { return "json" }
func (jsonCodec) Binary() bool { return false }

func (jsonCodec) Marshal(env *Envelope) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"type":`)
	if err := writeJSON(&buf, env.Type); err != nil {
		return nil, err
	}
	if env.Method != "" && env.Type == TypeReq {
		buf.WriteString(`,"method":`)
		if err := writeJSON(&buf, env.Method); err != nil {
			return nil, err
		}
	}
	if env.Error != nil {
		buf.WriteString(`,"error":{"code":`)
		buf.WriteString(strconv.Itoa(env.Error.Code))
		buf.WriteString(`,"message":`)
		if err := writeJSON(&buf, env.Error.Message); err != nil {
			return nil, err
		}
		if env.Error.Data != nil {
			buf.WriteString(`,"data":`)
			if err := writeJSON(&buf, env.Error.Data); err != nil {
				return nil, err
			}
		}
		buf.WriteByte('}')
	} else if env.Payload != nil || env.carriesPayload() {
		buf.WriteString(`,"payload":`)
		if err := writeJSON(&buf, env.Payload); err != nil {
			return nil, err
		}
	}
	if env.ID != 0 {
		buf.WriteString(`,"id":`)
		buf.WriteString(strconv.FormatUint(env.ID, 10))
	}
	if env.More {
		buf.WriteString(`,"more":true`)
	}
	if env.Ext != nil {
		buf.WriteString(`,"ext":`)
		if err := writeJSON(&buf, env.Ext); err != nil {
			return nil, err
		}
	}
	if env.Timeout != 0 {
		buf.WriteString(`,"timeout":`)
		buf.WriteString(strconv.FormatInt(env.Timeout, 10))
	}
	if env.Safe {
		buf.WriteString(`,"safe":true`)
	}
	if env.Credit != 0 {
		buf.WriteString(`,"credit":`)
		buf.WriteString(strconv.FormatInt(env.Credit, 10))
	}
	if env.Open {
		buf.WriteString(`,"open":true`)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// writeJSON appends v's JSON without HTML escaping and without the
// newline json.Encoder adds.
func writeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return encodeError("json", err)
	}
	buf.Truncate(buf.Len() - 1)
	return nil
}

func (j jsonCodec) Unmarshal(data []byte, env *Envelope) error {
	*env = Envelope{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return decodeError("json", err)
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) != 0 {
		return badFrame("json: data after the envelope")
	}
	w := walker{limits: j.limits, codec: "json"}
	v, err := w.numbers(v, 0)
	if err != nil {
		return err
	}
	return envelopeFromValue(v, env)
}

// walker converts and checks decoded JSON values against the limits.
type walker struct {
	limits wire.Limits
	codec  string
}

func (w walker) numbers(v any, depth int) (any, error) {
	if w.limits.MaxDepth >= 0 && depth > w.limits.MaxDepth {
		return nil, limitErr(w.codec, "MaxDepth", int64(w.limits.MaxDepth))
	}
	switch x := v.(type) {
	case json.Number:
		return jsonNumber(string(x))
	case string:
		if w.limits.MaxStringBytes >= 0 && len(x) > w.limits.MaxStringBytes {
			return nil, limitErr(w.codec, "MaxStringBytes", int64(w.limits.MaxStringBytes))
		}
		return x, nil
	case []any:
		if w.limits.MaxItems >= 0 && len(x) > w.limits.MaxItems {
			return nil, limitErr(w.codec, "MaxItems", int64(w.limits.MaxItems))
		}
		for i, e := range x {
			c, err := w.numbers(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	case map[string]any:
		if w.limits.MaxItems >= 0 && len(x) > w.limits.MaxItems {
			return nil, limitErr(w.codec, "MaxItems", int64(w.limits.MaxItems))
		}
		for k, e := range x {
			if w.limits.MaxStringBytes >= 0 && len(k) > w.limits.MaxStringBytes {
				return nil, limitErr(w.codec, "MaxStringBytes", int64(w.limits.MaxStringBytes))
			}
			c, err := w.numbers(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	}
	return v, nil
}

// jsonNumber converts a JSON number: integral syntax → int64, or
// *big.Int beyond int64 (bounded by the frame size); otherwise float64.
func jsonNumber(s string) (any, error) {
	integral := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			integral = false
			break
		}
	}
	if integral {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if b, ok := new(big.Int).SetString(s, 10); ok {
			return b, nil
		}
		return nil, badFrame("json: bad number %q", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, badFrame("json: number %q out of range", s)
	}
	return f, nil
}

func limitErr(codec, limit string, max int64) error {
	return wrapErr(service.KindTooLarge, fmt.Sprintf("%s: over %s (%d)", codec, limit, max), &wire.LimitError{Limit: limit, Max: max})
}

// ---- msgpack ----

// msgpackCodec is duplex's msgpack codec: the same map as JSON, in the
// same key order. Integers are written in their shortest form; payloads
// hold the JSON values plus []byte (bin) and time.Time (the timestamp
// extension), and other Go values as github.com/vmihailenco/msgpack
// encodes them. Decoding is this package's own bounded decoder (the
// library's recursion has no depth limit): every integer becomes int64,
// or *big.Int for a uint64 beyond int64; float32 becomes float64; maps
// with string keys become map[string]any, other maps map[any]any;
// timestamps time.Time; other extension types are rejected.
type msgpackCodec struct{ limits wire.Limits }

func (msgpackCodec) Name() string { return "msgpack" }
func (msgpackCodec) Binary() bool { return true }

func (msgpackCodec) Marshal(env *Envelope) ([]byte, error) { return marshalMsgpack(env) }

func (m msgpackCodec) Unmarshal(data []byte, env *Envelope) error {
	*env = Envelope{}
	d := mpDecoder{data: data, limits: m.limits}
	v, err := d.value(0)
	if err != nil {
		return err
	}
	if d.pos != len(data) {
		return badFrame("msgpack: %d bytes after the envelope", len(data)-d.pos)
	}
	return envelopeFromValue(v, env)
}

// mpDecoder decodes msgpack from a byte slice. Every length is checked
// against what is left of the input before anything is allocated.
type mpDecoder struct {
	data   []byte
	pos    int
	limits wire.Limits
}

func (d *mpDecoder) errorf(format string, args ...any) error {
	return badFrame("msgpack: "+format+" at byte %d", append(args, d.pos)...)
}

func (d *mpDecoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.data)-d.pos {
		return nil, d.errorf("unexpected end of data")
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *mpDecoder) uint(n int) (uint64, error) {
	b, err := d.take(n)
	if err != nil {
		return 0, err
	}
	var u uint64
	for _, c := range b {
		u = u<<8 | uint64(c)
	}
	return u, nil
}

func (d *mpDecoder) value(depth int) (any, error) {
	if d.limits.MaxDepth >= 0 && depth > d.limits.MaxDepth {
		return nil, limitErr("msgpack", "MaxDepth", int64(d.limits.MaxDepth))
	}
	cb, err := d.take(1)
	if err != nil {
		return nil, err
	}
	c := cb[0]
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c >= 0x80 && c <= 0x8f:
		return d.mapN(int(c&0x0f), depth)
	case c >= 0x90 && c <= 0x9f:
		return d.arrayN(int(c&0x0f), depth)
	case c >= 0xa0 && c <= 0xbf:
		return d.str(int(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.uint(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		return d.bin(n)
	case 0xc7, 0xc8, 0xc9:
		n, err := d.uint(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		return d.ext(n)
	case 0xca:
		u, err := d.uint(4)
		if err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(uint32(u))), nil
	case 0xcb:
		u, err := d.uint(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(u), nil
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, err := d.uint(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		if u > math.MaxInt64 {
			return new(big.Int).SetUint64(u), nil
		}
		return int64(u), nil
	case 0xd0, 0xd1, 0xd2, 0xd3:
		size := 1 << (c - 0xd0)
		u, err := d.uint(size)
		if err != nil {
			return nil, err
		}
		shift := 64 - 8*size
		return int64(u<<shift) >> shift, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return d.ext(uint64(1) << (c - 0xd4))
	case 0xd9, 0xda, 0xdb:
		n, err := d.uint(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		if n > uint64(len(d.data)) {
			return nil, d.errorf("string length %d past the end", n)
		}
		return d.str(int(n))
	case 0xdc, 0xdd:
		n, err := d.uint(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		if n > uint64(len(d.data)) {
			return nil, d.errorf("array length %d past the end", n)
		}
		return d.arrayN(int(n), depth)
	case 0xde, 0xdf:
		n, err := d.uint(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		if n > uint64(len(d.data)) {
			return nil, d.errorf("map length %d past the end", n)
		}
		return d.mapN(int(n), depth)
	}
	d.pos--
	return nil, d.errorf("invalid type byte 0x%02x", c)
}

func (d *mpDecoder) str(n int) (any, error) {
	if d.limits.MaxStringBytes >= 0 && n > d.limits.MaxStringBytes {
		return nil, limitErr("msgpack", "MaxStringBytes", int64(d.limits.MaxStringBytes))
	}
	b, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(b) {
		return nil, d.errorf("string is not UTF-8")
	}
	return string(b), nil
}

func (d *mpDecoder) bin(n uint64) (any, error) {
	if d.limits.MaxStringBytes >= 0 && n > uint64(d.limits.MaxStringBytes) {
		return nil, limitErr("msgpack", "MaxStringBytes", int64(d.limits.MaxStringBytes))
	}
	if n > uint64(len(d.data)) {
		return nil, d.errorf("bin length %d past the end", n)
	}
	b, err := d.take(int(n))
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

func (d *mpDecoder) items(n int) error {
	if d.limits.MaxItems >= 0 && n > d.limits.MaxItems {
		return limitErr("msgpack", "MaxItems", int64(d.limits.MaxItems))
	}
	// Every item takes at least a byte: a count past the end is a lie,
	// and allocating for it would let a small frame cost a lot.
	if n > len(d.data)-d.pos {
		return d.errorf("%d items past the end", n)
	}
	return nil
}

func (d *mpDecoder) arrayN(n, depth int) (any, error) {
	if err := d.items(n); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (d *mpDecoder) mapN(n, depth int) (any, error) {
	if err := d.items(n); err != nil {
		return nil, err
	}
	sm := make(map[string]any, n)
	var am map[any]any
	for range n {
		k, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if s, ok := k.(string); ok && am == nil {
			sm[s] = v
			continue
		}
		switch kk := k.(type) {
		case nil, bool, int64, float64, string:
		case []byte:
			k = string(kk)
		default:
			return nil, d.errorf("map key of type %s", typeName(k))
		}
		if am == nil {
			am = make(map[any]any, n)
			for ks, vs := range sm {
				am[ks] = vs
			}
		}
		am[k] = v
	}
	if am != nil {
		return am, nil
	}
	return sm, nil
}

// ext decodes an extension of n data bytes: the timestamp type (-1)
// becomes time.Time; others are rejected.
func (d *mpDecoder) ext(n uint64) (any, error) {
	tb, err := d.take(1)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.data)) {
		return nil, d.errorf("extension length %d past the end", n)
	}
	b, err := d.take(int(n))
	if err != nil {
		return nil, err
	}
	if int8(tb[0]) != -1 {
		return nil, d.errorf("unsupported extension type %d", int8(tb[0]))
	}
	return msgpackTime(b, d)
}
