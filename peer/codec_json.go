package peer

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strconv"

	"github.com/glyph-ipc/glyph/wire"
)

// jsonCodec is duplex's JSON codec. Envelope fields are written in the
// order the duplex peers write them (envelopeFields' order column: type,
// method, payload or error, id, more, ext, then the extensions'); payloads
// follow encoding/json (so []byte becomes base64 and glyph-only values
// such as sets become what encoding/json makes of them). Decoding accepts
// any order and ignores unknown fields; integral numbers become int64
// (*big.Int beyond int64), the others float64.
type jsonCodec struct{ limits wire.Limits }

func (jsonCodec) Name() string { return "json" }
func (jsonCodec) Binary() bool { return false }

// jsonKeys[i] is the key of envelopeFields[i] as JSON, with its colon.
var jsonKeys = func() (keys [len(envelopeFields)]string) {
	for i, f := range envelopeFields {
		keys[i] = strconv.Quote(f.key) + ":"
	}
	return keys
}()

func (jsonCodec) Marshal(env *Envelope) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	written := env.writtenFields()
	for _, i := range duplexOrder {
		if written&(1<<i) == 0 {
			continue
		}
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		buf.WriteString(jsonKeys[i])
		var err error
		switch p := env.field(i); envelopeFields[i].kind {
		case fieldKindType, fieldKindString:
			err = writeJSON(&buf, *p.(*string))
		case fieldKindInt:
			buf.WriteString(strconv.FormatInt(fieldInt(p), 10))
		case fieldKindBool:
			buf.WriteString("true")
		case fieldKindValue:
			err = writeJSON(&buf, *p.(*any))
		case fieldKindError:
			err = writeJSONError(&buf, *p.(**ErrorBody))
		}
		if err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// writeJSONError appends an error body's JSON.
func writeJSONError(buf *bytes.Buffer, e *ErrorBody) error {
	buf.WriteString(`{"code":`)
	buf.WriteString(strconv.Itoa(e.Code))
	buf.WriteString(`,"message":`)
	if err := writeJSON(buf, e.Message); err != nil {
		return err
	}
	if e.Data != nil {
		buf.WriteString(`,"data":`)
		if err := writeJSON(buf, e.Data); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// writeJSON appends v's JSON without HTML escaping and without the
// newline json.Encoder adds.
func writeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return encodeError("json", err)
	}
	buf.Truncate(buf.Len() - 1)
	return nil
}

func (j jsonCodec) Unmarshal(data []byte, env *Envelope) error {
	*env = Envelope{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return decodeError("json", err)
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) != 0 {
		return badFrame("json: data after the envelope")
	}
	w := walker{limits: j.limits, codec: "json"}
	v, err := w.numbers(v, 0)
	if err != nil {
		return err
	}
	return envelopeFromValue(v, env)
}

// walker converts and checks decoded JSON values against the limits.
type walker struct {
	limits wire.Limits
	codec  string
}

func (w walker) numbers(v any, depth int) (any, error) {
	if w.limits.MaxDepth >= 0 && depth > w.limits.MaxDepth {
		return nil, limitErr(w.codec, "MaxDepth", int64(w.limits.MaxDepth))
	}
	switch x := v.(type) {
	case json.Number:
		return jsonNumber(string(x))
	case string:
		if w.limits.MaxStringBytes >= 0 && len(x) > w.limits.MaxStringBytes {
			return nil, limitErr(w.codec, "MaxStringBytes", int64(w.limits.MaxStringBytes))
		}
		return x, nil
	case []any:
		if w.limits.MaxItems >= 0 && len(x) > w.limits.MaxItems {
			return nil, limitErr(w.codec, "MaxItems", int64(w.limits.MaxItems))
		}
		for i, e := range x {
			c, err := w.numbers(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	case map[string]any:
		if w.limits.MaxItems >= 0 && len(x) > w.limits.MaxItems {
			return nil, limitErr(w.codec, "MaxItems", int64(w.limits.MaxItems))
		}
		for k, e := range x {
			if w.limits.MaxStringBytes >= 0 && len(k) > w.limits.MaxStringBytes {
				return nil, limitErr(w.codec, "MaxStringBytes", int64(w.limits.MaxStringBytes))
			}
			c, err := w.numbers(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	}
	return v, nil
}

// jsonNumber converts a JSON number: integral syntax → int64, or
// *big.Int beyond int64 (bounded by the frame size); otherwise float64.
func jsonNumber(s string) (any, error) {
	integral := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			integral = false
			break
		}
	}
	if integral {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if b, ok := new(big.Int).SetString(s, 10); ok {
			return b, nil
		}
		return nil, badFrame("json: bad number %q", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, badFrame("json: number %q out of range", s)
	}
	return f, nil
}
