package bench

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/wire"
)

// nestingSize is the size of every input of BenchmarkDecodeNesting.
const nestingSize = 1 << 20

// BenchmarkDecodeNesting decodes, into any, sets nested 1, 10, 100 and
// 250 deep, all nestingSize bytes long, and reports the time per input
// byte: decoding is linear in the input when it stays flat across depths.
func BenchmarkDecodeNesting(b *testing.B) {
	for _, depth := range []int{1, 10, 100, 250} {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			data := nestedSets(depth, nestingSize)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var v any
				if err := wire.Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(data)), "ns/byte")
		})
	}
}

// nestedSets returns a set nested depth deep, about size bytes long. Each
// level is a set of two items that Go cannot compare, so the decoder
// checks them for duplicates by their content: a list of integers (an
// equal share of size) and the next level; the innermost level's second
// item is an empty list. (wire/dupcheck_test.go checks the same shape.)
func nestedSets(depth, size int) []byte {
	var buf bytes.Buffer
	for k := range depth {
		buf.WriteString("SL")
		for i := 0; i < size/depth; i += 9 {
			fmt.Fprintf(&buf, "i%07d;", k)
		}
		buf.WriteString(";")
	}
	buf.WriteString("L;")
	buf.WriteString(strings.Repeat(";", depth))
	return buf.Bytes()
}
