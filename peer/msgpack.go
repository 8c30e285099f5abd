package peer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"time"

	"github.com/glyph-ipc/glyph/wire"
	"github.com/vmihailenco/msgpack/v5"
)

// wirePkg is package wire's path: its types (sets, ordered dicts, blobs,
// ...) are glyph-only and have no msgpack form.
var wirePkg = reflect.TypeFor[wire.Set[int]]().PkgPath()

// marshalMsgpack writes env as a msgpack map with the keys in the JSON
// codec's order.
func marshalMsgpack(env *Envelope) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	enc.SetSortMapKeys(true)
	n := 1
	payload := env.Error == nil && (env.Payload != nil || env.carriesPayload())
	method := env.Method != "" && env.Type == TypeReq
	for _, set := range []bool{method, env.Error != nil || payload, env.ID != 0, env.More, env.Ext != nil, env.Timeout != 0, env.Safe, env.Credit != 0, env.Open} {
		if set {
			n++
		}
	}
	w := mpEncoder{enc: enc}
	w.check(enc.EncodeMapLen(n))
	w.str("type")
	w.str(env.Type)
	if method {
		w.str("method")
		w.str(env.Method)
	}
	if env.Error != nil {
		w.str("error")
		fields := 2
		if env.Error.Data != nil {
			fields++
		}
		w.check(enc.EncodeMapLen(fields))
		w.str("code")
		w.check(enc.EncodeInt(int64(env.Error.Code)))
		w.str("message")
		w.str(env.Error.Message)
		if env.Error.Data != nil {
			w.str("data")
			w.value(env.Error.Data)
		}
	} else if payload {
		w.str("payload")
		w.value(env.Payload)
	}
	if env.ID != 0 {
		w.str("id")
		w.check(enc.EncodeUint(env.ID))
	}
	if env.More {
		w.str("more")
		w.check(enc.EncodeBool(true))
	}
	if env.Ext != nil {
		w.str("ext")
		w.value(env.Ext)
	}
	if env.Timeout != 0 {
		w.str("timeout")
		w.check(enc.EncodeInt(env.Timeout))
	}
	if env.Safe {
		w.str("safe")
		w.check(enc.EncodeBool(true))
	}
	if env.Credit != 0 {
		w.str("credit")
		w.check(enc.EncodeInt(env.Credit))
	}
	if env.Open {
		w.str("open")
		w.check(enc.EncodeBool(true))
	}
	if w.err != nil {
		return nil, encodeError("msgpack", w.err)
	}
	return buf.Bytes(), nil
}

// mpEncoder writes the glyph value model as msgpack, keeping the first
// error.
type mpEncoder struct {
	enc *msgpack.Encoder
	err error
}

func (w *mpEncoder) check(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *mpEncoder) str(s string) { w.check(w.enc.EncodeString(s)) }

func (w *mpEncoder) value(v any) {
	if w.err != nil {
		return
	}
	enc := w.enc
	switch x := v.(type) {
	case nil:
		w.check(enc.EncodeNil())
	case bool:
		w.check(enc.EncodeBool(x))
	case int:
		w.check(enc.EncodeInt(int64(x)))
	case int64:
		w.check(enc.EncodeInt(x))
	case int32:
		w.check(enc.EncodeInt(int64(x)))
	case uint64:
		w.check(enc.EncodeUint(x))
	case uint:
		w.check(enc.EncodeUint(uint64(x)))
	case *big.Int:
		switch {
		case x.IsInt64():
			w.check(enc.EncodeInt(x.Int64()))
		case x.IsUint64():
			w.check(enc.EncodeUint(x.Uint64()))
		default:
			w.check(fmt.Errorf("integer %s does not fit in 64 bits", x))
		}
	case float64:
		w.check(enc.EncodeFloat64(x))
	case string:
		w.check(enc.EncodeString(x))
	case []byte:
		w.check(enc.EncodeBytes(x))
	case time.Time:
		w.check(enc.EncodeTime(x))
	case []any:
		w.check(enc.EncodeArrayLen(len(x)))
		for _, e := range x {
			w.value(e)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.check(enc.EncodeMapLen(len(keys)))
		for _, k := range keys {
			w.str(k)
			w.value(x[k])
		}
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.check(enc.EncodeMapLen(len(keys)))
		for _, k := range keys {
			w.str(k)
			w.str(x[k])
		}
	case time.Duration:
		w.check(fmt.Errorf("%T has no msgpack form; use the glyph codec", v))
	default:
		t := reflect.TypeOf(x)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.PkgPath() == wirePkg {
			w.check(fmt.Errorf("%T has no msgpack form; use the glyph codec", v))
			return
		}
		w.check(enc.Encode(v))
	}
}

// msgpackTime decodes the timestamp extension's three layouts.
func msgpackTime(b []byte, d *mpDecoder) (any, error) {
	switch len(b) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(b)), 0).UTC(), nil
	case 8:
		u := binary.BigEndian.Uint64(b)
		nsec := int64(u >> 34)
		if nsec > 999999999 {
			return nil, d.errorf("timestamp nanoseconds out of range")
		}
		return time.Unix(int64(u&(1<<34-1)), nsec).UTC(), nil
	case 12:
		nsec := int64(binary.BigEndian.Uint32(b))
		if nsec > 999999999 {
			return nil, d.errorf("timestamp nanoseconds out of range")
		}
		sec := int64(binary.BigEndian.Uint64(b[4:]))
		if sec < -62135596800 || sec > 253402300799 {
			return nil, d.errorf("timestamp out of range")
		}
		return time.Unix(sec, nsec).UTC(), nil
	}
	return nil, d.errorf("timestamp of %d bytes", len(b))
}
