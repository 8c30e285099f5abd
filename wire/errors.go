package wire

import (
	"fmt"
	"reflect"
)

// SyntaxError reports input that is not a valid hyperglyph message. Offset
// counts bytes from the start of the message (for a Decoder, from the start
// of the stream).
type SyntaxError struct {
	Offset int64
	Msg    string // what was found and what was expected
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("glyph: syntax error at byte %d: %s", e.Offset, e.Msg)
}

// UnmarshalTypeError reports a well-formed value that cannot be stored in
// the Go value it was decoded into, such as unicode into an int field.
// Decoding carries on past it, so the rest of the message is still read
// and the stream stays in step; the first such error is returned.
type UnmarshalTypeError struct {
	Value  string       // hyperglyph type found on the wire, e.g. "unicode"
	Type   reflect.Type // Go type it could not be stored in
	Field  string       // dotted path of the struct field, e.g. "User.ID"; empty outside structs
	Offset int64        // byte offset of the value
	Reason string       // optional detail, e.g. "overflows int8"
}

func (e *UnmarshalTypeError) Error() string {
	where := ""
	if e.Field != "" {
		where = " field " + e.Field
	}
	why := ""
	if e.Reason != "" {
		why = ": " + e.Reason
	}
	return fmt.Sprintf("glyph: cannot decode %s into %s%s at byte %d%s", e.Value, e.Type, where, e.Offset, why)
}

// LimitError reports input that exceeds one of the decoder's Limits. The
// decoder stops before allocating past the limit.
type LimitError struct {
	Limit  string // name of the Limits field, e.g. "MaxDepth"
	Max    int64  // the configured value
	Offset int64  // where the limit was crossed
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("glyph: input exceeds %s (%d) at byte %d", e.Limit, e.Max, e.Offset)
}

// UnsupportedValueError reports a Go value the encoder cannot represent,
// such as a string that is not valid UTF-8, a channel, or a cyclic value.
type UnsupportedValueError struct {
	Type reflect.Type
	Msg  string
}

func (e *UnsupportedValueError) Error() string {
	if e.Type == nil {
		return "glyph: cannot encode: " + e.Msg
	}
	return fmt.Sprintf("glyph: cannot encode %s: %s", e.Type, e.Msg)
}

// InvalidUnmarshalError reports a destination that is not a non-nil pointer.
type InvalidUnmarshalError struct {
	Type reflect.Type
}

func (e *InvalidUnmarshalError) Error() string {
	if e.Type == nil {
		return "glyph: Unmarshal(nil)"
	}
	if e.Type.Kind() != reflect.Pointer {
		return "glyph: Unmarshal(non-pointer " + e.Type.String() + ")"
	}
	return "glyph: Unmarshal(nil " + e.Type.String() + ")"
}

// Limits bound what a decoder accepts, so that hostile input costs at most
// what the limits allow. A zero field takes its default (see DefaultLimits);
// a negative field means no limit.
type Limits struct {
	// MaxMessageBytes bounds the bytes read for a message: the encoded root
	// object and the whitespace before and in it, excluding blob data.
	MaxMessageBytes int64
	// MaxDepth bounds nesting of collections and extensions.
	MaxDepth int
	// MaxItems bounds the number of items in one list or set, or of
	// entries in one dict or ordered dict.
	MaxItems int
	// MaxStringBytes bounds one unicode or bytearray value.
	MaxStringBytes int
	// MaxIntegerDigits bounds the digits of one integer (big integers cost
	// more than linear time to parse).
	MaxIntegerDigits int
	// MaxBlobs bounds the number of blobs in one message.
	MaxBlobs int
	// MaxBlobBytes bounds the total bytes of all blobs of one message.
	MaxBlobBytes int64
}

// DefaultLimits returns the limits used for zero fields: 64 MiB messages,
// depth 256, 1 Mi items per collection, 16 MiB strings, 4096-digit
// integers, 1024 blobs, 64 GiB of blob data (blobs stream to disk, so
// memory is not what bounds them).
func DefaultLimits() Limits {
	return Limits{
		MaxMessageBytes:  64 << 20,
		MaxDepth:         256,
		MaxItems:         1 << 20,
		MaxStringBytes:   16 << 20,
		MaxIntegerDigits: 4096,
		MaxBlobs:         1024,
		MaxBlobBytes:     64 << 30,
	}
}

const unlimited = 1<<63 - 1

func pick64(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return unlimited
	}
	return v
}

func pick(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return int(^uint(0) >> 1)
	}
	return v
}

// Resolved returns l as the decoders apply it: zero fields take
// [DefaultLimits]' values, and negative ones the largest value (no
// limit).
func (l Limits) Resolved() Limits {
	d := DefaultLimits()
	return Limits{
		MaxMessageBytes:  pick64(l.MaxMessageBytes, d.MaxMessageBytes),
		MaxDepth:         pick(l.MaxDepth, d.MaxDepth),
		MaxItems:         pick(l.MaxItems, d.MaxItems),
		MaxStringBytes:   pick(l.MaxStringBytes, d.MaxStringBytes),
		MaxIntegerDigits: pick(l.MaxIntegerDigits, d.MaxIntegerDigits),
		MaxBlobs:         pick(l.MaxBlobs, d.MaxBlobs),
		MaxBlobBytes:     pick64(l.MaxBlobBytes, d.MaxBlobBytes),
	}
}

// DecodeConfig configures Unmarshal and Decoder. The zero value is valid
// and means DefaultLimits, a 4 MiB spool threshold and os.TempDir.
type DecodeConfig struct {
	Limits Limits
	// SpoolThreshold is how many bytes of blob data read ahead of the
	// caller (because it reads blobs out of order, or not at all before
	// the next message) a Decoder keeps in memory; beyond it they go to
	// a temporary file. Zero means 4 MiB; negative means never spool to
	// disk.
	SpoolThreshold int64
	// RawExtensions decodes every extension, registered or not, into a
	// generic Extension, so that it re-encodes exactly as it came (tools
	// such as glyph fmt want this; programs want typed values).
	RawExtensions bool
	// TempDir is where spool files are created; empty means os.TempDir.
	// Spool files are unlinked as soon as they are created, so they never
	// outlive the process.
	TempDir string
}

const defaultSpoolThreshold = 4 << 20
