package peer

import (
	"fmt"
	"math"
	"slices"
)

// fieldKind is what an envelope field holds: how codecs write it and
// what a decoder accepts for it.
type fieldKind uint8

const (
	fieldKindType   fieldKind = iota // a string naming one of the envelope types; required
	fieldKindString                  // a string
	fieldKindInt                     // an integer from 0 to the field's max
	fieldKindBool                    // a boolean, written only as true
	fieldKindValue                   // any glyph value, carried as it is
	fieldKindError                   // an error reply's body: a map of code, message and data
)

// fieldOmit says when a field is left out of the envelope written.
type fieldOmit uint8

const (
	fieldOmitNever     fieldOmit = iota // always written
	fieldOmitZero                       // left out when zero: "", 0, false or nil
	fieldOmitUnlessReq                  // left out when zero, and on every type but req
	fieldOmitPayload                    // left out with an error, and when nil except on req and rep (carriesPayload)
)

// envField is one field of the envelope map.
type envField struct {
	name string // the Envelope field
	key  string // the wire key
	kind fieldKind
	omit fieldOmit
	// order is the field's rank among the keys as the duplex peers write
	// them, which the json and msgpack codecs follow; the glyph codec
	// writes them in its canonical order, by key.
	order int
	max   int64 // the largest value of an integer field
}

// envelopeFields are the fields of the envelope, the one list every
// codec writes and reads. The rows are in the order decoders check
// them: type and id first, so that an envelope with a bad field still
// names the call to answer with an error.
//
// Adding a field is adding it to Envelope and here, and running go
// generate: the glyph codec's fast path, envelope_fields_gen.go, is
// written from this table (a test fails while it is not), and spec.md
// says what the field means on the wire.
var envelopeFields = [...]envField{
	{name: "Type", key: "type", kind: fieldKindType, omit: fieldOmitNever, order: 0},
	{name: "ID", key: "id", kind: fieldKindInt, omit: fieldOmitZero, order: 3, max: MaxID},
	{name: "Method", key: "method", kind: fieldKindString, omit: fieldOmitUnlessReq, order: 1},
	{name: "More", key: "more", kind: fieldKindBool, omit: fieldOmitZero, order: 4},
	{name: "Payload", key: "payload", kind: fieldKindValue, omit: fieldOmitPayload, order: 2},
	{name: "Ext", key: "ext", kind: fieldKindValue, omit: fieldOmitZero, order: 5},
	// In the payload's place: an envelope carries one or the other.
	{name: "Error", key: "error", kind: fieldKindError, omit: fieldOmitZero, order: 2},
	{name: "Timeout", key: "timeout", kind: fieldKindInt, omit: fieldOmitZero, order: 6, max: math.MaxInt64},
	{name: "Safe", key: "safe", kind: fieldKindBool, omit: fieldOmitZero, order: 7},
	{name: "Open", key: "open", kind: fieldKindBool, omit: fieldOmitZero, order: 9},
	{name: "Credit", key: "credit", kind: fieldKindInt, omit: fieldOmitZero, order: 8, max: math.MaxInt32},
}

//go:generate go test -run ^TestEnvelopeFieldsGenerated$ -update .

// duplexOrder holds the indexes of envelopeFields in the order of their
// order column: the json and msgpack codecs write the fields so.
var duplexOrder = func() []int {
	idx := make([]int, len(envelopeFields))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return envelopeFields[a].order - envelopeFields[b].order })
	return idx
}()

// fieldSet is a set of envelope fields, by their index in envelopeFields.
type fieldSet uint32

// requiredFields are the fields every envelope has: its type.
var requiredFields = func() (s fieldSet) {
	if len(envelopeFields) > 32 {
		panic(fmt.Sprintf("peer: %d envelope fields do not fit a fieldSet", len(envelopeFields)))
	}
	for i, f := range envelopeFields {
		if f.kind == fieldKindType {
			s |= 1 << i
		}
	}
	return s
}()

// fieldInt reads an integer field through its pointer (Envelope.field).
func fieldInt(p any) int64 {
	if u, ok := p.(*uint64); ok {
		return int64(*u) // at most MaxID
	}
	return *p.(*int64)
}

// setFieldInt sets an integer field through its pointer (Envelope.field).
func setFieldInt(p any, n int64) {
	if u, ok := p.(*uint64); ok {
		*u = uint64(n)
		return
	}
	*p.(*int64) = n
}
