package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// dateTimeLayout is how datetimes are written: XML-RPC's
// dateTime.iso8601 has no zone, so times are written in UTC, to the
// second.
const dateTimeLayout = "20060102T15:04:05"

// appendValue appends <value>…</value> for a plain value (the values
// rpcmap.Plain returns; see spec.md, Values).
func appendValue(b []byte, v any) ([]byte, error) {
	b = append(b, "<value>"...)
	var err error
	switch x := v.(type) {
	case nil:
		b = append(b, "<nil/>"...)
	case bool:
		if x {
			b = append(b, "<boolean>1</boolean>"...)
		} else {
			b = append(b, "<boolean>0</boolean>"...)
		}
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			b = append(b, "<int>"...)
			b = strconv.AppendInt(b, x, 10)
			b = append(b, "</int>"...)
		} else {
			b = append(b, "<i8>"...)
			b = strconv.AppendInt(b, x, 10)
			b = append(b, "</i8>"...)
		}
	case *big.Int:
		return nil, &service.Error{Kind: service.KindUnsupported, Message: fmt.Sprintf("the integer %s is beyond XML-RPC's 64 bits", clip(x.String()))}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, &service.Error{Kind: service.KindUnsupported, Message: fmt.Sprintf("the double %v has no XML-RPC form", x)}
		}
		b = append(b, "<double>"...)
		b = strconv.AppendFloat(b, x, 'f', -1, 64)
		b = append(b, "</double>"...)
	case string:
		b = append(b, "<string>"...)
		b = appendText(b, x)
		b = append(b, "</string>"...)
	case []byte:
		b = append(b, "<base64>"...)
		b = base64.StdEncoding.AppendEncode(b, x)
		b = append(b, "</base64>"...)
	case time.Time:
		b = append(b, "<dateTime.iso8601>"...)
		b = x.UTC().AppendFormat(b, dateTimeLayout)
		b = append(b, "</dateTime.iso8601>"...)
	case []any:
		b = append(b, "<array><data>"...)
		for _, it := range x {
			if b, err = appendValue(b, it); err != nil {
				return nil, err
			}
		}
		b = append(b, "</data></array>"...)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, "<struct>"...)
		for _, k := range keys {
			if b, err = appendMember(b, k, x[k]); err != nil {
				return nil, err
			}
		}
		b = append(b, "</struct>"...)
	case *wire.OrderedDict:
		b = append(b, "<struct>"...)
		for _, e := range x.Entries() {
			k, _ := e.Key.(string)
			if b, err = appendMember(b, k, e.Value); err != nil {
				return nil, err
			}
		}
		b = append(b, "</struct>"...)
	default:
		return nil, &service.Error{Kind: service.KindInternal, Message: fmt.Sprintf("a %s has no XML-RPC form", wire.TypeName(v))}
	}
	return append(b, "</value>"...), nil
}

func appendMember(b []byte, name string, v any) ([]byte, error) {
	b = append(b, "<member><name>"...)
	b = appendText(b, name)
	b = append(b, "</name>"...)
	b, err := appendValue(b, v)
	if err != nil {
		return nil, err
	}
	return append(b, "</member>"...), nil
}

// appendText appends s as XML character data: &, < and > escaped, a
// carriage return as a reference (which XML would otherwise turn into a
// newline), and what XML 1.0 cannot hold (other control characters,
// invalid UTF-8) replaced by U+FFFD.
func appendText(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch {
			case c == '&':
				esc = "&amp;"
			case c == '<':
				esc = "&lt;"
			case c == '>':
				esc = "&gt;"
			case c == '\r':
				esc = "&#xD;"
			case c < 0x20 && c != '\t' && c != '\n':
				esc = "\uFFFD"
			default:
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, esc...)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// appendResponse appends a methodResponse holding v.
func appendResponse(b []byte, v any) ([]byte, error) {
	b = append(b, xmlHeader...)
	b = append(b, "<methodResponse><params><param>"...)
	b, err := appendValue(b, v)
	if err != nil {
		return nil, err
	}
	return append(b, "</param></params></methodResponse>\n"...), nil
}

// appendFault appends a methodResponse holding a fault.
func appendFault(b []byte, code int, msg string) []byte {
	b = append(b, xmlHeader...)
	b = append(b, "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>"...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, "</int></value></member><member><name>faultString</name><value><string>"...)
	b = appendText(b, msg)
	return append(b, "</string></value></member></struct></value></fault></methodResponse>\n"...)
}

// appendCall appends a methodCall.
func appendCall(b []byte, method string, params []any) ([]byte, error) {
	b = append(b, xmlHeader...)
	b = append(b, "<methodCall><methodName>"...)
	b = appendText(b, method)
	b = append(b, "</methodName><params>"...)
	for _, p := range params {
		var err error
		b = append(b, "<param>"...)
		if b, err = appendValue(b, p); err != nil {
			return nil, err
		}
		b = append(b, "</param>"...)
	}
	return append(b, "</params></methodCall>\n"...), nil
}
