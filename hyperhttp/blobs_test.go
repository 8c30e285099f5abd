package hyperhttp

import (
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// TestHasBlob checks that results holding blobs anywhere are found (they
// must stream) and that others are not (they get an ETag).
func TestHasBlob(t *testing.T) {
	b := wire.BytesBlob("text/plain", []byte("x"))
	type withBlob struct {
		Name string
		File *wire.Blob
	}
	type hidden struct {
		//lint:ignore U1000 unexported fields, which the encoder must not see
		name string
		v    any
	}
	type node struct {
		Next *node
		V    any
	}
	cyclic := &node{}
	cyclic.Next = cyclic
	many := make([]any, 100000)
	for i := range many {
		many[i] = int64(i)
	}
	cases := []struct {
		name string
		v    any
		want bool
	}{
		{"nil", nil, false},
		{"string", "x", false},
		{"time", time.Now(), false},
		{"list of ints", many, false},
		{"map of strings", map[string]string{"a": "b"}, false},
		{"struct without blobs", struct{ A, B int }{1, 2}, false},
		{"cyclic without blobs", cyclic, false},
		{"nil blob", (*wire.Blob)(nil), false},
		{"blob", b, true},
		{"in a list", []any{1, b}, true},
		{"in a typed list", []*wire.Blob{nil, b}, true},
		{"in a dict", map[string]any{"a": b}, true},
		{"as a key", map[any]any{b: 1}, true},
		{"in a struct", withBlob{File: b}, true},
		{"in a pointer to struct", &withBlob{File: b}, true},
		{"in an unexported field", hidden{v: b}, true},
		{"in an ordered dict", wire.NewOrderedDict("a", b), true},
		{"in a dict with any keys", wire.Dict{Entries: []wire.Entry{{Key: 1, Value: b}}}, true},
		{"in an extension's content", wire.Extension{Name: "x", Content: []any{b}}, true},
		{"in an extension's attributes", wire.Extension{Name: "x", Attrs: wire.NewOrderedDict("a", b)}, true},
		{"in a resource", hyper.Resource{Content: map[string]any{"f": b}}, true},
		{"in an inline link", hyper.Link{Inline: true, Content: b}, true},
		{"in a collection", hyper.Collection{Items: []any{b}}, true},
		{"deep in a cycle", &node{V: []any{&node{V: b}}}, true},
	}
	for _, c := range cases {
		if got := hasBlob(c.v); got != c.want {
			t.Errorf("%s: hasBlob = %v, want %v", c.name, got, c.want)
		}
	}
	n := 0
	forEachBlob([]any{b, map[string]any{"x": b}, withBlob{File: b}}, func(*wire.Blob) { n++ })
	if n != 3 {
		t.Errorf("forEachBlob found %d blobs, want 3", n)
	}
}
