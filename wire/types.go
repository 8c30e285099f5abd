package wire

import (
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"time"
)

// Set is a glyph set of comparable Go values. It encodes as `S...;` with
// its items in canonical order. A set whose items cannot be Go map keys
// (lists, dicts, byte strings, big integers) decodes into an AnySet instead.
type Set[T comparable] map[T]struct{}

// NewSet returns a set holding items.
func NewSet[T comparable](items ...T) Set[T] {
	s := make(Set[T], len(items))
	for _, it := range items {
		s[it] = struct{}{}
	}
	return s
}

// Add puts item into the set.
func (s Set[T]) Add(item T) { s[item] = struct{}{} }

// Has reports whether item is in the set.
func (s Set[T]) Has(item T) bool { _, ok := s[item]; return ok }

func (Set[T]) glyphSet() {}

// setMarker is implemented by every Set[T] instantiation, so that the
// reflection-driven encoder can tell a Set from an ordinary map.
type setMarker interface{ glyphSet() }

// AnySet is a glyph set whose items need not be comparable Go values. The
// decoder produces it, when decoding into any, for sets holding lists,
// dicts, byte strings or big integers. Items are kept in wire order; the
// encoder sorts them.
type AnySet struct {
	Items []any
}

// Entry is one key/value pair of a Dict or OrderedDict.
type Entry struct {
	Key   any
	Value any
}

// Dict is a glyph dict with arbitrary keys, including the ones a Go map
// cannot hold (lists, dicts, byte strings, big integers). Decoding into any
// yields a Dict only when a plain Go map cannot represent the keys. Entries
// are kept in wire order; the encoder sorts them canonically.
type Dict struct {
	Entries []Entry
}

// Get returns the value stored under a key that is equal to key (compared
// by canonical encoding) and whether it was found.
func (d *Dict) Get(key any) (any, bool) {
	return lookupEntries(d.Entries, key)
}

// OrderedDict is a glyph ordered dict: a dict that keeps insertion order on
// the wire (`O...;`). Keys may be any glyph value. The zero value is an
// empty ordered dict ready to use.
type OrderedDict struct {
	entries []Entry
	// index maps comparable keys to their position; nil until the dict
	// holds more than a few entries.
	index map[any]int
}

// NewOrderedDict returns an ordered dict holding the given pairs, which
// alternate key, value.
func NewOrderedDict(pairs ...any) *OrderedDict {
	if len(pairs)%2 != 0 {
		panic("wire.NewOrderedDict: odd number of arguments")
	}
	o := &OrderedDict{}
	for i := 0; i < len(pairs); i += 2 {
		o.Set(pairs[i], pairs[i+1])
	}
	return o
}

// Len returns the number of entries.
func (o *OrderedDict) Len() int {
	if o == nil {
		return 0
	}
	return len(o.entries)
}

// Entries returns the entries in insertion order. The slice must not be
// modified.
func (o *OrderedDict) Entries() []Entry {
	if o == nil {
		return nil
	}
	return o.entries
}

// Keys returns the keys in insertion order.
func (o *OrderedDict) Keys() []any {
	if o == nil {
		return nil
	}
	keys := make([]any, len(o.entries))
	for i, e := range o.entries {
		keys[i] = e.Key
	}
	return keys
}

const orderedIndexThreshold = 8

func (o *OrderedDict) find(key any) int {
	if o == nil {
		return -1
	}
	key = normKey(key)
	if hashable(key) {
		if o.index != nil {
			if i, ok := o.index[key]; ok {
				return i
			}
			return -1
		}
		for i, e := range o.entries {
			if hashable(e.Key) && e.Key == key {
				return i
			}
		}
		return -1
	}
	kb, err := canonicalKey(key)
	if err != nil {
		return -1
	}
	for i, e := range o.entries {
		if hashable(e.Key) {
			continue
		}
		if eb, err := canonicalKey(e.Key); err == nil && string(eb) == string(kb) {
			return i
		}
	}
	return -1
}

// normKey widens Go integer and float kinds to int64 and float64, the types
// the decoder produces, so that keys set by Go code match decoded keys.
func normKey(k any) any {
	switch k := k.(type) {
	case int:
		return int64(k)
	case int8:
		return int64(k)
	case int16:
		return int64(k)
	case int32:
		return int64(k)
	case uint8:
		return int64(k)
	case uint16:
		return int64(k)
	case uint32:
		return int64(k)
	case uint:
		if uint64(k) <= 1<<63-1 {
			return int64(k)
		}
	case uint64:
		if k <= 1<<63-1 {
			return int64(k)
		}
	case float32:
		return float64(k)
	}
	return k
}

// Get returns the value stored under key and whether it was present.
func (o *OrderedDict) Get(key any) (any, bool) {
	i := o.find(key)
	if i < 0 {
		return nil, false
	}
	return o.entries[i].Value, true
}

// Set stores value under key. A new key goes to the end; an existing key
// keeps its position.
func (o *OrderedDict) Set(key, value any) {
	if i := o.find(key); i >= 0 {
		o.entries[i].Value = value
		return
	}
	key = normKey(key)
	o.entries = append(o.entries, Entry{key, value})
	if o.index != nil && hashable(key) {
		o.index[key] = len(o.entries) - 1
	} else if o.index == nil && len(o.entries) > orderedIndexThreshold {
		o.index = make(map[any]int, len(o.entries))
		for i, e := range o.entries {
			if hashable(e.Key) {
				o.index[e.Key] = i
			}
		}
	}
}

// Delete removes key, keeping the order of the other entries.
func (o *OrderedDict) Delete(key any) {
	i := o.find(key)
	if i < 0 {
		return
	}
	o.entries = append(o.entries[:i], o.entries[i+1:]...)
	if o.index != nil {
		o.index = nil
		if len(o.entries) > orderedIndexThreshold {
			o.index = make(map[any]int, len(o.entries))
			for j, e := range o.entries {
				if hashable(e.Key) {
					o.index[e.Key] = j
				}
			}
		}
	}
}

// Period is a calendar timedelta: years and months, which have no fixed
// length, plus an exact duration (days count as 24 hours, as in the Python
// reference). Timedeltas without years or months decode into
// time.Duration when decoding into any; others decode into Period.
//
// All non-zero parts of a Period must have the same sign: ISO 8601 has
// one sign per period.
type Period struct {
	Years    int64
	Months   int64
	Duration time.Duration
}

// String returns the ISO 8601 form the encoder emits, such as P1Y2M3DT0H0M0S.
func (p Period) String() string {
	b, err := appendPeriod(nil, p)
	if err != nil {
		return "invalid period: " + err.Error()
	}
	return string(b)
}

// Extension is a glyph extension (`X name attrs content ;`) whose name has
// no registered Go type. Unknown extensions decode into an Extension and
// re-encode to the same value. Attrs keeps the attributes; Ordered records
// whether they were an ordered dict (`O`) rather than a dict (`D`) on the
// wire.
type Extension struct {
	Name    string
	Attrs   *OrderedDict
	Ordered bool
	Content any
}

// Attr returns the attribute stored under the string key name.
func (e Extension) Attr(name string) (any, bool) {
	return e.Attrs.Get(name)
}

// ExtensionDecoder turns a decoded generic extension into a typed Go value.
// When it returns an error (the extension's content does not fit the
// name's meaning), decoding into any or an interface fails with a
// *SyntaxError, since nothing else says what the content must be;
// decoding into a Go type that implements Unmarshaler records an
// *UnmarshalTypeError against that type, naming the extension and the
// decoder's error, and carries on with the rest of the message.
type ExtensionDecoder func(Extension) (any, error)

var (
	extMu sync.RWMutex
	// extRegistry maps extension names to decoders; guarded by extMu.
	extRegistry = map[string]ExtensionDecoder{}
)

// reservedNames are the names the hyperglyph spec forbids applications to
// use for extensions.
var reservedNames = map[string]bool{
	"integer": true, "unicode": true, "string": true, "bytearray": true,
	"float": true, "datetime": true, "timedelta": true, "nil": true,
	"true": true, "false": true, "list": true, "set": true, "dict": true,
	"ordered_dict": true, "extension": true, "blob": true, "bool": true,
	"request": true, "response": true,
}

// RegisterExtension makes the decoder turn extensions called name into the
// Go value dec returns, whenever it decodes into any (or into an interface).
// The Go type should implement Marshaler so it encodes back into the same
// extension. Registering a reserved name or registering a name twice
// panics: both are programming errors found at init time.
func RegisterExtension(name string, dec ExtensionDecoder) {
	if reservedNames[name] {
		panic(fmt.Sprintf("wire: extension name %q is reserved by the hyperglyph spec", name))
	}
	extMu.Lock()
	defer extMu.Unlock()
	if _, dup := extRegistry[name]; dup {
		panic(fmt.Sprintf("wire: extension %q registered twice", name))
	}
	extRegistry[name] = dec
}

func lookupExtension(name string) ExtensionDecoder {
	extMu.RLock()
	defer extMu.RUnlock()
	return extRegistry[name]
}

// Marshaler is implemented by types that encode as another value, typically
// an Extension. MarshalGlyph returns the value to encode in their place.
type Marshaler interface {
	MarshalGlyph() (any, error)
}

// Unmarshaler is implemented by types that decode themselves. v is the
// value the decoder produced as if decoding into any: nil, bool, int64 or
// *big.Int, float64, string, []byte, []any, a map, Set[any], AnySet, Dict,
// *OrderedDict, time.Time, time.Duration, Period, *Blob, Extension or a
// registered extension type.
type Unmarshaler interface {
	UnmarshalGlyph(v any) error
}

// hashable reports whether a generic decoded value can be a Go map key with
// value semantics.
func hashable(v any) bool {
	switch v.(type) {
	case nil, bool, int64, float64, string, time.Time, time.Duration, Period:
		return true
	}
	return false
}

func lookupEntries(entries []Entry, key any) (any, bool) {
	kb, err := canonicalKey(key)
	if err != nil {
		return nil, false
	}
	for _, e := range entries {
		eb, err := canonicalKey(e.Key)
		if err == nil && string(eb) == string(kb) {
			return e.Value, true
		}
	}
	return nil, false
}

// TypeName returns the hyperglyph type name of a Go value as the decoder
// would see it on the wire ("integer", "unicode", "list", ...). It is used
// in error messages and by glyph show.
func TypeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case bool:
		return "bool"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, *big.Int, big.Int:
		return "integer"
	case float32, float64:
		return "float"
	case string:
		return "unicode"
	case []byte:
		return "bytearray"
	case time.Time:
		return "datetime"
	case time.Duration, Period:
		return "timedelta"
	case *Blob:
		return "blob"
	case AnySet:
		return "set"
	case Dict, *Dict:
		return "dict"
	case *OrderedDict, OrderedDict:
		return "ordered_dict"
	case Extension:
		return "extension " + v.Name
	}
	rv := reflect.ValueOf(v)
	if _, ok := v.(setMarker); ok {
		return "set"
	}
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "dict"
	}
	return strings.ToLower(rv.Type().String())
}
