package glyphjson_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/wire/glyphjson"
)

func TestMarshalBlobBound(t *testing.T) {
	blobs := func() []any {
		return []any{wire.BytesBlob("a/b", []byte("hello")), wire.BytesBlob("a/b", []byte("world"))}
	}
	for _, c := range []struct {
		max  int64
		fail bool
	}{{10, false}, {9, true}, {4, true}, {0, true}, {-1, false}} {
		b, err := glyphjson.Marshal(blobs(), glyphjson.WithMaxBlobBytes(c.max))
		var le *wire.LimitError
		if c.fail != errors.As(err, &le) || (c.fail && le.Limit != "MaxBlobBytes") {
			t.Errorf("WithMaxBlobBytes(%d): %s, %v", c.max, b, err)
		}
	}
}

func TestMarshalCyclic(t *testing.T) {
	l := []any{nil}
	l[0] = l
	if b, err := glyphjson.Marshal(l); err == nil {
		t.Fatalf("a cyclic list marshals to %.40s...", b)
	}
}

func TestDepthWithoutLimit(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	var v any
	err := glyphjson.UnmarshalConfig([]byte(deep), &v, wire.DecodeConfig{Limits: wire.Limits{MaxDepth: -1}})
	var le *wire.LimitError
	if !errors.As(err, &le) || le.Limit != "MaxDepth" || le.Max != 10000 {
		t.Errorf("20000 levels without a MaxDepth: %v", err)
	}
	ok := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	if err := glyphjson.UnmarshalConfig([]byte(ok), &v, wire.DecodeConfig{Limits: wire.Limits{MaxDepth: -1}}); err != nil {
		t.Errorf("5000 levels without a MaxDepth: %v", err)
	}
}
