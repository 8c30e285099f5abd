package bench

import (
	"crypto/sha256"
	"io"
	"reflect"
	"testing"
	"time"
)

// normalize makes decoded records comparable with reflect.DeepEqual: codecs
// differ in the time.Location they decode into (msgpack uses Local).
func normalize(rs []Record) []Record {
	out := make([]Record, len(rs))
	for i, r := range rs {
		r.Created = r.Created.UTC()
		out[i] = r
	}
	return out
}

func TestSmallRoundTrip(t *testing.T) {
	want := smallRecord()
	if want.Created.Nanosecond()%int(time.Microsecond) != 0 {
		t.Fatal("test data must have microsecond precision")
	}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			data, err := c.newMarshal()(&want)
			if err != nil {
				t.Fatal(err)
			}
			var got Record
			if err := c.unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if g, w := normalize([]Record{got}), normalize([]Record{want}); !reflect.DeepEqual(g, w) {
				t.Fatalf("round trip differs:\n got %+v\nwant %+v", g[0], w[0])
			}
			// Decoding again into the reused value, as the benchmark does.
			if err := c.unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if g, w := normalize([]Record{got}), normalize([]Record{want}); !reflect.DeepEqual(g, w) {
				t.Fatalf("second decode into the same value differs:\n got %+v\nwant %+v", g[0], w[0])
			}
			t.Logf("%s: %d bytes", c.name, len(data))
		})
	}
}

func TestListRoundTrip(t *testing.T) {
	want := makeList()
	glyph, err := codecs[0].newMarshal()(&want)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(glyph); n < 800_000 || n > 1_300_000 {
		t.Fatalf("glyph list encoding is %d bytes, want 0.8-1.3 MB", n)
	}
	t.Logf("%d records, glyph encoding %d bytes", len(want), len(glyph))
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			data, err := c.newMarshal()(&want)
			if err != nil {
				t.Fatal(err)
			}
			var got []Record
			if err := c.unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalize(got), normalize(want)) {
				t.Fatal("list round trip differs")
			}
			t.Logf("%s: %d bytes", c.name, len(data))
		})
	}
}

func TestGenReaderIndependentOfReadSizes(t *testing.T) {
	const n = 1000
	all, err := io.ReadAll(newGenReader(1, n))
	if err != nil || len(all) != n {
		t.Fatalf("ReadAll: %d bytes, %v", len(all), err)
	}
	g := newGenReader(1, n)
	var pieces []byte
	for size := 1; ; size = size%13 + 1 {
		p := make([]byte, size)
		k, err := g.Read(p)
		pieces = append(pieces, p[:k]...)
		if err == io.EOF {
			break
		}
	}
	if string(pieces) != string(all) {
		t.Fatal("output depends on read sizes")
	}
}

// TestBlobRoundTrip checks that every codec delivers the same content in the
// blob case (on a smaller size, to keep the test fast).
func TestBlobRoundTrip(t *testing.T) {
	const size = 3<<20 + 5
	h := sha256.New()
	if _, err := io.Copy(h, newGenReader(blobSeed, size)); err != nil {
		t.Fatal(err)
	}
	want := h.Sum(nil)
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			h := sha256.New()
			var n int64
			var err error
			if c.name == "glyph" {
				n, err = glyphBlobRoundTrip(size, h)
			} else {
				n, err = bytesRoundTrip(c, size, h)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != size || string(h.Sum(nil)) != string(want) {
				t.Fatalf("got %d bytes with a different hash, want %d", n, size)
			}
		})
	}
}
