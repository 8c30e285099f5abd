package hypernats

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

func TestJSONArguments(t *testing.T) {
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
		{"bytearray", `"%"`, nil, "expected base64"},
		{"datetime", `"2026-12-07T10:00:00Z"`, day, ""},
		{"datetime", `"7 Dec"`, nil, "RFC 3339"},
		{"timedelta", `1.5`, 1500 * time.Millisecond, ""},
		{"timedelta", `"2m"`, 2 * time.Minute, ""},
		{"timedelta", `"soon"`, nil, "duration"},
		{"integer list/1", `[1, 2.0]`, []any{int64(1), int64(2)}, ""},
		{"integer list/1", `[1, "x"]`, []any{int64(1), "x"}, ""},
		{"bytearray list/1", `["YQ", "%"]`, nil, "item 1: expected base64"},
		{"unicode set/1", `["a"]`, wire.AnySet{Items: []any{"a"}}, ""},
		{"float integer dict/2", `{"1": 2}`, map[any]any{int64(1): 2.0}, ""},
		{"float integer dict/2", `{"x": 2}`, nil, `key "x": expected an integer`},
		{"object unicode dict/2", `{"a": [1.5, null]}`, map[string]any{"a": []any{1.5, nil}}, ""},
		{"object unicode ordered_dict/2", `{"b": 1, "a": 2}`, wire.NewOrderedDict("b", int64(1), "a", int64(2)), ""},
		{"integer?", `null`, nil, ""},
		{"object", `{"n": 2.0, "s": "x"}`, map[string]any{"n": int64(2), "s": "x"}, ""},
		{"blob", `"YQ"`, wire.BytesBlob("application/octet-stream", []byte("a")), ""},
	}
	for _, tt := range tests {
		in := []input{{Input: hyper.Input{Name: "x", Type: tt.typ}, typ: hyper.MustParseType(tt.typ)}}
		req := &service.Request{Path: "f"}
		err := bindArgs(req, CodecJSON, []byte("["+tt.json+"]"), in, withDefaults(wire.Limits{}))
		if tt.err != "" {
			if service.KindOf(err) != service.KindInvalid || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %s: got %v, want an error with %q", tt.typ, tt.json, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tt.typ, tt.json, err)
			continue
		}
		if got, want := fmt.Sprintf("%#v", req.Positional[0]), fmt.Sprintf("%#v", tt.want); got != want {
			t.Errorf("%s %s: got %s, want %s", tt.typ, tt.json, got, want)
		}
	}
}
