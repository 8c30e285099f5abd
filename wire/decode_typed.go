package wire

import (
	"math"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"time"
)

// decoderFunc decodes the value whose type letter is next in the input
// (whitespace already skipped) into v, which is settable. It returns only
// errors that end decoding (syntax, limits, I/O); a value that does not fit
// v is recorded in d.typeErr and skipped.
type decoderFunc func(d *decodeState, v reflect.Value) error

var (
	decCache        sync.Map // reflect.Type → decoderFunc
	timeType        = reflect.TypeFor[time.Time]()
	durationType    = reflect.TypeFor[time.Duration]()
	periodType      = reflect.TypeFor[Period]()
	bigIntType      = reflect.TypeFor[big.Int]()
	extensionType   = reflect.TypeFor[Extension]()
	orderedDictType = reflect.TypeFor[OrderedDict]()
	dictType        = reflect.TypeFor[Dict]()
	anySetType      = reflect.TypeFor[AnySet]()
	blobType        = reflect.TypeFor[Blob]()
	blobPtrType     = reflect.TypeFor[*Blob]()
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
	marshalerType   = reflect.TypeFor[Marshaler]()
	setMarkerType   = reflect.TypeFor[setMarker]()
)

func decoderFor(t reflect.Type) decoderFunc {
	if f, ok := decCache.Load(t); ok {
		return f.(decoderFunc)
	}
	// Recursive types: store an indirection first, then the real decoder.
	var (
		wg sync.WaitGroup
		f  decoderFunc
	)
	wg.Add(1)
	fi, loaded := decCache.LoadOrStore(t, decoderFunc(func(d *decodeState, v reflect.Value) error {
		wg.Wait()
		return f(d, v)
	}))
	if loaded {
		return fi.(decoderFunc)
	}
	f = newDecoder(t)
	wg.Done()
	decCache.Store(t, f)
	return f
}

func newDecoder(t reflect.Type) decoderFunc {
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(unmarshalerType) {
		return unmarshalerDecoder
	}
	switch t {
	case blobPtrType:
		return blobDecoder
	case timeType:
		return timeDecoder
	case durationType:
		return durationDecoder
	case periodType:
		return periodDecoder
	case bigIntType:
		return bigIntDecoder
	case extensionType:
		return extensionDecoder
	case orderedDictType:
		return orderedDictDecoder
	case dictType:
		return dictDecoder
	case anySetType:
		return anySetDecoder
	}
	if t.Kind() == reflect.Map && t.Implements(setMarkerType) {
		return newSetDecoder(t)
	}
	switch t.Kind() {
	case reflect.Bool:
		return boolDecoder
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intDecoder
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintDecoder
	case reflect.Float32, reflect.Float64:
		return floatDecoder
	case reflect.String:
		return stringDecoder
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return newByteSliceDecoder(t)
		}
		return newSliceDecoder(t)
	case reflect.Array:
		return newArrayDecoder(t)
	case reflect.Map:
		return newMapDecoder(t)
	case reflect.Struct:
		return newStructDecoder(t)
	case reflect.Pointer:
		return newPtrDecoder(t)
	case reflect.Interface:
		return interfaceDecoder
	}
	return func(d *decodeState, v reflect.Value) error {
		return d.mismatch(v.Type(), "unsupported Go type")
	}
}

// letter returns the next type letter without consuming it.
func (d *decodeState) letter() byte { return d.buf[d.pos] }

// typeError records the first type error; it does not consume input.
func (d *decodeState) typeError(letter byte, off int64, t reflect.Type, reason string) {
	d.typeErrs++
	d.lastTypeErrOff = off
	if d.typeErr != nil {
		return
	}
	field := ""
	if len(d.path) > 0 {
		field = strings.Join(d.path, ".")
	}
	d.typeErr = &UnmarshalTypeError{Value: letterName(letter), Type: t, Field: field, Offset: off, Reason: reason}
}

// mismatch records a type error for the next value and skips it.
func (d *decodeState) mismatch(t reflect.Type, reason string) error {
	d.typeError(d.letter(), d.off(), t, reason)
	return d.skip()
}

// skip reads and discards the next value; blobs in it are discarded too.
func (d *decodeState) skip() error {
	d.skipping++
	_, err := d.anyValue()
	d.skipping--
	return err
}

// nilValue consumes `N;` if it is next and reports whether it did.
func (d *decodeState) nilValue() (bool, error) {
	if d.letter() != 'N' {
		return false, nil
	}
	d.pos++
	return true, d.singleton('N')
}

func unmarshalerDecoder(d *decodeState, v reflect.Value) error {
	c, off := d.letter(), d.off()
	var val any
	if c == 'X' {
		// The extension is read here rather than by anyValue: it is
		// well formed, and if its registered decoder refuses its content,
		// that is v's type not taking it, a type error (decoding carries
		// on), not an invalid message.
		d.pos++
		ext, err := d.extension()
		if err != nil {
			return err
		}
		if val, err = d.registered(ext); err != nil {
			d.typeError(c, off, v.Type(), err.Error())
			return nil
		}
	} else {
		var err error
		if val, err = d.anyValue(); err != nil {
			return err
		}
	}
	if val != nil && reflect.TypeOf(val).AssignableTo(v.Type()) {
		v.Set(reflect.ValueOf(val))
		return nil
	}
	if err := v.Addr().Interface().(Unmarshaler).UnmarshalGlyph(val); err != nil {
		d.typeError(c, off, v.Type(), err.Error())
	}
	return nil
}

func boolDecoder(d *decodeState, v reflect.Value) error {
	switch c := d.letter(); c {
	case 'T', 'F':
		d.pos++
		if err := d.singleton(c); err != nil {
			return err
		}
		v.SetBool(c == 'T')
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func intDecoder(d *decodeState, v reflect.Value) error {
	c, off := d.letter(), d.off()
	switch c {
	case 'i':
		d.pos++
		n, b, err := d.integer()
		if err != nil {
			return err
		}
		if b != nil || v.OverflowInt(n) {
			d.typeError(c, off, v.Type(), "integer overflows "+v.Type().String())
			return nil
		}
		v.SetInt(n)
		return nil
	case 'f':
		d.pos++
		f, err := d.floatValue()
		if err != nil {
			return err
		}
		if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 || v.OverflowInt(int64(f)) {
			d.typeError(c, off, v.Type(), "float is not an integer in range")
			return nil
		}
		v.SetInt(int64(f))
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func uintDecoder(d *decodeState, v reflect.Value) error {
	c, off := d.letter(), d.off()
	switch c {
	case 'i':
		d.pos++
		n, b, err := d.integer()
		if err != nil {
			return err
		}
		var u uint64
		switch {
		case b != nil && b.IsUint64():
			u = b.Uint64()
		case b == nil && n >= 0:
			u = uint64(n)
		default:
			d.typeError(c, off, v.Type(), "integer out of range for "+v.Type().String())
			return nil
		}
		if v.OverflowUint(u) {
			d.typeError(c, off, v.Type(), "integer overflows "+v.Type().String())
			return nil
		}
		v.SetUint(u)
		return nil
	case 'f':
		d.pos++
		f, err := d.floatValue()
		if err != nil {
			return err
		}
		if f != math.Trunc(f) || f < 0 || f >= 1<<64 || v.OverflowUint(uint64(f)) {
			d.typeError(c, off, v.Type(), "float is not an integer in range")
			return nil
		}
		v.SetUint(uint64(f))
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func floatDecoder(d *decodeState, v reflect.Value) error {
	c := d.letter()
	switch c {
	case 'f':
		off := d.off()
		d.pos++
		f, err := d.floatValue()
		if err != nil {
			return err
		}
		if v.Kind() == reflect.Float32 && !math.IsInf(f, 0) && v.OverflowFloat(f) {
			d.typeError(c, off, v.Type(), "float overflows float32")
			return nil
		}
		v.SetFloat(f)
		return nil
	case 'i':
		off := d.off()
		d.pos++
		n, b, err := d.integer()
		if err != nil {
			return err
		}
		if b == nil {
			b = new(big.Int).SetInt64(n)
		}
		// Only integers the float holds exactly: a silently rounded
		// integer is a different number.
		bf := new(big.Float).SetInt(b)
		var exact bool
		var f float64
		if v.Kind() == reflect.Float32 {
			f32, acc := bf.Float32()
			f, exact = float64(f32), acc == big.Exact && !math.IsInf(f, 0)
		} else {
			var acc big.Accuracy
			f, acc = bf.Float64()
			exact = acc == big.Exact && !math.IsInf(f, 0)
		}
		if !exact {
			d.typeError(c, off, v.Type(), "integer is not exactly representable")
			return nil
		}
		v.SetFloat(f)
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func stringDecoder(d *decodeState, v reflect.Value) error {
	switch d.letter() {
	case 'u':
		d.pos++
		b, err := d.unicode()
		if err != nil {
			return err
		}
		if v.Len() == len(b) && v.String() == string(b) {
			return nil
		}
		v.SetString(string(b))
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func newByteSliceDecoder(t reflect.Type) decoderFunc {
	list := newSliceDecoder(t)
	return func(d *decodeState, v reflect.Value) error {
		switch d.letter() {
		case 'b':
			d.pos++
			b, err := d.lenPrefixed("bytearray")
			if err != nil {
				return err
			}
			out := v.Bytes()[:0]
			if v.IsNil() {
				out = make([]byte, 0, len(b))
			}
			v.SetBytes(append(out, b...))
			return nil
		case 'N':
			d.pos++
			v.SetZero()
			return d.singleton('N')
		case 'L':
			return list(d, v)
		}
		return d.mismatch(v.Type(), "")
	}
}

// collection iterates over the items of a list or set whose letter is
// next, calling item for each with whitespace skipped.
func (d *decodeState) collection(item func(i int) error) error {
	d.pos++
	if err := d.enter(); err != nil {
		return err
	}
	for i := 0; ; i++ {
		if !d.skipWS() {
			return d.eofErr("an item or ';'")
		}
		if d.buf[d.pos] == ';' {
			d.pos++
			break
		}
		if err := d.itemLimit(i + 1); err != nil {
			return err
		}
		if err := item(i); err != nil {
			return err
		}
	}
	d.leave()
	return nil
}

func newSliceDecoder(t reflect.Type) decoderFunc {
	elem := t.Elem()
	reuse := reusable(elem)
	// Growing a slice ahead of its items is bounded to 1 MiB of elements.
	maxPrealloc := max(4, (1<<20)/max(1, int(elem.Size())))
	var elemDec decoderFunc
	var once sync.Once
	return func(d *decodeState, v reflect.Value) error {
		once.Do(func() { elemDec = decoderFor(elem) })
		c, off := d.letter(), d.off()
		switch c {
		case 'N':
			d.pos++
			v.SetZero()
			return d.singleton('N')
		case 'L', 'S':
		default:
			return d.mismatch(v.Type(), "")
		}
		d.dig.forget(v)
		n := 0
		oldCap := v.Cap() // elements below it may hold an earlier value
		start := d.off()
		err := d.collection(func(i int) error {
			if i >= v.Cap() {
				v.SetLen(i)
				v.Grow(max(4, v.Cap(), d.estimateItems(i, start, maxPrealloc)-i))
			}
			if i >= v.Len() {
				v.SetLen(i + 1)
			}
			n = i + 1
			ev := v.Index(i)
			if i >= oldCap {
				return elemDec(d, ev) // a new, zero element
			}
			return d.decodeFresh(ev, elemDec, reuse)
		})
		if err != nil {
			return err
		}
		if n == 0 && v.IsNil() {
			v.Set(reflect.MakeSlice(t, 0, 0))
		}
		v.SetLen(n)
		if c == 'S' {
			return d.checkSetDups(v, off)
		}
		return nil
	}
}

// checkSetDups rejects a set decoded into a slice or array that holds
// equal items.
func (d *decodeState) checkSetDups(v reflect.Value, off int64) error {
	items := make([]any, v.Len())
	for i := range items {
		items[i] = v.Index(i).Interface()
	}
	if i := d.firstDup(items); i >= 0 {
		return d.syntaxAt(off, "set has a duplicate item %s", describe(items[i]))
	}
	return nil
}

func newArrayDecoder(t reflect.Type) decoderFunc {
	elem := t.Elem()
	reuse := reusable(elem)
	var elemDec decoderFunc
	var once sync.Once
	return func(d *decodeState, v reflect.Value) error {
		once.Do(func() { elemDec = decoderFor(elem) })
		c, off := d.letter(), d.off()
		if c == 'b' && elem.Kind() == reflect.Uint8 {
			d.pos++
			b, err := d.lenPrefixed("bytearray")
			if err != nil {
				return err
			}
			if len(b) != v.Len() {
				d.typeError(c, off, v.Type(), "length differs")
				return nil
			}
			reflect.Copy(v, reflect.ValueOf(b))
			return nil
		}
		switch c {
		case 'N':
			_, err := d.nilValue()
			return err
		case 'L', 'S':
		default:
			return d.mismatch(v.Type(), "")
		}
		n := 0
		err := d.collection(func(i int) error {
			n = i + 1
			if i >= v.Len() {
				return d.skip()
			}
			if d.fresh {
				return d.decodeFresh(v.Index(i), elemDec, reuse)
			}
			return elemDec(d, v.Index(i))
		})
		if err != nil {
			return err
		}
		if n != v.Len() {
			d.typeError(c, off, v.Type(), "list has "+itoa(n)+" items")
		}
		if c == 'S' {
			return d.checkSetDups(v, off)
		}
		return nil
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// dictEntries iterates over the entries of a dict or ordered dict whose
// letter is next; key and value are called with whitespace skipped.
func (d *decodeState) dictEntries(key func(i int) error, value func(i int) error) error {
	d.pos++
	if err := d.enter(); err != nil {
		return err
	}
	for i := 0; ; i++ {
		if !d.skipWS() {
			return d.eofErr("a key or ';'")
		}
		if d.buf[d.pos] == ';' {
			d.pos++
			break
		}
		if err := d.itemLimit(i + 1); err != nil {
			return err
		}
		if err := key(i); err != nil {
			return err
		}
		if err := d.valueAfterKey(); err != nil {
			return err
		}
		if err := value(i); err != nil {
			return err
		}
	}
	d.leave()
	return nil
}

func newMapDecoder(t reflect.Type) decoderFunc {
	kt, et := t.Key(), t.Elem()
	var keyDec, elemDec decoderFunc
	var once sync.Once
	anyKey := kt.Kind() == reflect.Interface
	return func(d *decodeState, v reflect.Value) error {
		once.Do(func() { keyDec, elemDec = decoderFor(kt), decoderFor(et) })
		c, start := d.letter(), d.off()
		switch c {
		case 'N':
			d.pos++
			v.SetZero()
			return d.singleton('N')
		case 'D', 'O':
		default:
			return d.mismatch(v.Type(), "")
		}
		d.dig.forget(v)
		target := v
		if v.IsNil() || v.Len() > 0 {
			target = reflect.MakeMap(t)
		}
		kv := reflect.New(kt).Elem()
		ev := reflect.New(et).Elem()
		var seenNFC map[string]struct{}
		keyOK := true
		keyOff := int64(0)
		err := d.dictEntries(func(int) error {
			kv.SetZero()
			keyOK = true
			keyOff = d.off()
			if anyKey {
				letter := d.letter()
				k, err := d.anyValue()
				if err != nil {
					return err
				}
				if !hashable(k) {
					keyOK = false
					d.typeError(letter, keyOff, kt, "dict key "+TypeName(k)+" cannot be a Go map key")
					return nil
				}
				if k != nil {
					kv.Set(reflect.ValueOf(k))
				}
				return nil
			}
			before := d.typeErr
			if err := keyDec(d, kv); err != nil {
				return err
			}
			keyOK = d.typeErr == before
			return nil
		}, func(int) error {
			if !keyOK {
				return d.skip()
			}
			ev.SetZero()
			if err := elemDec(d, ev); err != nil {
				return err
			}
			if target.MapIndex(kv).IsValid() || nfcDup(&seenNFC, target, kv) {
				return d.syntaxAt(keyOff, "dict has a duplicate key")
			}
			target.SetMapIndex(kv, ev)
			return nil
		})
		if err != nil {
			return err
		}
		if target != v {
			if v.IsNil() {
				v.Set(target)
			} else {
				it := target.MapRange()
				for it.Next() {
					v.SetMapIndex(it.Key(), it.Value())
				}
			}
		}
		_ = start
		return nil
	}
}

func newSetDecoder(t reflect.Type) decoderFunc {
	kt := t.Key()
	var keyDec decoderFunc
	var once sync.Once
	present := reflect.New(t.Elem()).Elem()
	return func(d *decodeState, v reflect.Value) error {
		once.Do(func() { keyDec = decoderFor(kt) })
		c := d.letter()
		switch c {
		case 'N':
			d.pos++
			v.SetZero()
			return d.singleton('N')
		case 'S', 'L':
		default:
			return d.mismatch(v.Type(), "")
		}
		d.dig.forget(v)
		target := reflect.MakeMap(t)
		kv := reflect.New(kt).Elem()
		var seenNFC map[string]struct{}
		err := d.collection(func(int) error {
			kv.SetZero()
			off := d.off()
			before := d.typeErr
			if kt.Kind() == reflect.Interface {
				letter := d.letter()
				k, err := d.anyValue()
				if err != nil {
					return err
				}
				if !hashable(k) {
					d.typeError(letter, off, kt, "set item "+TypeName(k)+" cannot be a Go map key")
					return nil
				}
				if k != nil {
					kv.Set(reflect.ValueOf(k))
				}
			} else if err := keyDec(d, kv); err != nil {
				return err
			}
			if d.typeErr != before {
				return nil
			}
			if target.MapIndex(kv).IsValid() || nfcDup(&seenNFC, target, kv) {
				if c == 'S' {
					return d.syntaxAt(off, "set has a duplicate item")
				}
				return nil // a list into a set: equal items merge
			}
			target.SetMapIndex(kv, present)
			return nil
		})
		if err != nil {
			return err
		}
		if v.IsNil() {
			v.Set(target)
		} else {
			it := target.MapRange()
			for it.Next() {
				v.SetMapIndex(it.Key(), it.Value())
			}
		}
		return nil
	}
}

func newStructDecoder(t reflect.Type) decoderFunc {
	si := structInfoFor(t)
	name := t.Name()
	return func(d *decodeState, v reflect.Value) error {
		si.codecs()
		switch d.letter() {
		case 'N':
			_, err := d.nilValue()
			return err
		case 'D', 'O':
		default:
			return d.mismatch(v.Type(), "")
		}
		pushed := 0
		if len(d.path) == 0 && name != "" { // no ".Field" for anonymous structs
			d.path = append(d.path, name)
			pushed = 1
		}
		var err error
		if d.fresh && !si.flat {
			// Promoted fields behind embedded pointers: start from zero.
			v.SetZero()
			d.fresh = false
			err = si.decodeEntries(d, v)
			d.fresh = true
		} else {
			err = si.decodeEntries(d, v)
		}
		d.path = d.path[:len(d.path)-pushed]
		return err
	}
}

// fieldSet is a set of field indexes: a word for the first 64 fields, a
// slice, made at first use, beyond.
type fieldSet struct {
	small uint64
	big   []bool
}

// add adds field fi of n and reports whether it was there already.
func (s *fieldSet) add(fi, n int) (had bool) {
	if fi < 64 {
		had = s.small&(1<<fi) != 0
		s.small |= 1 << fi
		return had
	}
	if s.big == nil {
		s.big = make([]bool, n)
	}
	had = s.big[fi]
	s.big[fi] = true
	return had
}

func (s *fieldSet) has(fi int) bool {
	if fi < 64 {
		return s.small&(1<<fi) != 0
	}
	return s.big != nil && s.big[fi]
}

// entriesState is what decoding one dict into a struct keeps track of.
type entriesState struct {
	seen    fieldSet            // fields whose exact name came
	done    fieldSet            // fields decoded, under any spelling (fresh mode)
	unknown map[string]struct{} // other keys, for duplicates
	guess   int                 // the field expected next: our encoder sends them in order
}

// decodeEntries decodes the entries of a dict into the fields of v.
func (si *structInfo) decodeEntries(d *decodeState, v reflect.Value) error {
	d.pos++
	if err := d.enter(); err != nil {
		return err
	}
	var st entriesState
	for i := 0; ; i++ {
		if !d.skipWS() {
			return d.eofErr("a key or ';'")
		}
		if d.buf[d.pos] == ';' {
			d.pos++
			break
		}
		if err := d.itemLimit(i + 1); err != nil {
			return err
		}
		fi, err := si.entryField(d, &st)
		if err != nil {
			return err
		}
		if err := d.valueAfterKey(); err != nil {
			return err
		}
		if fi < 0 {
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		if err := si.decodeField(d, v, fi, &st); err != nil {
			return err
		}
	}
	if d.fresh {
		si.zeroMissing(v, &st.done)
	}
	d.leave()
	return nil
}

// entryField reads an entry's key and returns the index of the field it
// names, or -1 for a key that names none (skipped, as a key that is not
// a string is). A key given twice is a syntax error.
func (si *structInfo) entryField(d *decodeState, st *entriesState) (int, error) {
	keyOff := d.off()
	if d.buf[d.pos] != 'u' {
		return -1, d.skip()
	}
	d.pos++
	key, err := d.unicode()
	if err != nil {
		return -1, err
	}
	fi := -1
	if st.guess < len(si.fields) && string(key) == si.fields[st.guess].name {
		fi = st.guess
	} else {
		fi = si.lookup(key)
	}
	if fi < 0 || string(key) != si.fields[fi].name {
		// Unknown keys, and keys that match a field only
		// case-insensitively: only an exact repeat is a duplicate; other
		// spellings of a field are distinct keys and the last one wins.
		if st.unknown == nil {
			st.unknown = make(map[string]struct{})
		}
		if _, dup := st.unknown[string(key)]; dup {
			return -1, d.syntaxAt(keyOff, "dict has a duplicate key %q", key)
		}
		st.unknown[string(key)] = struct{}{}
		return fi, nil
	}
	st.guess = fi + 1
	if st.seen.add(fi, len(si.fields)) {
		return -1, d.syntaxAt(keyOff, "dict has a duplicate key %q", key)
	}
	return fi, nil
}

// decodeField decodes the value of an entry into field fi of v.
func (si *structInfo) decodeField(d *decodeState, v reflect.Value, fi int, st *entriesState) error {
	f := &si.fields[fi]
	var fv reflect.Value
	if len(f.index) == 1 {
		fv = v.Field(f.index[0])
	} else {
		var ok bool
		if fv, ok = fieldForWrite(v, f.index); !ok {
			return d.mismatch(f.typ, "embedded pointer to unexported struct")
		}
	}
	d.path = append(d.path, f.name)
	var err error
	if d.fresh {
		st.done.add(fi, len(si.fields))
		err = d.decodeFresh(fv, si.dec[fi], si.reuse[fi])
	} else {
		err = si.dec[fi](d, fv)
	}
	d.path = d.path[:len(d.path)-1]
	return err
}

// zeroMissing zeroes the fields of v not in done: as if the dict had been
// decoded into a zero struct, fields it lacks are zero.
func (si *structInfo) zeroMissing(v reflect.Value, done *fieldSet) {
	for fi := range si.fields {
		if !done.has(fi) {
			v.Field(si.fields[fi].index[0]).SetZero()
		}
	}
}

// fieldForWrite returns the field at index, allocating embedded pointers.
func fieldForWrite(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func newPtrDecoder(t reflect.Type) decoderFunc {
	elem := t.Elem()
	var elemDec decoderFunc
	var once sync.Once
	return func(d *decodeState, v reflect.Value) error {
		once.Do(func() { elemDec = decoderFor(elem) })
		if d.letter() == 'N' {
			d.pos++
			v.SetZero()
			return d.singleton('N')
		}
		if v.IsNil() {
			v.Set(reflect.New(elem))
		}
		return elemDec(d, v.Elem())
	}
}

func interfaceDecoder(d *decodeState, v reflect.Value) error {
	c, off := d.letter(), d.off()
	val, err := d.anyValue()
	if err != nil {
		return err
	}
	if val == nil {
		v.SetZero()
		return nil
	}
	rv := reflect.ValueOf(val)
	if !rv.Type().AssignableTo(v.Type()) {
		d.typeError(c, off, v.Type(), "")
		return nil
	}
	v.Set(rv)
	return nil
}

func blobDecoder(d *decodeState, v reflect.Value) error {
	switch d.letter() {
	case 'B':
		d.pos++
		b, err := d.blob()
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(b))
		return nil
	case 'N':
		d.pos++
		v.SetZero()
		return d.singleton('N')
	}
	return d.mismatch(v.Type(), "")
}

func timeDecoder(d *decodeState, v reflect.Value) error {
	switch d.letter() {
	case 'd':
		d.pos++
		t, err := d.datetime()
		if err != nil {
			return err
		}
		*v.Addr().Interface().(*time.Time) = t
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func durationDecoder(d *decodeState, v reflect.Value) error {
	c, off := d.letter(), d.off()
	switch c {
	case 'p':
		d.pos++
		p, err := d.period()
		if err != nil {
			return err
		}
		if p.Years != 0 || p.Months != 0 {
			d.typeError(c, off, v.Type(), "timedelta has years or months; decode into wire.Period")
			return nil
		}
		v.SetInt(int64(p.Duration))
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func periodDecoder(d *decodeState, v reflect.Value) error {
	switch d.letter() {
	case 'p':
		d.pos++
		p, err := d.period()
		if err != nil {
			return err
		}
		*v.Addr().Interface().(*Period) = p
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func bigIntDecoder(d *decodeState, v reflect.Value) error {
	switch d.letter() {
	case 'i':
		d.pos++
		n, b, err := d.integer()
		if err != nil {
			return err
		}
		bi := v.Addr().Interface().(*big.Int)
		if b != nil {
			bi.Set(b)
		} else {
			bi.SetInt64(n)
		}
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func extensionDecoder(d *decodeState, v reflect.Value) error {
	switch d.letter() {
	case 'X':
		d.pos++
		ext, err := d.extension()
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(ext))
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func orderedDictDecoder(d *decodeState, v reflect.Value) error {
	switch d.letter() {
	case 'D', 'O':
		d.pos++
		entries, err := d.entries()
		if err != nil {
			return err
		}
		o := v.Addr().Interface().(*OrderedDict)
		*o = *orderedFromEntries(entries)
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func dictDecoder(d *decodeState, v reflect.Value) error {
	switch d.letter() {
	case 'D', 'O':
		d.pos++
		entries, err := d.entries()
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(Dict{Entries: entries}))
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

func anySetDecoder(d *decodeState, v reflect.Value) error {
	c, off := d.letter(), d.off()
	switch c {
	case 'S', 'L':
		d.pos++
		items, err := d.items()
		if err != nil {
			return err
		}
		if c == 'S' {
			if i := d.firstDup(items); i >= 0 {
				return d.syntaxAt(off, "set has a duplicate item %s", describe(items[i]))
			}
		}
		v.Set(reflect.ValueOf(AnySet{Items: items}))
		return nil
	case 'N':
		_, err := d.nilValue()
		return err
	}
	return d.mismatch(v.Type(), "")
}

// nfcDup reports whether the string key kv equals, after NFC
// normalisation, a key already in target (such keys encode the same). It
// tracks normalised forms in *seen once a key not in NFC appears.
func nfcDup(seen *map[string]struct{}, target, kv reflect.Value) bool {
	kv = unwrapInterface(kv) // map[any]T and Set[any] hold strings too
	if kv.Kind() != reflect.String {
		return false
	}
	key := kv.String()
	nk := nfc(key)
	if *seen == nil {
		if nk == key {
			return false
		}
		*seen = make(map[string]struct{}, target.Len()+1)
		for it := target.MapRange(); it.Next(); {
			if k := unwrapInterface(it.Key()); k.Kind() == reflect.String {
				(*seen)[k.String()] = struct{}{}
			}
		}
	}
	if _, dup := (*seen)[nk]; dup {
		return true
	}
	(*seen)[nk] = struct{}{}
	return false
}

// unwrapInterface returns the value held by an interface value.
func unwrapInterface(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Interface && !v.IsNil() {
		return v.Elem()
	}
	return v
}

// decodeFresh decodes into v, which may hold an earlier value, the value
// that decoding into a zero v would give. Where the decoder overwrites
// every part of v anyway (reusable types, in fresh mode: structs zero the
// fields the dict lacks), v's memory is reused, so a reused slice of
// records does not allocate its strings and slices again; otherwise v is
// zeroed first.
func (d *decodeState) decodeFresh(v reflect.Value, dec decoderFunc, reuse bool) error {
	if !reuse || d.letter() == 'N' {
		v.SetZero()
		return dec(d, v)
	}
	saved, before, off := d.fresh, d.typeErrs, d.off()
	d.fresh = true
	err := dec(d, v)
	d.fresh = saved
	// A value that did not fit is left as a zero target leaves it;
	// errors further in were handled at their own level.
	if d.typeErrs != before && d.lastTypeErrOff == off {
		v.SetZero()
	}
	return err
}

// reusable reports whether the decoder of t, in fresh mode, leaves no
// trace of an earlier value (nil aside, which decodeFresh handles).
func reusable(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Slice, reflect.Array:
		return true
	case reflect.Struct:
		return true
	}
	return false
}

// estimateItems guesses how many items a list that started at start will
// hold once it has n, from the average size of those n and the input
// already buffered after them, capped at limit: lists carry no count, and
// growing in one step instead of doubling saves allocations.
func (d *decodeState) estimateItems(n int, start int64, limit int) int {
	used := d.off() - start
	if n == 0 || used <= 0 {
		return 0
	}
	per := used / int64(n)
	rest := int64(len(d.buf) - d.pos)
	est := int64(n) + rest/max(per, 1) + 1
	return int(min(est, int64(limit), int64(d.lim.MaxItems)))
}
