package wire

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Marshal returns the canonical hyperglyph encoding of v, blob trailers
// included (their content is read into the result).
//
// Go values map to glyph types as follows: nil, nil pointers and nil
// interfaces → nil; bool; every int and uint kind, *big.Int and big.Int →
// integer; float32/64 → float (hex, exact; -0, inf and nan kept); string →
// unicode, normalised to NFC (invalid UTF-8 is an error); []byte and
// [N]byte → bytearray; other slices and arrays → list (a nil slice is an
// empty list); maps and structs → dict; Set → set; *OrderedDict → ordered
// dict; Dict and AnySet → dict and set; time.Time → datetime in UTC with
// microsecond precision (finer precision is truncated); time.Duration and
// Period → timedelta; *Blob → blob; Extension → extension; a Marshaler →
// whatever its MarshalGlyph returns. Struct fields follow encoding/json's
// rules with the `glyph` tag: `glyph:"name,omitempty"`, `glyph:"-"`.
//
// Dicts and sets are written in canonical order, so equal values encode
// to equal bytes: sorted by the encoded bytes of their keys and items,
// except that unicode and bytearray values compare by their content
// (without the length prefix), so string keys come out in byte order. Nothing else is
// written: no whitespace.
func Marshal(v any) ([]byte, error) {
	e := encPool.Get().(*encodeState)
	defer e.release()
	if err := e.encodeRoot(v); err != nil {
		return nil, err
	}
	for i, b := range e.blobs {
		var err error
		e.buf, err = appendChunks(e.buf, i, b, defaultChunkSize)
		if err != nil {
			return nil, err
		}
	}
	return bytes.Clone(e.buf), nil
}

// AppendMarshal appends the encoding of v to dst. Use it to avoid an
// allocation per message.
func AppendMarshal(dst []byte, v any) ([]byte, error) {
	e := encPool.Get().(*encodeState)
	defer e.release()
	e.buf = dst
	err := e.encodeRoot(v)
	for i, b := range e.blobs {
		if err != nil {
			break
		}
		e.buf, err = appendChunks(e.buf, i, b, defaultChunkSize)
	}
	out := e.buf
	e.buf = nil
	return out, err
}

const defaultChunkSize = 64 << 10

// An Encoder writes hyperglyph messages to a stream. Blob content is
// streamed from each blob's reader in chunks after the root object, so a
// message may carry files of any size in constant memory.
type Encoder struct {
	w         io.Writer
	chunkSize int
	chunk     []byte
	pooled    *[]byte // what chunkPool gave, when chunk is its buffer

	// e builds the root object of each message. The Encoder keeps its
	// own instead of taking one from encPool per message, which after a
	// garbage collection (it empties pools) means a new state and new,
	// growing buffers; a small root, the usual companion of blobs, fits
	// in small.
	e     encodeState
	small [512]byte
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	enc := &Encoder{w: w, chunkSize: defaultChunkSize}
	enc.e.init(enc.small[:0])
	return enc
}

// SetChunkSize sets the largest blob chunk the encoder writes (default
// 64 KiB).
func (enc *Encoder) SetChunkSize(n int) {
	if n > 0 {
		enc.releaseChunk()
		enc.chunkSize = n
		enc.chunk = nil
	}
}

// Encode writes the encoding of v, followed by the content of every blob
// in v. If a blob's reader fails, Encode returns its error and the stream
// holds an incomplete message.
func (enc *Encoder) Encode(v any) error {
	e := &enc.e
	defer e.reset(enc.small[:0])
	if err := e.encodeRoot(v); err != nil {
		return err
	}
	if _, err := enc.w.Write(e.buf); err != nil {
		return err
	}
	defer enc.releaseChunk()
	for i, b := range e.blobs {
		if err := enc.writeBlob(i, b); err != nil {
			return err
		}
	}
	return nil
}

// chunkPool holds chunk buffers of the default chunk size.
var chunkPool = sync.Pool{New: func() any {
	b := make([]byte, chunkHeadroom+defaultChunkSize+1)
	return &b
}}

// releaseChunk gives a pooled chunk buffer back.
func (enc *Encoder) releaseChunk() {
	if enc.pooled != nil {
		chunkPool.Put(enc.pooled)
		enc.chunk, enc.pooled = nil, nil
	}
}

const chunkHeadroom = 48 // room for `c<id>:<len>:` before the data

func (enc *Encoder) writeBlob(id int, b *Blob) error {
	// The chunk buffer is as large as a chunk of this blob can be: a
	// blob whose bytes are known and short needs no 64 KiB. A full one
	// comes from chunkPool and goes back when Encode returns, so that
	// short-lived encoders (one per record sealed) share them.
	size := enc.chunkSize
	if b.hasData {
		size = max(min(size, len(b.data)), 1)
	}
	if len(enc.chunk) < chunkHeadroom+size+1 {
		if size == defaultChunkSize {
			enc.pooled = chunkPool.Get().(*[]byte)
			enc.chunk = *enc.pooled
		} else {
			enc.chunk = make([]byte, chunkHeadroom+size+1)
		}
	}
	r := b.source()
	defer closeSource(b)
	empty := 0
	for {
		// One Read per chunk: a slow source (a pipe, a live feed) is sent
		// as it produces, not when 64 KiB have piled up.
		n, err := r.Read(enc.chunk[chunkHeadroom : chunkHeadroom+size])
		if n == 0 && err == nil {
			if empty++; empty > 100 {
				return io.ErrNoProgress
			}
			continue
		}
		empty = 0
		if n > 0 {
			var hdr [chunkHeadroom]byte
			h := appendChunkHeader(hdr[:0], id, n)
			start := chunkHeadroom - len(h)
			copy(enc.chunk[start:], h)
			enc.chunk[chunkHeadroom+n] = ';'
			if _, werr := enc.w.Write(enc.chunk[start : chunkHeadroom+n+1]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	_, err := enc.w.Write(appendEndChunk(enc.chunk[:0], id))
	return err
}

func closeSource(b *Blob) {
	if !b.hasData {
		if c, ok := b.r.(io.Closer); ok {
			c.Close()
		}
	}
}

func appendChunkHeader(b []byte, id, n int) []byte {
	b = append(b, 'c')
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, ':')
}

func appendEndChunk(b []byte, id int) []byte {
	b = append(b, 'c')
	b = strconv.AppendInt(b, int64(id), 10)
	return append(b, ';')
}

func appendChunks(buf []byte, id int, b *Blob, size int) ([]byte, error) {
	if b.hasData {
		for data := b.data; len(data) > 0; {
			n := min(len(data), size)
			buf = appendChunkHeader(buf, id, n)
			buf = append(buf, data[:n]...)
			buf = append(buf, ';')
			data = data[n:]
		}
		return appendEndChunk(buf, id), nil
	}
	r := b.source()
	defer closeSource(b)
	for {
		start := len(buf)
		buf = appendChunkHeader(buf, id, size)
		hdrEnd := len(buf)
		buf = slices.Grow(buf, size+1)
		n, err := io.ReadFull(r, buf[hdrEnd:hdrEnd+size])
		if n > 0 {
			data := append([]byte(nil), buf[hdrEnd:hdrEnd+n]...)
			buf = appendChunkHeader(buf[:start], id, n)
			buf = append(buf, data...)
			buf = append(buf, ';')
		} else {
			buf = buf[:start]
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return buf, err
		}
	}
	return appendEndChunk(buf, id), nil
}

// encodeState builds the root object of one message.
type encodeState struct {
	buf    []byte
	blobs  []*Blob
	blobAt []int // offset in buf of each blob's id, parallel to blobs
	depth  int
	spans  [][]span // free list of span slices for sorting
	tmp    []byte   // scratch for reordering sorted entries

	identity bool // encoding for comparison: blobs by identity, no trailers

	// dig is set while e writes a value for the duplicate check of a
	// decode: collections nested in the value are written as their
	// digests (see digester). open says that the next collection is the
	// one being digested, to be written out.
	dig  *digester
	open bool

	// Room for the first blobs of a message, so that one blob costs no
	// allocation.
	blobArr   [2]*Blob
	blobAtArr [2]int
}

type span struct{ start, keyEnd, end int }

var encPool = sync.Pool{New: func() any {
	e := new(encodeState)
	e.init(nil)
	return e
}}

// init points the blob slices at their inline room and the buffer at buf;
// e must not move afterwards.
func (e *encodeState) init(buf []byte) {
	e.buf = buf
	e.blobs = e.blobArr[:0]
	e.blobAt = e.blobAtArr[:0]
}

// reset makes e ready for the next message, dropping large buffers; a
// buffer dropped is replaced by buf.
func (e *encodeState) reset(buf []byte) {
	if cap(e.buf) > 1<<20 {
		e.buf = buf
	}
	e.buf = e.buf[:0]
	clear(e.blobs)
	e.blobs = e.blobs[:0]
	e.blobAt = e.blobAt[:0]
	e.depth = 0
	e.identity = false
	if cap(e.tmp) > 1<<20 {
		e.tmp = nil
	}
}

func (e *encodeState) release() {
	e.reset(nil)
	encPool.Put(e)
}

func (e *encodeState) encodeRoot(v any) error {
	return e.encodeAny(v)
}

const maxEncodeDepth = 1000

// msgTooDeep is the message of the error of a value nested deeper than
// maxEncodeDepth.
const msgTooDeep = "nested too deep (cyclic value?)"

// encodeAny encodes an interface value, with fast paths for the types the
// decoder produces.
func (e *encodeState) encodeAny(v any) error {
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, 'N', ';')
		return nil
	case string:
		return e.encodeString(v)
	case int64:
		e.buf = appendInt(e.buf, v)
		return nil
	case int:
		e.buf = appendInt(e.buf, int64(v))
		return nil
	case bool:
		e.encodeBool(v)
		return nil
	case float64:
		e.buf = appendFloat(e.buf, v)
		return nil
	case []byte:
		e.buf = appendBytes(e.buf, v)
		return nil
	case []any:
		return e.encodeAnyList(v)
	case map[string]any:
		return e.encodeStringMap(v)
	case *Blob:
		return e.encodeBlob(v)
	}
	return e.encodeValue(reflect.ValueOf(v))
}

func (e *encodeState) encodeValue(v reflect.Value) error {
	if !v.IsValid() {
		e.buf = append(e.buf, 'N', ';')
		return nil
	}
	return encoderFor(v.Type())(e, v)
}

func (e *encodeState) encodeBool(b bool) {
	if b {
		e.buf = append(e.buf, 'T', ';')
	} else {
		e.buf = append(e.buf, 'F', ';')
	}
}

func appendInt(b []byte, n int64) []byte {
	if n >= 0 && n < 100 {
		if n < 10 {
			return append(b, 'i', byte('0'+n), ';')
		}
		return append(b, 'i', byte('0'+n/10), byte('0'+n%10), ';')
	}
	b = append(b, 'i')
	b = strconv.AppendInt(b, n, 10)
	return append(b, ';')
}

// appendLen appends a length, with a fast path for short ones.
func appendLen(b []byte, n int) []byte {
	switch {
	case n < 10:
		return append(b, byte('0'+n))
	case n < 100:
		return append(b, byte('0'+n/10), byte('0'+n%10))
	case n < 1000:
		return append(b, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
	}
	return strconv.AppendInt(b, int64(n), 10)
}

func appendUint(b []byte, n uint64) []byte {
	b = append(b, 'i')
	b = strconv.AppendUint(b, n, 10)
	return append(b, ';')
}

func appendFloat(b []byte, f float64) []byte {
	b = append(b, 'f')
	switch {
	case math.IsInf(f, 1):
		b = append(b, "inf"...)
	case math.IsInf(f, -1):
		b = append(b, "-inf"...)
	case math.IsNaN(f):
		b = append(b, "nan"...)
	default:
		b = strconv.AppendFloat(b, f, 'x', -1, 64)
	}
	return append(b, ';')
}

func appendBytes(b []byte, p []byte) []byte {
	if len(p) == 0 {
		return append(b, 'b', ';')
	}
	b = append(b, 'b')
	b = appendLen(b, len(p))
	b = append(b, ':')
	b = append(b, p...)
	return append(b, ';')
}

// appendUnicode appends s, which must be valid NFC UTF-8, as unicode.
func appendUnicode(b []byte, s string) []byte {
	if len(s) == 0 {
		return append(b, 'u', ';')
	}
	b = append(b, 'u')
	b = appendLen(b, len(s))
	b = append(b, ':')
	b = append(b, s...)
	return append(b, ';')
}

func (e *encodeState) encodeString(s string) error {
	i := 0
	// Eight bytes at a time while they are all ASCII.
	if len(s) >= 8 {
		p := unsafe.Slice(unsafe.StringData(s), len(s))
		for ; i+8 <= len(p); i += 8 {
			if binary.LittleEndian.Uint64(p[i:])&0x8080808080808080 != 0 {
				break
			}
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			if !utf8.ValidString(s) {
				return &UnsupportedValueError{Msg: "string is not valid UTF-8: " + strconv.QuoteToASCII(truncate(s, 40))}
			}
			if !norm.NFC.IsNormalString(s) {
				s = norm.NFC.String(s)
			}
			break
		}
	}
	e.buf = appendUnicode(e.buf, s)
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (e *encodeState) enter(t reflect.Type) error {
	e.depth++
	if e.depth > maxEncodeDepth {
		return &UnsupportedValueError{Type: t, Msg: msgTooDeep}
	}
	return nil
}

func (e *encodeState) encodeAnyList(l []any) error {
	if e.dig != nil {
		enc := func(s *encodeState) error { return s.encodeAnyList(l) }
		if done, err := e.digested(unsafe.Pointer(unsafe.SliceData(l)), anyListType, len(l), enc); done {
			return err
		}
	}
	if err := e.enter(nil); err != nil {
		return err
	}
	e.buf = append(e.buf, 'L')
	for _, it := range l {
		if err := e.encodeAny(it); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ';')
	e.depth--
	return nil
}

func (e *encodeState) getSpans() []span {
	if n := len(e.spans); n > 0 {
		s := e.spans[n-1]
		e.spans = e.spans[:n-1]
		return s[:0]
	}
	return make([]span, 0, 8)
}

func (e *encodeState) putSpans(s []span) { e.spans = append(e.spans, s) }

func equalKeysError(what string, key []byte) error {
	noun := "keys"
	if what == "set" {
		noun = "items"
	}
	return &UnsupportedValueError{Msg: what + " has two equal " + noun + " " + strconv.Quote(truncate(string(key), 40))}
}

// nfc returns s in Unicode normal form C, without work for ASCII.
func nfc(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			if norm.NFC.IsNormalString(s) {
				return s
			}
			return norm.NFC.String(s)
		}
	}
	return s
}

// sortEntries reorders the entries written at e.buf[spans[0].start:] so
// their keys are in encoded-byte order, and rejects equal keys.
func (e *encodeState) sortEntries(spans []span, what string) error {
	if len(spans) < 2 {
		return nil
	}
	buf := e.buf
	if err := zeroKeys(buf, spans, what); err != nil {
		return err
	}
	cmp := func(a, b span) int { return CompareKeys(buf[a.start:a.keyEnd], buf[b.start:b.keyEnd]) }
	sorted := true
	for i := 1; i < len(spans); i++ {
		c := cmp(spans[i-1], spans[i])
		if c == 0 {
			return equalKeysError(what, buf[spans[i].start:spans[i].keyEnd])
		}
		if c > 0 {
			sorted = false
		}
	}
	if sorted {
		return nil
	}
	slices.SortFunc(spans, cmp)
	for i := 1; i < len(spans); i++ {
		if cmp(spans[i-1], spans[i]) == 0 {
			return equalKeysError(what, buf[spans[i].start:spans[i].keyEnd])
		}
	}
	base := spans[0].start
	for _, s := range spans {
		base = min(base, s.start)
	}
	e.tmp = append(e.tmp[:0], buf[base:]...)
	out := buf[:base]
	for _, s := range spans {
		out = append(out, e.tmp[s.start-base:s.end-base]...)
	}
	e.buf = out
	e.renumberBlobs(base, spans)
	return nil
}

// zeroKeys rejects keys (or set items) -0 and 0 side by side: their
// bytes differ, but they are equal as keys, as in a Go map, so a decoder
// refuses the pair.
func zeroKeys(buf []byte, spans []span, what string) error {
	neg, pos := false, false
	for _, s := range spans {
		switch k := buf[s.start:s.keyEnd]; {
		case len(k) == 0 || k[0] != 'f':
		case string(k) == "f-0x0p+00;":
			neg = true
		case string(k) == "f0x0p+00;":
			pos = true
		}
	}
	if neg && pos {
		return equalKeysError(what, []byte("f0x0p+00;"))
	}
	return nil
}

// renumberBlobs keeps blob ids in order of appearance after sortEntries
// moved the entries at e.buf[base:]; spans are in their new order and
// hold their old offsets. Without it the ids, and so the bytes, of a map
// holding blobs would depend on the map's iteration order.
func (e *encodeState) renumberBlobs(base int, spans []span) {
	first := len(e.blobAt)
	for first > 0 && e.blobAt[first-1] >= base {
		first--
	}
	if e.identity || first == len(e.blobAt) {
		return
	}
	// The moved blobs (old index = old id) in order of appearance, and the
	// new offsets of their ids.
	var order, at []int
	pos := base
	for _, s := range spans {
		for j := first; j < len(e.blobAt); j++ {
			if e.blobAt[j] >= s.start && e.blobAt[j] < s.end {
				order = append(order, j)
				at = append(at, pos+e.blobAt[j]-s.start)
			}
		}
		pos += s.end - s.start
	}
	e.tmp = append(e.tmp[:0], e.buf[base:]...)
	moved := slices.Clone(e.blobs[first:])
	out, prev := e.buf[:base], 0
	for k, j := range order {
		out = append(out, e.tmp[prev:at[k]-base]...)
		e.blobs[first+k] = moved[j-first]
		e.blobAt[first+k] = len(out)
		out = strconv.AppendInt(out, int64(first+k), 10)
		prev = at[k] - base + len(strconv.Itoa(j))
	}
	e.buf = append(out, e.tmp[prev:]...)
}

func (e *encodeState) encodeStringMap(m map[string]any) error {
	if e.dig != nil {
		enc := func(s *encodeState) error { return s.encodeStringMap(m) }
		if done, err := e.digested(reflect.ValueOf(m).UnsafePointer(), stringMapType, len(m), enc); done {
			return err
		}
	}
	if err := e.enter(nil); err != nil {
		return err
	}
	e.buf = append(e.buf, 'D')
	spans := e.getSpans()
	for k, v := range m {
		start := len(e.buf)
		if err := e.encodeString(k); err != nil {
			return err
		}
		keyEnd := len(e.buf)
		if err := e.encodeAny(v); err != nil {
			return err
		}
		spans = append(spans, span{start, keyEnd, len(e.buf)})
	}
	err := e.sortEntries(spans, "dict")
	e.putSpans(spans)
	e.buf = append(e.buf, ';')
	e.depth--
	return err
}

func (e *encodeState) encodeBlob(b *Blob) error {
	if b == nil {
		e.buf = append(e.buf, 'N', ';')
		return nil
	}
	id := len(e.blobs)
	if e.identity {
		// Comparing values: a blob equals only itself.
		id = int(uintptr(unsafe.Pointer(b)))
	}
	e.blobs = append(e.blobs, b)
	e.buf = append(e.buf, 'B')
	e.blobAt = append(e.blobAt, len(e.buf))
	e.buf = strconv.AppendInt(e.buf, int64(id), 10)
	e.buf = append(e.buf, ':')
	if err := e.encodeBlobAttrs(b); err != nil {
		return err
	}
	e.buf = append(e.buf, ';')
	return nil
}

// encodeBlobAttrs writes the attributes dict of b: its Attrs with
// content-type set to its ContentType (application/octet-stream when
// empty), as encodeStringMap would write such a map.
func (e *encodeState) encodeBlobAttrs(b *Blob) error {
	if e.dig != nil {
		enc := func(s *encodeState) error { return s.encodeBlobAttrs(b) }
		if done, err := e.digested(nil, nil, 1+len(b.Attrs), enc); done {
			return err
		}
	}
	if err := e.enter(nil); err != nil {
		return err
	}
	e.buf = append(e.buf, 'D')
	ct := b.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if len(b.Attrs) == 0 {
		e.buf = appendUnicode(e.buf, "content-type")
		if err := e.encodeString(ct); err != nil {
			return err
		}
	} else {
		spans := e.getSpans()
		start := len(e.buf)
		e.buf = appendUnicode(e.buf, "content-type")
		keyEnd := len(e.buf)
		if err := e.encodeString(ct); err != nil {
			return err
		}
		spans = append(spans, span{start, keyEnd, len(e.buf)})
		for k, v := range b.Attrs {
			if k == "content-type" {
				continue
			}
			start := len(e.buf)
			if err := e.encodeString(k); err != nil {
				return err
			}
			keyEnd := len(e.buf)
			if err := e.encodeAny(v); err != nil {
				return err
			}
			spans = append(spans, span{start, keyEnd, len(e.buf)})
		}
		err := e.sortEntries(spans, "dict")
		e.putSpans(spans)
		if err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ';')
	e.depth--
	return nil
}

// encoderFunc appends the encoding of v.
type encoderFunc func(e *encodeState, v reflect.Value) error

var encCache sync.Map // reflect.Type → encoderFunc

func encoderFor(t reflect.Type) encoderFunc {
	if f, ok := encCache.Load(t); ok {
		return f.(encoderFunc)
	}
	var (
		wg sync.WaitGroup
		f  encoderFunc
	)
	wg.Add(1)
	fi, loaded := encCache.LoadOrStore(t, encoderFunc(func(e *encodeState, v reflect.Value) error {
		wg.Wait()
		return f(e, v)
	}))
	if loaded {
		return fi.(encoderFunc)
	}
	f = newEncoder(t)
	wg.Done()
	encCache.Store(t, f)
	return f
}

// newEncoder returns the encoder of values of type t: a Marshaler's, one
// of the glyph types Go lacks, or the one of t's kind.
func newEncoder(t reflect.Type) encoderFunc {
	if t.Implements(marshalerType) {
		return marshalerEncoder
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(marshalerType) {
		return addrMarshalerEncoder(t)
	}
	switch t {
	case timeType:
		return timeEncoder
	case durationType:
		return durationEncoder
	case periodType:
		return periodEncoder
	case bigIntType:
		return bigIntEncoder
	case extensionType:
		return extensionEncoder
	case orderedDictType:
		return orderedDictEncoder
	case dictType:
		return dictEncoder
	case anySetType:
		return anySetEncoder
	case blobType:
		return blobEncoder
	case blobPtrType:
		return blobPtrEncoder
	}
	if t.Kind() == reflect.Map && t.Implements(setMarkerType) {
		return newSetEncoder(t)
	}
	switch t.Kind() {
	case reflect.Bool:
		return boolEncoder
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intEncoder
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintEncoder
	case reflect.Float32, reflect.Float64:
		return floatEncoder
	case reflect.String:
		return stringEncoder
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(marshalerType) {
			return bytesEncoder
		}
		return newListEncoder(t)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(marshalerType) {
			return byteArrayEncoder
		}
		return newListEncoder(t)
	case reflect.Map:
		return newMapEncoder(t)
	case reflect.Struct:
		return newStructEncoder(t)
	case reflect.Pointer:
		return newPointerEncoder(t)
	case reflect.Interface:
		return interfaceEncoder
	}
	return unsupportedKindEncoder(t)
}

func timeEncoder(e *encodeState, v reflect.Value) error {
	e.buf = append(e.buf, 'd')
	var err error
	e.buf, err = appendDatetime(e.buf, valueOf[time.Time](v))
	if err != nil {
		return &UnsupportedValueError{Type: timeType, Msg: err.Error()}
	}
	e.buf = append(e.buf, ';')
	return nil
}

func durationEncoder(e *encodeState, v reflect.Value) error {
	e.buf = append(e.buf, 'p')
	e.buf = appendDuration(e.buf, 0, 0, time.Duration(v.Int()))
	e.buf = append(e.buf, ';')
	return nil
}

func periodEncoder(e *encodeState, v reflect.Value) error {
	e.buf = append(e.buf, 'p')
	var err error
	e.buf, err = appendPeriod(e.buf, valueOf[Period](v))
	if err != nil {
		return &UnsupportedValueError{Type: periodType, Msg: err.Error()}
	}
	e.buf = append(e.buf, ';')
	return nil
}

func bigIntEncoder(e *encodeState, v reflect.Value) error {
	var b *big.Int
	if v.CanAddr() {
		b = v.Addr().Interface().(*big.Int)
	} else {
		bi := v.Interface().(big.Int)
		b = &bi
	}
	e.buf = append(e.buf, 'i')
	e.buf = b.Append(e.buf, 10)
	e.buf = append(e.buf, ';')
	return nil
}

func extensionEncoder(e *encodeState, v reflect.Value) error {
	return e.encodeExtension(valueOf[Extension](v))
}

func orderedDictEncoder(e *encodeState, v reflect.Value) error {
	var o *OrderedDict
	if v.CanAddr() {
		o = v.Addr().Interface().(*OrderedDict)
	} else {
		od := v.Interface().(OrderedDict)
		o = &od
	}
	return e.encodeOrdered(o.entries)
}

func dictEncoder(e *encodeState, v reflect.Value) error {
	return e.encodeEntries(v.Interface().(Dict).Entries)
}

func anySetEncoder(e *encodeState, v reflect.Value) error {
	return e.encodeAnySet(v.Interface().(AnySet).Items)
}

func blobEncoder(e *encodeState, v reflect.Value) error {
	if !v.CanAddr() {
		return &UnsupportedValueError{Type: blobType, Msg: "use *wire.Blob"}
	}
	return e.encodeBlob(v.Addr().Interface().(*Blob))
}

func blobPtrEncoder(e *encodeState, v reflect.Value) error {
	return e.encodeBlob(v.Interface().(*Blob))
}

func boolEncoder(e *encodeState, v reflect.Value) error { e.encodeBool(v.Bool()); return nil }

func intEncoder(e *encodeState, v reflect.Value) error { e.buf = appendInt(e.buf, v.Int()); return nil }

func uintEncoder(e *encodeState, v reflect.Value) error {
	e.buf = appendUint(e.buf, v.Uint())
	return nil
}

func floatEncoder(e *encodeState, v reflect.Value) error {
	e.buf = appendFloat(e.buf, v.Float())
	return nil
}

func stringEncoder(e *encodeState, v reflect.Value) error { return e.encodeString(v.String()) }

func bytesEncoder(e *encodeState, v reflect.Value) error {
	e.buf = appendBytes(e.buf, v.Bytes())
	return nil
}

// byteArrayEncoder encodes a [N]byte as bytes.
func byteArrayEncoder(e *encodeState, v reflect.Value) error {
	if v.CanAddr() {
		e.buf = appendBytes(e.buf, v.Bytes())
		return nil
	}
	b := make([]byte, v.Len())
	reflect.Copy(reflect.ValueOf(b), v)
	e.buf = appendBytes(e.buf, b)
	return nil
}

// newPointerEncoder encodes a nil pointer as nil and any other as what it
// points to. The element's encoder is looked up at first use, so that a
// recursive type does not recurse here.
func newPointerEncoder(t reflect.Type) encoderFunc {
	elem := t.Elem()
	var elemEnc encoderFunc
	var once sync.Once
	return func(e *encodeState, v reflect.Value) error {
		if v.IsNil() {
			e.buf = append(e.buf, 'N', ';')
			return nil
		}
		if err := e.enter(t); err != nil {
			return err
		}
		once.Do(func() { elemEnc = encoderFor(elem) })
		err := elemEnc(e, v.Elem())
		e.depth--
		return err
	}
}

func interfaceEncoder(e *encodeState, v reflect.Value) error {
	if v.IsNil() {
		e.buf = append(e.buf, 'N', ';')
		return nil
	}
	return e.encodeAny(v.Elem().Interface())
}

func unsupportedKindEncoder(t reflect.Type) encoderFunc {
	return func(e *encodeState, v reflect.Value) error {
		return &UnsupportedValueError{Type: t, Msg: "no glyph type for this Go kind"}
	}
}

func marshalerEncoder(e *encodeState, v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		e.buf = append(e.buf, 'N', ';')
		return nil
	}
	return e.marshal(v.Interface().(Marshaler))
}

func addrMarshalerEncoder(t reflect.Type) encoderFunc {
	fallback := newEncoderNoMarshal(t)
	return func(e *encodeState, v reflect.Value) error {
		if v.CanAddr() {
			return e.marshal(v.Addr().Interface().(Marshaler))
		}
		// Copy to make it addressable.
		c := reflect.New(t)
		c.Elem().Set(v)
		if m, ok := c.Interface().(Marshaler); ok {
			return e.marshal(m)
		}
		return fallback(e, v)
	}
}

func newEncoderNoMarshal(t reflect.Type) encoderFunc {
	return func(e *encodeState, v reflect.Value) error {
		return &UnsupportedValueError{Type: t, Msg: "MarshalGlyph needs an addressable value"}
	}
}

func (e *encodeState) marshal(m Marshaler) error {
	if err := e.enter(nil); err != nil {
		return err
	}
	val, err := m.MarshalGlyph()
	if err != nil {
		return &UnsupportedValueError{Type: reflect.TypeOf(m), Msg: "MarshalGlyph: " + err.Error()}
	}
	if reflect.TypeOf(val) == reflect.TypeOf(m) {
		return &UnsupportedValueError{Type: reflect.TypeOf(m), Msg: "MarshalGlyph returned its own type"}
	}
	err = e.encodeAny(val)
	e.depth--
	return err
}

func (e *encodeState) encodeExtension(x Extension) error {
	if err := e.enter(extensionType); err != nil {
		return err
	}
	e.buf = append(e.buf, 'X')
	if err := e.encodeString(x.Name); err != nil {
		return err
	}
	var err error
	if x.Ordered {
		err = e.encodeOrdered(x.Attrs.Entries())
	} else {
		err = e.encodeEntries(x.Attrs.Entries())
	}
	if err != nil {
		return err
	}
	if err := e.encodeAny(x.Content); err != nil {
		return err
	}
	e.buf = append(e.buf, ';')
	e.depth--
	return nil
}

func (e *encodeState) encodeOrdered(entries []Entry) error {
	if e.dig != nil {
		enc := func(s *encodeState) error { return s.encodeOrdered(entries) }
		if done, err := e.digested(unsafe.Pointer(unsafe.SliceData(entries)), orderedDictType, len(entries), enc); done {
			return err
		}
	}
	if err := e.enter(orderedDictType); err != nil {
		return err
	}
	e.buf = append(e.buf, 'O')
	spans := e.getSpans()
	for _, en := range entries {
		start := len(e.buf)
		if err := e.encodeAny(en.Key); err != nil {
			return err
		}
		keyEnd := len(e.buf)
		if err := e.encodeAny(en.Value); err != nil {
			return err
		}
		spans = append(spans, span{start, keyEnd, len(e.buf)})
	}
	err := e.checkDistinctKeys(spans)
	e.putSpans(spans)
	e.buf = append(e.buf, ';')
	e.depth--
	return err
}

// checkDistinctKeys rejects an ordered dict two of whose keys encode
// equal, which its distinct Go keys can ("é" and "e\u0301" once
// normalised): a decoder refuses the duplicate. The
// entries keep their order; spans is sorted, its order no longer needed.
func (e *encodeState) checkDistinctKeys(spans []span) error {
	buf := e.buf
	key := func(s span) []byte { return buf[s.start:s.keyEnd] }
	if len(spans) <= 8 {
		for i := 1; i < len(spans); i++ {
			for j := range i {
				if bytes.Equal(key(spans[i]), key(spans[j])) {
					return equalKeysError("ordered dict", key(spans[i]))
				}
			}
		}
		return nil
	}
	slices.SortFunc(spans, func(a, b span) int { return bytes.Compare(key(a), key(b)) })
	for i := 1; i < len(spans); i++ {
		if bytes.Equal(key(spans[i-1]), key(spans[i])) {
			return equalKeysError("ordered dict", key(spans[i]))
		}
	}
	return nil
}

func (e *encodeState) encodeEntries(entries []Entry) error {
	if e.dig != nil {
		enc := func(s *encodeState) error { return s.encodeEntries(entries) }
		if done, err := e.digested(unsafe.Pointer(unsafe.SliceData(entries)), dictType, len(entries), enc); done {
			return err
		}
	}
	if err := e.enter(dictType); err != nil {
		return err
	}
	e.buf = append(e.buf, 'D')
	spans := e.getSpans()
	for _, en := range entries {
		start := len(e.buf)
		if err := e.encodeAny(en.Key); err != nil {
			return err
		}
		keyEnd := len(e.buf)
		if err := e.encodeAny(en.Value); err != nil {
			return err
		}
		spans = append(spans, span{start, keyEnd, len(e.buf)})
	}
	err := e.sortEntries(spans, "dict")
	e.putSpans(spans)
	e.buf = append(e.buf, ';')
	e.depth--
	return err
}

func (e *encodeState) encodeAnySet(items []any) error {
	if e.dig != nil {
		enc := func(s *encodeState) error { return s.encodeAnySet(items) }
		if done, err := e.digested(unsafe.Pointer(unsafe.SliceData(items)), anySetType, len(items), enc); done {
			return err
		}
	}
	if err := e.enter(anySetType); err != nil {
		return err
	}
	e.buf = append(e.buf, 'S')
	spans := e.getSpans()
	for _, it := range items {
		start := len(e.buf)
		if err := e.encodeAny(it); err != nil {
			return err
		}
		spans = append(spans, span{start, len(e.buf), len(e.buf)})
	}
	err := e.sortEntries(spans, "set")
	e.putSpans(spans)
	e.buf = append(e.buf, ';')
	e.depth--
	return err
}

func newListEncoder(t reflect.Type) encoderFunc {
	var elemEnc encoderFunc
	var once sync.Once
	var enc encoderFunc
	enc = func(e *encodeState, v reflect.Value) error {
		if e.dig != nil {
			var p unsafe.Pointer // an array has no identity of its own
			if t.Kind() == reflect.Slice {
				p = v.UnsafePointer()
			}
			if done, err := e.digested(p, t, v.Len(), func(s *encodeState) error { return enc(s, v) }); done {
				return err
			}
		}
		once.Do(func() { elemEnc = encoderFor(t.Elem()) })
		if err := e.enter(t); err != nil {
			return err
		}
		e.buf = append(e.buf, 'L')
		for i, n := 0, v.Len(); i < n; i++ {
			if err := elemEnc(e, v.Index(i)); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ';')
		e.depth--
		return nil
	}
	return enc
}

func newMapEncoder(t reflect.Type) encoderFunc {
	var keyEnc, elemEnc encoderFunc
	var once sync.Once
	var enc encoderFunc
	enc = func(e *encodeState, v reflect.Value) error {
		if e.dig != nil {
			if done, err := e.digested(v.UnsafePointer(), t, v.Len(), func(s *encodeState) error { return enc(s, v) }); done {
				return err
			}
		}
		once.Do(func() { keyEnc, elemEnc = encoderFor(t.Key()), encoderFor(t.Elem()) })
		if err := e.enter(t); err != nil {
			return err
		}
		e.buf = append(e.buf, 'D')
		spans := e.getSpans()
		it := v.MapRange()
		for it.Next() {
			start := len(e.buf)
			if err := keyEnc(e, it.Key()); err != nil {
				return err
			}
			keyEnd := len(e.buf)
			if err := elemEnc(e, it.Value()); err != nil {
				return err
			}
			spans = append(spans, span{start, keyEnd, len(e.buf)})
		}
		err := e.sortEntries(spans, "dict")
		e.putSpans(spans)
		e.buf = append(e.buf, ';')
		e.depth--
		return err
	}
	return enc
}

func newSetEncoder(t reflect.Type) encoderFunc {
	var keyEnc encoderFunc
	var once sync.Once
	var enc encoderFunc
	enc = func(e *encodeState, v reflect.Value) error {
		if e.dig != nil {
			if done, err := e.digested(v.UnsafePointer(), t, v.Len(), func(s *encodeState) error { return enc(s, v) }); done {
				return err
			}
		}
		once.Do(func() { keyEnc = encoderFor(t.Key()) })
		if err := e.enter(t); err != nil {
			return err
		}
		e.buf = append(e.buf, 'S')
		spans := e.getSpans()
		it := v.MapRange()
		for it.Next() {
			start := len(e.buf)
			if err := keyEnc(e, it.Key()); err != nil {
				return err
			}
			spans = append(spans, span{start, len(e.buf), len(e.buf)})
		}
		err := e.sortEntries(spans, "set")
		e.putSpans(spans)
		e.buf = append(e.buf, ';')
		e.depth--
		return err
	}
	return enc
}

func newStructEncoder(t reflect.Type) encoderFunc {
	si := structInfoFor(t)
	var enc encoderFunc
	enc = func(e *encodeState, v reflect.Value) error {
		if e.dig != nil {
			// A struct has no identity of its own: its digest is not
			// remembered.
			if done, err := e.digested(nil, t, len(si.fields), func(s *encodeState) error { return enc(s, v) }); done {
				return err
			}
		}
		si.codecs()
		if err := e.enter(t); err != nil {
			return err
		}
		e.buf = append(e.buf, 'D')
		for i := range si.fields {
			f := &si.fields[i]
			fv, ok := fieldForRead(v, f.index)
			if !ok {
				continue
			}
			if f.omitEmpty && isEmptyValue(fv) {
				continue
			}
			e.buf = append(e.buf, f.key...)
			if err := si.enc[i](e, fv); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ';')
		e.depth--
		return nil
	}
	return enc
}

// fieldForRead returns the field at index; false when an embedded pointer
// on the way is nil.
func fieldForRead(v reflect.Value, index []int) (reflect.Value, bool) {
	if len(index) == 1 {
		return v.Field(index[0]), true
	}
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	case reflect.Struct:
		if v.Type() == timeType {
			return v.Interface().(time.Time).IsZero()
		}
	}
	return false
}

// canonicalKey returns the canonical encoding of v's root object, used to
// compare values Go cannot compare. Blobs compare by identity and their
// content is not read.
func canonicalKey(v any) ([]byte, error) {
	e := encPool.Get().(*encodeState)
	defer e.release()
	e.identity = true
	if err := e.encodeRoot(v); err != nil {
		return nil, err
	}
	return bytes.Clone(e.buf), nil
}

// CompareKeys orders encoded dict keys and set items canonically, as
// Marshal writes them: by their encoded bytes, except that unicode and
// bytearray values compare by their content, skipping the length prefix,
// so string keys come out in plain byte (code point) order. a and b are
// each one encoded value.
func CompareKeys(a, b []byte) int {
	if len(a) > 0 && len(b) > 0 && a[0] == b[0] && (a[0] == 'u' || a[0] == 'b') {
		return bytes.Compare(lenContent(a), lenContent(b))
	}
	return bytes.Compare(a, b)
}

// lenContent returns the content of an encoded unicode or bytearray.
func lenContent(p []byte) []byte {
	if len(p) < 2 || p[1] == ';' {
		return nil
	}
	i := bytes.IndexByte(p, ':')
	if i < 0 {
		return p
	}
	return p[i+1 : len(p)-1]
}

// valueOf returns the T in v without boxing it when v is addressable.
func valueOf[T any](v reflect.Value) T {
	if v.CanAddr() {
		return *v.Addr().Interface().(*T)
	}
	return v.Interface().(T)
}
