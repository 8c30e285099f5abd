package peer

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strconv"

	"github.com/glyph-ipc/glyph/wire"
)

// jsonCodec is duplex's JSON codec. Envelope fields are written in the
// order type, method, payload or error, id, more, ext, then the extension
// fields timeout, safe, credit, open, as the duplex peers write them; payloads
// follow encoding/json (so []byte becomes base64 and glyph-only values
// such as sets become what encoding/json makes of them). Decoding accepts
// any order and ignores unknown fields; integral numbers become int64
// (*big.Int beyond int64), the others float64.
type jsonCodec struct{ limits wire.Limits }

func (jsonCodec) Name() string { return "json" }
func (jsonCodec) Binary() bool { return false }

func (jsonCodec) Marshal(env *Envelope) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"type":`)
	if err := writeJSON(&buf, env.Type); err != nil {
		return nil, err
	}
	if env.Method != "" && env.Type == TypeReq {
		buf.WriteString(`,"method":`)
		if err := writeJSON(&buf, env.Method); err != nil {
			return nil, err
		}
	}
	if env.Error != nil {
		buf.WriteString(`,"error":{"code":`)
		buf.WriteString(strconv.Itoa(env.Error.Code))
		buf.WriteString(`,"message":`)
		if err := writeJSON(&buf, env.Error.Message); err != nil {
			return nil, err
		}
		if env.Error.Data != nil {
			buf.WriteString(`,"data":`)
			if err := writeJSON(&buf, env.Error.Data); err != nil {
				return nil, err
			}
		}
		buf.WriteByte('}')
	} else if env.Payload != nil || env.carriesPayload() {
		buf.WriteString(`,"payload":`)
		if err := writeJSON(&buf, env.Payload); err != nil {
			return nil, err
		}
	}
	if env.ID != 0 {
		buf.WriteString(`,"id":`)
		buf.WriteString(strconv.FormatUint(env.ID, 10))
	}
	if env.More {
		buf.WriteString(`,"more":true`)
	}
	if env.Ext != nil {
		buf.WriteString(`,"ext":`)
		if err := writeJSON(&buf, env.Ext); err != nil {
			return nil, err
		}
	}
	if env.Timeout != 0 {
		buf.WriteString(`,"timeout":`)
		buf.WriteString(strconv.FormatInt(env.Timeout, 10))
	}
	if env.Safe {
		buf.WriteString(`,"safe":true`)
	}
	if env.Credit != 0 {
		buf.WriteString(`,"credit":`)
		buf.WriteString(strconv.FormatInt(env.Credit, 10))
	}
	if env.Open {
		buf.WriteString(`,"open":true`)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
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
