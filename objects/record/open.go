package record

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/glyph-ipc/glyph/wire"
	"golang.org/x/crypto/chacha20poly1305"
)

// containerLimits bound the decoding of a container: a small header and
// one blob of any size.
var containerLimits = wire.Limits{
	MaxMessageBytes:  1 << 10,
	MaxDepth:         3,
	MaxItems:         8,
	MaxStringBytes:   256,
	MaxIntegerDigits: 20,
	MaxBlobs:         1,
	MaxBlobBytes:     -1,
}

// containerReader reads a container from a stream: its header, then its
// segments one by one, hashing every byte for the address.
type containerReader struct {
	c    container
	aad  []byte
	h    interface{ Sum([]byte) []byte }
	tee  io.Reader
	dec  *wire.Decoder
	br   *bufio.Reader
	buf  []byte
	segs uint64
	done bool
}

func readContainer(src io.Reader) (*containerReader, error) {
	h := sha256.New()
	r := &containerReader{h: h, tee: io.TeeReader(src, h)}
	r.dec = wire.NewDecoderConfig(r.tee, wire.DecodeConfig{Limits: containerLimits, SpoolThreshold: -1})
	if err := r.dec.Decode(&r.c); err != nil {
		r.dec.Close()
		return nil, streamError(err)
	}
	if err := r.c.check(); err != nil {
		r.dec.Close()
		return nil, err
	}
	aad, err := r.c.header()
	if err != nil {
		r.dec.Close()
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	r.aad = aad
	r.br = bufio.NewReaderSize(r.c.Content, firstBuffer)
	return r, nil
}

// streamError maps an error reading a container to this package's errors.
func streamError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %v", ErrTruncated, err)
	}
	var le *wire.LimitError
	var se *wire.SyntaxError
	if errors.As(err, &le) || errors.As(err, &se) {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return err
}

// next returns the next sealed segment and whether it is the last; the
// segment is valid until the next call.
func (r *containerReader) next() ([]byte, bool, error) {
	if r.done {
		return nil, false, io.EOF
	}
	n, err := r.read()
	switch {
	case err == nil:
		_, perr := r.br.Peek(1)
		if perr != nil && perr != io.EOF {
			return nil, false, streamError(perr)
		}
		r.done = perr == io.EOF
	case err == io.ErrUnexpectedEOF:
		r.done = true
	case err == io.EOF:
		return nil, false, fmt.Errorf("%w: container content ends before its last segment", ErrTruncated)
	default:
		return nil, false, streamError(err)
	}
	if n < lengthSize+tagSize {
		return nil, false, fmt.Errorf("%w: segment %d of %d bytes", ErrTampered, r.segs, n)
	}
	r.segs++
	if r.segs > maxSegmentNum {
		return nil, false, fmt.Errorf("%w: more than 2^56 segments", ErrMalformed)
	}
	return r.buf[:n], r.done, nil
}

// read reads one sealed segment into r.buf, growing it up to a full
// sealed segment as the content needs.
func (r *containerReader) read() (int, error) {
	size := r.c.Segment + tagSize
	if r.buf == nil {
		r.buf = make([]byte, min(size, firstBuffer))
	}
	n := 0
	for {
		m, err := io.ReadFull(r.br, r.buf[n:])
		n += m
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			if n == 0 {
				return 0, io.EOF
			}
			return n, io.ErrUnexpectedEOF
		case err != nil || len(r.buf) == size:
			return n, err
		}
		grow(&r.buf, min(size, 2*len(r.buf)))
	}
}

// finish reads what follows the content, which must be nothing, and
// returns the container's address.
func (r *containerReader) finish() (Address, error) {
	defer r.dec.Close()
	if err := r.dec.Finish(); err != nil {
		return Address{}, streamError(err)
	}
	// Each on its own: io.MultiReader would bring a 32 KiB buffer of its
	// own to every container, where io.Discard reuses pooled ones.
	extra, err := io.Copy(io.Discard, r.dec.Buffered())
	if err != nil {
		return Address{}, err
	}
	more, err := io.Copy(io.Discard, r.tee)
	extra += more
	if err != nil {
		return Address{}, err
	}
	if extra > 0 {
		return Address{}, fmt.Errorf("%w: %d bytes after the container", ErrMalformed, extra)
	}
	var a Address
	a[0] = TagSHA256
	r.h.Sum(a[1:1])
	return a, nil
}

// Open decrypts the container that src holds, whose address must be addr,
// with the key of its epoch among keys, writing the content to dst; it
// returns how many bytes it wrote. It streams, in about two segments of
// memory.
//
// Each segment is authenticated before its content is written, but
// whether the container is whole and is the one addr names is known only
// at the end: on any error, discard what dst received. The errors wrap
// [ErrNoKey] (no key for the container's epoch), [ErrTampered] (a segment
// or the address does not match), [ErrTruncated] (the content ends early)
// or [ErrMalformed].
func Open(dst io.Writer, src io.Reader, addr Address, keys ...EpochKey) (int64, error) {
	r, err := readContainer(src)
	if err != nil {
		return 0, err
	}
	var key *EpochKey
	for i := range keys {
		if keys[i].Epoch == r.c.Epoch {
			key = &keys[i]
		}
	}
	if key == nil {
		r.dec.Close()
		return 0, fmt.Errorf("%w: for epoch %d", ErrNoKey, r.c.Epoch)
	}
	written, err := r.open(dst, key)
	if err != nil {
		r.dec.Close()
		return written, err
	}
	got, err := r.finish()
	if err != nil {
		return written, err
	}
	if !got.Equal(addr) {
		return written, fmt.Errorf("%w: container is %s, not %s", ErrTampered, got, addr)
	}
	return written, nil
}

// open decrypts the segments to dst.
func (r *containerReader) open(dst io.Writer, key *EpochKey) (int64, error) {
	aead, err := chacha20poly1305.NewX(key.Key[:])
	if err != nil {
		return 0, err
	}
	var nonce [chacha20poly1305.NonceSizeX]byte
	copy(nonce[:], r.c.Nonce)
	full := r.c.Segment - lengthSize
	var plain []byte
	var written int64
	var data uint64
	short := false // a segment with less than full data was seen
	for i := uint64(0); ; i++ {
		ct, last, err := r.next()
		if err == io.EOF {
			if err := checkLayout(r.c.Segment, i, len(plain), data); err != nil {
				return written, err
			}
			return written, nil
		}
		if err != nil {
			return written, err
		}
		segmentNonce(&nonce, i, last)
		plain, err = aead.Open(plain[:0], nonce[:], ct, r.aad)
		if err != nil {
			if last {
				segmentNonce(&nonce, i, false)
				if _, err := aead.Open(nil, nonce[:], ct, r.aad); err == nil {
					return written, fmt.Errorf("%w: the content stops after segment %d", ErrTruncated, i)
				}
			}
			return written, fmt.Errorf("%w: segment %d does not authenticate", ErrTampered, i)
		}
		n64 := uint64(binary.BigEndian.Uint32(plain))
		if n64 > uint64(len(plain)-lengthSize) {
			return written, fmt.Errorf("%w: segment %d says it holds more than it does", ErrMalformed, i)
		}
		n := int(n64)
		if (short && n > 0) || !zero(plain[lengthSize+n:]) {
			return written, fmt.Errorf("%w: segment %d is not packed and padded as spec.md says", ErrMalformed, i)
		}
		if n < full {
			short = true
		}
		data += uint64(n)
		w, err := dst.Write(plain[lengthSize : lengthSize+n])
		written += int64(w)
		if err != nil {
			return written, err
		}
	}
}

func zero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ParseContainer reads a container from src and checks what can be
// checked without its key: its header, its canonical encoding (the chunks
// of its content included), and the sizes of its segments. It returns the
// container's [Info] with its address, reading src to its end in bounded
// memory. Only [Open] can tell whether its ciphertext is authentic.
func ParseContainer(src io.Reader) (*Info, error) {
	cr := &countingReader{r: src}
	r, err := readContainer(cr)
	if err != nil {
		return nil, err
	}
	canon, err := newCanonicalHash(&r.c)
	if err != nil {
		r.dec.Close()
		return nil, err
	}
	var count uint64
	last := 0
	for {
		ct, _, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.dec.Close()
			return nil, err
		}
		canon.Write(ct)
		count++
		last = len(ct) - tagSize
	}
	if err := checkSizes(r.c.Segment, count, last); err != nil {
		r.dec.Close()
		return nil, err
	}
	addr, err := r.finish()
	if err != nil {
		return nil, err
	}
	if !canon.sum().Equal(addr) {
		return nil, fmt.Errorf("%w: container not in canonical form", ErrMalformed)
	}
	return &Info{Kind: KindContainer, Address: addr, Size: cr.n}, nil
}

// canonicalHash hashes the canonical encoding of a container as its
// content is written to it: the root, then the content in chunks of
// wireChunk bytes, then the end chunk.
type canonicalHash struct {
	h     hash.Hash
	chunk []byte
}

// wireChunk is the size of the chunks package wire writes (wire/spec.md 2).
const wireChunk = 64 << 10

func newCanonicalHash(c *container) (*canonicalHash, error) {
	root := *c
	root.Content = wire.BytesBlob(contentType, nil)
	b, err := wire.Marshal(&root)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	h := sha256.New()
	h.Write(bytes.TrimSuffix(b, endChunk)) // the root, without its empty blob's end
	// chunk grows to what the content needs, up to wireChunk: most
	// containers are far smaller.
	return &canonicalHash{h: h}, nil
}

var endChunk = []byte("c0;")

func (c *canonicalHash) Write(p []byte) {
	for len(p) > 0 {
		n := min(len(p), wireChunk-len(c.chunk))
		c.chunk = append(c.chunk, p[:n]...)
		p = p[n:]
		if len(c.chunk) == wireChunk {
			c.flush()
		}
	}
}

func (c *canonicalHash) flush() {
	if len(c.chunk) > 0 {
		fmt.Fprintf(c.h, "c0:%d:", len(c.chunk))
		c.h.Write(c.chunk)
		c.h.Write([]byte{';'})
		c.chunk = c.chunk[:0]
	}
}

func (c *canonicalHash) sum() Address {
	c.flush()
	c.h.Write(endChunk)
	return sumHash(c.h)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
