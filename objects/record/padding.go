package record

import (
	"fmt"
	"math/bits"
)

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
