package bench

import (
	"testing"

	"github.com/glyph-ipc/glyph/wire/glyphjson"
)

// Run with: go test -run '^$' -bench 'GlyphJSON' -benchmem
//
// BenchmarkGlyphJSON measures the JSON mapping hyperhttp answers JSON
// clients with (package glyphjson) beside hyperglyph and encoding/json,
// on the records of BenchmarkSmall and BenchmarkList1MB: what answering
// in JSON costs a server, and what reading a JSON body costs it.
func BenchmarkGlyphJSON(b *testing.B) {
	glyphJSON := codec{
		name: "glyphjson",
		newMarshal: func() func(any) ([]byte, error) {
			var buf []byte
			return func(v any) ([]byte, error) {
				var err error
				buf, err = glyphjson.AppendMarshal(buf[:0], v)
				return buf, err
			}
		},
		unmarshal: glyphjson.Unmarshal,
	}
	cs := []codec{codecs[0], codecs[1], glyphJSON} // glyph, json, glyphjson
	small, list := smallRecord(), makeList()
	for _, c := range []struct {
		name      string
		v         any
		newTarget func() any
	}{
		{"Small", &small, func() any { return new(Record) }},
		{"List1MB", &list, func() any { return new([]Record) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for _, cd := range cs {
				b.Run("encode/"+cd.name, func(b *testing.B) { benchEncode(b, cd, c.v) })
				b.Run("decode/"+cd.name, func(b *testing.B) { benchDecode(b, cd, c.v, c.newTarget(), true) })
			}
		})
	}
}
