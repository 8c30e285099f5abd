package peer

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/wire"
)

// glyphCodec writes the envelope as a hyperglyph dict (package wire), so
// payloads may hold every glyph value.
type glyphCodec struct {
	limits wire.Limits
	// keep says the frame being decoded is the decoder's to keep (see
	// Frame.own): a large bytes payload may then be a slice of it
	// rather than a copy.
	keep bool
}

func (glyphCodec) Name() string { return "glyph" }
func (glyphCodec) Binary() bool { return true }

func (g glyphCodec) Marshal(env *Envelope) ([]byte, error) {
	return appendEnvelope(g, nil, env)
}

func (g glyphCodec) Unmarshal(data []byte, env *Envelope) error {
	return g.unmarshalGlyph(data, env, nil)
}

// unmarshalGeneral decodes any frame: the whole envelope into a map, then
// the fields from it. unmarshalGlyph takes it for what its scan does not
// read.
func (g glyphCodec) unmarshalGeneral(data []byte, env *Envelope) error {
	var v any
	if err := wire.UnmarshalConfig(data, &v, wire.DecodeConfig{Limits: g.limits}); err != nil {
		*env = Envelope{}
		return decodeError("glyph", err)
	}
	return envelopeFromValue(v, env)
}

const (
	gkErrCode = iota
	gkErrData
	gkErrMessage
	gkErrCount
)

// glyphErrKeys[k] is the encoded key k of an error body; glyphErrOrder
// the keys in canonical order.
var glyphErrKeys, glyphErrOrder = canonicalKeys("code", "data", "message")

// canonicalKeys encodes the keys and sorts their indexes as wire sorts a
// dict's entries.
func canonicalKeys(names ...string) ([][]byte, []int) {
	keys := make([][]byte, len(names))
	order := make([]int, len(names))
	for i, n := range names {
		b, err := wire.Marshal(n)
		if err != nil {
			panic(err)
		}
		keys[i], order[i] = b, i
	}
	slices.SortFunc(order, func(a, b int) int { return wire.CompareKeys(keys[a], keys[b]) })
	return keys, order
}

// appendGlyphEnvelope appends env's glyph encoding to dst. It writes the
// envelope's dict itself, field by field in the canonical key order
// (appendGlyphFields, which go generate writes from envelopeFields),
// instead of building a map for wire.Marshal to sort: the bytes are the
// same (spec_test.go checks them), without a map, a sort or a boxed
// string per field. ok is false when a value may hold a blob, whose
// trailers wire numbers across the whole message: only wire.Marshal
// places it right.
func appendGlyphEnvelope(dst []byte, env *Envelope) (_ []byte, ok bool, err error) {
	s := env.writtenFields()
	if !env.blobFreeFields(s) {
		return dst, false, nil
	}
	dst = append(dst, 'D')
	if dst, err = appendGlyphFields(dst, env, s); err != nil {
		return dst, true, err
	}
	return append(dst, ';'), true, nil
}

func appendGlyphError(dst []byte, e *ErrorBody) (_ []byte, err error) {
	dst = append(dst, 'D')
	for _, k := range glyphErrOrder {
		switch k {
		case gkErrCode:
			dst = append(dst, glyphErrKeys[k]...)
			dst = appendGlyphInt(dst, int64(e.Code))
		case gkErrData:
			if e.Data == nil {
				continue
			}
			dst = append(dst, glyphErrKeys[k]...)
			dst, err = wire.AppendMarshal(dst, e.Data)
		case gkErrMessage:
			dst = append(dst, glyphErrKeys[k]...)
			dst, err = appendGlyphString(dst, e.Message)
		}
		if err != nil {
			return dst, err
		}
	}
	return append(dst, ';'), nil
}

func appendGlyphInt(dst []byte, n int64) []byte {
	dst = append(dst, 'i')
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, ';')
}

// appendGlyphString writes an ASCII string itself; others (which wire
// checks and normalises) through wire.
func appendGlyphString(dst []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return wire.AppendMarshal(dst, s)
		}
	}
	if s == "" {
		return append(dst, 'u', ';'), nil
	}
	dst = append(dst, 'u')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, ':')
	dst = append(dst, s...)
	return append(dst, ';'), nil
}

// blobFree reports whether v is built only of values that cannot hold
// a blob (the decoded shapes, and the common Go ones), so that encoding
// it on its own gives the bytes it has inside the envelope.
func blobFree(v any, depth int) bool {
	if depth > 32 {
		return false
	}
	switch x := v.(type) {
	case nil, bool, int, int64, int32, uint32, float64, string, []byte, map[string]string, []string:
		return true
	case []any:
		for _, e := range x {
			if !blobFree(e, depth+1) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !blobFree(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
