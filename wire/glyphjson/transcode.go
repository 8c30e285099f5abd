package glyphjson

import (
	"encoding/base64"
	"errors"
	"math"
	"strconv"
)

// errHasBlob stops a transcoding that meets a blob, whose content follows
// the root: the caller decodes the message instead.
var errHasBlob = errors.New("the message holds a blob")

// transcoder writes the JSON of a canonical hyperglyph message, as wire
// encodes it, without decoding it into Go values: Marshal's way with
// values wire must encode for it (structs, typed slices and maps). The
// canonical order of dict keys and set items is the order the JSON needs.
type transcoder struct {
	in  []byte
	pos int
	out []byte
}

var errNotCanonical = errors.New("glyphjson: unexpected hyperglyph from wire")

func (t *transcoder) peek() byte {
	if t.pos < len(t.in) {
		return t.in[t.pos]
	}
	return 0
}

// until returns the bytes up to the next c, and skips c.
func (t *transcoder) until(c byte) ([]byte, error) {
	for i := t.pos; i < len(t.in); i++ {
		if t.in[i] == c {
			b := t.in[t.pos:i]
			t.pos = i + 1
			return b, nil
		}
	}
	return nil, errNotCanonical
}

// str reads the rest of a unicode or bytearray after its letter.
func (t *transcoder) str() ([]byte, error) {
	if t.peek() == ';' {
		t.pos++
		return nil, nil
	}
	n, err := t.until(':')
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(string(n))
	if err != nil || size < 0 || t.pos+size >= len(t.in) || t.in[t.pos+size] != ';' {
		return nil, errNotCanonical
	}
	b := t.in[t.pos : t.pos+size]
	t.pos += size + 1
	return b, nil
}

func (t *transcoder) value() error {
	if t.pos >= len(t.in) {
		return errNotCanonical
	}
	c := t.in[t.pos]
	t.pos++
	switch c {
	case 'N':
		t.out = append(t.out, "null"...)
		t.pos++
	case 'T':
		t.out = append(t.out, "true"...)
		t.pos++
	case 'F':
		t.out = append(t.out, "false"...)
		t.pos++
	case 'i':
		n, err := t.until(';')
		if err != nil {
			return err
		}
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && i >= -maxSafeInteger && i <= maxSafeInteger {
			t.out = append(t.out, n...)
			return nil
		}
		t.out = append(t.out, `{"$integer":"`...)
		t.out = append(t.out, n...)
		t.out = append(t.out, `"}`...)
	case 'f':
		n, err := t.until(';')
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return errNotCanonical
		}
		e := encoder{buf: t.out}
		e.float(f)
		t.out = e.buf
	case 'u':
		s, err := t.str()
		if err != nil {
			return err
		}
		t.out = AppendString(t.out, string(s))
	case 'b':
		s, err := t.str()
		if err != nil {
			return err
		}
		t.out = append(t.out, `{"$bytearray":"`...)
		t.out = base64.StdEncoding.AppendEncode(t.out, s)
		t.out = append(t.out, `"}`...)
	case 'd', 'p':
		s, err := t.until(';')
		if err != nil {
			return err
		}
		if c == 'd' {
			t.out = append(t.out, `{"$datetime":"`...)
		} else {
			t.out = append(t.out, `{"$timedelta":"`...)
		}
		t.out = append(t.out, s...)
		t.out = append(t.out, `"}`...)
	case 'L':
		return t.items("[", "]", false)
	case 'S':
		return t.items(`{"$set":[`, "]}", false)
	case 'O':
		return t.items(`{"$ordered_dict":[`, "]}", true)
	case 'D':
		if c := t.peek(); c != 'u' && c != ';' {
			// Unicode keys sort last: a dict whose first key is not
			// unicode has a key that is not.
			return t.items(`{"$dict":[`, "]}", true)
		}
		return t.object()
	case 'X':
		return t.extension()
	case 'B':
		return errHasBlob
	default:
		return errNotCanonical
	}
	return nil
}

// items writes the items of a collection up to its ';', as [key,value]
// pairs with pairs.
func (t *transcoder) items(open, close string, pairs bool) error {
	t.out = append(t.out, open...)
	for first := true; t.peek() != ';'; first = false {
		if !first {
			t.out = append(t.out, ',')
		}
		if pairs {
			t.out = append(t.out, '[')
		}
		if err := t.value(); err != nil {
			return err
		}
		if pairs {
			t.out = append(t.out, ',')
			if err := t.value(); err != nil {
				return err
			}
			t.out = append(t.out, ']')
		}
	}
	t.pos++
	t.out = append(t.out, close...)
	return nil
}

// object writes a dict of unicode keys.
func (t *transcoder) object() error {
	t.out = append(t.out, '{')
	for first := true; t.peek() != ';'; first = false {
		if !first {
			t.out = append(t.out, ',')
		}
		if t.peek() != 'u' {
			return errNotCanonical
		}
		t.pos++
		k, err := t.str()
		if err != nil {
			return err
		}
		t.out = appendKey(t.out, string(k))
		t.out = append(t.out, ':')
		if err := t.value(); err != nil {
			return err
		}
	}
	t.pos++
	t.out = append(t.out, '}')
	return nil
}

// extension writes an extension as encoder.extension does.
func (t *transcoder) extension() error {
	if t.peek() != 'u' {
		return errNotCanonical
	}
	t.pos++
	name, err := t.str()
	if err != nil {
		return err
	}
	if !shortName(string(name)) {
		t.out = append(t.out, `{"$extension":[`...)
		t.out = AppendString(t.out, string(name))
		t.out = append(t.out, ',')
		if err := t.value(); err != nil {
			return err
		}
		t.out = append(t.out, ',')
		if err := t.value(); err != nil {
			return err
		}
		t.out = append(t.out, "]}"...)
		t.pos++
		return nil
	}
	t.out = append(t.out, '{')
	t.out = AppendString(t.out, "$"+string(name))
	t.out = append(t.out, ':')
	if err := t.value(); err != nil {
		return err
	}
	if t.pos+2 < len(t.in) && t.in[t.pos] == 'N' && t.in[t.pos+1] == ';' && t.in[t.pos+2] == ';' {
		t.pos += 3
		t.out = append(t.out, '}')
		return nil
	}
	t.out = append(t.out, `,"$content":`...)
	if err := t.value(); err != nil {
		return err
	}
	t.pos++
	t.out = append(t.out, '}')
	return nil
}
