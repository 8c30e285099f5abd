package wire

import (
	"math"
	"math/rand"
	"strconv"
	"testing"
)

func TestParseHexFloatFastMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200000; i++ {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		s := strconv.FormatFloat(f, 'x', -1, 64)
		g, ok := parseHexFloatFast([]byte(s))
		if ok && math.Float64bits(g) != math.Float64bits(f) {
			t.Fatalf("%s: %v != %v", s, g, f)
		}
		if !ok && f != 0 && math.Abs(f) >= 0x1p-1022 {
			t.Fatalf("%s not fast", s)
		}
	}
	for _, s := range []string{"0x1p-01", "0x1.8p+01", "-0x1.fffffffffffffp+1023", "0x1p-1022"} {
		g, ok := parseHexFloatFast([]byte(s))
		h, _ := strconv.ParseFloat(s, 64)
		if !ok || g != h {
			t.Fatal(s, g, h, ok)
		}
	}
}
