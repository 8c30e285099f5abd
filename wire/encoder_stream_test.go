package wire_test

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

// A blob from a slow source reaches the reader as it is produced, not
// when a whole chunk has piled up.
func TestEncoderSendsSlowBlobAsProduced(t *testing.T) {
	src, feed := io.Pipe()
	wireR, wireW := io.Pipe()
	go func() {
		err := wire.NewEncoder(wireW).Encode(wire.NewBlob("text/plain", src))
		wireW.CloseWithError(err)
	}()
	var b *wire.Blob
	if err := wire.NewDecoder(wireR).Decode(&b); err != nil {
		t.Fatal(err)
	}
	go feed.Write([]byte("hello"))
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 64)
		n, _ := io.ReadAtLeast(b, buf, 5)
		got <- string(buf[:n])
	}()
	select {
	case s := <-got:
		if s != "hello" {
			t.Fatalf("read %q, want hello", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first 5 bytes did not arrive while the source stayed open")
	}
	feed.Close()
	if rest, err := io.ReadAll(b); err != nil || len(rest) != 0 {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

// A Decoder reset onto a new stream reads it as a new Decoder would, even
// after an error on the old one.
func TestDecoderReset(t *testing.T) {
	dec := wire.NewDecoder(strings.NewReader("i1; x"))
	var v any
	if err := dec.Decode(&v); err != nil || v != int64(1) {
		t.Fatalf("first: %v, %v", v, err)
	}
	if err := dec.Decode(&v); err == nil {
		t.Fatal("garbage decoded")
	}
	dec.Reset(strings.NewReader("u2:ok; N;"))
	var s string
	if err := dec.Decode(&s); err != nil || s != "ok" {
		t.Fatalf("after Reset: %q, %v", s, err)
	}
	if err := dec.Decode(&v); err != nil || v != nil {
		t.Fatalf("second message: %v, %v", v, err)
	}
	if err := dec.Decode(&v); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

// TestOrderedDictKeysInterned decodes ordered dicts with the same keys
// again and again through one decoder, which reuses their key strings:
// each message must still decode to exactly its own entries, and a key
// repeated in one dict is still a duplicate.
func TestOrderedDictKeysInterned(t *testing.T) {
	long := strings.Repeat("k", 40) // not interned
	in := "Ou4:name;u3:bob;i7;u1:x;;" + " Ou4:name;u3:ann;u40:" + long + ";N;;" + " Ou4:name;i1;u4:name;i2;;"
	dec := wire.NewDecoder(strings.NewReader(in))
	var a, b, c any
	if err := dec.Decode(&a); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&b); err != nil {
		t.Fatal(err)
	}
	want1 := wire.NewOrderedDict("name", "bob", int64(7), "x")
	want2 := wire.NewOrderedDict("name", "ann", long, nil)
	if !reflect.DeepEqual(a, want1) || !reflect.DeepEqual(b, want2) {
		t.Errorf("got %#v, %#v; want %#v, %#v", a, b, want1, want2)
	}
	var se *wire.SyntaxError
	if err := dec.Decode(&c); !errors.As(err, &se) {
		t.Errorf("duplicate key: err = %v, want *SyntaxError", err)
	}
}
