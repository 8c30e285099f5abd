package jsonrpc_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// FuzzRequest sends any body to the handler: it must answer a JSON
// response (or 204, or 413) without panicking, within its limits.
func FuzzRequest(f *testing.F) {
	for _, ex := range []string{
		`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`,
		`{"jsonrpc":"2.0","method":"echo","params":{"v":{"a":[1,2.5,"x",null,true]}},"id":"x"}`,
		`[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"hello"},1]`,
		`{"jsonrpc":"2.0","method":"bytes","params":["AQID"],"id":null}`,
		`{"jsonrpc":"2.0","method":"dict","params":[{"1":[1e400]}],"id":1}`,
		`[[[[[[[[[[[[[[`, `"\ud800"`, `{"id":[]}`, `[]`, ``,
	} {
		f.Add(ex)
	}
	svc := service.New()
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"))
	svc.MustFunc("echo", func(v any) any { return v }, service.Args("v"))
	svc.MustFunc("hello", func(name string) string { return name }, service.Args("name"), service.Default("name", "x"))
	svc.MustFunc("bytes", func(b []byte) []byte { return b }, service.Args("b"))
	svc.MustFunc("dict", func(m map[int][]float64) map[int][]float64 { return m }, service.Args("m"))
	h := jsonrpc.NewHandler(svc, jsonrpc.WithMaxRequestBytes(1<<16),
		jsonrpc.WithLimits(wire.Limits{MaxDepth: 32, MaxItems: 1000, MaxStringBytes: 1 << 12}))
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
		switch w.Code {
		case http.StatusNoContent:
			return
		case http.StatusOK, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d", w.Code)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", w.Body.String())
		}
	})
}
