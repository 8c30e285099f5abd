package peer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"math/big"
	"math/bits"
	"reflect"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/wire"
	"github.com/vmihailenco/msgpack/v5"
)

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

// wirePkg is package wire's path: its types (sets, ordered dicts, blobs,
// ...) are glyph-only and have no msgpack form.
var wirePkg = reflect.TypeFor[wire.Set[int]]().PkgPath()

// marshalMsgpack writes env as a msgpack map with the keys in the JSON
// codec's order.
func marshalMsgpack(env *Envelope) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	enc.SetSortMapKeys(true)
	written := env.writtenFields()
	w := mpEncoder{enc: enc}
	w.check(enc.EncodeMapLen(bits.OnesCount32(uint32(written))))
	for _, i := range duplexOrder {
		if written&(1<<i) == 0 {
			continue
		}
		f, p := &envelopeFields[i], env.field(i)
		w.str(f.key)
		switch f.kind {
		case fieldKindType, fieldKindString:
			w.str(*p.(*string))
		case fieldKindInt:
			if id, ok := p.(*uint64); ok {
				w.check(enc.EncodeUint(*id))
			} else {
				w.check(enc.EncodeInt(*p.(*int64)))
			}
		case fieldKindBool:
			w.check(enc.EncodeBool(true))
		case fieldKindValue:
			w.value(*p.(*any))
		case fieldKindError:
			w.errorBody(*p.(**ErrorBody))
		}
	}
	if w.err != nil {
		return nil, encodeError("msgpack", w.err)
	}
	return buf.Bytes(), nil
}

// errorBody writes an error body as a map.
func (w *mpEncoder) errorBody(e *ErrorBody) {
	fields := 2
	if e.Data != nil {
		fields++
	}
	w.check(w.enc.EncodeMapLen(fields))
	w.str("code")
	w.check(w.enc.EncodeInt(int64(e.Code)))
	w.str("message")
	w.str(e.Message)
	if e.Data != nil {
		w.str("data")
		w.value(e.Data)
	}
}

// mpEncoder writes the glyph value model as msgpack, keeping the first
// error.
type mpEncoder struct {
	enc *msgpack.Encoder
	err error
}

func (w *mpEncoder) check(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *mpEncoder) str(s string) { w.check(w.enc.EncodeString(s)) }

func (w *mpEncoder) value(v any) {
	if w.err != nil {
		return
	}
	enc := w.enc
	switch x := v.(type) {
	case nil:
		w.check(enc.EncodeNil())
	case bool:
		w.check(enc.EncodeBool(x))
	case int:
		w.check(enc.EncodeInt(int64(x)))
	case int64:
		w.check(enc.EncodeInt(x))
	case int32:
		w.check(enc.EncodeInt(int64(x)))
	case uint64:
		w.check(enc.EncodeUint(x))
	case uint:
		w.check(enc.EncodeUint(uint64(x)))
	case *big.Int:
		switch {
		case x.IsInt64():
			w.check(enc.EncodeInt(x.Int64()))
		case x.IsUint64():
			w.check(enc.EncodeUint(x.Uint64()))
		default:
			w.check(fmt.Errorf("integer %s does not fit in 64 bits", x))
		}
	case float64:
		w.check(enc.EncodeFloat64(x))
	case string:
		w.check(enc.EncodeString(x))
	case []byte:
		w.check(enc.EncodeBytes(x))
	case time.Time:
		w.check(enc.EncodeTime(x))
	case []any:
		w.check(enc.EncodeArrayLen(len(x)))
		for _, e := range x {
			w.value(e)
		}
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		w.check(enc.EncodeMapLen(len(keys)))
		for _, k := range keys {
			w.str(k)
			w.value(x[k])
		}
	case map[string]string:
		keys := slices.Sorted(maps.Keys(x))
		w.check(enc.EncodeMapLen(len(keys)))
		for _, k := range keys {
			w.str(k)
			w.str(x[k])
		}
	case time.Duration:
		w.check(fmt.Errorf("%T has no msgpack form; use the glyph codec", v))
	default:
		t := reflect.TypeOf(x)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.PkgPath() == wirePkg {
			w.check(fmt.Errorf("%T has no msgpack form; use the glyph codec", v))
			return
		}
		w.check(enc.Encode(v))
	}
}

// msgpackTime decodes the timestamp extension's three layouts.
func msgpackTime(b []byte, d *mpDecoder) (any, error) {
	switch len(b) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(b)), 0).UTC(), nil
	case 8:
		u := binary.BigEndian.Uint64(b)
		nsec := int64(u >> 34)
		if nsec > 999999999 {
			return nil, d.errorf("timestamp nanoseconds out of range")
		}
		return time.Unix(int64(u&(1<<34-1)), nsec).UTC(), nil
	case 12:
		nsec := int64(binary.BigEndian.Uint32(b))
		if nsec > 999999999 {
			return nil, d.errorf("timestamp nanoseconds out of range")
		}
		sec := int64(binary.BigEndian.Uint64(b[4:]))
		if sec < -62135596800 || sec > 253402300799 {
			return nil, d.errorf("timestamp out of range")
		}
		return time.Unix(sec, nsec).UTC(), nil
	}
	return nil, d.errorf("timestamp of %d bytes", len(b))
}
