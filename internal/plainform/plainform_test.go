package plainform_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/plainform"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// generic returns v as wire decodes it into any.
func generic(t *testing.T, v any) any {
	t.Helper()
	b, err := wire.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var g any
	if err := wire.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestForm(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string // %v of the plain form, or the error
	}{
		{"scalars", []any{int64(1), "s", true, nil}, "[1 s true <nil>]"},
		{"ordered dict", wire.NewOrderedDict("b", int64(1), "a", int64(2)), "map[a:2 b:1]"},
		{"set", wire.NewSet("x"), "[x]"},
		{"link", hyper.Link{URL: "/hello"}, "map[attrs:map[method:GET url:/hello] extension:link]"},
		{"blob", wire.BytesBlob("text/plain", []byte("hi")), "map[attrs:map[content-type:text/plain] content:[104 105] extension:blob]"},
		{"int keys", map[int]int{1: 2}, "error: a dict with keys other than strings"},
		{"timedelta", time.Second, "error: a timedelta"},
	}
	for _, tt := range tests {
		p, err := plainform.Form(generic(t, tt.v))
		got := fmt.Sprintf("%v", p)
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestReadBlobsBound(t *testing.T) {
	v := []any{wire.NewBlob("a/b", strings.NewReader("12345")), map[string]any{"k": wire.NewBlob("a/b", strings.NewReader("678"))}}
	var total int64
	out, err := plainform.ReadBlobs("op", v, 8, &total)
	if err != nil || total != 8 {
		t.Fatalf("8 bytes within 8: %v, %d", err, total)
	}
	if b := out.([]any)[0].(*wire.Blob); b.ContentType != "a/b" {
		t.Errorf("blob %+v", b)
	}
	v = []any{wire.NewBlob("a/b", strings.NewReader("123456789"))}
	total = 0
	_, err = plainform.ReadBlobs("op", v, 8, &total)
	if service.KindOf(err) != service.KindTooLarge {
		t.Errorf("9 bytes over 8: %v", err)
	}
}
