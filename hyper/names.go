package hyper

import (
	"net/url"
	"strings"
	"unicode"
)

// WireName is the name a Go method or field name has on the wire when no
// tag says otherwise: snake_case, as Python servers name their methods.
// FindUser → find_user, ID → id, HTTPServer → http_server. Servers name
// methods with it and typed client stubs find them with it.
func WireName(goName string) string {
	rs := []rune(goName)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// EscapeQuery percent-encodes an encoded glyph value for a URL query, as
// the query envelope and instance state in URLs need: everything but
// ASCII letters, digits and -._ is escaped, `+` and `~` included, so no
// server reads a space and `~` stays free as a separator.
func EscapeQuery(encoded []byte) string {
	const hexd = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(encoded) * 2)
	for _, c := range encoded {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hexd[c>>4])
		sb.WriteByte(hexd[c&15])
	}
	return sb.String()
}

// UnescapeQuery decodes a query that EscapeQuery (or any client) encoded
// back to the glyph bytes: url.QueryUnescape, the same errors included,
// giving the bytes the decoder needs without a string in between.
func UnescapeQuery(s string) ([]byte, error) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				s = s[i:]
				if len(s) > 3 {
					s = s[:3]
				}
				return nil, url.EscapeError(s)
			}
			i += 2
		}
		n++
	}
	b := make([]byte, 0, n)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case '+':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return b, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
