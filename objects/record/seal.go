package record

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/glyph-ipc/glyph/wire"
	"golang.org/x/crypto/chacha20poly1305"
)

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
