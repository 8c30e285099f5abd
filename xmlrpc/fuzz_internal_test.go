package xmlrpc

import (
	"testing"

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
