package js_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/wire"
	"golang.org/x/text/unicode/norm"
)

// TestCrossCheck encodes random glyph values of every type with package
// wire, has the JavaScript codec decode and re-encode them, and checks
// that it gives back the same bytes (both encoders write the canonical
// form), which package wire decodes to the same value again.
func TestCrossCheck(t *testing.T) {
	node := nodeCommand(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GLYPH_CROSSCHECK_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	const n = 400
	g := &valueGen{rng: rand.New(rand.NewPCG(seed, 17))}
	msgs := make([][]byte, 0, n)
	for len(msgs) < n {
		b, err := wire.Marshal(g.value(0))
		if err != nil {
			continue // two keys or items came out equal: draw again
		}
		msgs = append(msgs, b)
	}
	var in strings.Builder
	for _, m := range msgs {
		in.WriteString(hex.EncodeToString(m) + "\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node[0], "test/crosscheck.js")
	cmd.Stdin = strings.NewReader(in.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("seed %d: node test/crosscheck.js: %v\n%s", seed, err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(msgs) {
		t.Fatalf("seed %d: %d messages in, %d lines out", seed, len(msgs), len(lines))
	}
	fails := 0
	for i, line := range lines {
		back, err := hex.DecodeString(line)
		if err != nil || !bytes.Equal(back, msgs[i]) {
			t.Errorf("seed %d, value %d:\n Go: %q\n JS: %s", seed, i, msgs[i], jsOut(line, back))
			fails++
		} else if again, err := reencode(back); err != nil || !bytes.Equal(again, msgs[i]) {
			t.Errorf("seed %d, value %d: Go decodes and re-encodes the JS bytes to %q, %v", seed, i, again, err)
			fails++
		}
		if fails >= 5 {
			t.Fatalf("seed %d: stopping after 5 failures (rerun with GLYPH_CROSSCHECK_SEED=%d)", seed, seed)
		}
	}
	if t.Failed() {
		t.Logf("rerun with GLYPH_CROSSCHECK_SEED=%d", seed)
	}
}

func jsOut(line string, b []byte) string {
	if strings.HasPrefix(line, "error: ") {
		return line
	}
	return fmt.Sprintf("%q", b)
}

func reencode(b []byte) ([]byte, error) {
	var v any
	if err := wire.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return wire.Marshal(v)
}

// valueGen draws random glyph values: every type, nested.
type valueGen struct {
	rng *rand.Rand
}

const maxGenDepth = 4

// value draws any value; blobs only where keys and set items are not
// (the canonical order of blobs among keys depends on their numbering);
// extensions with names that no package registers (the test binary has
// package hyper's, which check their attributes and content).
func (g *valueGen) value(depth int) any {
	if depth >= maxGenDepth || g.rng.IntN(3) == 0 {
		return g.scalar(true)
	}
	switch g.rng.IntN(6) {
	case 0:
		l := make([]any, g.rng.IntN(5))
		for i := range l {
			l[i] = g.value(depth + 1)
		}
		return l
	case 1:
		s := wire.AnySet{}
		for range g.rng.IntN(5) {
			s.Items = append(s.Items, g.key(depth+1))
		}
		return s
	case 2:
		m := map[string]any{}
		for range g.rng.IntN(5) {
			m[g.str()] = g.value(depth + 1)
		}
		return m
	case 3:
		d := wire.Dict{}
		for range g.rng.IntN(5) {
			d.Entries = append(d.Entries, wire.Entry{Key: g.key(depth + 1), Value: g.value(depth + 1)})
		}
		return d
	case 4:
		o := wire.NewOrderedDict()
		for range g.rng.IntN(5) {
			o.Set(g.key(depth+1), g.value(depth+1))
		}
		return o
	default:
		attrs := wire.NewOrderedDict()
		for range g.rng.IntN(3) {
			attrs.Set(g.str(), g.value(depth+1))
		}
		return wire.Extension{Name: g.pick("note", "point", "x-"+g.str()), Attrs: attrs, Ordered: g.rng.IntN(2) == 0, Content: g.value(depth + 1)}
	}
}

// key draws a value for a dict key or set item: no blobs in it.
func (g *valueGen) key(depth int) any {
	if depth >= maxGenDepth || g.rng.IntN(4) != 0 {
		return g.scalar(false)
	}
	l := make([]any, g.rng.IntN(3))
	for i := range l {
		l[i] = g.key(depth + 1)
	}
	return l
}

func (g *valueGen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

// scalar draws a value of a type without items.
func (g *valueGen) scalar(blobs bool) any {
	switch g.rng.IntN(13) {
	case 0:
		return nil
	case 1:
		return g.rng.IntN(2) == 0
	case 2:
		return g.rng.Int64N(2000) - 1000
	case 3:
		// Around 2^53, where JavaScript's numbers end, and beyond int64.
		switch g.rng.IntN(3) {
		case 0:
			return int64(1<<53) + g.rng.Int64N(5) - 2
		case 1:
			return -int64(1<<53) - g.rng.Int64N(5) + 2
		}
		return int64(g.rng.Uint64())
	case 4:
		b := new(big.Int).Lsh(big.NewInt(1), uint(64+g.rng.IntN(200)))
		b.Add(b, big.NewInt(g.rng.Int64()))
		if g.rng.IntN(2) == 0 {
			b.Neg(b)
		}
		return b
	case 5:
		return g.float()
	case 6, 7:
		return g.str()
	case 8:
		b := make([]byte, g.rng.IntN(12))
		for i := range b {
			b[i] = byte(g.rng.IntN(256))
		}
		return b
	case 9:
		return time.UnixMicro(g.rng.Int64N(253402300799999999+62135596800000000) - 62135596800000000).UTC()
	case 10:
		return time.Duration(g.rng.Int64())
	case 11:
		y, m := g.rng.Int64N(1000), g.rng.Int64N(30)
		d := time.Duration(g.rng.Int64N(math.MaxInt64))
		if g.rng.IntN(2) == 0 {
			return wire.Period{Years: -y, Months: -m, Duration: -d}
		}
		return wire.Period{Years: y, Months: m + 1, Duration: d}
	default:
		if !blobs {
			return g.str()
		}
		data := make([]byte, g.rng.IntN(3)*g.rng.IntN(40000))
		for i := range data {
			data[i] = byte(i * 7)
		}
		return wire.BytesBlob(g.pick("text/plain", "application/octet-stream", "image/png"), data)
	}
}

// float draws a float: any bits, or one of the values at the edges.
func (g *valueGen) float() float64 {
	switch g.rng.IntN(4) {
	case 0:
		return []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 1, -3, 0.1, math.SmallestNonzeroFloat64, math.MaxFloat64, 1 << 60}[g.rng.IntN(11)]
	case 1:
		return float64(g.rng.Int64N(1<<20)) / 8
	}
	return math.Float64frombits(g.rng.Uint64())
}

// str draws a string of ASCII, delimiters, accents (composed or not)
// and astral characters.
func (g *valueGen) str() string {
	var b strings.Builder
	for range g.rng.IntN(8) {
		switch g.rng.IntN(6) {
		case 0:
			b.WriteString(g.pick(";", ":", " ", "\x00", "\n"))
		case 1:
			b.WriteString(g.pick("é", "e\u0301", "ö", "漢", "\U0001F4A9", "\u1100\u1161"))
		case 2:
			r := rune(g.rng.IntN(0x10FFFF))
			if utf8.ValidRune(r) {
				b.WriteRune(r)
			}
		default:
			b.WriteByte(byte('a' + g.rng.IntN(26)))
		}
	}
	return norm.NFC.String(b.String())
}
