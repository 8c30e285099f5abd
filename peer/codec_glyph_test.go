package peer

import (
	"bytes"
	"math"
	"testing"

	"github.com/glyph-ipc/glyph/wire"
)

// The glyph codec's own writer gives the bytes of the general path:
// wire.Marshal of the envelope's map.
func TestGlyphWriterMatchesMap(t *testing.T) {
	envs := []struct {
		name string
		env  Envelope
	}{
		{"req", Envelope{Type: TypeReq, Method: "echo", ID: 1, Payload: []byte("0123456789")}},
		{"notification", Envelope{Type: TypeReq, Method: "log", Payload: "hello"}},
		{"null payload", Envelope{Type: TypeReq, Method: "sum", ID: 3}},
		{"first req", Envelope{Type: TypeReq, Method: "slow", ID: math.MaxInt64, Payload: map[string]any{"b": 1, "a": []any{1.5, nil, true}}, More: true, Ext: map[string]any{"trace": "abc"}, Timeout: 1500, Safe: true}},
		{"rep more", Envelope{Type: TypeRep, ID: 2, Payload: map[string]any{"num": int64(1)}, More: true}},
		{"rep error", Envelope{Type: TypeRep, ID: 4, Error: &ErrorBody{Code: 1000, Message: "Test message", Data: map[string]any{"why": "asked to"}}}},
		{"rep error no data", Envelope{Type: TypeRep, ID: 4, Error: &ErrorBody{Code: -3, Message: ""}, Ext: map[string]string{"k": "v"}}},
		{"empty strings", Envelope{Type: TypeReq, Method: "m", ID: 5, Payload: "", Ext: map[string]any{"": ""}}},
		{"non-ASCII", Envelope{Type: TypeReq, Method: "cafe\u0301", ID: 9, Payload: "é"}},
		{"credit", Envelope{Type: TypeRepCredit, ID: 7, Credit: 32}},
		{"goaway", Envelope{Type: TypeGoaway, Error: &ErrorBody{Code: 20, Message: "bad"}}},
		{"cancel", Envelope{Type: TypeCancel, ID: 3}},
		{"open", Envelope{Type: TypeReq, Method: "sum", ID: 3, More: true, Open: true, Ext: map[string]any{"a": "b"}}},
		{"method on rep dropped", Envelope{Type: TypeRep, Method: "x", ID: 1, Payload: []string{"a"}}},
		{"blob", Envelope{Type: TypeRep, ID: 1, Payload: []any{wire.BytesBlob("text/plain", []byte("hi")), wire.BytesBlob("", []byte("yo"))}, Ext: map[string]any{"z": wire.BytesBlob("", []byte("ext"))}}},
	}
	for _, tc := range envs {
		t.Run(tc.name, func(t *testing.T) {
			want, err := wire.Marshal(tc.env.toMap())
			if err != nil {
				t.Fatal(err)
			}
			got, err := glyphCodec{}.Marshal(&tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func TestGlyphWriterError(t *testing.T) {
	env := &Envelope{Type: TypeReq, Method: "echo", ID: 1, Payload: []any{make(chan int)}}
	if _, err := (glyphCodec{}).Marshal(env); err == nil {
		t.Fatal("no error for a channel")
	}
}
