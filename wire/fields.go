package wire

import (
	"bytes"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// field is one encodable struct field, possibly promoted from an embedded
// struct.
type field struct {
	name      string
	index     []int
	typ       reflect.Type
	omitEmpty bool
	opts      []string // tag options after the name
	tagged    bool
	key       []byte // the encoded key, u<len>:<name>;
}

// structInfo describes how a struct type maps to a glyph dict.
type structInfo struct {
	fields []field        // in canonical (encoded key) order
	byName map[string]int // exact name → index into fields
	enc    []encoderFunc  // per field, filled lazily
	dec    []decoderFunc  // per field, filled lazily
	reuse  []bool         // per field: reusable(type), filled lazily
	flat   bool           // every field is a direct field (no promotion)
	once   sync.Once
}

var structCache sync.Map // reflect.Type → *structInfo

func structInfoFor(t reflect.Type) *structInfo {
	if si, ok := structCache.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{fields: typeFields(t)}
	si.byName = make(map[string]int, len(si.fields))
	for i, f := range si.fields {
		si.byName[f.name] = i
	}
	actual, _ := structCache.LoadOrStore(t, si)
	return actual.(*structInfo)
}

// codecs resolves the per-field encoders and decoders. It runs after the
// struct's own entry is in the caches, so recursive types terminate.
func (si *structInfo) codecs() {
	si.once.Do(func() {
		si.enc = make([]encoderFunc, len(si.fields))
		si.dec = make([]decoderFunc, len(si.fields))
		si.reuse = make([]bool, len(si.fields))
		si.flat = true
		for i, f := range si.fields {
			si.reuse[i] = reusable(f.typ)
			if len(f.index) > 1 {
				si.flat = false
			}
			si.enc[i] = encoderFor(f.typ)
			si.dec[i] = decoderFor(f.typ)
		}
	})
}

// lookup finds the field for a key: exact match first, then a
// case-insensitive one, as encoding/json does.
func (si *structInfo) lookup(key []byte) int {
	if i, ok := si.byName[string(key)]; ok {
		return i
	}
	for i := range si.fields {
		if bytes.EqualFold([]byte(si.fields[i].name), key) {
			return i
		}
	}
	return -1
}

func parseTag(tag string) (name string, omitEmpty bool, opts []string) {
	name, rest, _ := strings.Cut(tag, ",")
	if rest != "" {
		opts = strings.Split(rest, ",")
	}
	for _, o := range opts {
		if o == "omitempty" {
			omitEmpty = true
		}
	}
	return name, omitEmpty, opts
}

// typeFields returns the fields of t that encode, following the rules of
// encoding/json: exported fields, promoted fields of embedded structs,
// `glyph:"name,omitempty"` tags, `glyph:"-"` to skip; among fields with the
// same name the shallowest wins, then a tagged one; otherwise all of them
// are dropped as ambiguous.
func typeFields(t reflect.Type) []field {
	type queued struct {
		typ   reflect.Type
		index []int
	}
	current := []queued{}
	next := []queued{{typ: t}}
	visited := map[reflect.Type]bool{}
	var fields []field

	for len(next) > 0 {
		current, next = next, current[:0]
		for _, q := range current {
			if visited[q.typ] {
				continue
			}
			visited[q.typ] = true
			for i := 0; i < q.typ.NumField(); i++ {
				sf := q.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("glyph")
				if tag == "-" {
					continue
				}
				name, omit, opts := parseTag(tag)
				if !validFieldName(name) {
					name = ""
				}
				index := make([]int, len(q.index)+1)
				copy(index, q.index)
				index[len(q.index)] = i
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct || isSpecialStruct(ft) {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					fields = append(fields, field{name: name, index: index, typ: sf.Type, omitEmpty: omit, opts: opts, tagged: tagged})
					continue
				}
				next = append(next, queued{typ: ft, index: index})
			}
		}
	}

	sort.SliceStable(fields, func(i, j int) bool {
		a, b := fields[i], fields[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if len(a.index) != len(b.index) {
			return len(a.index) < len(b.index)
		}
		if a.tagged != b.tagged {
			return a.tagged
		}
		return false
	})
	out := fields[:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		group := fields[i:j]
		if len(group) == 1 {
			out = append(out, group[0])
		} else {
			// dominant: shallowest, then tagged, and unique in that rank
			a, b := group[0], group[1]
			if len(a.index) < len(b.index) || (a.tagged && !b.tagged) {
				out = append(out, a)
			}
		}
		i = j
	}
	fields = out
	for i := range fields {
		fields[i].key = appendUnicode(nil, fields[i].name)
	}
	sort.Slice(fields, func(i, j int) bool { return CompareKeys(fields[i].key, fields[j].key) < 0 })
	return fields
}

func validFieldName(s string) bool {
	return s != "" && utf8.ValidString(s)
}

// isSpecialStruct reports struct types that encode as a glyph scalar or
// extension rather than as a dict of their fields.
func isSpecialStruct(t reflect.Type) bool {
	switch t {
	case timeType, bigIntType, periodType, extensionType, orderedDictType, dictType, anySetType, blobType:
		return true
	}
	return false
}

// Field is one struct field as the encoder writes it and the decoder
// matches it: the dict key Name, its path Index for reflect's
// FieldByIndex (through embedded structs), and the options of its `glyph`
// tag after the name (such as "omitempty").
type Field struct {
	Name    string
	Index   []int
	Type    reflect.Type
	Options []string
}

// Fields returns the fields of struct type t that encode, in declaration
// order, following the rules Marshal documents. Packages that name things
// after struct fields (service inputs, for one) use it so their names
// agree with the encoding.
func Fields(t reflect.Type) []Field {
	if t.Kind() != reflect.Struct {
		return nil
	}
	si := structInfoFor(t)
	out := make([]Field, len(si.fields))
	for i, f := range si.fields {
		out[i] = Field{Name: f.name, Index: f.index, Type: f.typ, Options: f.opts}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Index, out[j].Index
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
	return out
}
