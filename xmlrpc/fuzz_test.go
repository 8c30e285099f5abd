package xmlrpc_test

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// FuzzRequest sends any body to the handler: it must answer a well-formed
// methodResponse without panicking, within its limits.
func FuzzRequest(f *testing.F) {
	for _, ex := range []string{
		`<?xml version="1.0"?><methodCall><methodName>add</methodName><params><param><value><i4>1</i4></value></param><param><value><int>2</int></value></param></params></methodCall>`,
		`<methodCall><methodName>echo</methodName><params><param><value><struct><member><name>a</name><value><array><data><value><double>1.5</double></value><value><nil/></value><value><base64>AQ==</base64></value><value><dateTime.iso8601>20260102T03:04:05</dateTime.iso8601></value><value><boolean>1</boolean></value><value>x</value></data></array></value></member></struct></value></param></params></methodCall>`,
		`<methodCall><methodName>dict</methodName><params><param><value><struct><member><name>1</name><value><array><data><value><double>2</double></value></data></array></value></member></struct></value></param></params></methodCall>`,
		`<methodCall><methodName>system.methodSignature</methodName><params><param><value>add</value></param></params></methodCall>`,
		`<methodCall><methodName>system.listMethods</methodName></methodCall>`,
		`<!DOCTYPE x [<!ENTITY a "b">]><methodCall/>`, `<methodCall`, ``, `<a:methodCall xmlns:a="x"/>`,
	} {
		f.Add(ex)
	}
	svc := service.New()
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"))
	svc.MustFunc("echo", func(v any) any { return v }, service.Args("v"))
	svc.MustFunc("dict", func(m map[int][]float64) map[int][]float64 { return m }, service.Args("m"))
	h := xmlrpc.NewHandler(svc, xmlrpc.WithMaxRequestBytes(1<<16),
		xmlrpc.WithLimits(wire.Limits{MaxDepth: 32, MaxItems: 1000, MaxStringBytes: 1 << 12}))
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
		if w.Code != http.StatusOK && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", w.Code)
		}
		d := xml.NewDecoder(w.Body)
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("answer is not XML: %v", err)
			}
		}
	})
}
