package link

import (
	"encoding/json"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// A Codec turns an object's state of type T into the bytes the daemon
// keeps, and back.
type Codec[T any] interface {
	Encode(T) ([]byte, error)
	Decode([]byte) (T, error)
}

// Raw returns the codec of raw bytes: the state is the bytes.
func Raw() Codec[[]byte] { return rawCodec{} }

type rawCodec struct{}

func (rawCodec) Encode(b []byte) ([]byte, error) { return b, nil }
func (rawCodec) Decode(b []byte) ([]byte, error) { return b, nil }

// JSON returns the codec of T as JSON (encoding/json).
func JSON[T any]() Codec[T] { return jsonCodec[T]{} }

type jsonCodec[T any] struct{}

func (jsonCodec[T]) Encode(v T) ([]byte, error) { return json.Marshal(v) }
func (jsonCodec[T]) Decode(b []byte) (T, error) {
	var v T
	if len(b) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, service.Errorf(service.KindInvalid, "state is not JSON of %T: %v", v, err)
	}
	return v, nil
}

// Glyph returns the codec of T as a glyph value in its canonical
// encoding (package [github.com/glyph-ipc/glyph/wire]): any glyph value
// with Glyph[any], a Go type with glyph struct tags with Glyph[T].
func Glyph[T any]() Codec[T] { return glyphCodec[T]{} }

type glyphCodec[T any] struct{}

func (glyphCodec[T]) Encode(v T) ([]byte, error) { return wire.Marshal(v) }
func (glyphCodec[T]) Decode(b []byte) (T, error) {
	var v T
	if len(b) == 0 {
		return v, nil
	}
	if err := wire.Unmarshal(b, &v); err != nil {
		return v, service.Errorf(service.KindInvalid, "state is not a glyph value of %T: %v", v, err)
	}
	return v, nil
}
