package glyphjson_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/wire/glyphjson"
)

// roundTrip checks that the glyph value of the message g comes back
// equal from JSON (its canonical encoding, as wire gives it after
// decoding, is the same), and that its JSON is the same after the trip.
func roundTrip(t *testing.T, g []byte, cfg wire.DecodeConfig) {
	t.Helper()
	var v any
	if err := wire.UnmarshalConfig(g, &v, cfg); err != nil {
		t.Fatalf("wire.Unmarshal(%q): %v", g, err)
	}
	// Decoding may complete a typed extension (a link gets its method).
	var err error
	if g, err = wire.Marshal(v); err != nil {
		t.Fatal(err)
	}
	if err := wire.UnmarshalConfig(g, &v, cfg); err != nil {
		t.Fatal(err)
	}
	j, err := glyphjson.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%q): %v", g, err)
	}
	// Marshal writes what wire encodes for it (a struct) the same way.
	if tj, err := glyphjson.Transcode(g); err == nil && string(tj) != string(j) || err != nil && !bytes.Contains(g, []byte("B0:")) {
		t.Fatalf("%q marshals to %s, transcodes to %s (%v)", g, j, tj, err)
	}
	var w any
	if err := glyphjson.UnmarshalConfig(j, &w, cfg); err != nil {
		t.Fatalf("Unmarshal(%s) of %q: %v", j, g, err)
	}
	back, err := wire.Marshal(w)
	if err != nil {
		t.Fatalf("wire.Marshal of %s: %v", j, err)
	}
	if string(back) != string(g) {
		t.Fatalf("%q went through %s and came back as %q", g, j, back)
	}
	var x any
	if err := wire.UnmarshalConfig(back, &x, cfg); err != nil {
		t.Fatal(err)
	}
	if j2, err := glyphjson.Marshal(x); err != nil || string(j2) != string(j) {
		t.Fatalf("%q marshals to %s, then to %s (%v)", g, j, j2, err)
	}
}

// TestRoundTripWireVectors runs every value of wire's spec.md (its
// encode vectors and the canonical side of its decode vectors) through
// JSON and back.
func TestRoundTripWireVectors(t *testing.T) {
	f, err := os.Open("../spec.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	in := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	cfg := wire.DecodeConfig{Limits: wire.Limits{MaxDepth: 1000}}
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		switch {
		case s == "```vectors":
			in = true
		case s == "```":
			in = false
		case in && (strings.HasPrefix(s, "encode ") || strings.HasPrefix(s, "decode ")):
			f := strings.Split(s, " ")
			g := wireBytes(t, line, f[len(f)-1])
			t.Run(strconv.Itoa(line), func(t *testing.T) { roundTrip(t, g, cfg) })
			n++
		}
	}
	if n < 150 {
		t.Fatalf("read %d values from wire's spec.md; the parser probably missed some", n)
	}
}

// wireBytes reads a bytes token as wire's spec.md writes them (and
// the GLYPH tokens of spec.md here).
func wireBytes(t *testing.T, line int, s string) []byte {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'v':
			b = append(b, '\v')
		case '\\':
			b = append(b, '\\')
		case 'x':
			c, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				t.Fatalf("spec.md:%d: %v", line, err)
			}
			b = append(b, byte(c))
			i += 2
		case '{':
			end := strings.IndexByte(s[i:], '}')
			count, text, _ := strings.Cut(s[i+1:i+end], ":")
			k, err := strconv.Atoi(count)
			if err != nil {
				t.Fatalf("spec.md:%d: %v", line, err)
			}
			b = append(b, strings.Repeat(string(wireBytes(t, line, text)), k)...)
			i += end
		default:
			t.Fatalf("spec.md:%d: unknown escape \\%c", line, s[i])
		}
	}
	return b
}

// TestRoundTripRandom sends random glyph values of every type through
// JSON and back.
func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(17, uint64(time.Now().UnixNano())))
	seed := r.Uint64()
	r = rand.New(rand.NewPCG(17, seed))
	for i := range 2000 {
		v := randomValue(r, 4)
		g, err := wire.Marshal(v)
		if err != nil {
			// Two random keys that are the same glyph value.
			continue
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("seed %d", seed)
				}
			}()
			roundTrip(t, g, wire.DecodeConfig{})
		})
	}
}

var randomStrings = []string{"", "a", "$", "$$", "$link", "$content", "é", "e\u0301", "💩", "\u2028", "\x00\n\"\\",
	"content", "set", "link", "<script>", "1", "true"}

func randomString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return randomStrings[r.IntN(len(randomStrings))]
	}
	b := make([]rune, r.IntN(6))
	for i := range b {
		b[i] = rune(r.IntN(0x3000))
		if b[i] >= 0xd800 && b[i] < 0xe000 {
			b[i] = 'x'
		}
	}
	return string(b)
}

func randomValue(r *rand.Rand, depth int) any {
	k := r.IntN(20)
	if depth == 0 {
		k %= 12
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return int64(r.Uint64())
	case 3:
		return r.Int64N(1<<54) - 1<<53
	case 4:
		n := new(big.Int).Lsh(big.NewInt(r.Int64()), uint(r.IntN(200)))
		return n
	case 5:
		return []float64{0, math.Copysign(0, -1), 1, 0.1, 1e21, 1e-7, math.NaN(), math.Inf(1), math.Inf(-1),
			math.MaxFloat64, math.SmallestNonzeroFloat64, r.NormFloat64() * 1e6}[r.IntN(12)]
	case 6:
		return math.Float64frombits(r.Uint64())
	case 7:
		return randomString(r)
	case 8:
		b := make([]byte, r.IntN(8))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case 9:
		return time.Unix(r.Int64N(1<<35), r.Int64N(1e9)).UTC()
	case 10:
		return time.Duration(r.Int64())
	case 11:
		n := r.Int64N(100)
		return wire.Period{Years: n, Months: r.Int64N(30), Duration: time.Duration(r.Int64N(1 << 50))}
	case 12, 13:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randomValue(r, depth-1)
		}
		return l
	case 14, 15:
		m := map[string]any{}
		for range r.IntN(4) {
			m[randomString(r)] = randomValue(r, depth-1)
		}
		return m
	case 16:
		var d wire.Dict
		for range r.IntN(4) {
			d.Entries = append(d.Entries, wire.Entry{Key: randomValue(r, depth-1), Value: randomValue(r, depth-1)})
		}
		return d
	case 17:
		var s wire.AnySet
		for range r.IntN(4) {
			s.Items = append(s.Items, randomValue(r, depth-1))
		}
		return s
	case 18:
		o := wire.NewOrderedDict()
		for range r.IntN(4) {
			o.Set(randomValue(r, 0), randomValue(r, depth-1))
		}
		return o
	default:
		attrs := wire.NewOrderedDict()
		for range r.IntN(3) {
			attrs.Set(randomString(r), randomValue(r, depth-1))
		}
		var content any
		if r.IntN(2) == 0 {
			content = randomValue(r, depth-1)
		}
		return wire.Extension{Name: randomString(r), Attrs: attrs, Ordered: r.IntN(2) == 0, Content: content}
	}
}
