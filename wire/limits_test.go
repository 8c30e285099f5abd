package wire_test

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/glyph-ipc/glyph/wire"
)

// allocated returns how many bytes f allocated on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func asLimitError(t *testing.T, err error, limit string) *wire.LimitError {
	t.Helper()
	var le *wire.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v (%T), want *wire.LimitError for %s", err, err, limit)
	}
	if le.Limit != limit {
		t.Fatalf("LimitError names %s, want %s (%v)", le.Limit, limit, le)
	}
	if !strings.Contains(le.Error(), limit) {
		t.Errorf("Error() = %q does not name %s", le.Error(), limit)
	}
	return le
}

// decodeAll decodes msg with cfg through Unmarshal and through a Decoder
// reading one byte at a time, into any and into target types, reading
// every blob, and returns the errors.
func decodeAll(msg string, cfg wire.DecodeConfig) map[string]error {
	errs := map[string]error{}
	var v any
	errs["Unmarshal"] = wire.UnmarshalConfig([]byte(msg), &v, cfg)
	dec := wire.NewDecoderConfig(iotest.OneByteReader(strings.NewReader(msg)), cfg)
	err := dec.Decode(&v)
	if err == nil {
		collectBlobs(v, func(b *wire.Blob) {
			if _, rerr := io.ReadAll(b); rerr != nil && err == nil {
				err = rerr
			}
		})
		if ferr := dec.Finish(); err == nil {
			err = ferr
		}
	}
	errs["Decoder"] = err
	return errs
}

func TestLimits(t *testing.T) {
	blob := func(id int) string { return fmt.Sprintf("B%d:Du12:content-type;u1:a;;;", id) }
	cases := []struct {
		name   string
		limits wire.Limits
		ok     string // within the limit
		bad    string // beyond it
		limit  string
	}{
		{"MaxMessageBytes string", wire.Limits{MaxMessageBytes: 100},
			"u95:" + strings.Repeat("x", 95) + ";", "u96:" + strings.Repeat("x", 96) + ";", "MaxMessageBytes"},
		{"MaxMessageBytes items", wire.Limits{MaxMessageBytes: 1000},
			"L" + strings.Repeat("i1;", 300) + ";", "L" + strings.Repeat("i1;", 400) + ";", "MaxMessageBytes"},
		{"MaxMessageBytes nested", wire.Limits{MaxMessageBytes: 1000},
			strings.Repeat("L", 100) + strings.Repeat(";", 100), "L" + strings.Repeat("L;", 600) + ";", "MaxMessageBytes"},
		{"MaxMessageBytes dict", wire.Limits{MaxMessageBytes: 1000},
			"D" + dictOfInts(100) + ";", "D" + dictOfInts(200) + ";", "MaxMessageBytes"},
		{"MaxMessageBytes whitespace", wire.Limits{MaxMessageBytes: 1000},
			"L" + strings.Repeat(" ", 900) + ";", "L" + strings.Repeat(" ", 2000) + ";", "MaxMessageBytes"},
		{"MaxMessageBytes integer", wire.Limits{MaxMessageBytes: 100, MaxIntegerDigits: -1},
			"i" + strings.Repeat("0", 90) + "1;", "i" + strings.Repeat("0", 200) + "1;", "MaxMessageBytes"},
		{"MaxDepth lists", wire.Limits{MaxDepth: 10},
			strings.Repeat("L", 10) + strings.Repeat(";", 10), strings.Repeat("L", 11) + strings.Repeat(";", 11), "MaxDepth"},
		{"MaxDepth dicts", wire.Limits{MaxDepth: 3},
			"Du1:a;Du1:b;Du1:c;N;;;;", "Du1:a;Du1:b;Du1:c;D;;;;", "MaxDepth"},
		{"MaxDepth dict keys", wire.Limits{MaxDepth: 3},
			"DDDN;N;;N;;N;;", "DDDDN;N;;N;;N;;N;;", "MaxDepth"},
		{"MaxDepth extensions", wire.Limits{MaxDepth: 3}, // an extension and its attrs are two levels
			"Xu1:a;D;Xu1:b;D;N;;;", "Xu1:a;D;Xu1:b;D;Xu1:c;D;N;;;;", "MaxDepth"},
		{"MaxDepth sets and ordered dicts", wire.Limits{MaxDepth: 3},
			"SOLi1;;N;;;", "SOLLi1;;;N;;;", "MaxDepth"},
		{"MaxItems list", wire.Limits{MaxItems: 10},
			"L" + strings.Repeat("N;", 10) + ";", "L" + strings.Repeat("N;", 11) + ";", "MaxItems"},
		{"MaxItems set", wire.Limits{MaxItems: 3}, "Si1;i2;i3;;", "Si1;i2;i3;i4;;", "MaxItems"},
		{"MaxItems dict", wire.Limits{MaxItems: 2}, "Di1;N;i2;N;;", "Di1;N;i2;N;i3;N;;", "MaxItems"},
		{"MaxItems ordered dict", wire.Limits{MaxItems: 2}, "Oi1;N;i2;N;;", "Oi1;N;i2;N;i3;N;;", "MaxItems"},
		{"MaxItems extension attrs", wire.Limits{MaxItems: 1}, "Xu1:a;Du1:a;N;;N;;", "Xu1:a;Du1:a;N;u1:b;N;;N;;", "MaxItems"},
		{"MaxItems nested", wire.Limits{MaxItems: 3}, "LLi1;i2;i3;;;", "LLi1;i2;i3;i4;;;", "MaxItems"},
		{"MaxStringBytes unicode", wire.Limits{MaxStringBytes: 5}, "u5:abcde;", "u6:abcdef;", "MaxStringBytes"},
		{"MaxStringBytes bytearray", wire.Limits{MaxStringBytes: 5}, "b5:abcde;", "b6:abcdef;", "MaxStringBytes"},
		{"MaxStringBytes dict key", wire.Limits{MaxStringBytes: 5}, "Du5:abcde;N;;", "Du6:abcdef;N;;", "MaxStringBytes"},
		{"MaxStringBytes extension name", wire.Limits{MaxStringBytes: 5}, "Xu5:abcde;D;N;;", "Xu6:abcdef;D;N;;", "MaxStringBytes"},
		{"MaxStringBytes declared, never sent", wire.Limits{MaxStringBytes: 1 << 20}, "u3:abc;", "u1048577:", "MaxStringBytes"},
		{"MaxIntegerDigits big", wire.Limits{MaxIntegerDigits: 30},
			"i" + strings.Repeat("9", 30) + ";", "i" + strings.Repeat("9", 31) + ";", "MaxIntegerDigits"},
		{"MaxIntegerDigits negative", wire.Limits{MaxIntegerDigits: 30},
			"i-" + strings.Repeat("9", 30) + ";", "i-" + strings.Repeat("9", 31) + ";", "MaxIntegerDigits"},
		{"MaxIntegerDigits small", wire.Limits{MaxIntegerDigits: 5}, "i12345;", "i123456;", "MaxIntegerDigits"},
		{"MaxIntegerDigits leading zeros do not count", wire.Limits{MaxIntegerDigits: 3}, "i0000000123;", "i0000001234;", "MaxIntegerDigits"},
		{"MaxBlobs", wire.Limits{MaxBlobs: 2},
			"L" + blob(0) + blob(1) + ";c0;c1;", "L" + blob(0) + blob(1) + blob(2) + ";c0;c1;c2;", "MaxBlobs"},
		{"MaxBlobs in attrs", wire.Limits{MaxBlobs: 1},
			blob(0) + "c0;", "B0:Du12:content-type;u1:a;u1:x;" + blob(1) + ";;c0;c1;", "MaxBlobs"},
		{"MaxBlobBytes one blob", wire.Limits{MaxBlobBytes: 10},
			blob(0) + "c0:10:0123456789;c0;", blob(0) + "c0:11:0123456789a;c0;", "MaxBlobBytes"},
		{"MaxBlobBytes over chunks", wire.Limits{MaxBlobBytes: 10},
			blob(0) + "c0:5:01234;c0:5:56789;c0;", blob(0) + "c0:5:01234;c0:5:56789;c0:1:a;c0;", "MaxBlobBytes"},
		{"MaxBlobBytes over blobs", wire.Limits{MaxBlobBytes: 10},
			"L" + blob(0) + blob(1) + ";c0:5:01234;c1:5:56789;c0;c1;", "L" + blob(0) + blob(1) + ";c0:6:012345;c1:5:56789;c0;c1;", "MaxBlobBytes"},
		{"MaxBlobBytes declared, never sent", wire.Limits{MaxBlobBytes: 1 << 20},
			blob(0) + "c0;", blob(0) + "c0:1048577:", "MaxBlobBytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := wire.DecodeConfig{Limits: tc.limits}
			for how, err := range decodeAll(tc.ok, cfg) {
				if err != nil {
					t.Errorf("%s within the limit: %v", how, err)
				}
			}
			for how, err := range decodeAll(tc.bad, cfg) {
				le := asLimitError(t, err, tc.limit)
				if le.Max <= 0 || le.Offset < 0 || le.Offset > int64(len(tc.bad)) {
					t.Errorf("%s: LimitError %+v", how, le)
				}
			}
			// A negative limit means no limit.
			unlimited := tc.limits
			switch tc.limit {
			case "MaxMessageBytes":
				unlimited.MaxMessageBytes = -1
			case "MaxDepth":
				unlimited.MaxDepth = -1
			case "MaxItems":
				unlimited.MaxItems = -1
			case "MaxStringBytes":
				unlimited.MaxStringBytes = -1
			case "MaxIntegerDigits":
				unlimited.MaxIntegerDigits = -1
			case "MaxBlobs":
				unlimited.MaxBlobs = -1
			case "MaxBlobBytes":
				unlimited.MaxBlobBytes = -1
			}
			if !strings.Contains(tc.name, "never sent") {
				var v any
				if err := wire.UnmarshalConfig([]byte(tc.bad), &v, wire.DecodeConfig{Limits: unlimited}); err != nil {
					t.Errorf("with %s unlimited: %v", tc.limit, err)
				}
			}
		})
	}
}

// dictOfInts returns the entries of a dict of n distinct integer keys.
func dictOfInts(n int) string {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "i%d;N;", i)
	}
	return sb.String()
}

// TestLimitsTypedDecoding checks that typed targets obey the limits too.
func TestLimitsTypedDecoding(t *testing.T) {
	type rec struct {
		Items []int
		Names map[string]string
		Tags  wire.Set[string]
		Data  []byte
		Text  string
		Arr   [2]int
	}
	cases := []struct {
		name   string
		limits wire.Limits
		msg    string
		limit  string
	}{
		{"slice items", wire.Limits{MaxItems: 3}, "Du5:Items;Li1;i2;i3;i4;;;", "MaxItems"},
		{"array items", wire.Limits{MaxItems: 3}, "Du3:Arr;Li1;i2;i3;i4;;;", "MaxItems"},
		{"map entries", wire.Limits{MaxItems: 1}, "Du5:Names;Du1:a;u1:b;u1:c;u1:d;;;", "MaxItems"},
		{"set items", wire.Limits{MaxItems: 1}, "Du4:Tags;Su1:a;u1:b;;;", "MaxItems"},
		{"struct entries", wire.Limits{MaxItems: 2}, "Du1:a;N;u1:b;N;u1:c;N;;", "MaxItems"},
		{"bytes", wire.Limits{MaxStringBytes: 2}, "Du4:Data;b3:abc;;", "MaxStringBytes"},
		{"text", wire.Limits{MaxStringBytes: 2}, "Du4:Text;u3:abc;;", "MaxStringBytes"},
		{"unknown key", wire.Limits{MaxStringBytes: 2}, "Du3:abc;N;;", "MaxStringBytes"},
		{"skipped value", wire.Limits{MaxDepth: 3}, "Du1:z;LLLN;;;;;", "MaxDepth"},
		{"type error value", wire.Limits{MaxDepth: 3}, "Du4:Text;LLLN;;;;;", "MaxDepth"},
		{"struct depth", wire.Limits{MaxDepth: 1}, "Du5:Items;L;;", "MaxDepth"},
		{"message", wire.Limits{MaxMessageBytes: 20}, "Du5:Items;Li1;i2;i3;i4;;;", "MaxMessageBytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r rec
			asLimitError(t, wire.UnmarshalConfig([]byte(tc.msg), &r, wire.DecodeConfig{Limits: tc.limits}), tc.limit)
			dec := wire.NewDecoderConfig(iotest.HalfReader(strings.NewReader(tc.msg)), wire.DecodeConfig{Limits: tc.limits})
			asLimitError(t, dec.Decode(&r), tc.limit)
			// The stream is lost after a limit error.
			if err := dec.Decode(&r); err == nil || err == io.EOF {
				t.Errorf("Decode after a LimitError: %v", err)
			}
		})
	}
}

func TestDefaultLimits(t *testing.T) {
	d := wire.DefaultLimits()
	if d.MaxMessageBytes != 64<<20 || d.MaxDepth != 256 || d.MaxItems != 1<<20 || d.MaxStringBytes != 16<<20 ||
		d.MaxIntegerDigits != 4096 || d.MaxBlobs != 1024 || d.MaxBlobBytes != 64<<30 {
		t.Errorf("DefaultLimits() = %+v", d)
	}
	// Zero fields take the defaults.
	var v any
	asLimitError(t, wire.Unmarshal([]byte(strings.Repeat("L", 257)+strings.Repeat(";", 257)), &v), "MaxDepth")
	if err := wire.Unmarshal([]byte(strings.Repeat("L", 256)+strings.Repeat(";", 256)), &v); err != nil {
		t.Errorf("depth 256: %v", err)
	}
	asLimitError(t, wire.Unmarshal([]byte("i"+strings.Repeat("7", 4097)+";"), &v), "MaxIntegerDigits")
	if err := wire.Unmarshal([]byte("i"+strings.Repeat("7", 4096)+";"), &v); err != nil {
		t.Errorf("4096 digits: %v", err)
	}
}

// TestHugeDeclaredLength checks that a declared length far beyond the
// limits fails before anything of that size is allocated.
func TestHugeDeclaredLength(t *testing.T) {
	cases := []struct {
		name   string
		msg    string
		limits wire.Limits
		limit  string
	}{
		{"unicode", "u999999999999:", wire.Limits{}, "MaxStringBytes"},
		{"bytearray", "b999999999999:abc;", wire.Limits{}, "MaxStringBytes"},
		{"more digits than int64", "u99999999999999999999999999999999:", wire.Limits{}, "MaxStringBytes"},
		{"in a list", "Lu1:a;b999999999999:", wire.Limits{}, "MaxStringBytes"},
		{"dict key", "Du999999999999:", wire.Limits{}, "MaxStringBytes"},
		{"unlimited strings, limited message", "u999999999:", wire.Limits{MaxStringBytes: -1}, "MaxMessageBytes"},
		{"large limit, small message limit", "b500000000:", wire.Limits{MaxStringBytes: 1 << 30, MaxMessageBytes: 1 << 20}, "MaxMessageBytes"},
		{"chunk", "B0:Du12:content-type;u1:a;;;c0:999999999999999:", wire.Limits{}, "MaxBlobBytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := wire.DecodeConfig{Limits: tc.limits}
			var err error
			var v any
			n := allocated(func() { err = wire.UnmarshalConfig([]byte(tc.msg), &v, cfg) })
			asLimitError(t, err, tc.limit)
			if n > 1<<20 {
				t.Errorf("Unmarshal allocated %d bytes", n)
			}
			n = allocated(func() {
				dec := wire.NewDecoderConfig(strings.NewReader(tc.msg), cfg)
				err = dec.Decode(&v)
				if err == nil {
					collectBlobs(v, func(b *wire.Blob) { _, err = io.ReadAll(b) })
				}
			})
			asLimitError(t, err, tc.limit)
			if n > 1<<20 {
				t.Errorf("Decoder allocated %d bytes", n)
			}
			// And into a typed target.
			var s struct{ A string }
			n = allocated(func() { err = wire.UnmarshalConfig([]byte(tc.msg), &s, cfg) })
			if err == nil {
				t.Errorf("typed decode succeeded")
			}
			if n > 1<<20 {
				t.Errorf("typed Unmarshal allocated %d bytes", n)
			}
		})
	}
	// A length within the limits but never sent costs at most the limit,
	// and only on a stream.
	cfg := wire.DecodeConfig{Limits: wire.Limits{MaxStringBytes: 1 << 20}}
	var v any
	var err error
	n := allocated(func() {
		err = wire.NewDecoderConfig(strings.NewReader("u1000000:abc"), cfg).Decode(&v)
	})
	var se *wire.SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("truncated string: %v", err)
	}
	if n > 3<<20 {
		t.Errorf("truncated 1 MB string allocated %d bytes", n)
	}
}

// TestDeepNesting checks that nesting far deeper than MaxDepth fails
// cleanly, without exhausting the stack, in every decoding path.
func TestDeepNesting(t *testing.T) {
	const depth = 100000
	cases := []struct {
		name string
		msg  string
	}{
		{"lists", strings.Repeat("L", depth)},
		{"closed lists", strings.Repeat("L", depth) + strings.Repeat(";", depth)},
		{"sets", strings.Repeat("S", depth)},
		{"dicts as keys", strings.Repeat("D", depth)},
		{"dicts as values", strings.Repeat("Du1:a;", depth)},
		{"ordered dicts", strings.Repeat("Oi1;", depth)},
		{"extensions", strings.Repeat("Xu1:x;D;", depth)},
		{"extension attrs", strings.Repeat("Xu1:x;Du1:a;", depth)},
		{"blob attrs", strings.Repeat("B0:Du1:a;", depth)},
		{"with whitespace", strings.Repeat("L ", depth)},
	}
	type tree struct {
		Kids []tree
		Any  any
	}
	type rlist []rlist
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			asLimitError(t, wire.Unmarshal([]byte(tc.msg), &v), "MaxDepth")
			asLimitError(t, wire.NewDecoder(strings.NewReader(tc.msg)).Decode(&v), "MaxDepth")
			var r rlist
			if err := wire.Unmarshal([]byte(tc.msg), &r); err == nil {
				t.Error("typed recursive list: no error")
			}
			var tr tree
			if err := wire.Unmarshal([]byte(tc.msg), &tr); err == nil {
				t.Error("typed tree: no error")
			}
		})
	}
	// A recursive struct nested through its fields.
	type node struct {
		Next *node
	}
	msg := strings.Repeat("Du4:Next;", depth)
	var n node
	asLimitError(t, wire.Unmarshal([]byte(msg), &n), "MaxDepth")
	var tr tree
	asLimitError(t, wire.Unmarshal([]byte(strings.Repeat("Du4:Kids;L", depth)), &tr), "MaxDepth")
}

type selfRef struct {
	Name string
	Next *selfRef
}

type loopMarshaler struct{ next any }

func (l loopMarshaler) MarshalGlyph() (any, error) { return []any{l.next}, nil }

// TestEncodeCycles checks that cyclic values are an encode error, not a
// stack overflow.
func TestEncodeCycles(t *testing.T) {
	list := []any{1, nil}
	list[1] = &list

	node := &selfRef{Name: "a"}
	node.Next = node

	m := map[string]any{"x": 1}
	m["self"] = m

	type withIface struct{ V any }
	wi := &withIface{}
	wi.V = wi

	lm := &loopMarshaler{}
	lm.next = lm

	deep := any(nil)
	for range 10000 { // not cyclic, just deeper than any message may be
		deep = []any{deep}
	}

	cases := []struct {
		name string
		v    any
	}{
		{"list containing itself", list},
		{"self-referential struct", node},
		{"map containing itself", m},
		{"struct through an interface", wi},
		{"marshaler returning itself", lm},
		{"very deep", deep},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := wire.Marshal(tc.v)
			var ue *wire.UnsupportedValueError
			if !errors.As(err, &ue) {
				t.Fatalf("Marshal = %.50q, %v; want *UnsupportedValueError", b, err)
			}
			if err := wire.NewEncoder(io.Discard).Encode(tc.v); !errors.As(err, &ue) {
				t.Errorf("Encode: %v", err)
			}
		})
	}
	// A value shared twice but not cyclic is fine.
	shared := []int{1}
	if _, err := wire.Marshal([]any{shared, shared, &shared, &shared}); err != nil {
		t.Errorf("shared value: %v", err)
	}
}

// spaces is an endless stream of spaces that counts what was read of it,
// after an optional prefix.
type spaces struct {
	prefix string
	read   int64
}

func (s *spaces) Read(p []byte) (int, error) {
	n := copy(p, s.prefix)
	s.prefix = s.prefix[n:]
	for i := n; i < len(p); i++ {
		p[i] = ' '
	}
	s.read += int64(len(p))
	return len(p), nil
}

// TestWhitespaceCounts: whitespace counts toward MaxMessageBytes like any
// byte of the message, before the value and inside it, and a stream of
// it is not read past the limit.
func TestWhitespaceCounts(t *testing.T) {
	const limit = 1 << 20
	for _, prefix := range []string{"", "L", "Du1:a;"} {
		src := &spaces{prefix: prefix}
		dec := wire.NewDecoderConfig(src, wire.DecodeConfig{Limits: wire.Limits{MaxMessageBytes: limit}})
		var v any
		err := dec.Decode(&v)
		var le *wire.LimitError
		if !errors.As(err, &le) || le.Limit != "MaxMessageBytes" {
			t.Errorf("%q and endless spaces: %v, want the MaxMessageBytes limit", prefix, err)
		}
		if src.read > 2*limit {
			t.Errorf("%q and endless spaces: read %d bytes for a limit of %d", prefix, src.read, limit)
		}
	}
	// Between the chunks of a blob, the same.
	src := &spaces{prefix: "B0:Du12:content-type;u1:a;;;c0:2:aa;"}
	dec := wire.NewDecoderConfig(src, wire.DecodeConfig{Limits: wire.Limits{MaxMessageBytes: limit}})
	var blob *wire.Blob
	if err := dec.Decode(&blob); err != nil {
		t.Fatal(err)
	}
	var le *wire.LimitError
	if b, err := io.ReadAll(blob); !errors.As(err, &le) || string(b) != "aa" || src.read > 2*limit {
		t.Errorf("endless spaces after a blob's chunk: read %q, %v, %d bytes of input", b, err, src.read)
	}
	// In memory, the same.
	in := strings.Repeat(" ", 100) + "N;"
	var v any
	if err := wire.UnmarshalConfig([]byte(in), &v, wire.DecodeConfig{Limits: wire.Limits{MaxMessageBytes: 50}}); err == nil {
		t.Error("100 spaces before N; passed a limit of 50 bytes")
	}
	if err := wire.UnmarshalConfig([]byte(in), &v, wire.DecodeConfig{Limits: wire.Limits{MaxMessageBytes: 102}}); err != nil {
		t.Errorf("102 bytes within a limit of 102: %v", err)
	}
}
