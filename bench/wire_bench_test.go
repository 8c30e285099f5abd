package bench

import (
	"io"
	"reflect"
	"testing"
)

// Run with: go test -run '^$' -bench . -benchmem
//
// Names form a matrix: Benchmark<Case>/<op>/<codec>, op being encode, decode
// (into a target reused across iterations), decodefresh (into a zeroed
// target) or roundtrip.

func BenchmarkSmall(b *testing.B) {
	rec := smallRecord()
	benchCodecs(b, &rec, func() any { return new(Record) })
}

func BenchmarkList1MB(b *testing.B) {
	list := makeList()
	benchCodecs(b, &list, func() any { return new([]Record) })
}

func benchCodecs(b *testing.B, v any, newTarget func() any) {
	b.Run("encode", func(b *testing.B) {
		for _, c := range codecs {
			b.Run(c.name, func(b *testing.B) { benchEncode(b, c, v) })
		}
	})
	b.Run("decode", func(b *testing.B) {
		for _, c := range codecs {
			b.Run(c.name, func(b *testing.B) { benchDecode(b, c, v, newTarget(), false) })
		}
	})
	b.Run("decodefresh", func(b *testing.B) {
		for _, c := range codecs {
			b.Run(c.name, func(b *testing.B) { benchDecode(b, c, v, newTarget(), true) })
		}
	})
}

// benchEncode marshals v into a buffer reused across iterations.
func benchEncode(b *testing.B, c codec, v any) {
	marshal := c.newMarshal()
	data, err := marshal(v) // also sizes the reused buffer
	if err != nil {
		b.Fatal(err)
	}
	size := len(data)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := marshal(v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "wire-bytes")
}

// benchDecode unmarshals c's encoding of v into target, a pointer reused
// across iterations. With fresh, the target is zeroed before each decode, as
// when every message goes into a new value: decoders can then reuse nothing
// (strings, slices) from the previous message.
func benchDecode(b *testing.B, c codec, v, target any, fresh bool) {
	enc, err := c.newMarshal()(v)
	if err != nil {
		b.Fatal(err)
	}
	data := append([]byte(nil), enc...)
	if err := c.unmarshal(data, target); err != nil { // warm up the target
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	zero := reflect.ValueOf(target).Elem()
	for b.Loop() {
		if fresh {
			zero.SetZero()
		}
		if err := c.unmarshal(data, target); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "wire-bytes")
}

// BenchmarkBlob64MB sends 64 MiB of generated content from an encoder to a
// decoder through an io.Pipe and reports the peak heap during the round trip.
// glyph streams it as a blob; the other codecs have no streaming type and
// carry it in a []byte field.
func BenchmarkBlob64MB(b *testing.B) {
	b.Run("roundtrip", func(b *testing.B) {
		for _, c := range codecs {
			b.Run(c.name, func(b *testing.B) {
				roundTrip := func() (int64, error) { return bytesRoundTrip(c, blobSize, io.Discard) }
				if c.name == "glyph" {
					roundTrip = func() (int64, error) { return glyphBlobRoundTrip(blobSize, io.Discard) }
				}
				benchRoundTrip(b, roundTrip)
			})
		}
	})
}

func benchRoundTrip(b *testing.B, roundTrip func() (int64, error)) {
	b.SetBytes(blobSize)
	b.ReportAllocs()
	var peak, base uint64
	for b.Loop() {
		b.StopTimer()
		base = max(base, settledHeap())
		b.StartTimer()
		h := startHeapSampler()
		n, err := roundTrip()
		peak = max(peak, h.Stop())
		if err != nil {
			b.Fatal(err)
		}
		if n != blobSize {
			b.Fatalf("got %d bytes, want %d", n, blobSize)
		}
	}
	// Absolute heap object bytes: the peak during the round trip, and what
	// was live (after a GC) before it started.
	b.ReportMetric(float64(peak), "peak-heap-bytes")
	b.ReportMetric(float64(base), "base-heap-bytes")
}
