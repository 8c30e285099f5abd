package bench

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
)

// Benchmarks of package objects/record. Run with:
//
//	go test -run '^$' -bench Objects -benchmem
//
// BenchmarkObjectsStream seals and opens 64 MiB; GLYPH_BENCH_BIG=1 makes
// it 1 GiB (about 10 s here), the size whose peak heap bench/README.md
// reports.

var objectsT0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func objectsKeys(b *testing.B, seed byte) *record.Keys {
	k, err := record.KeysFromSeed(bytes.Repeat([]byte{seed}, record.SeedSize), objectsT0)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// BenchmarkObjectsFrame measures a dynamic object's frames: sign (build,
// sign and parse back the next frame) and verify (parse a frame's bytes,
// check its signature, then check it against the frame before).
func BenchmarkObjectsFrame(b *testing.B) {
	alice := objectsKeys(b, 1)
	frame0, err := record.NewDynamic(alice.Signer(), record.Sum([]byte("v0")), time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	target := record.Sum([]byte("v1"))
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			if _, err := frame0.Next(alice.Signer(), target, objectsT0.Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	})
	frame1, err := frame0.Next(alice.Signer(), target, objectsT0.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	data := frame1.Bytes()
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			f, err := record.ParseFrame(data)
			if err != nil {
				b.Fatal(err)
			}
			if err := record.CheckNext(frame0, f, alice.Identity, objectsT0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkObjectsSealOpen measures the content throughput of one object
// held in memory, sealed and then opened, in MB/s of plaintext.
func BenchmarkObjectsSealOpen(b *testing.B) {
	key := record.NewEpochKey(0)
	for _, size := range []struct {
		name string
		n    int
	}{{"4KiB", 4 << 10}, {"1MiB", 1 << 20}, {"16MiB", 16 << 20}} {
		data := bytes.Repeat([]byte("glyph objects "), size.n/14+1)[:size.n]
		var sealed bytes.Buffer
		addr, err := record.Seal(&sealed, bytes.NewReader(data), key)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("seal/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(size.n))
			for b.Loop() {
				if _, err := record.Seal(io.Discard, bytes.NewReader(data), key); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("open/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(size.n))
			for b.Loop() {
				if _, err := record.Open(io.Discard, bytes.NewReader(sealed.Bytes()), addr, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// zeroReader yields n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.n)]
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// heapPeak samples the live heap every millisecond until stop is called,
// and returns the highest sample.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var (
		mu   sync.Mutex // guards peak
		peak uint64
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// BenchmarkObjectsStream seals a stream into a file and opens it again,
// reporting the peak live heap during both: memory stays at a few
// segments whatever the size of the object.
func BenchmarkObjectsStream(b *testing.B) {
	size := int64(64 << 20)
	if os.Getenv("GLYPH_BENCH_BIG") == "1" {
		size = 1 << 30
	}
	key := record.NewEpochKey(0)
	path := filepath.Join(b.TempDir(), "container")
	b.SetBytes(size)
	var peak uint64
	for b.Loop() {
		runtime.GC()
		stop := heapPeak()
		f, addr := sealToFile(b, path, size, key)
		openAll(b, f, addr, key, size)
		f.Close()
		peak = max(peak, stop())
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// sealToFile seals size zero bytes with key into a new file at path and
// returns it, positioned at its start, with the container's address.
func sealToFile(b *testing.B, path string, size int64, key record.EpochKey) (*os.File, record.Address) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	addr, err := record.Seal(f, &zeroReader{n: size}, key)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		b.Fatal(err)
	}
	return f, addr
}

// openAll opens the container addr that r holds and checks that it held
// size bytes.
func openAll(b *testing.B, r io.Reader, addr record.Address, key record.EpochKey, size int64) {
	n, err := record.Open(io.Discard, r, addr, key)
	if err != nil || n != size {
		b.Fatalf("opened %d bytes: %v", n, err)
	}
}
