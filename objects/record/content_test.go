package record_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/wire"
)

func TestSealOpenRoundTrip(t *testing.T) {
	key := record.NewEpochKey(3)
	tests := []struct {
		name    string
		size    int // content bytes
		segment int
	}{
		{"empty", 0, 0},
		{"one byte", 1, 0},
		{"fills the smallest bucket", 252, 256},
		{"fills one segment", 252, 256},
		{"one byte past one segment", 253, 256},
		{"two full segments", 504, 256},
		{"many segments", 10_000, 256},
		{"sealed content of exactly 17 wire chunks", 4096 * 252, 256}, // 4096 segments of 272 bytes
		{"three default segments", 3<<20 + 17, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := pattern(tt.size)
			c, addr := seal(t, data, key, tt.segment)
			if tt.name == "sealed content of exactly 17 wire chunks" {
				if _, content := containerParts(t, c); len(content) != 17<<16 {
					t.Fatalf("sealed content of %d bytes", len(content))
				}
			}
			if addr != record.Sum(c) {
				t.Fatalf("Seal returned %s, the bytes hash to %s", addr, record.Sum(c))
			}
			got, err := open(c, addr, record.NewEpochKey(1), key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("opened %d bytes, sealed %d", len(got), len(data))
			}
			info, err := record.ParseContainer(bytes.NewReader(c))
			if err != nil {
				t.Fatal(err)
			}
			if info.Address != addr || info.Kind != record.KindContainer || info.Size != int64(len(c)) {
				t.Fatalf("ParseContainer = %+v", info)
			}
			if info2, err := record.Parse(c); err != nil || info2.Address != addr {
				t.Fatalf("Parse = %+v, %v", info2, err)
			}
			// The container is the canonical encoding of its glyph value.
			var v any
			if err := wire.UnmarshalConfig(c, &v, wire.DecodeConfig{Limits: wire.Limits{MaxBlobBytes: -1}}); err != nil {
				t.Fatal(err)
			}
			again, err := wire.Marshal(v)
			if err != nil || !bytes.Equal(again, c) {
				t.Fatalf("container is not canonical: %v", err)
			}
		})
	}
}

func TestSealPadsToBuckets(t *testing.T) {
	key := record.NewEpochKey(0)
	size := func(n, segment int) int {
		c, _ := seal(t, pattern(n), key, segment)
		return len(c)
	}
	// Small contents share the smallest bucket; sizes inside one bucket
	// give containers of one size.
	if a, b := size(0, 0), size(200, 0); a != b {
		t.Errorf("0 and 200 bytes sealed to %d and %d bytes", a, b)
	}
	if a, b := size(5000, 0), size(5100, 0); a != b {
		t.Errorf("5000 and 5100 bytes sealed to %d and %d bytes", a, b)
	}
	// Multi-segment contents are padded to a Padmé number of segments:
	// 9 segments' worth rounds up to 10.
	if a, b := size(9*252, 256), size(10*252, 256); a != b {
		t.Errorf("9 and 10 segments sealed to %d and %d bytes", a, b)
	}
}

// containerParts splits a container into its header value and its sealed
// content, and rebuilds a container from them.
func containerParts(t *testing.T, c []byte) (map[string]any, []byte) {
	t.Helper()
	var v map[string]any
	if err := wire.UnmarshalConfig(c, &v, wire.DecodeConfig{Limits: wire.Limits{MaxBlobBytes: -1}}); err != nil {
		t.Fatal(err)
	}
	content, err := v["content"].(*wire.Blob).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return v, content
}

func rebuild(t *testing.T, v map[string]any, content []byte) ([]byte, record.Address) {
	t.Helper()
	v["content"] = wire.BytesBlob("application/octet-stream", content)
	c, err := wire.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return c, record.Sum(c)
}

func TestOpenRejectsTruncatedAndReordered(t *testing.T) {
	key := record.NewEpochKey(0)
	const seg = 256 + 16 // a sealed segment of 256 bytes
	c, _ := seal(t, pattern(4*252), key, 256)
	v, content := containerParts(t, c)
	if len(content) != 4*seg {
		t.Fatalf("sealed content of %d bytes, want 4 segments", len(content))
	}
	swapped := append(append(append([]byte{}, content[seg:2*seg]...), content[:seg]...), content[2*seg:]...)
	tests := []struct {
		name    string
		content []byte
		want    error
	}{
		{"last segment dropped", content[:3*seg], record.ErrTruncated},
		{"only the first segment", content[:seg], record.ErrTruncated},
		{"cut inside a segment", content[:3*seg+100], record.ErrTampered},
		{"first two swapped", swapped, record.ErrTampered},
		{"a segment repeated", append(append([]byte{}, content[:seg]...), content...), record.ErrTampered},
		{"no content", nil, record.ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c2, addr := rebuild(t, v, tt.content)
			if _, err := open(c2, addr, key); !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOpenRejectsEveryFlippedByte(t *testing.T) {
	key := record.NewEpochKey(0)
	c, addr := seal(t, pattern(600), key, 256)
	for i := range c {
		bad := bytes.Clone(c)
		bad[i] ^= 0x01
		if _, err := open(bad, addr, key); err == nil {
			t.Fatalf("flipping byte %d (%q) was not noticed", i, c[i])
		}
		// Even the one who chooses the address cannot change the content
		// unnoticed: only the framing may differ and still open.
		if got, err := open(bad, record.Sum(bad), key); err == nil && !bytes.Equal(got, pattern(600)) {
			t.Fatalf("flipping byte %d changed the content", i)
		}
	}
	for n := range len(c) {
		if _, err := open(c[:n], addr, key); err == nil {
			t.Fatalf("the first %d bytes opened", n)
		}
	}
	if _, err := open(append(bytes.Clone(c), 'N', ';'), addr, key); !errors.Is(err, record.ErrMalformed) {
		t.Fatalf("bytes after the container: %v", err)
	}
}

func TestOpenNeedsTheEpochKey(t *testing.T) {
	k0, k1 := record.NewEpochKey(0), record.NewEpochKey(1)
	c, addr := seal(t, []byte("hello"), k1, 0)
	if _, err := open(c, addr, k0); !errors.Is(err, record.ErrNoKey) {
		t.Fatalf("with another epoch's key: %v", err)
	}
	wrong := record.NewEpochKey(1)
	if _, err := open(c, addr, wrong); !errors.Is(err, record.ErrTampered) {
		t.Fatalf("with a wrong key of the same epoch: %v", err)
	}
}

func TestSealReportsReadErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(bytes.NewReader(pattern(1000)), iotestErrReader{boom})
	if _, err := record.Seal(io.Discard, r, record.NewEpochKey(0), record.WithSegmentSize(256)); !errors.Is(err, boom) {
		t.Fatalf("Seal = %v, want the reader's error", err)
	}
	if _, err := record.Seal(io.Discard, bytes.NewReader(nil), record.NewEpochKey(0), record.WithSegmentSize(300)); err == nil {
		t.Fatal("a segment size that is not a power of two was accepted")
	}
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestParseContainerRejectsNonCanonicalChunks(t *testing.T) {
	key := record.NewEpochKey(0)
	c, _ := seal(t, pattern(100_000), key, 0) // content of two 64 KiB chunks
	v, content := containerParts(t, c)
	canon, addr := rebuild(t, v, content)
	if !bytes.Equal(canon, c) {
		t.Fatal("rebuilding the container changed it")
	}
	// The same value written with other chunks and whitespace decodes alike,
	// but it is not the canonical encoding.
	root, _, _ := bytes.Cut(c, []byte("c0:65536:"))
	var odd bytes.Buffer
	odd.Write(root)
	fmt.Fprintf(&odd, "c0:%d:", 1000)
	odd.Write(content[:1000])
	fmt.Fprintf(&odd, ";\nc0:%d:", len(content)-1000)
	odd.Write(content[1000:])
	odd.WriteString(";c0;")
	if _, err := record.ParseContainer(bytes.NewReader(odd.Bytes())); !errors.Is(err, record.ErrMalformed) {
		t.Fatalf("ParseContainer of other chunks = %v", err)
	}
	if got, err := open(odd.Bytes(), record.Sum(odd.Bytes()), key); err != nil || !bytes.Equal(got, pattern(100_000)) {
		t.Fatalf("Open of the same value in other chunks: %v", err)
	}
	if _, err := open(odd.Bytes(), addr, key); !errors.Is(err, record.ErrTampered) {
		t.Fatalf("Open with the canonical address: %v", err)
	}
}
