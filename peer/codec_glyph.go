package peer

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/wire"
)

// glyphCodec writes the envelope as a hyperglyph dict (package wire), so
// payloads may hold every glyph value.
type glyphCodec struct{ limits wire.Limits }

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

// The glyph codec writes an envelope's dict itself, in the canonical key
// order, instead of building a map for wire.Marshal to sort: the bytes
// are the same (spec_test.go checks them), without a map, a sort or a
// boxed string per field. Values that may hold blobs (whose trailers
// wire numbers across the whole message) take the general path.

// An envelope field of the glyph dict: its encoded key, and its rank in
// canonical order.
const (
	gkCredit = iota
	gkError
	gkExt
	gkID
	gkMethod
	gkMore
	gkOpen
	gkPayload
	gkSafe
	gkTimeout
	gkType
	gkCount
)

const (
	gkErrCode = iota
	gkErrData
	gkErrMessage
	gkErrCount
)

var (
	// glyphKeys[k] is the encoded key k; glyphOrder the fields in
	// canonical order.
	glyphKeys, glyphOrder       = canonicalKeys("credit", "error", "ext", "id", "method", "more", "open", "payload", "safe", "timeout", "type")
	glyphErrKeys, glyphErrOrder = canonicalKeys("code", "data", "message")
)

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

// appendGlyphEnvelope appends env's glyph encoding to dst; ok is false
// when a value may hold something only wire.Marshal places right.
func appendGlyphEnvelope(dst []byte, env *Envelope) (_ []byte, ok bool, err error) {
	var has [gkCount]bool
	has[gkType] = true
	has[gkMethod] = env.Method != "" && env.Type == TypeReq
	if env.Error != nil {
		has[gkError] = true
		if !blobFree(env.Error.Data, 0) {
			return dst, false, nil
		}
	} else if env.Payload != nil || env.carriesPayload() {
		has[gkPayload] = true
		if !blobFree(env.Payload, 0) {
			return dst, false, nil
		}
	}
	has[gkID] = env.ID != 0
	has[gkMore] = env.More
	has[gkOpen] = env.Open
	if has[gkExt] = env.Ext != nil; has[gkExt] && !blobFree(env.Ext, 0) {
		return dst, false, nil
	}
	has[gkTimeout] = env.Timeout != 0
	has[gkSafe] = env.Safe
	has[gkCredit] = env.Credit != 0

	dst = append(dst, 'D')
	for _, k := range glyphOrder {
		if !has[k] {
			continue
		}
		dst = append(dst, glyphKeys[k]...)
		switch k {
		case gkType:
			dst, err = appendGlyphString(dst, env.Type)
		case gkMethod:
			dst, err = appendGlyphString(dst, env.Method)
		case gkID:
			dst = appendGlyphInt(dst, int64(env.ID))
		case gkMore, gkSafe, gkOpen:
			dst = append(dst, 'T', ';')
		case gkTimeout:
			dst = appendGlyphInt(dst, env.Timeout)
		case gkCredit:
			dst = appendGlyphInt(dst, env.Credit)
		case gkPayload:
			dst, err = wire.AppendMarshal(dst, env.Payload)
		case gkExt:
			dst, err = wire.AppendMarshal(dst, env.Ext)
		case gkError:
			dst, err = appendGlyphError(dst, env.Error)
		}
		if err != nil {
			return dst, true, err
		}
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
