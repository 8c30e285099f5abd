package peer

import (
	"bufio"
	"bytes"
	"math"
	"math/big"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// fastCodecs are the glyph codecs the differential tests decode with:
// the defaults, limits at the scan's floors and just below them, no
// limits, and small limits the fuzzer reaches.
var fastCodecs = []glyphCodec{
	{limits: fillLimits(wire.Limits{})},
	{limits: fillLimits(wire.Limits{MaxDepth: fastMinDepth, MaxItems: fastMinItems, MaxStringBytes: fastMinString, MaxIntegerDigits: fastMinDigits, MaxMessageBytes: 128})},
	{limits: fillLimits(wire.Limits{MaxDepth: fastMinDepth - 1, MaxItems: fastMinItems - 1, MaxStringBytes: fastMinString - 1, MaxIntegerDigits: fastMinDigits - 1})},
	{limits: fillLimits(wire.Limits{MaxDepth: -1, MaxItems: -1, MaxStringBytes: -1, MaxIntegerDigits: -1, MaxMessageBytes: -1})},
	{limits: fillLimits(wire.Limits{MaxDepth: 4, MaxItems: 16, MaxStringBytes: 32, MaxMessageBytes: 96})},
	{limits: fillLimits(wire.Limits{MaxDepth: 16, MaxItems: 64, MaxStringBytes: 256})},
	{}, // zero limits: the general path fills in the defaults
}

// sameDecoding decodes data with c's general path and with
// unmarshalGlyph, without and with a name cache, with the frame the
// decoder's to keep and not, and fails unless all give the same envelope
// and the same error.
func sameDecoding(t *testing.T, c glyphCodec, data []byte, names *nameCache) {
	t.Helper()
	for i, nc := range []*nameCache{nil, names, nil} {
		c.keep = i == 2
		var want Envelope // decoded again: sameEnvelope may read its blobs
		wantErr := c.unmarshalGeneral(data, &want)
		// Start from a used envelope: nothing of it may stay.
		got := Envelope{Type: "x", Method: "stale", ID: 99, Payload: 1, Ext: 2, More: true, Error: &ErrorBody{}, Timeout: 3, Safe: true, Credit: 4, Open: true}
		err := c.unmarshalGlyph(data, &got, nc)
		if errText(err) != errText(wantErr) {
			t.Fatalf("%q (limits %+v):\nerror %v\nwant  %v", data, c.limits, err, wantErr)
		}
		if !sameEnvelope(&got, &want) {
			t.Fatalf("%q (limits %+v):\ngot  %#v\nwant %#v", data, c.limits, got, want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// sameEnvelope is reflect.DeepEqual, except for what DeepEqual cannot
// compare: NaN is not equal to itself, and a decoded blob holds its
// decoder's state. Envelopes with those compare by their encoding.
func sameEnvelope(a, b *Envelope) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	ea, eb := encodeAll(a), encodeAll(b)
	return ea != nil && bytes.Equal(ea, eb) && a.Method == b.Method &&
		(bytes.Contains(ea, []byte("fnan;")) || bytes.Contains(ea, []byte("B0:")))
}

// encodeAll encodes every field of env, the payload of an error reply
// included; nil when it cannot.
func encodeAll(env *Envelope) []byte {
	m := env.toMap()
	if env.Error != nil && env.Payload != nil {
		m["payload"] = env.Payload
	}
	b, err := wire.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}

// fastSeeds returns frames for the differential tests: every envelope
// of spec.md in the glyph codec, glyph's own frames of varied envelopes,
// and malformed variants of them.
func fastSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	add := func(b []byte) { seeds = append(seeds, b) }
	js := jsonCodec{limits: fillLimits(wire.Limits{})}
	glyph := func(env *Envelope) {
		b, err := glyphCodec{}.Marshal(env)
		if err != nil {
			t.Fatalf("%+v: %v", env, err)
		}
		add(b)
	}

	// spec.md: the glyph vectors as they are, and every JSON envelope
	// (envelopes and transcripts) written in glyph.
	f, err := os.Open("spec.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "glyph "):
			_, out, _ := strings.Cut(line, " => ")
			add([]byte(out))
		case strings.HasPrefix(line, "bad glyph "):
			in, _, _ := strings.Cut(strings.SplitN(line, " ", 4)[3], " => ")
			add([]byte(in))
		case strings.HasPrefix(line, "json "), strings.HasPrefix(line, "> {"), strings.HasPrefix(line, "< {"):
			in, _, _ := strings.Cut(line[strings.Index(line, " ")+1:], " => ")
			var env Envelope
			if js.Unmarshal([]byte(in), &env) == nil {
				glyph(&env)
			}
		}
	}

	deep := func(n int) any {
		var v any = "x"
		for range n {
			v = []any{v}
		}
		return v
	}
	envs := []Envelope{
		{Type: TypeReq, Method: "echo", ID: 1, Payload: bytes.Repeat([]byte{0, ';', 'x', 0xff}, 16)},
		{Type: TypeReq, Method: "echo", ID: 1, Payload: []byte{}},
		// Bytes values a kept frame leaves in place (minKeptBytes).
		{Type: TypeReq, Method: "upload", ID: 5, Payload: bytes.Repeat([]byte{';', 'b', 0}, minKeptBytes/3+1)},
		{Type: TypeRep, ID: 5, Payload: bytes.Repeat([]byte{'x'}, minKeptBytes)},
		{Type: TypeRep, ID: 5, Payload: bytes.Repeat([]byte{'x'}, minKeptBytes-1)},
		{Type: TypeReq, Method: "log", Payload: "hello"},
		{Type: TypeReq, Method: "log", Payload: ""},
		{Type: TypeReq, Method: "log", Payload: "héllo"},
		{Type: TypeReq, Method: "sum", ID: 3},
		{Type: TypeReq, Method: "sum", ID: 3, Payload: int64(-42)},
		{Type: TypeReq, Method: "sum", ID: 3, Payload: int64(math.MinInt64)},
		{Type: TypeReq, Method: "sum", ID: 3, Payload: new(big.Int).Lsh(big.NewInt(1), 70)},
		{Type: TypeReq, Method: "sum", ID: 3, Payload: true},
		{Type: TypeReq, Method: "sum", ID: 3, Payload: false},
		{Type: TypeReq, Method: "sum", ID: 3, Payload: 1.5},
		{Type: TypeReq, Method: "sum", ID: 3, Payload: math.NaN()},
		{Type: TypeReq, Method: "m", ID: MaxID, Payload: []any{int64(1), "a", []byte("b"), nil, true, map[string]any{"k": []any{}}}},
		{Type: TypeReq, Method: "slow", ID: 9, Payload: map[string]any{"b": int64(1), "a": []any{1.5, nil, true}}, More: true, Ext: map[string]any{"trace": "abc"}, Timeout: 1500, Safe: true},
		{Type: TypeReq, Method: "slow", ID: 9, Timeout: math.MaxInt64},
		{Type: TypeReq, Method: "set", ID: 2, Payload: wire.NewSet[any](int64(1), "a"), Ext: wire.NewOrderedDict("z", int64(1), "a", int64(2))},
		{Type: TypeReq, Method: "when", ID: 2, Payload: time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), Ext: time.Minute},
		{Type: TypeReq, Method: "ext", ID: 2, Payload: wire.Extension{Name: "link", Attrs: wire.NewOrderedDict("url", "/foo")}},
		{Type: TypeReq, Method: "keys", ID: 2, Payload: map[any]any{int64(1): "a", "b": int64(2)}},
		{Type: TypeReq, Method: "deep", ID: 2, Payload: deep(2)},
		{Type: TypeReq, Method: "deep", ID: 2, Payload: deep(3)},
		{Type: TypeReq, Method: "deep", ID: 2, Payload: deep(254)},
		{Type: TypeReq, Method: "deep", ID: 2, Payload: deep(255)},
		{Type: TypeReq, Method: "deep", ID: 2, Ext: deep(255)},
		{Type: TypeReq, Method: "long", ID: 2, Payload: strings.Repeat("x", 40)},
		{Type: TypeReq, Method: strings.Repeat("m", 20), ID: 2},
		{Type: TypeReq, Method: "cafe\u0301", ID: 9, Payload: "é"},
		{Type: TypeReq, Method: "sum", ID: 3, More: true, Open: true},
		{Type: TypeReq, Method: "sum", ID: 3, More: true, Payload: int64(7)},
		{Type: TypeRep, ID: 2, Payload: map[string]any{"num": int64(1)}, More: true},
		{Type: TypeRep, ID: 4, Error: &ErrorBody{Code: 1000, Message: "Test message", Data: map[string]any{"why": "asked to"}}},
		{Type: TypeRep, ID: 4, Error: &ErrorBody{Code: -3, Message: ""}, Ext: map[string]any{"k": "v"}},
		{Type: TypeRep, ID: 4, Error: &ErrorBody{Code: math.MaxInt32, Message: "m", Data: []any{deep(3)}}},
		{Type: TypeRep, ID: 1, Payload: []any{wire.BytesBlob("text/plain", []byte("hi"))}},
		{Type: TypeRep, ID: 1, Ext: map[string]any{"z": wire.BytesBlob("", []byte("ext"))}},
		{Type: TypeRepCredit, ID: 7, Credit: 32},
		{Type: TypeReqCredit, ID: 7, Credit: math.MaxInt32},
		{Type: TypeGoaway, Error: &ErrorBody{Code: 20, Message: "bad"}},
		{Type: TypeGoaway, ID: 12},
		{Type: TypeCancel, ID: 3},
		{Type: TypeReqEnd, ID: 3},
		{Type: TypeRepEnd, ID: 3},
		{Type: TypePing, ID: 1},
		{Type: TypePong, ID: 1},
	}
	for i := range envs {
		glyph(&envs[i])
	}

	// Malformed and non-canonical variants, each of a valid frame.
	base := "Du2:id;i1;u6:method;u4:echo;u7:payload;u2:hi;u4:type;u3:req;;"
	for _, s := range []string{
		base + " ", " " + base, base + "N;", base + "c0;", base[:len(base)-1], base[:20],
		"D u2:id;i1;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id; i1;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i1; u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u4:echo;u4:type;u3:req; ;",
		"Du2:id;i1;u7:payload; N;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i1;u7:payload;N; u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i1;u2:id;i2;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u4:echo;u4:type;u3:req;u4:type;u3:rep;;",
		"Du2:id;i1;u7:payload;N;u7:payload;N;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u4:echo;u4:type;u3:req;u5:extra;Lu1:x;;;",
		"Du2:id;i1;u6:method;u4:echo;u4:type;u3:req;u5:extra;B0:Du12:content-type;u1:a;;;;c0;",
		"Du2:id;i1;u6:method;u4:echo;u4:type;u3:req;i1;N;;",
		"Du2:id;i01;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i+1;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i-1;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i-0;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i0;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i00;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i999999999999999999;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i9223372036854775807;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i9223372036854775808;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;f0x1p+00;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;N;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;u1:1;u6:method;u4:echo;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u4:echo;u4:more;N;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u4:echo;u4:more;F;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u4:echo;u4:more;i1;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u4:echo;u4:safe;N;u4:open;N;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u6:\xc3\xa9cho;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u5:\xffecho;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u0:;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u04:echo;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u5:echo;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;N;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;i7;u4:type;u3:req;;",
		"Du2:id;i1;u6:method;u4:echo;u4:type;u4:call;;",
		"Du2:id;i1;u6:method;u4:echo;u4:type;b3:req;;",
		"Du2:id;i1;u6:method;u4:echo;u4:type;N;;",
		"Du2:id;i1;u6:method;u4:echo;;",
		"Du2:id;i1;u6:method;u4:echo;u04:type;u3:req;;",
		"Du2:id;i1;u6:method;u4:echo;b4:type;u3:req;;",
		"Du2:id;i1;u4:type;u3:rep;u6:credit;i2147483648;;",
		"Du2:id;i1;u4:type;u9:repcredit;u6:credit;i2147483647;;",
		"Du2:id;i1;u4:type;u9:repcredit;u6:credit;i0;;",
		"Du2:id;i1;u4:type;u3:rep;u7:timeout;i-1;;",
		"Du2:id;i1;u4:type;u3:rep;u5:error;N;;",
		"Du2:id;i1;u4:type;u3:rep;u5:error;u4:oops;;",
		"Du2:id;i1;u4:type;u3:rep;u5:error;Du7:message;u1:x;;;",
		"Du2:id;i1;u4:type;u3:rep;u5:error;Du4:code;i1;u7:message;i2;;;",
		"Du2:id;i1;u4:type;u3:rep;u5:error;Du4:code;i2147483648;;;",
		"Du2:id;i1;u4:type;u3:rep;u5:error;Du4:code;f0x1p+00;;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;b3:ab;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;b0:;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;b01:a;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;u0:;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;u3:e\xcc\x81;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;i-0;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;i+5;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;i-9223372036854775808;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;i1234567890123456789;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;L;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;Du1:a;N;u1:a;N;;;",
		"Du2:id;i1;u4:type;u3:rep;u3:ext;Du1:a;N;u1:a;N;;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;" + strings.Repeat("L", 300) + strings.Repeat(";", 300) + ";",
		"Du4:type;u3:rep;u2:id;i1;u4:more;T;u7:payload;Du3:num;i1;;;",
		"Du2:id;i1;u4:type;u3:rep;u7:payload;B0:Du12:content-type;u1:a;;;;c0;",
		"Li1;;",
		"D;",
		"",
	} {
		add([]byte(s))
	}
	return seeds
}

// FuzzGlyphEnvelopeFast checks the scan against the general path: for
// any input and codec limits, unmarshalGlyph (with and without a name
// cache) gives the same envelope and the same error as decoding the
// frame into a map.
func FuzzGlyphEnvelopeFast(f *testing.F) {
	for i, s := range fastSeeds(f) {
		f.Add(uint8(i%len(fastCodecs)), s)
		if i%len(fastCodecs) != 0 {
			f.Add(uint8(0), s)
		}
	}
	names := new(nameCache)
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		sameDecoding(t, fastCodecs[int(which)%len(fastCodecs)], data, names)
	})
}

func TestGlyphEnvelopeFastSeeds(t *testing.T) {
	seeds := fastSeeds(t)
	for _, c := range fastCodecs {
		names := new(nameCache)
		for _, s := range seeds {
			sameDecoding(t, c, s, names)
		}
	}
}

// benchFrames are a req with 64 bytes, and a rep with a small list.
var benchFrames = []struct {
	name string
	env  Envelope
}{
	{"bytes64", Envelope{Type: TypeReq, Method: "upload", ID: 12345, Payload: bytes.Repeat([]byte{'x'}, 64), More: true}},
	{"list", Envelope{Type: TypeRep, ID: 12345, Payload: []any{int64(1), "two", 3.5}, More: true}},
}

// The scan is what decodes the common frames: a req with 64 bytes takes
// at most 3 allocations (the general path takes about 8).
func TestGlyphEnvelopeFastAllocs(t *testing.T) {
	c := glyphCodec{limits: fillLimits(wire.Limits{})}
	data, err := c.Marshal(&benchFrames[0].env)
	if err != nil {
		t.Fatal(err)
	}
	var names nameCache
	var env Envelope
	if !c.scanEnvelope(data, &env, &names) {
		t.Fatalf("%q is not read by the scan", data)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := c.unmarshalGlyph(data, &env, &names); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 3 {
		t.Errorf("%v allocations per frame, want at most 3", allocs)
	}
	if !reflect.DeepEqual(env, benchFrames[0].env) {
		t.Errorf("got %#v", env)
	}
}

// A frame the scan does not read still decodes, through the general
// path, to what the scan would give for the canonical frame.
func TestGlyphEnvelopeFastFallback(t *testing.T) {
	c := glyphCodec{limits: fillLimits(wire.Limits{})}
	canon := []byte("Du2:id;i7;u6:method;u4:echo;u7:payload;Lu1:a;b1:b;;u4:type;u3:req;;")
	other := []byte("Du2:id;i7;u6:method;u4:echo;u7:payload;Lu1:a;b1:b;;u4:type;u3:req;u7:unknown;Du1:x;i1;;;")
	var env Envelope
	if !c.scanEnvelope(canon, &env, nil) {
		t.Fatal("the canonical frame is not read by the scan")
	}
	if c.scanEnvelope(other, &env, nil) {
		t.Fatal("a frame with an unknown key is read by the scan")
	}
	var a, b Envelope
	if err := c.unmarshalGlyph(canon, &a, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.unmarshalGlyph(other, &b, nil); err != nil {
		t.Fatal(err)
	}
	want := Envelope{Type: TypeReq, Method: "echo", ID: 7, Payload: []any{"a", []byte("b")}}
	if !reflect.DeepEqual(a, want) || !reflect.DeepEqual(b, want) {
		t.Errorf("canonical %#v\nunknown key %#v\nwant %#v", a, b, want)
	}
}

// The scan knows the keys the writer writes.
func TestGlyphFieldAt(t *testing.T) {
	for k, f := range envelopeFields {
		key, err := wire.Marshal(f.key)
		if err != nil {
			t.Fatal(err)
		}
		if got, n := glyphFieldAt(append(append([]byte(nil), key...), 'N', ';')); got != k || n != len(key) {
			t.Errorf("%q: field %d, %d bytes; want %d, %d", key, got, n, k, len(key))
		}
		if _, n := glyphFieldAt(key[:len(key)-1]); n != 0 {
			t.Errorf("%q cut short is a key", key)
		}
	}
	for _, b := range []string{"u4:typo;N;", "u04:type;N;", "u5:type;;N;", "b4:type;N;", "u4:type", "u8:payloads;N;", "u1:x;N;"} {
		if _, n := glyphFieldAt([]byte(b)); n != 0 {
			t.Errorf("%q is a key", b)
		}
	}
}

// The name cache keeps the first names it sees, short ones only, and
// stops adding when full.
func TestNameCache(t *testing.T) {
	var c nameCache
	a := c.intern([]byte("echo"))
	if b := c.intern([]byte("echo")); a != b || len(c.m) != 1 {
		t.Fatalf("%q %q, %d entries", a, b, len(c.m))
	}
	if n := testing.AllocsPerRun(10, func() { c.intern([]byte("echo")) }); n != 0 {
		t.Errorf("a cached name costs %v allocations", n)
	}
	c.intern(bytes.Repeat([]byte{'x'}, nameCacheLen+1))
	if len(c.m) != 1 {
		t.Errorf("a long name was kept")
	}
	for i := range 2 * nameCacheMax {
		if s := c.intern([]byte("m" + string(rune('a'+i%26)) + strings.Repeat("z", i/26))); !strings.HasPrefix(s, "m") {
			t.Fatal(s)
		}
	}
	if len(c.m) != nameCacheMax {
		t.Errorf("%d entries, want %d", len(c.m), nameCacheMax)
	}
}

func BenchmarkGlyphUnmarshal(b *testing.B) {
	c := glyphCodec{limits: fillLimits(wire.Limits{})}
	for _, fr := range benchFrames {
		data, err := c.Marshal(&fr.env)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fr.name+"/general", func(b *testing.B) {
			b.ReportAllocs()
			var env Envelope
			for b.Loop() {
				if err := c.unmarshalGeneral(data, &env); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fr.name+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			var env Envelope
			var names nameCache
			for b.Loop() {
				if err := c.unmarshalGlyph(data, &env, &names); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
