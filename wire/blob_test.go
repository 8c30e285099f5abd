package wire_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// genReader produces n bytes of a deterministic pattern without holding
// them: the blob source for streaming tests.
type genReader struct {
	seed byte
	off  int64
	n    int64
}

func genByte(seed byte, off int64) byte { return byte(off*7+off>>9) ^ seed }

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), g.n-g.off))
	for i := range k {
		p[i] = genByte(g.seed, g.off+int64(i))
	}
	g.off += int64(k)
	return k, nil
}

// pattern returns the first n bytes genReader{seed} produces.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = genByte(seed, int64(i))
	}
	return b
}

// checkPattern reads r to the end and compares it with the pattern
// without holding the whole content.
func checkPattern(r io.Reader, seed byte, n int64) error {
	buf := make([]byte, 32<<10)
	var off int64
	for {
		k, err := r.Read(buf)
		for i := range k {
			if buf[i] != genByte(seed, off+int64(i)) {
				return fmt.Errorf("byte %d differs", off+int64(i))
			}
		}
		off += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", off, err)
		}
	}
	if off != n {
		return fmt.Errorf("read %d bytes, want %d", off, n)
	}
	return nil
}

const ctText = "Du12:content-type;u10:text/plain;;"

// blobHeader is the placeholder of blob id with content type text/plain.
func blobHeader(id int) string { return fmt.Sprintf("B%d:%s;", id, ctText) }

func chunk(id int, data []byte) string { return fmt.Sprintf("c%d:%d:%s;", id, len(data), data) }
func endChunk(id int) string           { return fmt.Sprintf("c%d;", id) }

// interleaved returns the trailers of blobs 0 and 1 holding a and b, in
// chunks of size n that alternate between the blobs.
func interleaved(a, b []byte, n int) string {
	var sb strings.Builder
	for len(a) > 0 || len(b) > 0 {
		if len(a) > 0 {
			k := min(n, len(a))
			sb.WriteString(chunk(0, a[:k]))
			a = a[k:]
		}
		if len(b) > 0 {
			k := min(n, len(b))
			sb.WriteString(chunk(1, b[:k]))
			b = b[k:]
		}
	}
	sb.WriteString(endChunk(1))
	sb.WriteString(endChunk(0))
	return sb.String()
}

// within runs f and fails the test if it takes longer than d: decoders
// must fail, not hang.
func within(t *testing.T, d time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
		return nil
	}
}

// spoolFiles counts the files this process holds open in dir (spool files
// are unlinked, so the directory listing cannot show them). It returns -1
// where /proc/self/fd does not exist.
func spoolFiles(dir string) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
			n++
		}
	}
	return n
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s holds %d files, want none", dir, len(entries))
	}
}

func assertSpoolFiles(t *testing.T, dir string, want int) {
	t.Helper()
	if got := spoolFiles(dir); got >= 0 && got != want {
		t.Errorf("%d spool files open in the temp dir, want %d", got, want)
	}
}

func TestBlobStreamingThroughPipe(t *testing.T) {
	const size = 20 << 20
	pr, pw := io.Pipe()
	encErr := make(chan error, 1)
	go func() {
		enc := wire.NewEncoder(pw)
		err := enc.Encode(map[string]any{
			"name": "big",
			"data": wire.NewBlob("application/octet-stream", &genReader{seed: 1, n: size}),
		})
		pw.CloseWithError(err)
		encErr <- err
	}()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	dec := wire.NewDecoder(pr)
	var msg struct {
		Name string
		Data *wire.Blob
	}
	if err := dec.Decode(&msg); err != nil {
		t.Fatal(err)
	}
	if msg.Name != "big" || msg.Data == nil || msg.Data.ContentType != "application/octet-stream" {
		t.Fatalf("decoded %+v", msg)
	}
	if err := checkPattern(msg.Data, 1, size); err != nil {
		t.Fatal(err)
	}
	if err := <-encErr; err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if err := dec.Decode(&msg); err != io.EOF {
		t.Errorf("after the message: %v, want io.EOF", err)
	}
	runtime.ReadMemStats(&after)
	// Neither side held the content: far less than the 20 MB went
	// through the heap.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Errorf("streaming %d bytes allocated %d bytes", size, alloc)
	}
}

func TestBlobsInOrderAndOutOfOrder(t *testing.T) {
	a, b := pattern(1, 100000), pattern(2, 70001)
	msg := "L" + blobHeader(0) + blobHeader(1) + ";" + interleaved(a, b, 1000)
	readers := map[string]func(io.Reader) io.Reader{
		"bytes":   func(r io.Reader) io.Reader { return r },
		"onebyte": iotest.OneByteReader,
		"half":    iotest.HalfReader,
	}
	for rname, wrap := range readers {
		for _, order := range []string{"first blob first", "second blob first"} {
			t.Run(rname+"/"+order, func(t *testing.T) {
				dec := wire.NewDecoderConfig(wrap(strings.NewReader(msg)), wire.DecodeConfig{TempDir: t.TempDir()})
				var blobs []*wire.Blob
				if err := dec.Decode(&blobs); err != nil {
					t.Fatal(err)
				}
				if len(blobs) != 2 {
					t.Fatalf("%d blobs", len(blobs))
				}
				first, second := 0, 1
				if order == "second blob first" {
					first, second = 1, 0
				}
				want := [][]byte{a, b}
				for _, i := range []int{first, second} {
					got, err := io.ReadAll(blobs[i])
					if err != nil || !bytes.Equal(got, want[i]) {
						t.Fatalf("blob %d: %d bytes, %v; want %d bytes", i, len(got), err, len(want[i]))
					}
				}
				if err := dec.Finish(); err != nil {
					t.Errorf("Finish: %v", err)
				}
			})
		}
	}
	// The same through Unmarshal.
	var blobs []*wire.Blob
	if err := wire.Unmarshal([]byte(msg), &blobs); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]byte{b, a} {
		got, err := blobs[1-i].Bytes()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Unmarshal blob %d: %d bytes, %v", 1-i, len(got), err)
		}
	}
}

// TestBlobOutOfOrderThroughPipe reads the second blob first while the
// data still arrives through a pipe, in small reads.
func TestBlobOutOfOrderThroughPipe(t *testing.T) {
	a, b := pattern(3, 300000), pattern(4, 200000)
	msg := "Du1:a;" + blobHeader(0) + "u1:b;" + blobHeader(1) + ";" + interleaved(a, b, 4096)
	pr, pw := io.Pipe()
	go func() {
		for s := msg; len(s) > 0; {
			k := min(len(s), 777)
			if _, err := pw.Write([]byte(s[:k])); err != nil {
				return
			}
			s = s[k:]
		}
		pw.Close()
	}()
	dec := wire.NewDecoderConfig(pr, wire.DecodeConfig{SpoolThreshold: 1 << 10, TempDir: t.TempDir()})
	var m map[string]*wire.Blob
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	small := make([]byte, 10)
	var got []byte
	for {
		n, err := m["b"].Read(small)
		got = append(got, small[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, b) {
		t.Fatalf("blob b: %d bytes", len(got))
	}
	if err := checkPattern(m["a"], 3, int64(len(a))); err != nil {
		t.Fatalf("blob a: %v", err)
	}
}

func TestBlobSpoolToFile(t *testing.T) {
	dir := t.TempDir()
	a, b := pattern(5, 1<<20), pattern(6, 1<<20+17)
	msg := "L" + blobHeader(0) + blobHeader(1) + ";" + interleaved(a, b, 4096) + "i42;"
	dec := wire.NewDecoderConfig(strings.NewReader(msg), wire.DecodeConfig{SpoolThreshold: 1 << 10, TempDir: dir})
	var blobs []*wire.Blob
	if err := dec.Decode(&blobs); err != nil {
		t.Fatal(err)
	}
	assertSpoolFiles(t, dir, 0)
	// Reading the second blob spools the first, past the threshold to a file.
	if err := checkPattern(blobs[1], 6, int64(len(b))); err != nil {
		t.Fatalf("blob 1: %v", err)
	}
	assertEmptyDir(t, dir) // unlinked at creation
	assertSpoolFiles(t, dir, 1)
	if err := checkPattern(blobs[0], 5, int64(len(a))); err != nil {
		t.Fatalf("blob 0: %v", err)
	}
	assertSpoolFiles(t, dir, 0) // released once read
	var n int
	if err := dec.Decode(&n); err != nil || n != 42 {
		t.Errorf("next message: %d, %v", n, err)
	}
	assertEmptyDir(t, dir)
}

func TestBlobSpoolReleasedOnClose(t *testing.T) {
	a, b := pattern(7, 1<<19), pattern(8, 1<<19)
	msg := "L" + blobHeader(0) + blobHeader(1) + ";" + interleaved(a, b, 8192) + "T;"

	t.Run("blob close", func(t *testing.T) {
		dir := t.TempDir()
		dec := wire.NewDecoderConfig(strings.NewReader(msg), wire.DecodeConfig{SpoolThreshold: 1 << 10, TempDir: dir})
		var blobs []*wire.Blob
		if err := dec.Decode(&blobs); err != nil {
			t.Fatal(err)
		}
		if err := checkPattern(blobs[1], 8, int64(len(b))); err != nil {
			t.Fatal(err)
		}
		assertSpoolFiles(t, dir, 1)
		// Read a little of the spooled blob, then close it.
		if _, err := io.ReadFull(blobs[0], make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		if err := blobs[0].Close(); err != nil {
			t.Fatal(err)
		}
		assertSpoolFiles(t, dir, 0)
		if _, err := blobs[0].Read(make([]byte, 1)); err == nil || err == io.EOF {
			t.Errorf("Read after Close: %v, want an error", err)
		}
		var v bool
		if err := dec.Decode(&v); err != nil || !v {
			t.Errorf("next message: %v, %v", v, err)
		}
		assertEmptyDir(t, dir)
	})

	t.Run("close before reading discards", func(t *testing.T) {
		dir := t.TempDir()
		dec := wire.NewDecoderConfig(strings.NewReader(msg), wire.DecodeConfig{SpoolThreshold: 1 << 10, TempDir: dir})
		var blobs []*wire.Blob
		if err := dec.Decode(&blobs); err != nil {
			t.Fatal(err)
		}
		if err := blobs[0].Close(); err != nil {
			t.Fatal(err)
		}
		// Blob 0's chunks arrive while blob 1 is read: they are dropped,
		// not spooled.
		if err := checkPattern(blobs[1], 8, int64(len(b))); err != nil {
			t.Fatal(err)
		}
		assertSpoolFiles(t, dir, 0)
		if err := dec.Finish(); err != nil {
			t.Fatal(err)
		}
		assertSpoolFiles(t, dir, 0)
		assertEmptyDir(t, dir)
	})

	t.Run("decoder close", func(t *testing.T) {
		dir := t.TempDir()
		dec := wire.NewDecoderConfig(strings.NewReader(msg), wire.DecodeConfig{SpoolThreshold: 1 << 10, TempDir: dir})
		var blobs []*wire.Blob
		if err := dec.Decode(&blobs); err != nil {
			t.Fatal(err)
		}
		if err := dec.Finish(); err != nil { // spools both
			t.Fatal(err)
		}
		assertSpoolFiles(t, dir, 2)
		if err := dec.Close(); err != nil {
			t.Fatal(err)
		}
		assertSpoolFiles(t, dir, 0)
		assertEmptyDir(t, dir)
		if _, err := blobs[0].Read(make([]byte, 1)); err == nil || err == io.EOF {
			t.Errorf("Read after Decoder.Close: %v, want an error", err)
		}
		var v bool
		if err := dec.Decode(&v); err == nil {
			t.Errorf("Decode after Close succeeded")
		}
	})

	t.Run("truncated stream", func(t *testing.T) {
		dir := t.TempDir()
		cut := msg[:len(msg)/2]
		dec := wire.NewDecoderConfig(strings.NewReader(cut), wire.DecodeConfig{SpoolThreshold: 1 << 10, TempDir: dir})
		var blobs []*wire.Blob
		if err := dec.Decode(&blobs); err != nil {
			t.Fatal(err)
		}
		err := within(t, 10*time.Second, func() error { _, err := io.ReadAll(blobs[1]); return err })
		if err == nil {
			t.Fatal("reading a truncated blob succeeded")
		}
		assertEmptyDir(t, dir)
		// The spooled part of blob 0 is still there to read, then the error.
		got, err := io.ReadAll(blobs[0])
		if err == nil || !bytes.HasPrefix(a, got) || len(got) == 0 {
			t.Errorf("blob 0 after truncation: %d bytes, %v", len(got), err)
		}
		assertSpoolFiles(t, dir, 0)
		dec.Close()
		assertSpoolFiles(t, dir, 0)
		assertEmptyDir(t, dir)
	})
}

func TestBlobSpoolInMemoryOnly(t *testing.T) {
	// A negative threshold never touches the disk, even with a TempDir
	// that does not exist.
	a, b := pattern(9, 1<<18), pattern(10, 1<<18)
	msg := "L" + blobHeader(0) + blobHeader(1) + ";" + interleaved(a, b, 4096)
	dec := wire.NewDecoderConfig(strings.NewReader(msg), wire.DecodeConfig{SpoolThreshold: -1, TempDir: filepath.Join(t.TempDir(), "missing")})
	var blobs []*wire.Blob
	if err := dec.Decode(&blobs); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 0} {
		if err := checkPattern(blobs[i], byte(9+i), 1<<18); err != nil {
			t.Errorf("blob %d: %v", i, err)
		}
	}
}

func TestBlobSpoolFileError(t *testing.T) {
	// Spooling to a directory that does not exist fails the read that
	// needs it, with an error instead of a hang or panic.
	a, b := pattern(11, 1<<16), pattern(12, 1<<16)
	msg := "L" + blobHeader(0) + blobHeader(1) + ";" + interleaved(a, b, 4096)
	dec := wire.NewDecoderConfig(strings.NewReader(msg), wire.DecodeConfig{SpoolThreshold: 100, TempDir: filepath.Join(t.TempDir(), "missing")})
	var blobs []*wire.Blob
	if err := dec.Decode(&blobs); err != nil {
		t.Fatal(err)
	}
	err := within(t, 10*time.Second, func() error { _, err := io.ReadAll(blobs[1]); return err })
	if err == nil {
		t.Fatal("reading with an unusable TempDir succeeded")
	}
	if _, err := io.ReadAll(blobs[0]); err == nil {
		t.Error("blob 0 read without error after the spool failure")
	}
}

func TestBlobUnreadBeforeNextDecode(t *testing.T) {
	for _, threshold := range []int64{0, 1 << 10, -1} {
		t.Run(fmt.Sprint("threshold ", threshold), func(t *testing.T) {
			dir := t.TempDir()
			data := pattern(13, 200000)
			var stream bytes.Buffer
			enc := wire.NewEncoder(&stream)
			enc.SetChunkSize(5000)
			if err := enc.Encode([]any{"first", wire.BytesBlob("a/b", data)}); err != nil {
				t.Fatal(err)
			}
			if err := enc.Encode("second"); err != nil {
				t.Fatal(err)
			}
			dec := wire.NewDecoderConfig(&stream, wire.DecodeConfig{SpoolThreshold: threshold, TempDir: dir})
			var first []any
			if err := dec.Decode(&first); err != nil {
				t.Fatal(err)
			}
			var second string
			if err := dec.Decode(&second); err != nil || second != "second" {
				t.Fatalf("second message: %q, %v", second, err)
			}
			blob := first[1].(*wire.Blob)
			if blob.ContentType != "a/b" {
				t.Errorf("content type %q", blob.ContentType)
			}
			got, err := io.ReadAll(blob)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("unread blob after the next Decode: %d bytes, %v", len(got), err)
			}
			assertSpoolFiles(t, dir, 0)
			assertEmptyDir(t, dir)
		})
	}
}

func TestBlobPipelining(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		enc := wire.NewEncoder(pw)
		enc.SetChunkSize(1000)
		for i := range 5 {
			err := enc.Encode(map[string]any{
				"i":    i,
				"blob": wire.NewBlob("x/y", &genReader{seed: byte(i), n: int64(10000 * i)}),
				"more": []any{wire.BytesBlob("text/plain", []byte(fmt.Sprint("msg", i)))},
			})
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	dec := wire.NewDecoder(pr)
	for i := range 5 {
		var m struct {
			I    int
			Blob *wire.Blob
			More []*wire.Blob
		}
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.I != i {
			t.Errorf("message %d: i = %d", i, m.I)
		}
		// Read the second blob first, every other message.
		if i%2 == 0 {
			if got, err := m.More[0].Bytes(); err != nil || string(got) != fmt.Sprint("msg", i) {
				t.Errorf("message %d: more = %q, %v", i, got, err)
			}
		}
		if err := checkPattern(m.Blob, byte(i), int64(10000*i)); err != nil {
			t.Errorf("message %d: %v", i, err)
		}
		if i%2 == 1 {
			if got, err := m.More[0].Bytes(); err != nil || string(got) != fmt.Sprint("msg", i) {
				t.Errorf("message %d: more = %q, %v", i, got, err)
			}
		}
	}
	var v any
	if err := dec.Decode(&v); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

func TestBlobTruncatedStream(t *testing.T) {
	data := pattern(14, 50000)
	full := string(mustMarshal(t, []any{wire.BytesBlob("a/b", data), "tail"}))
	hdrEnd := strings.Index(full, "c0:")
	for _, cut := range []int{hdrEnd + 2, hdrEnd + 10, hdrEnd + 30000, len(full) - 4, len(full) - 1} {
		t.Run(fmt.Sprint("cut at ", cut), func(t *testing.T) {
			for rname, wrap := range map[string]func(io.Reader) io.Reader{
				"bytes": func(r io.Reader) io.Reader { return r }, "onebyte": iotest.OneByteReader,
			} {
				dec := wire.NewDecoder(wrap(strings.NewReader(full[:cut])))
				var v []any
				if err := dec.Decode(&v); err != nil {
					t.Fatalf("%s: Decode: %v", rname, err)
				}
				blob := v[0].(*wire.Blob)
				err := within(t, 10*time.Second, func() error { _, err := io.ReadAll(blob); return err })
				if err == nil {
					t.Errorf("%s: reading the truncated blob succeeded", rname)
				}
				err = within(t, 10*time.Second, func() error { return dec.Decode(&v) })
				if err == nil || err == io.EOF {
					t.Errorf("%s: next Decode = %v, want an error", rname, err)
				}
			}
			var v any
			if err := wire.Unmarshal([]byte(full[:cut]), &v); err == nil {
				t.Errorf("Unmarshal of the truncated message succeeded")
			}
		})
	}
	// Truncated with the blob never read: the next Decode reports it.
	dec := wire.NewDecoder(strings.NewReader(full[:len(full)-3]))
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&v); err == nil || err == io.EOF {
		t.Errorf("next Decode = %v, want an error", err)
	}
	// An error from the underlying reader surfaces too.
	boom := errors.New("boom")
	dec = wire.NewDecoder(io.MultiReader(strings.NewReader(full[:hdrEnd+100]), iotest.ErrReader(boom)))
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(v.([]any)[0].(*wire.Blob)); !errors.Is(err, boom) {
		t.Errorf("blob read = %v, want %v", err, boom)
	}
}

func TestBlobProtocolErrors(t *testing.T) {
	h0, h1 := blobHeader(0), blobHeader(1)
	cases := []struct {
		name string
		msg  string
	}{
		{"chunk for unknown id", h0 + "c1:1:x;c0;"},
		{"chunk after end chunk", h0 + "c0;c0:1:x;"},
		{"second end chunk", "L" + h0 + h1 + ";c0;c0;c1;"},
		{"length mismatch, data longer", h0 + "c0:2:abc;c0;"},
		{"length mismatch, data shorter", h0 + "c0:5:abc;c0;"},
		{"missing end chunk", h0 + "c0:3:abc;"},
		{"missing end chunk of one of two", "L" + h0 + h1 + ";c0;c1:1:x;"},
		{"no trailers at all", h0},
		{"attrs without content-type", "B0:Du3:url;u1:x;;;c0;"},
		{"empty attrs", "B0:D;;c0;"},
		{"content-type not unicode", "B0:Du12:content-type;i1;;;c0;"},
		{"attrs not a dict", "B0:L;;c0;"},
		{"attr key not unicode", "B0:Du12:content-type;u1:a;i1;i2;;;c0;"},
		{"duplicate blob id", "L" + h0 + h0 + ";c0;"},
		{"blob id missing", "B:" + ctText + ";c;"},
		{"blob id not a number", "Bx:" + ctText + ";"},
		{"chunk length with leading zero", h0 + "c0:01:x;c0;"},
		{"chunk length missing", h0 + "c0::x;c0;"},
		{"chunk length negative", h0 + "c0:-1:x;c0;"},
		{"chunk without data separator", h0 + "c0:1x;c0;"},
		{"chunk with bad terminator", h0 + "c0x;"},
		{"chunk id missing", h0 + "c:1:x;c0;"},
		{"garbage among trailers", h0 + "c0:1:x;x;c0;"},
		{"chunk but no blob", "N;c0:1:x;c0;"},
		{"end chunk but no blob", "N;c0;"},
		{"value after trailers", h0 + "c0;i1;"},
		{"chunk ids with leading zero differ", h0 + "c00;"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			err := wire.Unmarshal([]byte(tc.msg), &v)
			if err == nil {
				t.Errorf("Unmarshal(%q) succeeded: %#v", tc.msg, v)
			} else {
				var se *wire.SyntaxError
				if !errors.As(err, &se) {
					t.Errorf("Unmarshal(%q): %v (%T), want *SyntaxError", tc.msg, err, err)
				}
			}
			// Through a Decoder the error shows at the latest when the
			// message is finished (Decode itself succeeds when only the
			// trailers are wrong), or, for records after a complete
			// message, when the next message is decoded.
			dec := wire.NewDecoder(iotest.OneByteReader(strings.NewReader(tc.msg)))
			err = within(t, 10*time.Second, func() error {
				if err := dec.Decode(&v); err != nil {
					return err
				}
				var errs []error
				collectBlobs(v, func(b *wire.Blob) {
					_, err := io.ReadAll(b)
					errs = append(errs, err)
				})
				errs = append(errs, dec.Finish())
				if err := errors.Join(errs...); err != nil {
					return err
				}
				if strings.HasPrefix(tc.name, "value after") {
					if err := dec.Decode(&v); err != nil || v != int64(1) {
						return fmt.Errorf("next message %v, %v", v, err)
					}
				}
				if err := dec.Decode(&v); err != io.EOF {
					return err
				}
				return nil
			})
			if strings.HasPrefix(tc.name, "value after") {
				if err != nil {
					t.Errorf("Decoder on %q: %v", tc.msg, err)
				}
			} else if err == nil {
				t.Errorf("Decoder on %q: no error", tc.msg)
			}
		})
	}
}

// collectBlobs calls f for every *wire.Blob in a generic value.
func collectBlobs(v any, f func(*wire.Blob)) {
	switch v := v.(type) {
	case *wire.Blob:
		f(v)
	case []any:
		for _, it := range v {
			collectBlobs(it, f)
		}
	case map[string]any:
		for _, it := range v {
			collectBlobs(it, f)
		}
	case map[any]any:
		for k, it := range v {
			collectBlobs(k, f)
			collectBlobs(it, f)
		}
	case wire.Dict:
		for _, e := range v.Entries {
			collectBlobs(e.Key, f)
			collectBlobs(e.Value, f)
		}
	case *wire.OrderedDict:
		for _, e := range v.Entries() {
			collectBlobs(e.Key, f)
			collectBlobs(e.Value, f)
		}
	case wire.AnySet:
		for _, it := range v.Items {
			collectBlobs(it, f)
		}
	case wire.Extension:
		for _, e := range v.Attrs.Entries() {
			collectBlobs(e.Key, f)
			collectBlobs(e.Value, f)
		}
		collectBlobs(v.Content, f)
	}
}

func TestBlobConcurrentReads(t *testing.T) {
	const n = 4
	var want [n][]byte
	for i := range want {
		want[i] = pattern(byte(20+i), 300000+i*1000)
	}
	// Chunks of the n blobs round-robin.
	var sb strings.Builder
	sb.WriteString("L")
	for i := range n {
		sb.WriteString(blobHeader(i))
	}
	sb.WriteString(";")
	rest := want
	for more := true; more; {
		more = false
		for i := range rest {
			if len(rest[i]) > 0 {
				k := min(3000, len(rest[i]))
				sb.WriteString(chunk(i, rest[i][:k]))
				rest[i] = rest[i][k:]
				more = true
			}
		}
	}
	for i := range n {
		sb.WriteString(endChunk(i))
	}
	for i := range want {
		want[i] = pattern(byte(20+i), 300000+i*1000)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, iotest.HalfReader(strings.NewReader(sb.String())))
		pw.CloseWithError(err)
	}()
	dir := t.TempDir()
	dec := wire.NewDecoderConfig(pr, wire.DecodeConfig{SpoolThreshold: 50000, TempDir: dir})
	var blobs []*wire.Blob
	if err := dec.Decode(&blobs); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			h := sha256.New()
			buf := make([]byte, 1000+i*777)
			if _, err := io.CopyBuffer(h, struct{ io.Reader }{blobs[i]}, buf); err != nil {
				errs[i] = err
				return
			}
			if !bytes.Equal(h.Sum(nil), sha256Of(want[i])) {
				errs[i] = fmt.Errorf("blob %d: content differs", i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if err := dec.Finish(); err != nil {
		t.Error(err)
	}
	assertSpoolFiles(t, dir, 0)
	assertEmptyDir(t, dir)
}

func sha256Of(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// TestBlobReadDuringNextDecode reads a blob of one message in a goroutine
// while the main goroutine decodes the next message.
func TestBlobReadDuringNextDecode(t *testing.T) {
	data := pattern(30, 1<<20)
	var stream bytes.Buffer
	enc := wire.NewEncoder(&stream)
	enc.SetChunkSize(4096)
	for i := range 3 {
		if err := enc.Encode([]any{i, wire.BytesBlob("a/b", data)}); err != nil {
			t.Fatal(err)
		}
	}
	dec := wire.NewDecoderConfig(iotest.HalfReader(&stream), wire.DecodeConfig{SpoolThreshold: 1 << 12, TempDir: t.TempDir()})
	var wg sync.WaitGroup
	for i := range 3 {
		var v []any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		blob := v[1].(*wire.Blob)
		wg.Go(func() {
			if err := checkPattern(blob, 30, int64(len(data))); err != nil {
				t.Errorf("message %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}

func TestBlobEncodeAttrs(t *testing.T) {
	b := wire.BytesBlob("", []byte("xy"))
	b.Attrs = map[string]any{"url": "/files/1", "content-type": "ignored/here"}
	got := mustMarshal(t, b)
	const want = "B0:Du12:content-type;u24:application/octet-stream;u3:url;u8:/files/1;;;c0:2:xy;c0;"
	if string(got) != want {
		t.Fatalf("Marshal = %q, want %q", got, want)
	}
	var back *wire.Blob
	if err := wire.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.ContentType != "application/octet-stream" || back.URL() != "/files/1" || len(back.Attrs) != 1 {
		t.Errorf("decoded %+v", back)
	}
	if data, err := back.Bytes(); err != nil || string(data) != "xy" {
		t.Errorf("content %q, %v", data, err)
	}
	// A nil *Blob is nil; an empty blob has only its end chunk.
	if got := mustMarshal(t, []*wire.Blob{nil, wire.BytesBlob("a/b", nil)}); string(got) != "LN;B0:Du12:content-type;u3:a/b;;;;c0;" {
		t.Errorf("Marshal = %q", got)
	}
	if b := wire.BytesBlob("a/b", nil); b.URL() != "" {
		t.Errorf("URL of a blob without one = %q", b.URL())
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestBlobSources(t *testing.T) {
	// BytesBlob encodes any number of times; NewBlob reads once and closes.
	bb := wire.BytesBlob("a/b", []byte("hello"))
	first, second := mustMarshal(t, bb), mustMarshal(t, bb)
	if !bytes.Equal(first, second) || !strings.HasSuffix(string(first), "c0:5:hello;c0;") {
		t.Errorf("BytesBlob twice: %q, %q", first, second)
	}
	if data, err := bb.Bytes(); err != nil || string(data) != "hello" {
		t.Errorf("Bytes = %q, %v", data, err)
	}
	cr := &closeRecorder{Reader: strings.NewReader("stream")}
	var buf bytes.Buffer
	if err := wire.NewEncoder(&buf).Encode(wire.NewBlob("a/b", cr)); err != nil {
		t.Fatal(err)
	}
	if !cr.closed {
		t.Error("NewBlob's reader was not closed after sending")
	}
	if !strings.HasSuffix(buf.String(), "c0:6:stream;c0;") {
		t.Errorf("encoded %q", buf.String())
	}
	// Chunk size: 10 bytes in chunks of 4.
	buf.Reset()
	enc := wire.NewEncoder(&buf)
	enc.SetChunkSize(4)
	if err := enc.Encode(wire.NewBlob("a/b", strings.NewReader("0123456789"))); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), ";c0:4:0123;c0:4:4567;c0:2:89;c0;") {
		t.Errorf("chunked %q", buf.String())
	}
	// A failing reader fails Encode and Marshal.
	boom := errors.New("boom")
	if err := wire.NewEncoder(io.Discard).Encode(wire.NewBlob("a/b", iotest.ErrReader(boom))); !errors.Is(err, boom) {
		t.Errorf("Encode with a failing reader: %v", err)
	}
	if _, err := wire.Marshal(wire.NewBlob("a/b", iotest.ErrReader(boom))); !errors.Is(err, boom) {
		t.Errorf("Marshal with a failing reader: %v", err)
	}
	// A writer that fails fails Encode.
	if err := wire.NewEncoder(errWriter{boom}).Encode(bb); !errors.Is(err, boom) {
		t.Errorf("Encode to a failing writer: %v", err)
	}
	// A blob value (not pointer) cannot be encoded.
	if b, err := wire.Marshal(*wire.BytesBlob("a/b", nil)); err == nil {
		t.Errorf("Marshal(Blob value) = %q", b)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

// TestBlobProxy re-encodes blobs decoded from one stream onto another
// without reading them first.
func TestBlobProxy(t *testing.T) {
	a, b := pattern(40, 250000), pattern(41, 123457)
	src := "L" + blobHeader(0) + blobHeader(1) + ";" + interleaved(a, b, 10000)
	dec := wire.NewDecoderConfig(strings.NewReader(src), wire.DecodeConfig{SpoolThreshold: 1 << 12, TempDir: t.TempDir()})
	var v []any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := wire.NewEncoder(&out).Encode(v); err != nil {
		t.Fatal(err)
	}
	var back []*wire.Blob
	if err := wire.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]byte{a, b} {
		if got, err := back[i].Bytes(); err != nil || !bytes.Equal(got, want) {
			t.Errorf("blob %d: %d bytes, %v", i, len(got), err)
		}
	}
}

// TestBlobCanonicalIDs checks that blobs inside maps get the same ids
// whatever the map iteration order: equal values give equal bytes.
func TestBlobCanonicalIDs(t *testing.T) {
	build := func() map[string]any {
		m := map[string]any{}
		for i := range 8 {
			m[fmt.Sprint("k", i)] = wire.BytesBlob("text/plain", []byte(fmt.Sprint("content ", i)))
		}
		m["nested"] = map[string]*wire.Blob{"x": wire.BytesBlob("a/x", []byte("x")), "y": wire.BytesBlob("a/y", []byte("y"))}
		return m
	}
	want := mustMarshal(t, build())
	for range 50 {
		if got := mustMarshal(t, build()); !bytes.Equal(got, want) {
			t.Fatalf("blobs in a map encode differently:\n%q\n%q", got, want)
		}
		var buf bytes.Buffer
		if err := wire.NewEncoder(&buf).Encode(build()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("Encoder output differs from Marshal:\n%q\n%q", buf.Bytes(), want)
		}
	}
	// Ids follow the order of the placeholders in the message.
	var v map[string]any
	if err := wire.Unmarshal(want, &v); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(want), "Du2:k0;B0:") || !strings.Contains(string(want), "u2:k7;B7:") {
		t.Errorf("ids not in message order: %.200q", want)
	}
	for i := range 8 {
		if got, err := v[fmt.Sprint("k", i)].(*wire.Blob).Bytes(); err != nil || string(got) != fmt.Sprint("content ", i) {
			t.Errorf("blob k%d = %q, %v", i, got, err)
		}
	}
}

// A message with one blob costs a few allocations to encode and to decode
// as a stream, even when the garbage collector has just emptied every
// sync.Pool: the Encoder and Decoder keep what a small root, its blob and
// the blob's attributes need in their own memory.
func TestBlobRoundTripAllocs(t *testing.T) {
	type msg struct {
		Name string
		Data *wire.Blob
	}
	content := bytes.Repeat([]byte("0123456789abcdef"), 20<<10) // 5 chunks
	var stream bytes.Buffer
	src, in := bytes.NewReader(nil), bytes.NewReader(nil)
	buf := make([]byte, 32<<10)
	var failed error
	roundTrip := func() {
		runtime.GC()
		stream.Reset()
		src.Reset(content)
		m := msg{Name: "payload.bin", Data: wire.NewBlob("application/octet-stream", src)}
		if err := wire.NewEncoder(&stream).Encode(&m); err != nil {
			failed = err
			return
		}
		in.Reset(stream.Bytes())
		dec := wire.NewDecoder(in)
		var got msg
		if err := dec.Decode(&got); err != nil {
			failed = err
			return
		}
		n := 0
		for {
			k, err := got.Data.Read(buf)
			n += k
			if err == io.EOF {
				break
			}
			if err != nil {
				failed = err
				return
			}
		}
		if err := dec.Finish(); err != nil || n != len(content) || got.Name != m.Name {
			failed = fmt.Errorf("read %d bytes of %d, name %q: %v", n, len(content), got.Name, err)
		}
	}
	roundTrip() // the stream buffer grows once
	allocs := testing.AllocsPerRun(10, roundTrip)
	if failed != nil {
		t.Fatal(failed)
	}
	// 9: the Blob, the message, the Encoder and its chunk buffer; the
	// Decoder, the decoded message, its blob's bookkeeping and two strings
	// (before the Encoder and Decoder kept these in their own memory: 25).
	if allocs > 12 {
		t.Errorf("%v allocations per round trip, want at most 12", allocs)
	}
}

// writeCounter counts the writes it gets and keeps their bytes.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// plainReader hides every method of its reader but Read.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// TestBlobWriteTo checks that io.Copy from a blob (its WriteTo) gives the
// rest of its content, from every kind of blob, in few writes, and
// leaves it read to the end.
func TestBlobWriteTo(t *testing.T) {
	content := pattern(7, 1<<20+123)
	decoded := func(t *testing.T) *wire.Blob {
		var buf bytes.Buffer
		enc := wire.NewEncoder(&buf)
		enc.SetChunkSize(4000)
		if err := enc.Encode(wire.BytesBlob("a/b", content)); err != nil {
			t.Fatal(err)
		}
		var b *wire.Blob
		if err := wire.NewDecoder(&buf).Decode(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name string
		blob func(t *testing.T) *wire.Blob
		// maxWrites bounds the writes of the whole content.
		maxWrites int
	}{
		{"BytesBlob", func(*testing.T) *wire.Blob { return wire.BytesBlob("a/b", content) }, 1},
		{"a bytes.Reader", func(*testing.T) *wire.Blob { return wire.NewBlob("a/b", bytes.NewReader(content)) }, 1},
		{"a plain reader", func(*testing.T) *wire.Blob { return wire.NewBlob("a/b", plainReader{bytes.NewReader(content)}) }, 5},
		{"decoded", decoded, 5 + 1<<20/4000},
	} {
		t.Run(c.name, func(t *testing.T) {
			var w writeCounter
			n, err := io.Copy(&w, c.blob(t))
			if err != nil || n != int64(len(content)) || !bytes.Equal(w.Bytes(), content) {
				t.Fatalf("copied %d bytes, %v; want the %d of the content", n, err, len(content))
			}
			if w.writes > c.maxWrites {
				t.Errorf("%d writes, want at most %d", w.writes, c.maxWrites)
			}
			// Part read first: the rest, then nothing more to read.
			b := c.blob(t)
			head := make([]byte, 10)
			if _, err := io.ReadFull(b, head); err != nil {
				t.Fatal(err)
			}
			w.Reset()
			if n, err := b.WriteTo(&w); err != nil || n != int64(len(content)-10) || !bytes.Equal(w.Bytes(), content[10:]) {
				t.Fatalf("after 10 bytes read, WriteTo wrote %d, %v", n, err)
			}
			if n, err := b.Read(head); n != 0 || err != io.EOF {
				t.Errorf("Read after WriteTo = %d, %v; want 0, EOF", n, err)
			}
			b.Close()
		})
	}
	// Errors of the reader and of the writer come back.
	boom := errors.New("boom")
	if _, err := io.Copy(io.Discard, wire.NewBlob("a/b", iotest.ErrReader(boom))); !errors.Is(err, boom) {
		t.Errorf("a failing reader: %v", err)
	}
	if _, err := wire.BytesBlob("a/b", content).WriteTo(errWriter{boom}); !errors.Is(err, boom) {
		t.Errorf("a failing writer: %v", err)
	}
	if n, err := new(wire.Blob).WriteTo(io.Discard); n != 0 || err != nil {
		t.Errorf("an empty blob: %d, %v", n, err)
	}
}
