package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/wire"
)

// maxDupWorkPerByte bounds the work of the duplicate checks per input
// byte (wire.DupWork), the bound doc.go promises: each value is encoded
// for the check a bounded number of times, however deep it is nested.
const maxDupWorkPerByte = 32

// nestedSets returns a set nested depth deep, about size bytes long. Each
// level is a set of two items that Go cannot compare: a list of filler
// integers (an equal share of size) and the next level; the innermost
// level's second item is an empty list.
func nestedSets(depth, size int) []byte {
	var b bytes.Buffer
	for k := range depth {
		b.WriteByte('S')
		fillerList(&b, size/depth, k)
	}
	b.WriteString("L;")
	b.WriteString(strings.Repeat(";", depth))
	return b.Bytes()
}

// fillerList writes a list of integers n bytes long, about.
func fillerList(b *bytes.Buffer, n, k int) {
	b.WriteByte('L')
	for i := 0; i < n; i += 9 {
		fmt.Fprintf(b, "i%07d;", k)
	}
	b.WriteByte(';')
}

// nestedDictKeys returns lists of dicts with list keys nested depth deep,
// about size bytes long: each level is a list holding a dict with two
// keys, a list of filler integers that ends with the next level, and an
// empty list.
func nestedDictKeys(depth, size int) []byte {
	var b bytes.Buffer
	for k := range depth {
		b.WriteString("LD")
		fillerList(&b, size/depth, k)
		b.Truncate(b.Len() - 1) // the next level goes into the key
	}
	b.WriteString("L;")
	b.WriteString(strings.Repeat(";N;L;N;;;", depth))
	return b.Bytes()
}

// tree is a Go type that nests: its kids, sent as a set, are checked for
// duplicates at every level.
type tree struct {
	Kids []tree `glyph:"kids"`
	N    []int  `glyph:"n"`
}

// nestedTrees returns a tree nested depth deep, about size bytes long:
// each level's kids are a set of the next level and a leaf that holds
// filler integers.
func nestedTrees(depth, size int) []byte {
	var b bytes.Buffer
	for k := range depth {
		b.WriteString("Du4:kids;SDu1:n;")
		fillerList(&b, size/depth, k)
		b.WriteString(";")
	}
	b.WriteString("D;")
	b.WriteString(strings.Repeat(";;", depth))
	return b.Bytes()
}

// duplicateKeys returns an ordered dict of n entries whose keys are all
// key.
func duplicateKeys(key string, n int) []byte {
	return []byte("O" + strings.Repeat(key+"N;", n) + ";")
}

func TestDupWorkIsLinear(t *testing.T) {
	const size = 64 << 10
	anyValue := func() any { return new(any) }
	treeValue := func() any { return new(tree) }
	cases := []struct {
		name string
		data []byte
		into func() any
	}{
		{"sets depth 1", nestedSets(1, size), anyValue},
		{"sets depth 10", nestedSets(10, size), anyValue},
		{"sets depth 100", nestedSets(100, size), anyValue},
		{"sets depth 250", nestedSets(250, size), anyValue},
		{"dict keys depth 10", nestedDictKeys(10, size), anyValue},
		{"dict keys depth 100", nestedDictKeys(100, size), anyValue},
		{"dict keys depth 250", nestedDictKeys(250, size), anyValue},
		{"typed sets depth 10", nestedTrees(10, size), treeValue},
		{"typed sets depth 100", nestedTrees(100, size), treeValue},
		{"typed sets depth 250", nestedTrees(250, size), treeValue},
		{"sets into any slice", nestedSets(250, size), func() any { return new([]any) }},
		{"sets into AnySet", nestedSets(250, size), func() any { return new(wire.AnySet) }},
		{"dict keys into Dict", nestedDictKeys(250, size)[1:], func() any { return new(wire.Dict) }},
		{"ordered dict of equal unicode keys", duplicateKeys("u1:a;", size/7), anyValue},
		{"ordered dict of equal list keys", duplicateKeys("Li1;;", size/7), anyValue},
	}
	// A level of dict keys is three levels of nesting (list, dict, key),
	// a level of trees two (dict, set).
	cfg := wire.DecodeConfig{Limits: wire.Limits{MaxDepth: 800}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			work, err := wire.DupWork(c.data, c.into(), cfg)
			var se *wire.SyntaxError
			if err != nil && !(strings.HasPrefix(c.name, "ordered dict") && errors.As(err, &se)) {
				t.Fatalf("decoding: %v", err)
			}
			per := float64(work) / float64(len(c.data))
			t.Logf("%d bytes, work %d, %.2f per byte", len(c.data), work, per)
			if work > maxDupWorkPerByte*int64(len(c.data)) {
				t.Errorf("the duplicate checks did %d work for %d bytes (%.1f per byte), want at most %d per byte",
					work, len(c.data), per, maxDupWorkPerByte)
			}
		})
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// An ordered dict whose keys repeat fails at the first repeat, naming the
// byte where the repeated key starts, without reading the rest: a million
// duplicates cost no more than two.
func TestOrderedDictFailsAtFirstDuplicate(t *testing.T) {
	for _, key := range []string{"u1:a;", "Li1;;", "Di1;N;;"} {
		t.Run(key, func(t *testing.T) {
			data := duplicateKeys(key, 1_000_000)
			in := &countingReader{r: bytes.NewReader(data)}
			var v any
			err := wire.NewDecoder(in).Decode(&v)
			var se *wire.SyntaxError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, "duplicate key") {
				t.Fatalf("err = %v, want a duplicate-key *SyntaxError", err)
			}
			if want := int64(1 + len(key) + len("N;")); se.Offset != want {
				t.Errorf("error at byte %d, want %d (the second key)", se.Offset, want)
			}
			if in.n > 64<<10 {
				t.Errorf("the decoder read %d of %d bytes before failing, want at most 64 KiB", in.n, len(data))
			}
		})
	}
}
