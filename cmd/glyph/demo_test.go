package main

import (
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	out, errOut, code := glyph(t, "", "demo")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("demo reports a failure:\n%s", out)
	}
	for _, want := range []string{
		"== The hyperglyph encoding ==",
		"  wire     i18446744073709551616;\n",
		"  wire     u2:\\xc3\\xa9;\n",
		"  wire     f-0x0p+00;\n",
		"  wire     B0:Du12:content-type;u10:text/plain;;;c0:5:hello;c0;\n",
		"round-trip to the same bytes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

func TestDemoSinglePart(t *testing.T) {
	out, _, code := glyph(t, "", "demo", "encoding")
	if code != 0 || !strings.Contains(out, "== The hyperglyph encoding ==") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestEscapeWire(t *testing.T) {
	got := escapeWire([]byte("b2:\x00\xff;\\ ~\x7f"))
	want := `b2:\x00\xff;\x5c ~\x7f`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
