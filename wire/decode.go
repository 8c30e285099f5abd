package wire

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"time"
)

// Unmarshal decodes one hyperglyph message, including its blob trailers,
// from data into the value v points to, with the default limits. See
// [Decoder.Decode] for how glyph values map onto Go values.
func Unmarshal(data []byte, v any) error {
	return UnmarshalConfig(data, v, DecodeConfig{})
}

var statePool = sync.Pool{New: func() any { return new(decodeState) }}

// UnmarshalConfig is Unmarshal with explicit limits. Blobs decoded by
// Unmarshal hold their content in memory (it was in data already) and do
// not alias data.
func UnmarshalConfig(data []byte, v any, cfg DecodeConfig) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &InvalidUnmarshalError{reflect.TypeOf(v)}
	}
	d := statePool.Get().(*decodeState)
	*d = decodeState{buf: data, lim: cfg.Limits.Resolved(), cfg: cfg, scratch: d.scratch[:0], path: d.path[:0], keys: d.keys, dig: d.dig}
	d.cfg.SpoolThreshold = -1 // everything is in memory already
	err := d.unmarshal(rv)
	d.dig.endMessage()
	d.buf, d.msg, d.typeErr = nil, nil, nil
	statePool.Put(d)
	return err
}

func (d *decodeState) unmarshal(rv reflect.Value) error {
	d.rootStart, d.wsOver = d.off(), false
	if !d.skipWS() {
		return d.eofErr("a value")
	}
	if err := d.root(rv); err != nil {
		return err
	}
	// Limits are checked while parsing where memory is at stake; this
	// catches what costs only time (whitespace, leading zeros).
	if err := d.checkRoot(0); err != nil {
		return err
	}
	if d.msg != nil {
		if err := d.msg.finish(); err != nil {
			return err
		}
	}
	if d.skipWS() {
		c := d.buf[d.pos]
		if c == 'c' {
			return d.syntax("chunk record, but no blob is pending")
		}
		return d.syntax("found %s after the end of the message", quoteByte(c))
	}
	return d.typeErr
}

// UnmarshalPrefix decodes the value at the start of data into v, as
// UnmarshalConfig does, and returns how many bytes of data it took.
// Unlike UnmarshalConfig, data may go on after the value: it is for a
// value embedded in a larger message, such as one entry's value in a
// dict its caller scans itself.
//
// Whitespace before the value is skipped, as before a root, and counts
// in n; whitespace after it is not taken, so n is the offset just after
// the value's last byte. cfg applies as for UnmarshalConfig, with the
// value standing for the root: MaxMessageBytes bounds the value itself,
// MaxDepth counts from it, and offsets in errors count from the start of
// data.
//
// A blob anywhere in the value is a *SyntaxError: its chunks would follow
// the whole message, which this value is only part of. Empty input, or
// input of whitespace only, is a *SyntaxError too; so is a value that is
// malformed or cut short, while one that crosses a limit is a
// *LimitError. As with UnmarshalConfig, a value that does not fit v
// gives an *UnmarshalTypeError once the whole value was read: n is then
// the offset after it, as on success. On other errors n is 0.
func UnmarshalPrefix(data []byte, v any, cfg DecodeConfig) (n int, err error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return 0, &InvalidUnmarshalError{reflect.TypeOf(v)}
	}
	d := statePool.Get().(*decodeState)
	*d = decodeState{buf: data, lim: cfg.Limits.Resolved(), cfg: cfg, scratch: d.scratch[:0], path: d.path[:0], keys: d.keys, dig: d.dig, noBlobs: true}
	d.cfg.SpoolThreshold = -1
	err = d.unmarshalPrefix(rv)
	d.dig.endMessage()
	if err == nil || err == d.typeErr {
		n = d.pos
	}
	d.buf, d.msg, d.typeErr = nil, nil, nil
	statePool.Put(d)
	return n, err
}

func (d *decodeState) unmarshalPrefix(rv reflect.Value) error {
	d.rootStart, d.wsOver = d.off(), false
	if !d.skipWS() {
		return d.eofErr("a value")
	}
	if err := d.root(rv); err != nil {
		return err
	}
	if err := d.checkRoot(0); err != nil { // see unmarshal
		return err
	}
	return d.typeErr
}

// root decodes the root object into rv, which is a pointer.
func (d *decodeState) root(rv reflect.Value) error {
	if p, ok := rv.Interface().(*any); ok {
		v, err := d.anyValue()
		if err != nil {
			return err
		}
		*p = v
		return nil
	}
	return decoderFor(rv.Type().Elem())(d, rv.Elem())
}

// A Decoder reads hyperglyph messages from a stream, one per Decode call.
// It reads exactly one message and its blob trailers per call, so messages
// can be pipelined on one connection; it may buffer input beyond the
// message, which Buffered returns.
//
// Blobs in a decoded message read from the stream while later parts of it
// arrive. Reading them in any order works: data that arrives for a blob
// other than the one being read is spooled, in memory up to
// DecodeConfig.SpoolThreshold and then in an unlinked temporary file. The
// next Decode reads the rest of the current message first, spooling what
// no one has read.
type Decoder struct {
	mu  sync.Mutex // serialises Decode and Close
	d   decodeState
	err error // sticky: after a syntax, limit or read error the stream is lost
	// last holds the blobs of the latest message, complete or not, so
	// that Close can release their spool files; guarded by mu.
	last *message

	// The first input buffer and field path, in the Decoder's own
	// allocation; d.buf and d.path start here and move to the heap if
	// they outgrow them.
	small     [512]byte
	smallPath [4]string
}

// NewDecoder returns a Decoder reading from r with the default
// configuration.
func NewDecoder(r io.Reader) *Decoder {
	return NewDecoderConfig(r, DecodeConfig{})
}

// NewDecoderConfig returns a Decoder reading from r with cfg.
func NewDecoderConfig(r io.Reader, cfg DecodeConfig) *Decoder {
	dec := &Decoder{}
	dec.d = decodeState{r: r, lim: cfg.Limits.Resolved(), cfg: cfg, buf: dec.small[:0], path: dec.smallPath[:0]}
	return dec
}

// Reset makes dec read a new stream from r with the same configuration,
// as a new Decoder would, reusing its buffers: servers keep Decoders in a
// sync.Pool. The blobs of the current message are released.
func (dec *Decoder) Reset(r io.Reader) {
	dec.mu.Lock()
	defer dec.mu.Unlock()
	dec.releaseMessage()
	old := &dec.d
	buf := old.buf[:0]
	if cap(buf) > 64<<10 {
		buf = dec.small[:0]
	}
	dec.d = decodeState{r: r, lim: old.lim, cfg: old.cfg, buf: buf, scratch: old.scratch[:0], path: old.path[:0], keys: old.keys, dig: old.dig}
	dec.err, dec.last = nil, nil
}

// Decode reads the next message into the value v points to. It returns
// io.EOF when the stream ends cleanly before a message.
//
// Decoding into an `any` gives: nil; bool; int64, or *big.Int when the
// integer does not fit; float64; string; []byte; []any; map[string]any
// for dicts whose keys are all unicode, map[any]any for other comparable
// keys and Dict otherwise; Set[any], or AnySet for sets of uncomparable
// items; *OrderedDict; time.Time (UTC); time.Duration, or Period when the
// timedelta has years or months; *Blob; Extension, or the Go value of a
// registered extension.
//
// Decoding into a typed value converts where it loses nothing: integers
// into any integer or float kind that holds them (overflow is an error),
// integral floats into integers, lists and sets into slices, arrays and
// Set, dicts and ordered dicts into maps and structs (keys match field
// names or `glyph` tags, then case-insensitively; unknown keys are
// ignored). A value that does not fit gives an *UnmarshalTypeError naming
// the field and byte offset; decoding continues and the first such error
// is returned. nil leaves non-nillable targets unchanged.
func (dec *Decoder) Decode(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &InvalidUnmarshalError{reflect.TypeOf(v)}
	}
	dec.mu.Lock()
	defer dec.mu.Unlock()
	if dec.err != nil {
		return dec.err
	}
	d := &dec.d
	if err := dec.finishPrevious(); err != nil {
		return err
	}
	d.typeErr, d.depth, d.path = nil, 0, d.path[:0]
	d.rootStart, d.wsOver = d.off(), false
	if !d.skipWS() {
		if d.wsOver {
			dec.err = d.eofErr("a value")
			return dec.err
		}
		if d.rerr == nil || errors.Is(d.rerr, io.EOF) {
			return io.EOF
		}
		dec.err = d.rerr
		return d.rerr
	}
	err := d.root(rv)
	d.dig.endMessage()
	if err == nil {
		err = d.checkRoot(0) // see unmarshal
	}
	if err != nil {
		dec.err = err
		return err
	}
	dec.last = d.msg
	if d.msg != nil && d.msg.done() {
		d.msg = nil
	}
	return d.typeErr
}

func (dec *Decoder) finishPrevious() error {
	m := dec.d.msg
	if m == nil {
		return nil
	}
	m.mu.Lock()
	err := m.finish()
	m.mu.Unlock()
	dec.d.msg = nil
	if err != nil {
		dec.err = err
	}
	return err
}

// Finish reads the rest of the current message's blob trailers, spooling
// blobs not yet read, and reports any error in them. Decode does this
// itself before the next message; Finish lets a caller check a message is
// complete without starting the next one.
func (dec *Decoder) Finish() error {
	dec.mu.Lock()
	defer dec.mu.Unlock()
	if dec.err != nil {
		return dec.err
	}
	return dec.finishPrevious()
}

// Buffered returns the input read from the stream but not yet decoded.
func (dec *Decoder) Buffered() io.Reader {
	dec.mu.Lock()
	defer dec.mu.Unlock()
	return &bufReader{b: dec.d.buf[dec.d.pos:]}
}

type bufReader struct{ b []byte }

func (r *bufReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// Close releases the blobs of the current message (their spool files and
// memory) and makes further Decode calls fail. It does not close the
// underlying reader.
func (dec *Decoder) Close() error {
	dec.mu.Lock()
	defer dec.mu.Unlock()
	dec.releaseMessage()
	dec.err = errDecoderClosed
	return nil
}

var errDecoderClosed = errors.New("glyph: decoder closed")

// releaseMessage releases the blobs of the current (or last complete)
// message: their memory and spool files.
func (dec *Decoder) releaseMessage() {
	m := dec.d.msg
	if m == nil {
		m = dec.last // complete, but its blobs may still hold spool files
	}
	if m == nil {
		return
	}
	m.mu.Lock()
	for _, b := range m.blobs {
		b.closed = true
		b.mem = nil
		b.releaseFile()
	}
	m.fail(errDecoderClosed)
	m.mu.Unlock()
}

// anyValue decodes the next value generically. Whitespace before it has
// been skipped.
func (d *decodeState) anyValue() (any, error) {
	c, err := d.next("a value")
	if err != nil {
		return nil, err
	}
	switch c {
	case 'N':
		return nil, d.singleton(c)
	case 'T':
		return true, d.singleton(c)
	case 'F':
		return false, d.singleton(c)
	case 'i':
		n, b, err := d.integer()
		if err != nil {
			return nil, err
		}
		if b != nil {
			return b, nil
		}
		return n, nil
	case 'u':
		b, err := d.unicode()
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case 'b':
		b, err := d.lenPrefixed("bytearray")
		if err != nil {
			return nil, err
		}
		return append([]byte{}, b...), nil
	case 'f':
		return d.floatValue()
	case 'd':
		return d.datetime()
	case 'p':
		p, err := d.period()
		if err != nil {
			return nil, err
		}
		if p.Years == 0 && p.Months == 0 {
			return p.Duration, nil
		}
		return p, nil
	case 'L':
		return d.list()
	case 'S':
		return d.set()
	case 'D':
		return d.dict()
	case 'O':
		return d.orderedDict()
	case 'X':
		ext, err := d.extension()
		if err != nil {
			return nil, err
		}
		v, err := d.registered(ext)
		if err != nil {
			// Decoded generically, the name's registered meaning is all
			// that says what the content must be: content that does not
			// fit it makes the message invalid.
			return nil, &SyntaxError{Offset: d.off(), Msg: err.Error()}
		}
		return v, nil
	case 'B':
		return d.blob()
	}
	d.pos--
	return nil, d.syntax("found %s, expected a type letter", quoteByte(c))
}

// registered returns what the decoder registered for ext's name makes of
// ext, or ext itself when none is registered or the config asks for raw
// extensions. The error, when the decoder refuses ext's content, names
// the extension.
func (d *decodeState) registered(ext Extension) (any, error) {
	dec := lookupExtension(ext.Name)
	if dec == nil || d.cfg.RawExtensions {
		return ext, nil
	}
	v, err := dec(ext)
	if err != nil {
		return nil, fmt.Errorf("extension %s: %w", ext.Name, err)
	}
	return v, nil
}

func (d *decodeState) datetime() (time.Time, error) {
	start := d.off() - 1
	tok, err := d.token("datetime")
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseDatetime(tok)
	if !ok {
		return time.Time{}, d.syntaxAt(start, "malformed datetime %q, expected YYYY-MM-DDTHH:MM:SS[.ffffff]Z", tok)
	}
	return t, nil
}

func (d *decodeState) period() (Period, error) {
	start := d.off() - 1
	tok, err := d.token("timedelta")
	if err != nil {
		return Period{}, err
	}
	p, ok := parsePeriod(tok)
	if !ok {
		return Period{}, d.syntaxAt(start, "malformed or out of range timedelta %q, expected an ISO 8601 period such as P0Y0M3DT2H0M0S", tok)
	}
	return p, nil
}

// items decodes the items of a list or set after its letter.
func (d *decodeState) items() ([]any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	var out []any
	for {
		if !d.skipWS() {
			return nil, d.eofErr("an item or ';'")
		}
		if d.buf[d.pos] == ';' {
			d.pos++
			break
		}
		if err := d.itemLimit(len(out) + 1); err != nil {
			return nil, err
		}
		v, err := d.anyValue()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	d.leave()
	return out, nil
}

func (d *decodeState) list() (any, error) {
	items, err := d.items()
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []any{}
	}
	return items, nil
}

func (d *decodeState) set() (any, error) {
	start := d.off() - 1
	items, err := d.items()
	if err != nil {
		return nil, err
	}
	if i := d.firstDup(items); i >= 0 {
		return nil, d.syntaxAt(start, "set has a duplicate item %s", describe(items[i]))
	}
	all := true
	for _, it := range items {
		if !hashable(it) {
			all = false
			break
		}
	}
	if !all {
		return AnySet{Items: items}, nil
	}
	s := make(Set[any], len(items))
	for _, it := range items {
		s[it] = struct{}{}
	}
	return s, nil
}

// entries decodes the entries of a dict or ordered dict after its letter.
func (d *decodeState) entries() ([]Entry, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	return d.moreEntries(nil)
}

// moreEntries decodes entries up to the closing ';' after those in out,
// which have distinct keys, and leaves the collection. It fails at the
// first key equal to an earlier one.
func (d *decodeState) moreEntries(out []Entry) ([]Entry, error) {
	dups := dupChecker{d: d}
	for _, e := range out {
		dups.add(e.Key)
	}
	for {
		if !d.skipWS() {
			return nil, d.eofErr("a key or ';'")
		}
		if d.buf[d.pos] == ';' {
			d.pos++
			break
		}
		if err := d.itemLimit(len(out) + 1); err != nil {
			return nil, err
		}
		keyOff := d.off()
		var k any
		var err error
		if d.buf[d.pos] == 'u' {
			// A unicode key, as anyValue would decode it, interned.
			d.pos++
			kb, uerr := d.unicode()
			if uerr != nil {
				return nil, uerr
			}
			k = d.internKey(kb)
		} else if k, err = d.anyValue(); err != nil {
			return nil, err
		}
		if err := d.valueAfterKey(); err != nil {
			return nil, err
		}
		v, err := d.anyValue()
		if err != nil {
			return nil, err
		}
		if dups.add(k) {
			return nil, d.syntaxAt(keyOff, "dict has a duplicate key %s", describe(k))
		}
		out = append(out, Entry{k, v})
	}
	d.leave()
	return out, nil
}

func (d *decodeState) dict() (any, error) {
	start := d.off() - 1
	if err := d.enter(); err != nil {
		return nil, err
	}
	// Most dicts have unicode keys only: build the map directly, and fall
	// back to entries when another key type appears.
	var m map[string]any
	var seenNFC map[string]struct{}
	n := 0
	for {
		if !d.skipWS() {
			return nil, d.eofErr("a key or ';'")
		}
		c := d.buf[d.pos]
		if c == ';' {
			d.pos++
			break
		}
		if c != 'u' {
			return d.dictFallback(start, m)
		}
		n++
		if err := d.itemLimit(n); err != nil {
			return nil, err
		}
		keyOff := d.off()
		d.pos++
		kb, err := d.unicode()
		if err != nil {
			return nil, err
		}
		key := d.intern(kb)
		if err := d.valueAfterKey(); err != nil {
			return nil, err
		}
		v, err := d.anyValue()
		if err != nil {
			return nil, err
		}
		if m == nil {
			m = make(map[string]any)
		}
		if _, dup := m[key]; dup {
			return nil, d.syntaxAt(keyOff, "dict has a duplicate key %s", describe(key))
		}
		// Keys equal after NFC are equal glyph values (they encode the
		// same): track normalised forms once a key is not in NFC.
		if nk := nfc(key); seenNFC != nil || nk != key {
			if seenNFC == nil {
				seenNFC = make(map[string]struct{}, len(m)+1)
				for k := range m {
					seenNFC[k] = struct{}{}
				}
			}
			if _, dup := seenNFC[nk]; dup {
				return nil, d.syntaxAt(keyOff, "dict has a duplicate key %s (equal after NFC normalisation)", describe(key))
			}
			seenNFC[nk] = struct{}{}
		}
		m[key] = v
	}
	d.leave()
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// intern returns b as a string, reusing the string of an earlier short key
// so that records with the same keys do not allocate them again.
func (d *decodeState) intern(b []byte) string {
	if len(b) > 32 {
		return string(b)
	}
	return d.internKey(b).(string)
}

// internKey is intern for a key held in an interface (an entry's key),
// which reuses the interface value too. Keys are immutable strings, so
// sharing them is invisible.
func (d *decodeState) internKey(b []byte) any {
	if len(b) > 32 {
		return string(b)
	}
	if k, ok := d.keys[string(b)]; ok {
		return k
	}
	s := string(b)
	var k any = s
	if d.keys == nil {
		d.keys = make(map[string]any)
	}
	if len(d.keys) < 256 {
		d.keys[s] = k
	}
	return k
}

// dictFallback finishes a dict whose keys are not all unicode; m holds the
// entries read so far.
func (d *decodeState) dictFallback(start int64, m map[string]any) (any, error) {
	entries := make([]Entry, 0, len(m)+1)
	for k, v := range m {
		entries = append(entries, Entry{k, v})
	}
	entries, err := d.moreEntries(entries)
	if err != nil {
		return nil, err
	}
	comparable := true
	for _, e := range entries {
		if !hashable(e.Key) {
			comparable = false
			break
		}
	}
	if comparable {
		out := make(map[any]any, len(entries))
		for _, e := range entries {
			out[e.Key] = e.Value
		}
		return out, nil
	}
	return Dict{Entries: entries}, nil
}

func (d *decodeState) orderedDict() (*OrderedDict, error) {
	entries, err := d.entries()
	if err != nil {
		return nil, err
	}
	return orderedFromEntries(entries), nil
}

func orderedFromEntries(entries []Entry) *OrderedDict {
	o := &OrderedDict{entries: entries}
	if len(entries) > orderedIndexThreshold {
		o.index = make(map[any]int, len(entries))
		for i, e := range entries {
			if hashable(e.Key) {
				o.index[e.Key] = i
			}
		}
	}
	return o
}

// extension decodes `X` name attrs content `;` after its letter.
func (d *decodeState) extension() (Extension, error) {
	if err := d.enter(); err != nil {
		return Extension{}, err
	}
	var ext Extension
	if !d.skipWS() {
		return ext, d.eofErr("an extension name")
	}
	if d.buf[d.pos] != 'u' {
		return ext, d.syntax("found %s, expected the extension name (unicode)", quoteByte(d.buf[d.pos]))
	}
	d.pos++
	name, err := d.unicode()
	if err != nil {
		return ext, err
	}
	ext.Name = string(name)
	if !d.skipWS() {
		return ext, d.eofErr("extension attributes")
	}
	switch d.buf[d.pos] {
	case 'D':
	case 'O':
		ext.Ordered = true
	default:
		return ext, d.syntax("found %s, expected extension attributes (a dict)", quoteByte(d.buf[d.pos]))
	}
	d.pos++
	entries, err := d.entries()
	if err != nil {
		return ext, err
	}
	ext.Attrs = orderedFromEntries(entries)
	if !d.skipWS() {
		return ext, d.eofErr("extension content")
	}
	if ext.Content, err = d.anyValue(); err != nil {
		return ext, err
	}
	if !d.skipWS() {
		return ext, d.eofErr("';' closing the extension")
	}
	if err := d.expect(';', "';' closing the extension"); err != nil {
		return ext, err
	}
	d.leave()
	return ext, nil
}

// blob decodes `B` id `:` attrs `;` after its letter and registers it with
// the message so its chunks can be read.
func (d *decodeState) blob() (*Blob, error) {
	start := d.off() - 1
	if d.noBlobs {
		return nil, d.syntaxAt(start, "blob in a value decoded by UnmarshalPrefix: its chunks would follow the whole message, which this value is only part of")
	}
	id, err := d.blobID("blob")
	if err != nil {
		return nil, err
	}
	if err := d.expect(':', "':' after blob id"); err != nil {
		return nil, err
	}
	c, err := d.next("blob attributes (a dict)")
	if err != nil {
		return nil, err
	}
	if c != 'D' && c != 'O' {
		d.pos--
		return nil, d.syntax("found %s, expected blob attributes (a dict)", quoteByte(c))
	}
	ct, attrs, bad, err := d.blobAttrs(start)
	if err != nil {
		return nil, err
	}
	if err := d.expect(';', "';' closing the blob"); err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, bad
	}
	if ct == "" {
		return nil, d.syntaxAt(start, "blob attributes lack content-type")
	}
	if d.msg == nil {
		d.msg = newMessage(d)
	}
	in, err := d.msg.add(id)
	if err != nil {
		if _, ok := err.(*LimitError); ok {
			return nil, err
		}
		return nil, d.syntaxAt(start, "%v", err)
	}
	in.closed = d.skipping > 0
	b := &in.blob
	b.ContentType, b.Attrs = ct, attrs
	return b, nil
}

// contentTypeKey is the content-type attribute key, boxed once.
var contentTypeKey any = "content-type"

// blobAttrs decodes the entries of a blob's attributes dict after its
// letter, as entries would, without keeping them: it returns the
// content-type and the other attributes. bad is the first entry a blob
// cannot have (a key that is not unicode, a content-type that is not),
// which the caller reports once it has read the blob, after the errors of
// the dict itself. start is the offset of the blob.
func (d *decodeState) blobAttrs(start int64) (ct string, attrs map[string]any, bad, err error) {
	if err := d.enter(); err != nil {
		return "", nil, nil, err
	}
	dups := dupChecker{d: d}
	for n := 1; ; n++ {
		if !d.skipWS() {
			return "", nil, nil, d.eofErr("a key or ';'")
		}
		if d.buf[d.pos] == ';' {
			d.pos++
			break
		}
		if err := d.itemLimit(n); err != nil {
			return "", nil, nil, err
		}
		keyOff := d.off()
		var k any
		if d.buf[d.pos] == 'u' {
			d.pos++
			kb, err := d.unicode()
			if err != nil {
				return "", nil, nil, err
			}
			if string(kb) == "content-type" {
				k = contentTypeKey
			} else {
				k = d.internKey(kb)
			}
		} else if k, err = d.anyValue(); err != nil {
			return "", nil, nil, err
		}
		if err := d.valueAfterKey(); err != nil {
			return "", nil, nil, err
		}
		ks, keyOK := k.(string)
		isCT := keyOK && ks == "content-type"
		if isCT && d.buf[d.pos] == 'u' {
			// The usual content-type: a string, never boxed.
			d.pos++
			vb, err := d.unicode()
			if err != nil {
				return "", nil, nil, err
			}
			ct = string(vb)
		} else {
			v, err := d.anyValue()
			if err != nil {
				return "", nil, nil, err
			}
			switch {
			case bad != nil:
			case !keyOK:
				bad = d.syntaxAt(start, "blob attribute key %s is not unicode", describe(k))
			case isCT:
				if ct, keyOK = v.(string); !keyOK {
					bad = d.syntaxAt(start, "blob content-type is %s, expected unicode", TypeName(v))
				}
			default:
				if attrs == nil {
					attrs = map[string]any{}
				}
				attrs[ks] = v
			}
		}
		if dups.add(k) {
			return "", nil, nil, d.syntaxAt(keyOff, "dict has a duplicate key %s", describe(k))
		}
	}
	d.leave()
	return ct, attrs, bad, nil
}

// describe renders a value briefly for an error message.
func describe(v any) string {
	s := fmt.Sprintf("%v", v)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return fmt.Sprintf("%s %q", TypeName(v), s)
}
