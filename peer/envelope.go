package peer

import (
	"math"
	"math/big"

	"github.com/glyph-ipc/glyph/internal/plain"
	"github.com/glyph-ipc/glyph/service"
)

// The envelope types. "req" and "rep" are duplex's; the others are glyph
// extensions and only travel on a connection that negotiated them (see
// spec.md, section 5).
const (
	TypeReq       = "req"       // a call, or one argument of a streamed call (caller → provider)
	TypeRep       = "rep"       // a result or an error (provider → caller)
	TypeCancel    = "cancel"    // the caller gave up on call id (extension "cancel")
	TypeReqEnd    = "reqend"    // no more arguments for call id (extension "end")
	TypeRepEnd    = "repend"    // no more results for call id (extension "end")
	TypeReqCredit = "reqcredit" // the provider may be sent Credit more bytes of arguments (extension "window")
	TypeRepCredit = "repcredit" // the caller may be sent Credit more bytes of results (extension "window")
	TypeCredit    = "credit"    // the remote may be sent Credit more bytes on the connection (extension "window")
	TypePing      = "ping"      // answer with a pong of the same id (extension "ping")
	TypePong      = "pong"      // the answer to a ping (extension "ping")
	TypeGoaway    = "goaway"    // the sender serves no calls after id and will close (extension "goaway")
)

// Envelope is one protocol message: a map on the wire whose field names
// are duplex's (`type`, `method`, `id`, `payload`, `more`, `ext`, `error`)
// plus the extension fields `timeout`, `safe`, `credit` and `open`
// (spec.md, section 4).
//
// Payload and Ext hold glyph values: nil, bool, int64 (or *big.Int),
// float64, string, []byte, []any, map[string]any, and with the glyph
// codec every other glyph value (sets, times, extensions, ...).
type Envelope struct {
	Type    string     // "req", "rep" or an extension type (the Type constants)
	Method  string     // the handler's name; on every req of a call (written on req only)
	ID      uint64     // the caller's call number; 0 on a req = notification
	Payload any        // argument or result; written on every req and rep without error
	More    bool       // more messages follow under this id; written only when true
	Ext     any        // metadata (a map in practice); copied onto replies
	Error   *ErrorBody // an error reply; only on rep
	Timeout int64      // "timeout": milliseconds the call may take, on its first req (extension "deadline"); 0 = none
	Safe    bool       // "safe": the call only reads (extension "safe"); written only when true
	Credit  int64      // "credit": bytes granted, on reqcredit, repcredit and credit
	Open    bool       // "open": a first req that starts the call without an argument (extension "end"); it has no payload
}

// ErrorBody is the `error` field of an error reply: a code (see [ErrorCode]
// for glyph's numbers; other peers use their own, such as 1000), a
// message for people, and optional data.
type ErrorBody struct {
	Code    int
	Message string
	Data    any
}

// MaxID is the largest call id: ids are integers from 1 to 2⁶³−1 so that
// every codec carries them as a plain integer.
const MaxID = math.MaxInt64

var knownTypes = map[string]bool{
	TypeReq: true, TypeRep: true, TypeCancel: true, TypeReqEnd: true, TypeRepEnd: true,
	TypeReqCredit: true, TypeRepCredit: true, TypeCredit: true, TypePing: true, TypePong: true, TypeGoaway: true,
}

// badFrame returns the error of an envelope that breaks the protocol.
func badFrame(format string, args ...any) *service.Error {
	return errorf(service.KindBadFrame, format, args...)
}

// fromMap fills env from a decoded envelope map, any codec's, and
// validates it. Unknown fields are ignored. When the error is about a
// field after the type and id were read, env keeps them so that the
// caller can answer that call.
func (env *Envelope) fromMap(m map[string]any) error {
	*env = Envelope{}
	for i := range envelopeFields {
		if err := envelopeFields[i].fromMap(env.field(i), m); err != nil {
			return err
		}
	}
	return env.validate()
}

// fromMap sets the field, through its pointer p (Envelope.field), from
// the envelope map m.
func (f *envField) fromMap(p any, m map[string]any) error {
	v, has := m[f.key]
	switch f.kind {
	case fieldKindType:
		t, ok := v.(string)
		switch {
		case !has:
			return badFrame("envelope has no %s", f.key)
		case !ok:
			return badFrame("envelope %s is %s, want a string", f.key, typeName(v))
		case !knownTypes[t]:
			return badFrame("unknown envelope %s %q", f.key, t)
		}
		*p.(*string) = t
		return nil
	case fieldKindValue:
		*p.(*any) = v
		return nil
	}
	if !has || v == nil {
		return nil
	}
	switch f.kind {
	case fieldKindString:
		s, ok := v.(string)
		if !ok {
			return badFrame("%s is %s, want a string", f.key, typeName(v))
		}
		*p.(*string) = s
	case fieldKindInt:
		n, err := intField(f.key, v, 0, f.max)
		if err != nil {
			return err
		}
		setFieldInt(p, n)
	case fieldKindBool:
		b, ok := v.(bool)
		if !ok {
			return badFrame("%s is %s, want a boolean", f.key, typeName(v))
		}
		*p.(*bool) = b
	case fieldKindError:
		eb, err := errorBodyFromMap(v)
		if err != nil {
			return err
		}
		*p.(**ErrorBody) = eb
	}
	return nil
}

// validate checks the rules that tie fields to types (spec.md, 4).
func (env *Envelope) validate() error {
	switch env.Type {
	case TypeReq:
		if env.Method == "" {
			return badFrame("req without a method")
		}
		if env.Error != nil {
			return badFrame("req with an error")
		}
		if env.ID == 0 && env.More {
			return badFrame("notification with more")
		}
		if env.Open && !env.More {
			return badFrame("open req without more")
		}
	case TypeRep:
		if env.ID == 0 {
			return badFrame("rep without an id")
		}
	case TypeCancel, TypeReqEnd, TypeRepEnd:
		if env.ID == 0 {
			return badFrame("%s without an id", env.Type)
		}
	case TypeReqCredit, TypeRepCredit:
		if env.ID == 0 {
			return badFrame("%s without an id", env.Type)
		}
		if env.Credit < 1 {
			return badFrame("%s without a positive credit", env.Type)
		}
	case TypeCredit:
		if env.Credit < 1 {
			return badFrame("%s without a positive credit", env.Type)
		}
	}
	return nil
}

func errorBodyFromMap(v any) (*ErrorBody, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badFrame("error is %s, want a map", typeName(v))
	}
	code, has := m["code"]
	if !has || code == nil {
		return nil, badFrame("error without a code")
	}
	n, err := intField("error code", code, math.MinInt32, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	eb := &ErrorBody{Code: int(n), Data: m["data"]}
	if msg, has := m["message"]; has && msg != nil {
		s, ok := msg.(string)
		if !ok {
			return nil, badFrame("error message is %s, want a string", typeName(msg))
		}
		eb.Message = s
	}
	return eb, nil
}

// intField reads an integral number within [lo, hi]: an integer of any
// codec, or a float with an integral value (JavaScript peers may send
// 1.0 for 1).
func intField(name string, v any, lo, hi int64) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case *big.Int:
		return 0, badFrame("%s %s out of range", name, x)
	case float64:
		if x != math.Trunc(x) || x < -(1<<63) || x >= 1<<63 {
			return 0, badFrame("%s %v is not an integer", name, x)
		}
		n = int64(x)
	default:
		return 0, badFrame("%s is %s, want an integer", name, typeName(v))
	}
	if n < lo || n > hi {
		return 0, badFrame("%s %d out of range", name, n)
	}
	return n, nil
}

// typeName names the type of a decoded value in errors.
func typeName(v any) string { return plain.TypeName(v) }

// toMap returns the envelope as the map the glyph codec writes. Only
// fields that are set appear, as spec.md says for every codec.
func (env *Envelope) toMap() map[string]any {
	m := make(map[string]any, 6)
	written := env.writtenFields()
	for i := range envelopeFields {
		if written&(1<<i) == 0 {
			continue
		}
		f, p := &envelopeFields[i], env.field(i)
		switch f.kind {
		case fieldKindType, fieldKindString:
			m[f.key] = *p.(*string)
		case fieldKindInt:
			m[f.key] = fieldInt(p)
		case fieldKindBool:
			m[f.key] = true
		case fieldKindValue:
			m[f.key] = *p.(*any)
		case fieldKindError:
			e := *p.(**ErrorBody)
			em := map[string]any{"code": int64(e.Code), "message": e.Message}
			if e.Data != nil {
				em["data"] = e.Data
			}
			m[f.key] = em
		}
	}
	return m
}

// carriesPayload reports whether the payload is written even when nil:
// for req and rep (without error), as duplex does.
func (env *Envelope) carriesPayload() bool {
	return env.Error == nil && !env.Open && (env.Type == TypeReq || env.Type == TypeRep)
}
