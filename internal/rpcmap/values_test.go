package rpcmap_test

import (
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/rpcmap"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

type point struct {
	X   int
	Tag string `glyph:"tag"`
}

type celsius float64

// TestPlain checks the plain value of every kind of glyph result.
func TestPlain(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"bool", true, true},
		{"int", 7, int64(7)},
		{"int8", int8(-7), int64(-7)},
		{"uint64 beyond int64", uint64(1 << 63), new(big.Int).SetUint64(1 << 63)},
		{"small big.Int", big.NewInt(5), int64(5)},
		{"big.Int", huge, huge},
		{"float", 1.5, 1.5},
		{"named float", celsius(2.5), 2.5},
		{"string", "x", "x"},
		{"bytes", []byte{1}, []byte{1}},
		{"time", t0, t0},
		{"duration", 1500 * time.Millisecond, 1.5},
		{"period", wire.Period{Years: 1, Months: 2}, "P1Y2M0DT0H0M0S"},
		{"list", []any{1, "a"}, []any{int64(1), "a"}},
		{"typed slice", []string{"a", "b"}, []any{"a", "b"}},
		{"nil slice", []int(nil), []any{}},
		{"string map", map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{"int map", map[int]string{2: "b"}, map[string]any{"2": "b"}},
		{"set", wire.NewSet("b", "a"), []any{"a", "b"}},
		{"any set", wire.AnySet{Items: []any{[]any{1}}}, []any{[]any{int64(1)}}},
		{"ordered dict", wire.NewOrderedDict("b", 1, "a", 2), wire.NewOrderedDict("b", int64(1), "a", int64(2))},
		{"dict of float keys", &wire.Dict{Entries: []wire.Entry{{Key: 1.5, Value: true}}}, map[string]any{"1.5": true}},
		{"link", hyper.Link{URL: "/now"}, "/now"},
		{"form", hyper.Form{URL: "/add"}, "/add"},
		{"resource", hyper.Resource{URL: "/User/", Content: map[string]any{"Name": "Ann", "greet": hyper.Form{URL: "greet"}}},
			map[string]any{"Name": "Ann", "greet": "greet"}},
		{"collection", hyper.Collection{Items: []any{1}}, []any{int64(1)}},
		{"error", hyper.Error{Message: "m", Logref: "l"}, map[string]any{"message": "m", "logref": "l"}},
		{"extension", wire.Extension{Name: "x", Attrs: wire.NewOrderedDict("a", 1), Content: "c"},
			map[string]any{"extension": "x", "attributes": wire.NewOrderedDict("a", int64(1)), "content": "c"}},
		{"blob", wire.BytesBlob("text/plain", []byte("ab")), []byte("ab")},
		{"struct", point{1, "p"}, map[string]any{"X": int64(1), "tag": "p"}},
		{"pointer to struct", &point{2, "q"}, map[string]any{"X": int64(2), "tag": "q"}},
		{"nil pointer", (*point)(nil), nil},
		{"structs in a list", []point{{1, "a"}}, []any{map[string]any{"X": int64(1), "tag": "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rpcmap.Plain(tt.in, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name string
		in   any
		kind service.Kind
	}{
		{"blob over the limit", wire.BytesBlob("", make([]byte, 11)), service.KindTooLarge},
		{"dict of list keys", &wire.Dict{Entries: []wire.Entry{{Key: []any{1}, Value: 1}}}, service.KindUnsupported},
		{"channel", make(chan int), service.KindInternal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := rpcmap.Plain(tt.in, 10); service.KindOf(err) != tt.kind {
				t.Errorf("got %v, want kind %v", err, tt.kind)
			}
		})
	}
}

// TestPlainShares checks that a result that is plain already is not
// copied, and that one that is not is copied rather than changed.
func TestPlainShares(t *testing.T) {
	l := []any{int64(1), "a"}
	got, _ := rpcmap.Plain(l, 0)
	if g := got.([]any); &g[0] != &l[0] {
		t.Error("a plain list was copied")
	}
	m := map[string]any{"d": time.Second}
	got, _ = rpcmap.Plain(m, 0)
	if m["d"] != time.Second || got.(map[string]any)["d"] != 1.0 {
		t.Errorf("got %v from %v", got, m)
	}
}

// TestArg checks the conversion of plain arguments by input type.
func TestArg(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	n := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		name string
		in   any
		typ  string
		want any
	}{
		{"integer", n("42"), "integer", int64(42)},
		{"integer in exponent form", n("1e3"), "integer", int64(1000)},
		{"integer with a fraction stays a float", n("1.5"), "integer", 1.5},
		{"big integer", n("123456789012345678901234567890"), "integer", huge},
		{"float", n("2"), "float", 2.0},
		{"object number, integral", n("2"), "object", int64(2)},
		{"object number, fraction", n("2.5"), "", 2.5},
		{"bytearray", "AQI=", "bytearray", []byte{1, 2}},
		{"bytearray from bytes", []byte{3}, "bytearray", []byte{3}},
		{"datetime", "2026-01-02T03:04:05Z", "datetime", t0},
		{"datetime XML-RPC form", "20260102T03:04:05", "datetime", t0},
		{"timedelta seconds", n("1.5"), "timedelta", 1500 * time.Millisecond},
		{"timedelta string", "2m", "timedelta", 2 * time.Minute},
		{"timedelta double", 0.5, "timedelta", 500 * time.Millisecond},
		{"list of bytes", []any{"AQ=="}, "bytearray list/1", []any{[]byte{1}}},
		{"set", []any{"a", "b", "a"}, "unicode set/1", wire.AnySet{Items: []any{"a", "b"}}},
		{"dict of integer keys", map[string]any{"2": n("4")}, "integer integer dict/2", map[any]any{int64(2): int64(4)}},
		{"dict of string keys", map[string]any{"a": "AQ=="}, "bytearray unicode dict/2", map[string]any{"a": []byte{1}}},
		{"ordered dict from an object", map[string]any{"b": n("1"), "a": n("2")}, "integer unicode ordered_dict/2", wire.NewOrderedDict("a", int64(2), "b", int64(1))},
		{"ordered dict from a struct", wire.NewOrderedDict("b", int64(1), "a", int64(2)), "object unicode ordered_dict/2", wire.NewOrderedDict("b", int64(1), "a", int64(2))},
		{"nil", nil, "integer?", nil},
		{"wrong shape passes", "x", "integer", "x"},
		{"blob", "YQ==", "blob", wire.BytesBlob("application/octet-stream", []byte("a"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rpcmap.Arg(tt.in, hyper.MustParseType(tt.typ))
			if err != nil {
				t.Fatal(err)
			}
			if b, ok := got.(*wire.Blob); ok {
				data, _ := b.Bytes()
				w, _ := tt.want.(*wire.Blob).Bytes()
				if string(data) != string(w) {
					t.Errorf("blob %q, want %q", data, w)
				}
				return
			}
			if tm, ok := got.(time.Time); ok && tm.Equal(tt.want.(time.Time)) {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		in       any
		typ, msg string
	}{
		{"!!", "bytearray", `"!!" is not base64`},
		{"soon", "datetime", `"soon" is not a date and time`},
		{"often", "timedelta", `"often" is not a duration`},
		{[]any{"x", "!"}, "bytearray list/1", `item 0: "x" is not base64`},
		{map[string]any{"k": "!"}, "bytearray unicode dict/2", `key "k": "!" is not base64`},
	} {
		if _, err := rpcmap.Arg(tt.in, hyper.MustParseType(tt.typ)); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%v as %s: %v, want %q", tt.in, tt.typ, err, tt.msg)
		}
	}
}
