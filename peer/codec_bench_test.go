package peer

import (
	"testing"

	"github.com/glyph-ipc/glyph/wire"
)

// benchEnvelopes are what a connection writes most: the frames of
// benchFrames, a first req with the extension fields, a credit grant and
// an error reply.
var benchEnvelopes = append([]struct {
	name string
	env  Envelope
}{
	{"first", Envelope{Type: TypeReq, Method: "slow", ID: 7, Payload: []any{int64(1)}, More: true, Ext: map[string]any{"trace": "abc"}, Timeout: 1500, Safe: true}},
	{"credit", Envelope{Type: TypeRepCredit, ID: 7, Credit: 32}},
	{"error", Envelope{Type: TypeRep, ID: 7, Error: &ErrorBody{Code: 5, Message: "method not found: x"}}},
}, benchFrames...)

// BenchmarkMarshal encodes envelopes as a connection does, into a
// reused buffer.
func BenchmarkMarshal(b *testing.B) {
	for _, name := range codecNames {
		c, _ := codecFor(name, wire.Limits{})
		for _, e := range benchEnvelopes {
			b.Run(name+"/"+e.name, func(b *testing.B) {
				b.ReportAllocs()
				var buf []byte
				for b.Loop() {
					var err error
					if buf, err = appendEnvelope(c, buf[:0], &e.env); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkUnmarshal decodes envelopes as a connection's reader does.
func BenchmarkUnmarshal(b *testing.B) {
	for _, name := range codecNames {
		c, _ := codecFor(name, wire.Limits{})
		for _, e := range benchEnvelopes {
			data, err := appendEnvelope(c, nil, &e.env)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(name+"/"+e.name, func(b *testing.B) {
				b.ReportAllocs()
				var env Envelope
				var names nameCache
				for b.Loop() {
					var err error
					if g, ok := c.(glyphCodec); ok {
						err = g.unmarshalGlyph(data, &env, &names)
					} else {
						err = c.Unmarshal(data, &env)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
