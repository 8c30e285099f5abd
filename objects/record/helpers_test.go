package record_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
)

// t0 is the time every fixture is made at.
var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// keys remakes a fixed identity from one seed byte.
func keys(t testing.TB, b byte) *record.Keys {
	t.Helper()
	k, err := record.KeysFromSeed(bytes.Repeat([]byte{b}, record.SeedSize), t0)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// seal seals data with key in segments of size bytes (0: the default).
func seal(t testing.TB, data []byte, key record.EpochKey, size int) ([]byte, record.Address) {
	t.Helper()
	var opts []record.SealOption
	if size != 0 {
		opts = append(opts, record.WithSegmentSize(size))
	}
	var buf bytes.Buffer
	addr, err := record.Seal(&buf, bytes.NewReader(data), key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), addr
}

// open opens a container and returns its content.
func open(c []byte, addr record.Address, keys ...record.EpochKey) ([]byte, error) {
	var out bytes.Buffer
	_, err := record.Open(&out, bytes.NewReader(c), addr, keys...)
	return out.Bytes(), err
}

// pattern returns n bytes that are not all alike.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
