package literal_test

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/cmd/glyph/internal/literal"
	"github.com/glyph-ipc/glyph/wire"
)

func TestParse(t *testing.T) {
	big64, _ := new(big.Int).SetString("18446744073709551616", 10)
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"integer", "123", int64(123)},
		{"negative integer", "-4", int64(-4)},
		{"plus sign", "+5", int64(5)},
		{"leading zeros", "007", int64(7)},
		{"big integer", "18446744073709551616", big64},
		{"float", "1.5", 1.5},
		{"exponent makes a float", "1e3", 1000.0},
		{"negative float with exponent", "-2.5E-1", -0.25},
		{"double-quoted string", `"a b"`, "a b"},
		{"single-quoted string", `'a'`, "a"},
		{"empty string", `""`, ""},
		{"quoted digits stay a string", `"123"`, "123"},
		{"escapes", `"tab\there \"q\" \\ \u00e9 \U0001F4A9 \x41"`, "tab\there \"q\" \\ é \U0001F4A9 A"},
		{"quote of the other kind", `'say "hi"'`, `say "hi"`},
		{"bare word", "bob", "bob"},
		{"bare word with spaces is one string", "Bob Smith", "Bob Smith"},
		{"URL as a bare word", "https://example.com/?a=1,b", "https://example.com/?a=1,b"},
		{"underscore word", "_x", "_x"},
		{"non-ASCII word", "élan", "élan"},
		{"true", "true", true},
		{"false", "false", false},
		{"nil", "nil", nil},
		{"null", "null", nil},
		{"keyword with spaces", " true ", true},
		{"keyword prefix is a word", "trueish", "trueish"},
		{"whitespace around a number", "  12\t", int64(12)},
		{"empty list", "[]", []any{}},
		{"list", `[1, "two", 3.5, [true], nil]`, []any{int64(1), "two", 3.5, []any{true}, nil}},
		{"list of bare words", "[bob, alice-2, a.b/c]", []any{"bob", "alice-2", "a.b/c"}},
		{"trailing comma", "[1, 2,]", []any{int64(1), int64(2)}},
		{"empty dict", "{}", map[string]any{}},
		{"dict", `{"a": 1, b: [2], 'c d': {}}`, map[string]any{"a": int64(1), "b": []any{int64(2)}, "c d": map[string]any{}}},
		{"dict with integer keys", "{1: x, 2: y}", wire.Dict{Entries: []wire.Entry{{Key: int64(1), Value: "x"}, {Key: int64(2), Value: "y"}}}},
		{"dict without spaces", `{a:1,b:2}`, map[string]any{"a": int64(1), "b": int64(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := literal.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the whole error message
	}{
		{"unterminated string", `"abc`, `at byte 0: unterminated string: no closing "`},
		{"unterminated single-quoted string", `'abc`, `at byte 0: unterminated string: no closing '`},
		{"unterminated string in a list", `[1, "a]`, `at byte 4: unterminated string: no closing "`},
		{"escape at the end", `"abc\`, `at byte 4: unterminated escape at the end of the argument`},
		{"unknown escape", `"\q"`, `at byte 1: unknown escape \'q'`},
		{"short unicode escape", `"\u12"`, `at byte 1: \u needs 4 hex digits`},
		{"surrogate escape", `"\ud800"`, `at byte 1: U+D800 is not a valid character`},
		{"non-ASCII \\x escape", `"\xff"`, `at byte 1: \x escapes are for ASCII (00 to 7f); use \u for other characters`},
		{"bad number: letters", "12abc", `at byte 0: bad number "12abc": unexpected 'a' (quote it to pass a string)`},
		{"bad number: two dots", "1.2.3", `at byte 0: bad number "1.2.3": unexpected '.' (quote it to pass a string)`},
		{"bad number: no digits after the dot", "1.", `at byte 0: bad number "1.": expected a digit after '.'`},
		{"bad number: leading dot", ".5", `at byte 0: bad number ".5": expected a digit`},
		{"bad number: lone minus", "-", `at byte 0: bad number "-": expected a digit`},
		{"bad number: empty exponent", "1e", `at byte 0: bad number "1e": expected a digit in the exponent`},
		{"bad number: float overflow", "1e999", `at byte 0: bad number "1e999": out of range for a float`},
		{"bad number in a list", "[1, 2x]", `at byte 4: bad number "2x": unexpected 'x' (quote it to pass a string)`},
		{"trailing garbage after a string", `"a" b`, `at byte 4: unexpected 'b' after the value`},
		{"trailing garbage after a number", "1 2", `at byte 2: unexpected '2' after the value`},
		{"trailing garbage after a list", "[1] x", `at byte 4: unexpected 'x' after the value`},
		{"closing bracket alone", "]", `at byte 0: unexpected ']', expected a value`},
		{"empty argument", "", `at byte 0: empty argument: write "" for an empty string`},
		{"only spaces", "  ", `at byte 2: empty argument: write "" for an empty string`},
		{"unterminated list", "[1, 2", `at byte 0: unterminated list: no closing ]`},
		{"missing comma", "[1 2]", `at byte 3: unexpected '2' in list, expected ',' or ']'`},
		{"unterminated dict", `{"a": 1`, `at byte 0: unterminated dict: no closing }`},
		{"missing colon", `{"a" 1}`, `at byte 5: unexpected '1' in dict, expected ':' after the key`},
		{"missing value", `{"a": }`, `at byte 6: unexpected '}', expected a value`},
		{"duplicate key", `{a: 1, "a": 2}`, `at byte 7: duplicate key "a"`},
		{"invalid UTF-8", "\"a\xff\"", `at byte 2: invalid UTF-8`},
		{"symbol", "@x", `at byte 0: unexpected '@', expected a value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := literal.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %#v, want an error", tt.in, v)
			}
			var se *literal.SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("error is %T, want *literal.SyntaxError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q)\n got error %s\nwant error %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseDepth(t *testing.T) {
	ok := strings.Repeat("[", literal.MaxDepth) + strings.Repeat("]", literal.MaxDepth)
	if _, err := literal.Parse(ok); err != nil {
		t.Errorf("depth %d: %v", literal.MaxDepth, err)
	}
	deep := strings.Repeat("[", literal.MaxDepth+1) + strings.Repeat("]", literal.MaxDepth+1)
	if _, err := literal.Parse(deep); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("depth %d: err = %v", literal.MaxDepth+1, err)
	}
	if _, err := literal.Parse(strings.Repeat("{a:", 100000)); err == nil {
		t.Error("100000 nested dicts parsed")
	}
}

func TestParseNegativeZero(t *testing.T) {
	v, err := literal.Parse("-0.0")
	if f, ok := v.(float64); err != nil || !ok || f != 0 || !math.Signbit(f) {
		t.Errorf("Parse(-0.0) = %#v, %v; want negative zero", v, err)
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts is
// a value the wire package can encode.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"123", "-4", "1.5", "1e3", `"a b"`, "'a'", "bob", "Bob Smith", "true", "nil",
		`[1, [2, "x"], {}]`, `{"a": 1, b: [true]}`, "{1: 2}", `"\u00e9\x41\n"`,
		`"abc`, "12abc", "[1] x", "[[[", "{a:", "18446744073709551616", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := literal.Parse(s)
		if err != nil {
			var se *literal.SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("Parse(%q): bad error %#v", s, err)
			}
			return
		}
		if _, err := wire.Marshal(v); err != nil {
			t.Fatalf("Parse(%q) = %#v, which does not encode: %v", s, v, err)
		}
	})
}
