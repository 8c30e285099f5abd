package peer

import (
	"errors"
	"fmt"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// A Codec turns envelopes into frames and back. Binary codecs travel in
// binary frames, the others in text frames. Codecs are safe for
// concurrent use.
//
// Unmarshal never panics on input and is bounded by the frame it is given
// and the codec's decoding limits; on an envelope that breaks the
// protocol it returns a [*service.Error] of kind [service.KindBadFrame], with env's Type
// and ID filled in when they could be read.
type Codec interface {
	Name() string                      // "glyph", "msgpack" or "json"
	Binary() bool                      // whether frames are binary rather than text
	Marshal(*Envelope) ([]byte, error) // the frame's content
	Unmarshal([]byte, *Envelope) error
}

// CodecByName returns the codec called name ("glyph", "msgpack", "json")
// with the default decoding limits, and whether there is one.
func CodecByName(name string) (Codec, bool) {
	return codecFor(name, wire.Limits{})
}

// NewCodec returns the codec called name whose decoder is bounded by l
// (zero fields take [wire.DefaultLimits]), and whether there is one.
func NewCodec(name string, l wire.Limits) (Codec, bool) { return codecFor(name, l) }

// codecFor returns the codec called name with decoding limits l.
func codecFor(name string, l wire.Limits) (Codec, bool) {
	l = fillLimits(l)
	switch name {
	case "glyph":
		return glyphCodec{limits: l}, true
	case "msgpack":
		return msgpackCodec{limits: l}, true
	case "json":
		return jsonCodec{limits: l}, true
	}
	return nil, false
}

// codecNames lists every codec, in the default order of preference.
var codecNames = []string{"glyph", "msgpack", "json"}

// fillLimits replaces zero fields by the defaults.
func fillLimits(l wire.Limits) wire.Limits {
	d := wire.DefaultLimits()
	if l.MaxMessageBytes == 0 {
		l.MaxMessageBytes = d.MaxMessageBytes
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxItems == 0 {
		l.MaxItems = d.MaxItems
	}
	if l.MaxStringBytes == 0 {
		l.MaxStringBytes = d.MaxStringBytes
	}
	if l.MaxIntegerDigits == 0 {
		l.MaxIntegerDigits = d.MaxIntegerDigits
	}
	if l.MaxBlobs == 0 {
		l.MaxBlobs = d.MaxBlobs
	}
	if l.MaxBlobBytes == 0 {
		l.MaxBlobBytes = d.MaxBlobBytes
	}
	return l
}

// decodeError wraps a codec's syntax error as [service.KindBadFrame].
func decodeError(codec string, err error) error {
	var se *service.Error
	if errors.As(err, &se) {
		return err
	}
	var le *wire.LimitError
	if errors.As(err, &le) {
		return wrapErr(service.KindTooLarge, codec+": "+err.Error(), err)
	}
	return wrapErr(service.KindBadFrame, codec+": "+err.Error(), err)
}

// encodeError wraps a payload that a codec cannot carry as [service.KindInvalid].
func encodeError(codec string, err error) error {
	return wrapErr(service.KindInvalid, codec+": cannot encode: "+err.Error(), err)
}

// envelopeFromValue fills env from a decoded envelope value.
func envelopeFromValue(v any, env *Envelope) error {
	m, ok := v.(map[string]any)
	if !ok {
		*env = Envelope{}
		return badFrame("envelope is %s, want a map with string keys", typeName(v))
	}
	return env.fromMap(m)
}

func limitErr(codec, limit string, max int64) error {
	return wrapErr(service.KindTooLarge, fmt.Sprintf("%s: over %s (%d)", codec, limit, max), &wire.LimitError{Limit: limit, Max: max})
}

// appendEnvelope appends env's encoding by codec to dst: the glyph codec
// writes it in place; the others through their Marshal.
func appendEnvelope(codec Codec, dst []byte, env *Envelope) ([]byte, error) {
	if _, ok := codec.(glyphCodec); ok {
		if b, ok, err := appendGlyphEnvelope(dst, env); ok && err == nil {
			return b, nil
		}
		// What only wire places right, and the error of what it cannot
		// encode, as Marshal gives them.
		m, err := wire.AppendMarshal(dst, env.toMap())
		if err != nil {
			return dst, encodeError("glyph", err)
		}
		return m, nil
	}
	// A copy for the interface call, which the compiler must assume
	// keeps it: so env itself can stay on its sender's stack.
	cp := *env
	b, err := codec.Marshal(&cp)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}
