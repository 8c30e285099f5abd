package record

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

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

// Next returns a random key for the epoch after k's: the key to seal with
// once a reader is removed, shared with the remaining readers only.
func (k EpochKey) Next() EpochKey { return NewEpochKey(k.Epoch + 1) }

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
