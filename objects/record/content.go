package record

import (
	"bufio"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/glyph-ipc/glyph/wire"
	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of a content key.
const KeySize = chacha20poly1305.KeySize

// Segment sizes: a container's content is cut into segments of this many
// plaintext bytes (the last one may be shorter), each sealed on its own.
const (
	MinSegmentSize     = 1 << 8
	MaxSegmentSize     = 1 << 20
	DefaultSegmentSize = MaxSegmentSize
)

const (
	tagSize       = chacha20poly1305.Overhead
	lengthSize    = 4   // the segment's data length, before its data
	minBucket     = 256 // the smallest padded single segment
	contentType   = "application/octet-stream"
	maxSegmentNum = 1<<56 - 1
)

// An EpochKey is the content key of one epoch of an object. Every
// container of the object sealed in that epoch opens with it; removing a
// reader starts a new epoch with a new key ([NewEpochKey]) that the
// removed reader is never sent.
type EpochKey struct {
	Epoch uint64
	Key   [KeySize]byte
}

// NewEpochKey returns a random key for epoch.
func NewEpochKey(epoch uint64) EpochKey {
	k := EpochKey{Epoch: epoch}
	rand.Read(k.Key[:])
	return k
}

// container is a container record. Its header, the record without its
// content, is the associated data of every segment.
type container struct {
	Kind    Kind       `glyph:"kind"`
	Suite   int        `glyph:"suite"`
	Epoch   uint64     `glyph:"epoch"`
	Nonce   []byte     `glyph:"nonce"`
	Segment int        `glyph:"segment"`
	Content *wire.Blob `glyph:"content,omitempty"`
}

// header returns the associated data of c's segments.
func (c *container) header() ([]byte, error) {
	h := *c
	h.Content = nil
	return wire.Marshal(&h)
}

// check checks a decoded container header.
func (c *container) check() error {
	if err := checkHead(c.Kind, c.Suite, KindContainer); err != nil {
		return err
	}
	if len(c.Nonce) != NonceSize {
		return fmt.Errorf("%w: container nonce of %d bytes", ErrMalformed, len(c.Nonce))
	}
	if !validSegmentSize(c.Segment) {
		return fmt.Errorf("%w: segment size %d", ErrMalformed, c.Segment)
	}
	if c.Content == nil || c.Content.ContentType != contentType || len(c.Content.Attrs) != 0 {
		return fmt.Errorf("%w: container without its content blob", ErrMalformed)
	}
	return nil
}

func validSegmentSize(n int) bool {
	return n >= MinSegmentSize && n <= MaxSegmentSize && n&(n-1) == 0
}

// A SealOption changes how [Seal] seals.
type SealOption func(*sealConfig)

type sealConfig struct{ segment int }

// WithSegmentSize makes [Seal] cut the content into segments of n bytes,
// a power of two from [MinSegmentSize] to [MaxSegmentSize] (default
// [DefaultSegmentSize]). Small segments suit small objects read in parts.
func WithSegmentSize(n int) SealOption { return func(c *sealConfig) { c.segment = n } }

// Seal encrypts everything src holds with key into a container written to
// dst and returns the container's address. It streams: memory stays at
// about two segments whatever the size of src. The content is padded to a
// size bucket (spec.md) so that the container's size tells little about
// the content's.
func Seal(dst io.Writer, src io.Reader, key EpochKey, opts ...SealOption) (Address, error) {
	cfg := sealConfig{segment: DefaultSegmentSize}
	for _, o := range opts {
		o(&cfg)
	}
	if !validSegmentSize(cfg.segment) {
		return Address{}, fmt.Errorf("record: segment size %d is not a power of two from %d to %d", cfg.segment, MinSegmentSize, MaxSegmentSize)
	}
	c := &container{Kind: KindContainer, Suite: Suite1, Epoch: key.Epoch, Nonce: make([]byte, NonceSize), Segment: cfg.segment}
	rand.Read(c.Nonce)
	aad, err := c.header()
	if err != nil {
		return Address{}, err
	}
	aead, err := chacha20poly1305.NewX(key.Key[:])
	if err != nil {
		return Address{}, err
	}
	s := newSealer(src, aead, c.Nonce, aad, cfg.segment)
	c.Content = wire.NewBlob(contentType, s)
	h := sha256.New()
	if err := wire.NewEncoder(io.MultiWriter(dst, h)).Encode(c); err != nil {
		if s.err != nil {
			return Address{}, s.err
		}
		return Address{}, err
	}
	return sumHash(h), nil
}

// sealer is an io.Reader of a container's content: it reads the plaintext
// from src and returns the sealed segments. Its Read fills p unless the
// content ends, so that the encoder writes chunks of one canonical size.
type sealer struct {
	src   io.Reader
	aead  cipher.AEAD
	nonce [chacha20poly1305.NonceSizeX]byte
	aad   []byte
	size  int // plaintext bytes per segment

	state    sealState
	cur, nxt []byte // plaintext segments: length, data, padding
	curN     int    // data bytes in cur
	segs     uint64 // data segments read
	padLeft  uint64 // padding segments still to write
	counter  uint64 // segments written
	out      []byte // the current sealed segment
	outPos   int
	err      error // the error src returned, if any
}

type sealState int

const (
	sealStart sealState = iota // nothing read yet
	sealData                   // cur is full; more data may follow
	sealFinal                  // cur holds the last data
	sealPad                    // padding segments follow
	sealDone
)

func newSealer(src io.Reader, aead cipher.AEAD, nonce, aad []byte, size int) *sealer {
	s := &sealer{src: src, aead: aead, aad: aad, size: size}
	copy(s.nonce[:], nonce)
	return s
}

func (s *sealer) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if s.outPos < len(s.out) {
			c := copy(p[n:], s.out[s.outPos:])
			s.outPos += c
			n += c
			continue
		}
		if s.state == sealDone {
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		if err := s.next(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// firstBuffer is the size a segment buffer starts at; it grows to the
// segment size only for content that needs it, so small objects cost
// little memory.
const firstBuffer = 4 << 10

// fill reads the data of one segment into *buf, after its length, growing
// *buf up to the segment size as the data needs, and returns the data's
// length.
func (s *sealer) fill(buf *[]byte) (int, error) {
	if *buf == nil {
		*buf = make([]byte, min(s.size, firstBuffer))
	}
	n := 0
	for {
		m, err := io.ReadFull(s.src, (*buf)[lengthSize+n:])
		n += m
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return n, nil
		}
		if err != nil {
			s.err = err
			return n, err
		}
		if len(*buf) == s.size {
			return n, nil
		}
		grow(buf, min(s.size, 2*len(*buf)))
	}
}

// grow makes *buf size bytes long, keeping its content.
func grow(buf *[]byte, size int) {
	if len(*buf) < size {
		*buf = append(*buf, make([]byte, size-len(*buf))...)
	}
}

// next seals the next segment into out.
func (s *sealer) next() error {
	full := s.size - lengthSize
	switch s.state {
	case sealStart:
		n, err := s.fill(&s.cur)
		if err != nil {
			return err
		}
		s.curN, s.segs = n, 1
		if n < full {
			return s.final()
		}
		s.state = sealData
		return s.next()
	case sealData:
		m, err := s.fill(&s.nxt)
		if err != nil {
			return err
		}
		if m == 0 {
			return s.final()
		}
		s.segs++
		if err := s.seal(&s.cur, full, s.size, false); err != nil {
			return err
		}
		s.cur, s.nxt, s.curN = s.nxt, s.cur, m
		if m < full {
			s.state = sealFinal
		}
		return nil
	case sealFinal:
		return s.final()
	case sealPad:
		s.padLeft--
		if s.padLeft == 0 {
			s.state = sealDone
		}
		return s.seal(&s.cur, 0, s.size, s.padLeft == 0)
	}
	return nil
}

// final seals the last data segment, held in cur, and plans the padding.
func (s *sealer) final() error {
	if s.segs == 1 {
		s.state = sealDone
		return s.seal(&s.cur, s.curN, bucket(s.curN+lengthSize, s.size), true)
	}
	total := padme(s.segs)
	s.padLeft = total - s.segs
	s.state = sealPad
	if s.padLeft == 0 {
		s.state = sealDone
	}
	return s.seal(&s.cur, s.curN, s.size, s.padLeft == 0)
}

// seal seals (*buf)[:size], holding n data bytes, as the next segment.
func (s *sealer) seal(bufp *[]byte, n, size int, last bool) error {
	if s.counter > maxSegmentNum {
		return fmt.Errorf("record: content of more than 2^56 segments")
	}
	grow(bufp, size)
	buf := *bufp
	binary.BigEndian.PutUint32(buf, uint32(n))
	clear(buf[lengthSize+n : size])
	segmentNonce(&s.nonce, s.counter, last)
	s.out = s.aead.Seal(s.out[:0], s.nonce[:], buf[:size], s.aad)
	s.outPos = 0
	s.counter++
	return nil
}

// segmentNonce writes segment i's counter and last flag after the
// container's 16-byte nonce.
func segmentNonce(nonce *[chacha20poly1305.NonceSizeX]byte, i uint64, last bool) {
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], i)
	copy(nonce[NonceSize:NonceSize+7], c[1:])
	nonce[NonceSize+7] = 0
	if last {
		nonce[NonceSize+7] = 1
	}
}

// padme rounds n up so that only its O(log log n) top bits are free
// (Padmé, Nikitin et al. 2019): at most 12% more, and the size says
// little.
func padme(n uint64) uint64 {
	if n < 2 {
		return n
	}
	e := uint64(bits.Len64(n) - 1) // floor(log2 n)
	s := uint64(bits.Len64(e))     // floor(log2 e) + 1
	mask := uint64(1)<<(e-s) - 1
	return (n + mask) &^ mask
}

// bucket returns the padded size of a single segment holding m bytes
// (length and data) when segments hold size bytes.
func bucket(m, size int) int {
	return min(size, max(minBucket, int(padme(uint64(m)))))
}

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
	extra, err := io.Copy(io.Discard, io.MultiReader(r.dec.Buffered(), r.tee))
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

// checkLayout checks that a container's segments are laid out as Seal
// lays them out for data bytes of content: count segments, the last of
// lastSize plaintext bytes.
func checkLayout(size int, count uint64, lastSize int, data uint64) error {
	full := uint64(size - lengthSize)
	if data <= full {
		if count == 1 && lastSize == bucket(int(data)+lengthSize, size) {
			return nil
		}
	} else if count == padme((data+full-1)/full) && lastSize == size {
		return nil
	}
	return fmt.Errorf("%w: %d segments for %d bytes are not padded as spec.md says", ErrMalformed, count, data)
}

// checkSizes is checkLayout for one who cannot see the data: the sizes
// of the segments must be ones Seal writes for some content.
func checkSizes(size int, count uint64, lastSize int) error {
	if count == 1 && lastSize >= lengthSize && lastSize == bucket(lastSize, size) {
		return nil
	}
	if count > 1 && padme(count) == count && lastSize == size {
		return nil
	}
	return fmt.Errorf("%w: %d segments, the last of %d bytes, are not padded as spec.md says", ErrMalformed, count, lastSize)
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
