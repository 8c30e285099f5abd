package rpcmap_test

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/wire"
)

// TestDecodeJSONArg checks JSON arguments as a JSON transport reads
// them: decoded within limits, then converted by the input's type.
func TestDecodeJSONArg(t *testing.T) {
	big1, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	day := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		typ  string
		json string
		want any    // the converted argument, compared with %#v
		err  string // or the error
	}{
		{"integer", `3`, int64(3), ""},
		{"integer", `3.0`, int64(3), ""},
		{"integer", `3e2`, int64(300), ""},
		{"integer", `1.5`, 1.5, ""}, // the service refuses it: expected integer, got float
		{"integer", `123456789012345678901234567890`, big1, ""},
		{"float", `2`, 2.0, ""},
		{"bytearray", `"YWJj"`, []byte("abc"), ""},
		{"bytearray", `"YWI"`, []byte("ab"), ""},
		{"bytearray", `"_-8"`, []byte{0xff, 0xef}, ""},
		{"bytearray", `"%"`, nil, `"%" is not base64`},
		{"datetime", `"2026-12-07T10:00:00Z"`, day, ""},
		{"datetime", `"7 Dec"`, nil, "RFC 3339"},
		{"timedelta", `1.5`, 1500 * time.Millisecond, ""},
		{"timedelta", `"2m"`, 2 * time.Minute, ""},
		{"timedelta", `"soon"`, nil, "duration"},
		{"integer list/1", `[1, 2.0]`, []any{int64(1), int64(2)}, ""},
		{"integer list/1", `[1, "x"]`, []any{int64(1), "x"}, ""},
		{"bytearray list/1", `["YQ", "%"]`, nil, `item 1: "%" is not base64`},
		{"unicode set/1", `["a"]`, wire.AnySet{Items: []any{"a"}}, ""},
		{"float integer dict/2", `{"1": 2}`, map[any]any{int64(1): 2.0}, ""},
		{"float integer dict/2", `{"x": 2}`, map[any]any{"x": 2.0}, ""}, // the service refuses the key
		{"object unicode dict/2", `{"a": [1.5, null]}`, map[string]any{"a": []any{1.5, nil}}, ""},
		{"object unicode ordered_dict/2", `{"b": 1, "a": 2}`, wire.NewOrderedDict("b", int64(1), "a", int64(2)), ""},
		{"integer?", `null`, nil, ""},
		{"object", `{"n": 2, "f": 2.0, "s": "x"}`, map[string]any{"n": int64(2), "f": 2.0, "s": "x"}, ""},
		{"blob", `"YQ"`, wire.BytesBlob("application/octet-stream", []byte("a")), ""},
	}
	for _, tt := range tests {
		v, err := rpcmap.DecodeJSON([]byte(tt.json), wire.DefaultLimits())
		if err != nil {
			t.Fatalf("%s: %v", tt.json, err)
		}
		got, err := rpcmap.Arg(v, hyper.MustParseType(tt.typ))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %s: got %v, want an error with %q", tt.typ, tt.json, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tt.typ, tt.json, err)
			continue
		}
		if got, want := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", tt.want); got != want {
			t.Errorf("%s %s: got %s, want %s", tt.typ, tt.json, got, want)
		}
	}
}

// FuzzDecodeJSON feeds JSON to the bounded decoder and the conversion by
// type: they answer with a value or an error, never a panic, and the
// decoder keeps within its limits.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		``, `null`, `[1, 2.5, "x"]`, `{"a": 1, "b": 2.0, "c": "s"}`, `{"k": {"z": 1, "a": 2}}`,
		`[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]`, `{"a": 1e400}`, `123456789012345678901234567890`, `"x" "y"`,
		`["YWJj", "2026-01-01T00:00:00Z", "1.5s"]`,
	} {
		f.Add([]byte(s), "object")
		f.Add([]byte(s), "integer? list/1 unicode dict/2")
	}
	limits := wire.Limits{MaxDepth: 16, MaxItems: 64, MaxStringBytes: 256, MaxIntegerDigits: 64}
	f.Fuzz(func(t *testing.T, data []byte, typ string) {
		v, err := rpcmap.DecodeJSON(data, limits)
		if err != nil {
			return
		}
		if l, ok := v.([]any); ok && len(l) > limits.MaxItems {
			t.Fatalf("%d items, over the limit", len(l))
		}
		ty, err := hyper.ParseType(typ)
		if err != nil {
			return
		}
		rpcmap.Arg(v, ty)
	})
}
