package glyphjson

import (
	"encoding/base64"
	"io"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/wire"
	"golang.org/x/text/unicode/norm"
)

// maxSafeInteger is the largest integer every JSON reader holds exactly
// (2^53-1, JavaScript's Number.MAX_SAFE_INTEGER): integers beyond it are
// written as a tagged string.
const maxSafeInteger = 1<<53 - 1

// maxEncodeDepth stops the encoder on a cyclic value.
const maxEncodeDepth = 10000

// An Option configures [Marshal] and [AppendMarshal].
type Option func(*encoder)

// WithMaxBlobBytes bounds the content of all blobs of one value together,
// which the encoder reads and writes inline as base64: past n bytes,
// encoding fails with a *[wire.LimitError] for MaxBlobBytes. Without it,
// blobs are read whole however large they are.
func WithMaxBlobBytes(n int64) Option { return func(e *encoder) { e.blobLeft, e.blobMax = n, n } }

// Marshal returns the JSON encoding of the glyph value v (see spec.md):
// the same bytes for equal glyph values. v is any value [wire.Marshal]
// accepts. The blobs in v are read and closed as they are written; when
// Marshal fails, closing those it did not reach is left to the caller.
func Marshal(v any, opts ...Option) ([]byte, error) {
	return AppendMarshal(nil, v, opts...)
}

// AppendMarshal appends the JSON encoding of v to dst, as [Marshal].
func AppendMarshal(dst []byte, v any, opts ...Option) ([]byte, error) {
	e := encoder{buf: dst, blobLeft: -1, blobMax: -1}
	for _, o := range opts {
		o(&e)
	}
	if err := e.value(v); err != nil {
		return dst, err
	}
	return e.buf, nil
}

type encoder struct {
	buf      []byte
	depth    int
	blobLeft int64 // bytes of blob content still allowed; <0 no bound
	blobMax  int64
}

func unsupported(v any, msg string) error {
	return &wire.UnsupportedValueError{Type: reflect.TypeOf(v), Msg: msg}
}

func (e *encoder) value(v any) error {
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case int, int8, int16, int32, int64:
		e.int64(reflect.ValueOf(v).Int())
	case uint, uint8, uint16, uint32, uint64:
		e.uint64(reflect.ValueOf(v).Uint())
	case *big.Int:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.bigInt(v)
	case float64:
		e.float(v)
	case float32:
		e.float(float64(v))
	case string:
		return e.string(v)
	case []byte:
		e.tag("bytearray")
		e.buf = append(e.buf, '"')
		e.buf = base64.StdEncoding.AppendEncode(e.buf, v)
		e.buf = append(e.buf, `"}`...)
	case []any:
		return e.list(v)
	case map[string]any:
		return e.stringMap(v)
	case map[any]any:
		entries := make([]wire.Entry, 0, len(v))
		for k, x := range v {
			entries = append(entries, wire.Entry{Key: k, Value: x})
		}
		return e.dict(entries)
	case wire.Dict:
		return e.dict(v.Entries)
	case *wire.Dict:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.dict(v.Entries)
	case wire.Set[any]:
		items := make([]any, 0, len(v))
		for x := range v {
			items = append(items, x)
		}
		return e.set(items)
	case wire.AnySet:
		return e.set(v.Items)
	case *wire.OrderedDict:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.orderedDict(v)
	case time.Time, time.Duration, wire.Period:
		return e.scalar(v)
	case *wire.Blob:
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.blob(v)
	case wire.Extension:
		return e.extension(v)
	case wire.Marshaler:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		m, err := v.MarshalGlyph()
		if err != nil {
			return err
		}
		return e.nested(m)
	default:
		// Structs, typed slices and maps, pointers: what wire makes of
		// them, transcoded; with blobs, decoded into the generic values
		// above.
		sp := scratch.Get().(*[]byte)
		defer func() {
			if cap(*sp) <= 1<<20 {
				scratch.Put(sp)
			}
		}()
		b, err := wire.AppendMarshal((*sp)[:0], v)
		*sp = b
		if err != nil {
			return err
		}
		t := transcoder{in: b, out: e.buf}
		switch err := t.value(); {
		case err == nil && t.pos == len(b):
			e.buf = t.out
			return nil
		case err != errHasBlob:
			return unsupported(v, "cannot read what wire encoded")
		}
		var g any
		if err := wire.UnmarshalConfig(b, &g, wire.DecodeConfig{Limits: noLimits, SpoolThreshold: -1}); err != nil {
			return err
		}
		return e.nested(g)
	}
	return nil
}

// scratch holds the buffers that values are encoded into before they
// are transcoded.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// noLimits decodes what wire encoded in this process.
var noLimits = wire.Limits{MaxMessageBytes: -1, MaxDepth: -1, MaxItems: -1, MaxStringBytes: -1,
	MaxIntegerDigits: -1, MaxBlobs: -1, MaxBlobBytes: -1}

// nested encodes a value inside a collection or in place of another,
// bounding the depth so that a cyclic value fails.
func (e *encoder) nested(v any) error {
	e.depth++
	if e.depth > maxEncodeDepth {
		return unsupported(v, "nested too deeply, or cyclic")
	}
	err := e.value(v)
	e.depth--
	return err
}

// tag starts a tagged value: {"$name":
func (e *encoder) tag(name string) {
	e.buf = append(e.buf, `{"$`...)
	e.buf = append(e.buf, name...)
	e.buf = append(e.buf, `":`...)
}

func (e *encoder) int64(n int64) {
	if n > maxSafeInteger || n < -maxSafeInteger {
		e.tag("integer")
		e.buf = append(e.buf, '"')
		e.buf = strconv.AppendInt(e.buf, n, 10)
		e.buf = append(e.buf, `"}`...)
		return
	}
	e.buf = strconv.AppendInt(e.buf, n, 10)
}

func (e *encoder) uint64(n uint64) {
	if n <= maxSafeInteger {
		e.buf = strconv.AppendUint(e.buf, n, 10)
		return
	}
	e.tag("integer")
	e.buf = append(e.buf, '"')
	e.buf = strconv.AppendUint(e.buf, n, 10)
	e.buf = append(e.buf, `"}`...)
}

func (e *encoder) bigInt(n *big.Int) {
	if n.IsInt64() {
		e.int64(n.Int64())
		return
	}
	e.tag("integer")
	e.buf = append(e.buf, '"')
	e.buf = n.Append(e.buf, 10)
	e.buf = append(e.buf, `"}`...)
}

// float writes a finite float as the shortest decimal that reads back
// exactly, with a fraction or an exponent so that it reads back as a
// float (1.0, not 1); the others tagged.
func (e *encoder) float(f float64) {
	switch {
	case math.IsNaN(f):
		e.buf = append(e.buf, `{"$float":"nan"}`...)
	case math.IsInf(f, 1):
		e.buf = append(e.buf, `{"$float":"inf"}`...)
	case math.IsInf(f, -1):
		e.buf = append(e.buf, `{"$float":"-inf"}`...)
	default:
		start := len(e.buf)
		e.buf = strconv.AppendFloat(e.buf, f, 'g', -1, 64)
		for _, c := range e.buf[start:] {
			if c == '.' || c == 'e' {
				return
			}
		}
		e.buf = append(e.buf, ".0"...)
	}
}

// scalar writes a datetime or timedelta as its hyperglyph text, tagged.
func (e *encoder) scalar(v any) error {
	b, err := wire.Marshal(v)
	if err != nil {
		return err
	}
	if b[0] == 'd' {
		e.tag("datetime")
	} else {
		e.tag("timedelta")
	}
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, b[1:len(b)-1]...)
	e.buf = append(e.buf, `"}`...)
	return nil
}

// nfc returns s in Unicode NFC, as the hyperglyph encoder writes strings.
func nfc(v any, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", unsupported(v, "string is not valid UTF-8")
	}
	if norm.NFC.IsNormalString(s) {
		return s, nil
	}
	return norm.NFC.String(s), nil
}

func (e *encoder) string(s string) error {
	s, err := nfc(s, s)
	if err != nil {
		return err
	}
	e.buf = AppendString(e.buf, s)
	return nil
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, as [Marshal] writes strings
// and as encoding/json does without HTML escaping: `"`, `\` and control
// characters escaped, invalid UTF-8 as U+FFFD, and U+2028 and U+2029
// escaped for JavaScript. It does not normalise s to NFC, as Marshal does.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendKey appends a string dict key: one more "$" before a key that
// starts with "$", so that no key of a dict reads as a tag.
func appendKey(b []byte, k string) []byte {
	if len(k) > 0 && k[0] == '$' {
		return AppendString(b, "$"+k)
	}
	return AppendString(b, k)
}

func (e *encoder) list(l []any) error {
	e.buf = append(e.buf, '[')
	for i, x := range l {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.nested(x); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// stringMap writes a dict with string keys as an object, its keys in
// byte order after NFC, as hyperglyph orders them.
func (e *encoder) stringMap(m map[string]any) error {
	type kv struct {
		k string
		v any
	}
	entries := make([]kv, 0, len(m))
	for k, v := range m {
		nk, err := nfc(k, k)
		if err != nil {
			return err
		}
		entries = append(entries, kv{nk, v})
	}
	slices.SortFunc(entries, func(a, b kv) int {
		switch {
		case a.k < b.k:
			return -1
		case a.k > b.k:
			return 1
		}
		return 0
	})
	e.buf = append(e.buf, '{')
	for i, kv := range entries {
		if i > 0 {
			if entries[i-1].k == kv.k {
				return unsupported(m, "two keys are equal after Unicode normalisation: "+strconv.Quote(kv.k))
			}
			e.buf = append(e.buf, ',')
		}
		e.buf = appendKey(e.buf, kv.k)
		e.buf = append(e.buf, ':')
		if err := e.nested(kv.v); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// keyed is a key or set item with its hyperglyph encoding, which orders it.
type keyed struct {
	enc   []byte
	key   any
	value any
}

// sorted returns the entries in canonical order, failing on two equal
// keys.
func sorted(v any, entries []wire.Entry) ([]keyed, error) {
	ks := make([]keyed, len(entries))
	for i, en := range entries {
		b, err := wire.Marshal(en.Key)
		if err != nil {
			return nil, err
		}
		ks[i] = keyed{b, en.Key, en.Value}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return wire.CompareKeys(a.enc, b.enc) })
	for i := 1; i < len(ks); i++ {
		if string(ks[i].enc) == string(ks[i-1].enc) {
			return nil, unsupported(v, "two keys or items are the same glyph value")
		}
	}
	return ks, nil
}

// dict writes a dict: an object when every key is a string, else tagged
// pairs in canonical order.
func (e *encoder) dict(entries []wire.Entry) error {
	strs := true
	for _, en := range entries {
		if _, ok := en.Key.(string); !ok {
			strs = false
			break
		}
	}
	if strs {
		m := make(map[string]any, len(entries))
		for _, en := range entries {
			k := en.Key.(string)
			if _, dup := m[k]; dup {
				return unsupported(entries, "two keys are the same glyph value: "+strconv.Quote(k))
			}
			m[k] = en.Value
		}
		return e.stringMap(m)
	}
	ks, err := sorted(entries, entries)
	if err != nil {
		return err
	}
	e.tag("dict")
	return e.pairs(ks)
}

func (e *encoder) pairs(ks []keyed) error {
	e.buf = append(e.buf, '[')
	for i, k := range ks {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, '[')
		if err := e.nested(k.key); err != nil {
			return err
		}
		e.buf = append(e.buf, ',')
		if err := e.nested(k.value); err != nil {
			return err
		}
		e.buf = append(e.buf, ']')
	}
	e.buf = append(e.buf, "]}"...)
	return nil
}

func (e *encoder) set(items []any) error {
	entries := make([]wire.Entry, len(items))
	for i, x := range items {
		entries[i].Key = x
	}
	ks, err := sorted(items, entries)
	if err != nil {
		return err
	}
	e.tag("set")
	e.buf = append(e.buf, '[')
	for i, k := range ks {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.nested(k.key); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, "]}"...)
	return nil
}

func (e *encoder) orderedDict(o *wire.OrderedDict) error {
	e.tag("ordered_dict")
	entries := o.Entries()
	ks := make([]keyed, len(entries))
	for i, en := range entries {
		ks[i] = keyed{key: en.Key, value: en.Value}
	}
	return e.pairs(ks)
}

// typeTags are the tags of glyph types; the other tags are extension
// names. All but "content" are names hyperglyph reserves, which no
// registered extension has.
var typeTags = map[string]bool{
	"integer": true, "float": true, "bytearray": true, "set": true, "dict": true,
	"ordered_dict": true, "datetime": true, "timedelta": true, "blob": true,
	"extension": true, "content": true,
}

// shortName reports whether an extension called name is written with its
// name as the tag: unless the name is a type tag or starts with "$".
func shortName(name string) bool {
	return !typeTags[name] && (name == "" || name[0] != '$')
}

// extension writes {"$name": attrs, "$content": content}, without
// "$content" when the content is nil; an extension whose name cannot be a
// tag as {"$extension": [name, attrs, content]}.
func (e *encoder) extension(x wire.Extension) error {
	var attrs any = x.Attrs
	if !x.Ordered {
		attrs = wire.Dict{Entries: x.Attrs.Entries()}
	}
	if !shortName(x.Name) {
		e.tag("extension")
		e.buf = append(e.buf, '[')
		if err := e.string(x.Name); err != nil {
			return err
		}
		e.buf = append(e.buf, ',')
		if err := e.nested(attrs); err != nil {
			return err
		}
		e.buf = append(e.buf, ',')
		if err := e.nested(x.Content); err != nil {
			return err
		}
		e.buf = append(e.buf, "]}"...)
		return nil
	}
	name, err := nfc(x, x.Name)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, '{')
	e.buf = AppendString(e.buf, "$"+name)
	e.buf = append(e.buf, ':')
	if err := e.nested(attrs); err != nil {
		return err
	}
	if x.Content != nil {
		e.buf = append(e.buf, `,"$content":`...)
		if err := e.nested(x.Content); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// blob writes {"$blob": attrs, "$content": base64}, reading the blob whole.
func (e *encoder) blob(b *wire.Blob) error {
	defer b.Close()
	var r io.Reader = b
	if e.blobLeft >= 0 {
		r = io.LimitReader(b, e.blobLeft+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if e.blobLeft >= 0 {
		if int64(len(data)) > e.blobLeft {
			return &wire.LimitError{Limit: "MaxBlobBytes", Max: e.blobMax}
		}
		e.blobLeft -= int64(len(data))
	}
	ct := b.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	attrs := make(map[string]any, len(b.Attrs)+1)
	for k, v := range b.Attrs {
		attrs[k] = v
	}
	attrs["content-type"] = ct
	e.tag("blob")
	if err := e.nested(attrs); err != nil {
		return err
	}
	e.buf = append(e.buf, `,"$content":"`...)
	e.buf = base64.StdEncoding.AppendEncode(e.buf, data)
	e.buf = append(e.buf, `"}`...)
	return nil
}
