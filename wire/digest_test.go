package wire

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

// listMarshaler encodes as the list it holds.
type listMarshaler struct{ items []any }

func (m listMarshaler) MarshalGlyph() (any, error) { return m.items, nil }

// Two values have equal digests when, and only when, their canonical
// encodings are equal, whatever Go types hold them and in whatever order
// their sets and dicts hold their items.
func TestDigestFollowsEncoding(t *testing.T) {
	type pair struct {
		A  int64 `glyph:"a"`
		Bs []int `glyph:"b"`
	}
	blob1, blob2 := NewBlob("text/plain", strings.NewReader("x")), NewBlob("text/plain", strings.NewReader("x"))
	nan := math.NaN()
	cases := []struct {
		name string
		a, b any
	}{
		{"struct and map", pair{1, []int{2}}, map[string]any{"a": int64(1), "b": []any{int64(2)}}},
		{"typed and generic lists", []any{[]int{1, 2}}, []any{[]any{int64(1), int64(2)}}},
		{"marshaler and list", []any{listMarshaler{[]any{"a"}}}, []any{[]any{"a"}}},
		{"set items in another order", AnySet{Items: []any{[]any{"a"}, []any{"b"}}}, AnySet{Items: []any{[]any{"b"}, []any{"a"}}}},
		{"Set and AnySet", []any{Set[any]{int64(1): {}, int64(2): {}}}, []any{AnySet{Items: []any{int64(2), int64(1)}}}},
		{"dict keys in another order", Dict{Entries: []Entry{{[]any{"a"}, 1}, {[]any{"b"}, 2}}}, Dict{Entries: []Entry{{[]any{"b"}, 2}, {[]any{"a"}, 1}}}},
		{"dict values differ", Dict{Entries: []Entry{{[]any{"a"}, 1}}}, Dict{Entries: []Entry{{[]any{"a"}, 2}}}},
		{"ordered dict in another order", NewOrderedDict("a", 1, "b", 2), NewOrderedDict("b", 2, "a", 1)},
		{"ordered dict and dict", NewOrderedDict("a", 1), map[string]any{"a": 1}},
		{"extension attrs ordered or not", Extension{Name: "x", Attrs: NewOrderedDict("a", 1), Ordered: true}, Extension{Name: "x", Attrs: NewOrderedDict("a", 1)}},
		{"nested sets in another order", []any{AnySet{Items: []any{[]any{int64(1)}, AnySet{Items: []any{[]any{"x"}, []any{"y"}}}}}},
			[]any{AnySet{Items: []any{AnySet{Items: []any{[]any{"y"}, []any{"x"}}}, []any{int64(1)}}}}},
		{"strings equal after NFC", []any{"\u00e9"}, []any{"e\u0301"}},
		{"zero and minus zero", []any{0.0}, []any{math.Copysign(0, -1)}},
		{"NaN and NaN", []any{nan}, []any{nan}},
		{"one and one point zero", []any{int64(1)}, []any{1.0}},
		{"two blobs", []any{blob1}, []any{blob2}},
		{"one blob", []any{blob1}, []any{blob1}},
		{"empty list and empty set", []any{}, AnySet{}},
		{"empty lists", []any{[]any{}}, []any{[]int(nil)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var g digester
			ha, erra := g.value(c.a)
			hb, errb := g.value(c.b)
			if erra != nil || errb != nil {
				t.Fatalf("digests: %v, %v", erra, errb)
			}
			ka, erra := canonicalKey(c.a)
			kb, errb := canonicalKey(c.b)
			if erra != nil || errb != nil {
				t.Fatalf("canonical encodings: %v, %v", erra, errb)
			}
			if equal := bytes.Equal(ka, kb); (ha == hb) != equal {
				t.Errorf("digests equal: %v, encodings equal: %v (%q, %q)", ha == hb, equal, ka, kb)
			}
		})
	}
}

// Values with equal digests are compared by their encodings: an accident
// of the hash makes no duplicate, and a duplicate behind one is found.
func TestDupCheckerComparesEqualDigests(t *testing.T) {
	a, b := []any{"a"}, []any{"b"}
	c := dupChecker{d: new(decodeState)}
	h, err := c.d.dig.value(a)
	if err != nil {
		t.Fatal(err)
	}
	c.digests = map[uint64]any{h: b} // as if b had a's digest
	if c.check(a) {
		t.Errorf("a is a duplicate of b, whose digest is the same, but not its encoding")
	}
	if !c.check([]any{"a"}) {
		t.Errorf("a again is no duplicate")
	}
}

// A struct field spelled twice is decoded twice into the same memory: the
// second set is checked by its own content, not by digests of the first.
func TestDupCheckAfterDecodingIntoTheSameMemory(t *testing.T) {
	var v struct {
		S [][][]int `glyph:"s"`
	}
	data := "Du1:s;SLLi1;;;LLi2;;;;u1:S;SLLi3;;;LLi3;;;;;"
	err := Unmarshal([]byte(data), &v)
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "duplicate item") {
		t.Fatalf("err = %v, want a duplicate-item *SyntaxError", err)
	}
}

// cyclic encodes as a list holding itself.
type cyclic struct{}

func (c cyclic) MarshalGlyph() (any, error) { return []any{c}, nil }

// A value that cannot be encoded equals nothing, as its canonical
// encoding fails; one that nests without end fails, without end.
func TestDupCheckOfValuesThatCannotBeEncoded(t *testing.T) {
	vals := []any{cyclic{}, cyclic{}, []any{"\xff"}, []any{"\xff"}}
	if i := new(decodeState).firstDup(vals); i != -1 {
		t.Errorf("firstDup = %d, want -1", i)
	}
	if i := referenceFirstDup(vals); i != -1 {
		t.Errorf("referenceFirstDup = %d, want -1", i)
	}
}

// referenceFirstDup is the duplicate check as it was before digests:
// every value Go cannot compare encoded whole.
func referenceFirstDup(vals []any) int {
	hs := map[any]struct{}{}
	cs := map[string]struct{}{}
	nan := false
	for i, k := range vals {
		if f, ok := k.(float64); ok && math.IsNaN(f) {
			if nan {
				return i
			}
			nan = true
			continue
		}
		if s, ok := k.(string); ok {
			k = nfc(s)
		}
		if hashable(k) {
			if _, ok := hs[k]; ok {
				return i
			}
			hs[k] = struct{}{}
			continue
		}
		if _, ok := k.(*Blob); ok {
			continue
		}
		b, err := canonicalKey(k)
		if err != nil {
			continue
		}
		if _, ok := cs[string(b)]; ok {
			return i
		}
		cs[string(b)] = struct{}{}
	}
	return -1
}

// The duplicate check finds what encoding every value whole finds, in the
// items of any list.
func FuzzDupCheck(f *testing.F) {
	for _, s := range []string{
		"Li1;i1;;", "LLi1;;Li+1;;;", "LSLi1;;Li2;;;SLi2;;Li1;;;;", "LDLi1;;N;Li2;;N;;DLi2;;N;Li1;;N;;;",
		"LOu1:a;N;u1:b;N;;Ou1:b;N;u1:a;N;;;", "LLu2:\xc3\xa9;;Lu3:e\xcc\x81;;;", "LLf0;;Lf-0;;;", "LLfnan;;LfNaN;;;",
		"Lfnan;fnan;;", "LLi1;;Lf1;;;", "LXu1:a;Du1:b;i1;;L;;Xu1:a;Du1:b;i1;;L;;;", "LXu1:a;Ou1:b;i1;;L;;Xu1:a;Du1:b;i1;;L;;;",
		"LLSLi1;;;;LSLi1;;;;;", "Lu1:a;u1:a;;", "LpP1W;pP7D;;", "Ld1970-01-01T00:00:00Z;d1970-01-01T00:00:00.000000Z;;",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := UnmarshalConfig(data, &v, DecodeConfig{Limits: Limits{MaxItems: 1000, MaxStringBytes: 1024}}); err != nil {
			return
		}
		l, ok := v.([]any)
		if !ok {
			return
		}
		d := new(decodeState)
		if got, want := d.firstDup(l), referenceFirstDup(l); got != want {
			t.Fatalf("first duplicate of %q at %d, want %d", data, got, want)
		}
	})
}
