package rpcmap

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// jsonOf is encoding/json's encoding of v without HTML escaping, which
// AppendJSON must match for strings and floats.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// FuzzAppendScalars checks that strings and floats are written as
// encoding/json writes them.
func FuzzAppendScalars(f *testing.F) {
	for _, s := range []string{"", "plain", "quote \" and \\", "\x00\x1f\t\n\r", "<&>", "\u2028\u2029", "\xff\xfe", "é€😀", "a\xc3"} {
		f.Add(s, 1.5)
	}
	f.Add("", 1e21)
	f.Add("", 1e-7)
	f.Add("", math.Copysign(0, -1))
	f.Add("", 123456789.0)
	f.Fuzz(func(t *testing.T, s string, x float64) {
		if got, want := string(AppendJSONString(nil, s)), jsonOf(t, s); got != want {
			t.Errorf("AppendJSONString(%q) = %s, encoding/json %s", s, got, want)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			if _, err := appendFloat(nil, x); err == nil {
				t.Errorf("appendFloat(%v) did not fail", x)
			}
			return
		}
		got, err := appendFloat(nil, x)
		if want := jsonOf(t, x); err != nil || string(got) != want {
			t.Errorf("appendFloat(%v) = %s, %v; encoding/json %s", x, got, err, want)
		}
	})
}
