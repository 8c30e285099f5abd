package glyphjson_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/wire/glyphjson"
)

// fuzzSeeds cover every tag, the escapes and the edges of the grammar;
// testdata/fuzz holds more.
var fuzzSeeds = []string{
	`null`, `true`, `false`, `0`, `-0`, `1.5`, `1e3`, `-0.0`, `5e-324`, `1e400`, `01`, `1.`, `"a"`, `"\u00e9"`,
	`"\ud83d\udca9"`, `"\ud83d"`, `"\x"`, `[]`, `[1,[2,[3]]]`, `[1,]`, `{}`, `{"a":1,"b":[true]}`, `{"a":1,"a":2}`,
	`{"$$a":1}`, `{"a":1,"$b":2}`, `{"$integer":"123456789012345678901234567890"}`, `{"$integer":12}`,
	`{"$float":"nan"}`, `{"$float":1}`, `{"$bytearray":"AP8="}`, `{"$bytearray":"-_8"}`, `{"$set":[1,"a"]}`,
	`{"$dict":[[1,2],[[3],4]]}`, `{"$ordered_dict":[["b",1],["a",2]]}`, `{"$datetime":"2012-08-12T13:14:15.123456Z"}`,
	`{"$timedelta":"P3D"}`, `{"$blob":{"content-type":"text/plain"},"$content":"aGVsbG8="}`,
	`{"$link":{"method":"GET","url":"/foo"}}`, `{"$resource":{"name":"T","url":"/T/"},"$content":{"v":0}}`,
	`{"$form":{"method":"POST","url":"/f","values":[{"$input":{"name":"a"}}]}}`, `{"$extension":["set",{},null]}`,
	`{"$content":1}`, `{"$":{}}`, "[[[[[[[[[[[[[[[[[[[[", `{"$set":[{"$set":[]}]}`, " \n\tnull\r\n", "null null",
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := wire.Limits{MaxMessageBytes: 1 << 16, MaxDepth: 64, MaxItems: 1 << 10, MaxStringBytes: 1 << 12,
			MaxIntegerDigits: 64, MaxBlobs: 4, MaxBlobBytes: 1 << 12}
		cfg := wire.DecodeConfig{Limits: lim}
		var v any
		err := glyphjson.UnmarshalConfig(data, &v, cfg)
		if err != nil {
			checkError(t, err)
			return
		}
		// What was read writes and reads back as the same glyph value.
		g, err := wire.Marshal(v)
		if err != nil {
			t.Fatalf("%q read as a value wire cannot encode: %v", data, err)
		}
		wire.Unmarshal(g, &v)
		j, err := glyphjson.Marshal(v)
		if err != nil {
			t.Fatalf("%q read as a value that cannot be written: %v", data, err)
		}
		if tj, err := glyphjson.Transcode(g); err == nil && !bytes.Equal(tj, j) || err != nil && !bytes.Contains(g, []byte("B0:")) {
			t.Fatalf("%q is %q, marshals to %s, transcodes to %s (%v)", data, g, j, tj, err)
		}
		var w any
		if err := glyphjson.UnmarshalConfig(j, &w, wire.DecodeConfig{}); err != nil {
			t.Fatalf("%q wrote %s, which does not read: %v", data, j, err)
		}
		if g2, err := wire.Marshal(w); err != nil || !bytes.Equal(g, g2) {
			t.Fatalf("%q is %q, wrote %s, which reads as %q (%v)", data, g, j, g2, err)
		}
	})
}

func FuzzDecoderStream(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s + " " + s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := glyphjson.NewDecoderConfig(bytes.NewReader(data), wire.DecodeConfig{Limits: wire.Limits{MaxMessageBytes: 1 << 14}})
		for range 100 {
			var v any
			err := d.Decode(&v)
			if err == io.EOF {
				return
			}
			if err != nil {
				checkError(t, err)
				return
			}
		}
	})
}

// checkError fails unless err is one of the errors decoding promises.
func checkError(t *testing.T, err error) {
	t.Helper()
	var se *wire.SyntaxError
	var le *wire.LimitError
	var te *wire.UnmarshalTypeError
	if !errors.As(err, &se) && !errors.As(err, &le) && !errors.As(err, &te) {
		t.Fatalf("error of unexpected type %T: %v", err, err)
	}
}
