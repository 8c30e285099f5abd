package xmlrpc

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/wire"
)

// FuzzResponse decodes any body as a client reads a methodResponse: it
// must not panic, and a value it decodes must encode again.
func FuzzResponse(f *testing.F) {
	for _, ex := range []string{
		`<?xml version="1.0"?><methodResponse><params><param><value><string>South Dakota</string></value></param></params></methodResponse>`,
		`<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>`,
		`<methodResponse><params><param><value><array><data><value><i8>1</i8></value><value><struct></struct></value></data></array></value></param></params></methodResponse>`,
		`<methodResponse><params/></methodResponse>`, `<methodResponse>`, ``,
	} {
		f.Add(ex)
	}
	lim := limitsOf(wire.Limits{MaxDepth: 32, MaxItems: 1000, MaxStringBytes: 1 << 12})
	f.Fuzz(func(t *testing.T, body string) {
		v, fault, err := newDecoder([]byte(body), lim).response()
		if err != nil || fault != nil {
			return
		}
		if _, err := appendValue(nil, v); err != nil {
			t.Fatalf("decoded %#v, which does not encode: %v", v, err)
		}
	})
}

// FuzzStringRoundTrip checks that a string written into a response reads
// back the same, but for what XML cannot hold, which becomes U+FFFD.
func FuzzStringRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", "a < b & c > d", "\r\n\t", "\x00\x1f", "]]>", "\xff", "é€😀", "\uFFFE"} {
		f.Add(s)
	}
	lim := limitsOf(wire.Limits{})
	f.Fuzz(func(t *testing.T, s string) {
		body, err := appendResponse(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		v, fault, err := newDecoder(body, lim).response()
		if err != nil || fault != nil {
			t.Fatalf("%q: %v %v\n%s", s, err, fault, body)
		}
		if want := xmlSafe(s); v != want {
			t.Errorf("%q came back as %q, want %q", s, v, want)
		}
	})
}

// xmlSafe is s with what XML 1.0 cannot hold replaced by U+FFFD.
func xmlSafe(s string) string {
	var b []rune
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"),
			r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0xFFFE, r == 0xFFFF:
			r = '\uFFFD'
		}
		b = append(b, r)
	}
	return string(b)
}
