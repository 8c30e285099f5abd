package hypernats

import (
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// fuzzMethod has an input of every type the JSON conversion knows.
var fuzzMethod = func() *rpcmap.Method {
	types := []string{"integer", "float", "unicode", "bytearray", "datetime", "timedelta", "bool",
		"integer list/1", "unicode set/1", "float integer dict/2", "object unicode ordered_dict/2", "blob", "integer? list/1 unicode dict/2"}
	m := &rpcmap.Method{Name: "f", Path: "f", HTTPMethod: "POST", Inputs: make([]hyper.Input, len(types)), Types: make([]hyper.Type, len(types))}
	for i, ts := range types {
		m.Inputs[i] = hyper.Input{Name: string(rune('a' + i)), Type: ts}
		m.Types[i] = hyper.MustParseType(ts)
	}
	return m
}()

// FuzzPayload feeds request payloads to the decoder and binder of
// both codecs: they answer with arguments or an error, never a panic,
// within the limits.
func FuzzPayload(f *testing.F) {
	for _, s := range []string{
		``, `null`, `[1, 2.5, "x"]`, `{"a": 1, "b": 2.0, "c": "s"}`, `{"d": "YWJj", "e": "2026-01-01T00:00:00Z", "f": "1.5s"}`,
		`{"h": [1, 2], "i": ["x", "x"], "j": {"1": 1.5}, "k": {"z": 1, "a": 2}, "l": "AAEC", "m": {"k": [1, null]}}`,
		`[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]`, `{"a": 1e400}`, `{"a": 123456789012345678901234567890}`, `"x" "y"`,
		`L i1; u1:x ;`, `D u1:a i1; ;`, `N`, `X u4:form D; N`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	limits := wire.Limits{MaxDepth: 16, MaxItems: 64, MaxStringBytes: 256, MaxIntegerDigits: 64}.Resolved()
	f.Fuzz(func(t *testing.T, data []byte, glyph bool) {
		codec := CodecJSON
		if glyph {
			codec = CodecGlyph
		}
		req := &service.Request{Path: "f"}
		err := bindArgs(req, codec, data, fuzzMethod, limits)
		if err != nil {
			if service.KindOf(err) != service.KindInvalid {
				t.Fatalf("error of kind %s: %v", service.KindOf(err), err)
			}
			return
		}
		if len(req.Positional) > limits.MaxItems || req.Args != nil && req.Args.Len() > limits.MaxItems {
			t.Fatalf("more arguments than the limit")
		}
	})
}
