package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"runtime"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// fuzzSeeds are the seed inputs shared by every fuzz target: every type
// letter, whitespace, blobs, extensions, and inputs near the edges of the
// grammar and the limits. testdata/fuzz holds more.
var fuzzSeeds = []string{
	// scalars
	"N;", "T;", "F;", "i0;", "i-123;", "i+000123;", "i-0;", "i18446744073709551616;",
	"i-9223372036854775809;", "u;", "u0:;", "u3:foo;", "u3:a;b;", "u2:\xc3\xa9;", "u3:e\xcc\x81;",
	"u4:\xf0\x9f\x92\xa9;", "b;", "b1:;;", "b2:\x00\xff;",
	"f0x1p-01;", "f-0x0p+00;", "finf;", "f-Infinity;", "fNaN;", "f1e3;", "f0x1.8;", "f-0.0;", "f1e999;", "f0x1p-1074;",
	"d1970-01-01T00:00:00.000000Z;", "d2012-08-12T13:14:15.123456789Z;", "d1970-01-01T00:00:00Z;",
	"d2000-01-01T01:00:00+01:00;", "d9999-12-31T23:59:59.999999z;",
	"pP0Y0M3DT2H0M0S;", "pP3D;", "p-P1D;", "pPT1.5S;", "pP1W;", "pP1Y2M;", "p-P0Y0M106751DT23H47M16.854775808S;",
	// collections
	"L;", "Li1;i2;i3;;", "LLi1;;L;;", "L i1;\n i2; ;", "Si1;i2;i3;;", "SLi1;;Li2;;;", "Sb1:a;b1:b;;",
	"D;", "Di1;i2;i3;i4;;", "Du1:a;Li1;;;", "DLi1;;u1:x;;", "DD;N;;", "Ou1:b;i1;u1:a;i2;;",
	"\t D \r\n u1:a; \v i1; ;  ", "Di1;N;f0x1p+00;N;u1:1;N;b1:1;N;T;N;N;N;;",
	"Du4:name;u1:n;u3:age;i3;u4:when;d2000-01-02T03:04:05.000000Z;;",
	// extensions
	"Xu3:foo;D;N;;", "X u4:link; D u3:url; u4:/foo; ; N; ;", "Xu4:form;Du6:method;u4:POST;u3:url;u4:/foo;u6:values;LXu5:input;Du4:name;u1:a;;N;;;;N;;",
	"Xu8:resource;Ou4:name;u4:Test;u3:url;u7:/Test/?;;Du5:value;i0;;;", "Xu15:wire_test.point;Du1:x;i3;u1:y;i-4;;N;;",
	// blobs
	"B0:Du12:content-type;u10:text/plain;;;c0:5:hello;c0;",
	"LB0:Du12:content-type;u1:a;;;B1:Du12:content-type;u1:b;;;;c1:2:bb;c0:2:aa;c1;c0;",
	"Du1:f;B7:Du12:content-type;u1:a;u3:url;u2:/x;;;;c7:0:;c7:1:x;c7;",
	"B0:Du12:content-type;u1:a;;; c0:1:x; c0; ",
	"N;N;", "i1; u1:x;", "B0:Du12:content-type;u1:a;;;c0;i5;",
	// errors near the edges
	"", " ", "i;", "i12a;", "u2:foo;", "u1:\xff;", "u03:abc;", "n;", "Nx;", "Si1;i1;;", "Di1;;",
	"Li1;", "f;", "finfin;", "d1970-1-1T0:0:0Z;", "B0:D;;c0;", "B0:Du12:content-type;u1:a;;;c1:1:x;c0;",
	"B0:Du12:content-type;u1:a;;;c0:5:abc;c0;", "u999999999999:", "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL",
}

// checkErrorType fails unless err is one of the errors decoding promises.
func checkErrorType(t *testing.T, err error) {
	t.Helper()
	var se *wire.SyntaxError
	var le *wire.LimitError
	var te *wire.UnmarshalTypeError
	if !errors.As(err, &se) && !errors.As(err, &le) && !errors.As(err, &te) {
		t.Fatalf("error of unexpected type %T: %v", err, err)
	}
}

// smallLimits bound what one fuzz input may cost.
var smallLimits = wire.Limits{MaxStringBytes: 1024, MaxItems: 1000, MaxIntegerDigits: 200, MaxBlobBytes: 1 << 20}

const maxAllocPerInput = 64 << 20

func FuzzUnmarshalAny(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// With small limits, decoding costs little whatever the input.
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		var small any
		errSmall := wire.UnmarshalConfig(data, &small, wire.DecodeConfig{Limits: smallLimits})
		runtime.ReadMemStats(&ms1)
		if n := ms1.TotalAlloc - ms0.TotalAlloc; n > maxAllocPerInput {
			t.Fatalf("decoding %d bytes with small limits allocated %d bytes", len(data), n)
		}
		if errSmall != nil {
			checkErrorType(t, errSmall)
		}

		var v any
		err := wire.Unmarshal(data, &v)
		if err != nil {
			checkErrorType(t, err)
			return
		}
		enc1, err := wire.Marshal(v)
		if err != nil {
			t.Fatalf("decoded %q into %#v, which does not encode: %v", data, v, err)
		}
		var v2 any
		if err := wire.Unmarshal(enc1, &v2); err != nil {
			t.Fatalf("re-encoding of %q is %q, which does not decode: %v", data, enc1, err)
		}
		enc2, err := wire.Marshal(v2)
		if err != nil {
			t.Fatalf("second encoding of %q failed: %v", data, err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("encoding is not stable for %q:\nfirst  %q\nsecond %q", data, enc1, enc2)
		}
		// AppendMarshal agrees with Marshal. (Decoded blobs are read once,
		// so decode again.)
		var v3 any
		if err := wire.Unmarshal(enc1, &v3); err != nil {
			t.Fatal(err)
		}
		if app, err := wire.AppendMarshal([]byte("x"), v3); err != nil || !bytes.Equal(app[1:], enc1) {
			t.Fatalf("AppendMarshal = %q, %v; want x%q", app, err, enc1)
		}
	})
}

// FuzzDecodeWork checks the bound doc.go promises: the duplicate checks
// of sets and dict keys do work linear in the input, whatever it nests.
func FuzzDecodeWork(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, depth := range []int{1, 5, 50} {
		f.Add(nestedSets(depth, 500))
		f.Add(nestedDictKeys(depth, 500))
	}
	f.Add(duplicateKeys("Li1;;", 50))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		work, err := wire.DupWork(data, &v, wire.DecodeConfig{Limits: smallLimits})
		if err != nil && !errors.Is(err, io.EOF) {
			checkErrorType(t, err)
		}
		if work > maxDupWorkPerByte*int64(len(data)) {
			t.Fatalf("the duplicate checks of %q did %d work for %d bytes, want at most %d per byte",
				data, work, len(data), maxDupWorkPerByte)
		}
	})
}

// streamReader wraps data in a reader chosen by mode. For the pipe mode it
// starts a writer goroutine; stop ends it and reports whether it ended.
func streamReader(data []byte, mode byte) (r io.Reader, stop func() bool) {
	switch mode % 5 {
	case 0:
		return bytes.NewReader(data), func() bool { return true }
	case 1:
		return iotest.OneByteReader(bytes.NewReader(data)), func() bool { return true }
	case 2:
		return iotest.HalfReader(bytes.NewReader(data)), func() bool { return true }
	case 3:
		return iotest.DataErrReader(bytes.NewReader(data)), func() bool { return true }
	}
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Go(func() {
		step := int(mode)/5 + 1
		for d := data; len(d) > 0; {
			k := min(step, len(d))
			if _, err := pw.Write(d[:k]); err != nil {
				return
			}
			d = d[k:]
		}
		pw.Close()
	})
	return pr, func() bool {
		pr.Close() // unblocks the writer if the decoder stopped early
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
			return true
		case <-time.After(10 * time.Second):
			return false
		}
	}
}

// blobsOf returns the blobs in a generic value, in encoding order of
// their containers (not necessarily wire order).
func blobsOf(v any) []*wire.Blob {
	var out []*wire.Blob
	collectBlobs(v, func(b *wire.Blob) { out = append(out, b) })
	return out
}

func FuzzDecoderStream(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add([]byte(s), byte(i))
	}
	f.Add([]byte("Li1;;Li2;;"), byte(4))
	f.Add([]byte("B0:Du12:content-type;u1:a;;;c0:1:x;c0;B0:Du12:content-type;u1:b;;;c0:2:yy;c0;"), byte(9))
	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		dir := t.TempDir()
		cfg := wire.DecodeConfig{Limits: smallLimits, SpoolThreshold: 64, TempDir: dir}

		// Pass 1: decode every message, reading blobs in reverse order
		// (so that the others spool), with the reader mode picks.
		r, stop := streamReader(data, mode)
		dec := wire.NewDecoderConfig(r, cfg)
		for range 20 {
			var v any
			err := dec.Decode(&v)
			if err == io.EOF {
				break
			}
			if err != nil {
				if !errors.Is(err, io.ErrNoProgress) && !errors.Is(err, io.ErrUnexpectedEOF) {
					checkErrorType(t, err)
				}
				break
			}
			blobs := blobsOf(v)
			for i := len(blobs) - 1; i >= 0; i-- {
				if mode&0x80 != 0 && i%2 == 1 {
					blobs[i].Close()
					continue
				}
				io.Copy(io.Discard, blobs[i])
			}
		}
		dec.Close()
		if !stop() {
			t.Fatal("the writer goroutine did not end: the decoder left it blocked")
		}
		// Spool files are unlinked at once, and closed once their blob is
		// read, closed or the decoder closed.
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Fatalf("temp dir holds %d files (%v)", len(entries), err)
		}
		if n := spoolFiles(dir); n > 0 {
			t.Fatalf("%d spool files still open", n)
		}

		// Pass 2: the stream and the in-memory decoder agree. Decode from
		// a one-byte reader; when the input is exactly one message, it
		// encodes to what Unmarshal's value encodes to.
		dec = wire.NewDecoderConfig(iotest.OneByteReader(bytes.NewReader(data)), wire.DecodeConfig{SpoolThreshold: -1})
		defer dec.Close()
		var sv any
		serr := dec.Decode(&sv)
		var senc []byte
		if serr == nil {
			senc, serr = wire.Marshal(sv) // reads the blobs
			if serr == nil {
				var rest any
				if err := dec.Decode(&rest); err != io.EOF {
					serr = fmt.Errorf("not a single message: %v", err)
				}
			}
		}
		var mv any
		merr := wire.Unmarshal(data, &mv)
		if merr != nil {
			if serr == nil {
				t.Fatalf("Unmarshal(%q) fails (%v) but the Decoder reads one message %q", data, merr, senc)
			}
			return
		}
		menc, err := wire.Marshal(mv)
		if err != nil {
			t.Fatalf("Marshal of the value of %q: %v", data, err)
		}
		if serr != nil {
			t.Fatalf("Unmarshal(%q) succeeds but the Decoder fails: %v", data, serr)
		}
		if !bytes.Equal(senc, menc) {
			t.Fatalf("Decoder and Unmarshal disagree on %q:\nDecoder   %q\nUnmarshal %q", data, senc, menc)
		}
	})
}

// fuzzTarget has a field of most kinds the typed decoder handles.
type fuzzTarget struct {
	B     bool
	I     int
	I8    int8
	U16   uint16
	U64   uint64
	F32   float32
	F64   float64
	S     string `glyph:"s"`
	Bs    []byte `glyph:"bs,omitempty"`
	Arr   [3]int
	BArr  [2]byte
	L     []string
	LL    [][]int
	M     map[string]int
	MI    map[int]string
	MA    map[any]any
	Set   wire.Set[string]
	SetA  wire.Set[any]
	AS    wire.AnySet
	D     wire.Dict
	OD    *wire.OrderedDict
	T     time.Time
	Dur   time.Duration
	P     wire.Period
	Big   *big.Int
	Ext   wire.Extension
	Blob  *wire.Blob
	Any   any
	Ptr   *int
	PP    **string
	Nest  *fuzzTarget
	Kids  []fuzzTarget
	Pt    point
	Iface fmt.Stringer
	Skip  int `glyph:"-"`
	//lint:ignore U1000 an unexported field, which the codec must skip
	hidden int
	Embedded
	*EmbeddedPtr
}

func FuzzUnmarshalTyped(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	typed := []string{
		"Du1:B;T;u1:I;i-5;u2:I8;i127;u3:U16;i65535;u3:U64;i18446744073709551615;u3:F32;f0x1p-01;u3:F64;fnan;u1:s;u1:x;;",
		"Du2:bs;b2:ab;u3:Arr;Li1;i2;i3;;u4:BArr;b2:xy;u1:L;Lu1:a;;u2:LL;LLi1;;L;;;;",
		"Du1:M;Du1:a;i1;;u2:MI;Di1;u1:x;;u2:MA;Di1;N;u1:k;T;;u3:Set;Su1:a;;u4:SetA;Si1;u1:a;;;",
		"Du2:AS;SLi1;;;u1:D;DLi1;;N;;u2:OD;Ou1:b;i1;u1:a;i2;;;",
		"Du1:T;d2000-01-01T00:00:00Z;u3:Dur;pP1D;u1:P;pP1Y;u3:Big;i99999999999999999999;;",
		"Du3:Ext;Xu1:e;D;N;;u4:Blob;B0:Du12:content-type;u1:a;;;u3:Any;Li1;;;c0:1:x;c0;",
		"Du3:Ptr;i1;u2:PP;u1:p;u4:Nest;Du1:I;i1;;u4:Kids;LDu1:I;i2;;D;;;",
		"Du2:Pt;Xu15:wire_test.point;Du1:x;i1;u1:y;i2;;N;;u5:Iface;N;u4:Skip;i1;u6:hidden;i1;u2:E1;i1;u2:P1;T;;",
		"Du2:I8;i128;u3:U16;i-1;u1:I;f1.5;u3:Arr;Li1;;u4:BArr;b3:abc;u1:M;Du1:a;u1:x;;;",
		"Du1:i;i1;u1:I;i2;;", "Ou1:s;u1:a;u1:S;u1:b;;",
	}
	for _, s := range typed {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s1 fuzzTarget
		err := wire.UnmarshalConfig(data, &s1, wire.DecodeConfig{Limits: smallLimits})
		if err != nil {
			checkErrorType(t, err)
			var te *wire.UnmarshalTypeError
			if !errors.As(err, &te) {
				return
			}
			// After a type error the rest was decoded and is usable.
		}
		// Other targets must not panic either.
		var l []any
		var m map[string]any
		var a [4]any
		var ps *fuzzTarget
		for _, target := range []any{&l, &m, &a, &ps} {
			if err := wire.UnmarshalConfig(data, target, wire.DecodeConfig{Limits: smallLimits}); err != nil {
				checkErrorType(t, err)
			}
		}

		enc1, err := wire.Marshal(&s1)
		if err != nil {
			t.Fatalf("decoded %q into %+v, which does not encode: %v", data, s1, err)
		}
		var s2 fuzzTarget
		if err := wire.Unmarshal(enc1, &s2); err != nil {
			t.Fatalf("re-encoding of %q is %q, which does not decode: %v", data, enc1, err)
		}
		enc2, err := wire.Marshal(&s2)
		if err != nil {
			t.Fatalf("second encoding of %q failed: %v", data, err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("typed encoding is not stable for %q:\nfirst  %q\nsecond %q", data, enc1, enc2)
		}
	})
}
