package link_test

import (
	"testing"

	"github.com/glyph-ipc/glyph/objects/link"
)

// States come from other identities: every codec decodes them or fails,
// never panics.
func FuzzCodecs(f *testing.F) {
	f.Add([]byte(`{"cpu":0.5,"at":"2026-12-07T12:00:00Z"}`))
	f.Add([]byte{})
	f.Add([]byte("[[[[[[[[[[]]]]]]]]]]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		link.JSON[Status]().Decode(data)
		link.Glyph[any]().Decode(data)
		link.Glyph[map[string]int]().Decode(data)
		if b, _ := link.Raw().Decode(data); string(b) != string(data) {
			t.Fatal("raw changed the bytes")
		}
	})
}
