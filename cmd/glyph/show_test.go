package main

import (
	"strings"
	"testing"
)

// showInput holds every glyph type, in non-canonical order and spacing.
const showInput = `O u4:name; u3:foo; u4:tags; Su1:b;u1:a;;
 u4:data; Di2;b3:abc;i1;Li1;F;;u1:x;f0x1p-01;LN;T;;u1:y;;
 u4:when; d2012-08-12T13:14:15.123456Z; u4:wait; pP3DT2H; u3:cal; pP1Y2M; u3:neg; f-0.0;
 u3:big; i18446744073709551616; u4:utf8; u7:caf` + "\xc3\xa9" + ` ;;
 u4:long; u100:0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789;
 u5:bytes; b40:0123456789012345678901234567890123456789;
 u4:link; Xu4:link;Du6:method;u3:GET;u3:url;u4:/foo;;N;;
 u4:form; Xu4:form;Du3:url;u4:/foo;u6:values;LXu5:input;Du4:name;u1:a;u5:value;i5;;N;;;;N;;
 u3:res; Xu8:resource;Ou4:name;u4:Test;u3:url;u7:/Test/?;;Du5:value;i0;;;
 u4:file; B0:Du12:content-type;u10:text/plain;u3:url;u2:/f;;;
 u5:empty; L; u4:sets; SLi1;;i2;; u4:keys; Du9:has space;N;Di1;i2;;N;;
;
c0:3:hel; c0:2:lo; c0;
`

// showWant is showInput as show prints it. Links, forms and resources are
// the hypermedia extensions of package hyper, which glyph imports for get
// and call: they print as hyper reads them, with defaults filled in (a
// form's method) and attributes in canonical order.
const showWant = `ordered_dict (18 entries)
  "name": unicode "foo"
  "tags": set (2 items)
    unicode "a"
    unicode "b"
  "data": dict (4 entries)
    [nil, true]: unicode "y"
    1: list (2 items)
      integer 1
      false
    2: bytearray 616263 (3 bytes)
    "x": float 0.5
  "when": datetime 2012-08-12T13:14:15.123456Z
  "wait": timedelta P0Y0M3DT2H0M0S (74h0m0s)
  "cal": timedelta P1Y2M0DT0H0M0S
  "neg": float -0.0
  "big": integer 18446744073709551616
  "utf8": unicode "café ;"
  "long": unicode "0123456789012345678901234567890123456789012345678901234567890123"… (100 bytes)
  "bytes": bytearray 3031323334353637383930313233343536373839303132333435363738393031… (40 bytes)
  "link": extension link {method: "GET", url: "/foo"}
  "form": extension form {url: "/foo", values: [extension input {name: "a", value: 5}]}
  "res": extension resource ordered_dict{name: "Test", url: "/Test/?"}
    content: dict (1 entry)
      "value": integer 0
  "file": blob text/plain, 5 bytes {url: "/f"}
  "empty": list (0 items)
  "sets": set (2 items)
    list (1 item)
      integer 1
    integer 2
  "keys": dict (2 entries)
    {1: 2}: nil
    "has space": nil
`

func TestShow(t *testing.T) {
	out, errOut, code := glyph(t, showInput, "show")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if out != showWant {
		t.Errorf("got\n%s\nwant\n%s", out, showWant)
	}
}

func TestShowFull(t *testing.T) {
	out, _, code := glyph(t, showInput, "show", "--full")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		`  "long": unicode "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"` + "\n",
		`  "bytes": bytearray 30313233343536373839303132333435363738393031323334353637383930313233343536373839 (40 bytes)` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestShowScalars(t *testing.T) {
	tests := []struct{ in, want string }{
		{"N;", "nil\n"},
		{"T;", "true\n"},
		{"i-5;", "integer -5\n"},
		{"f1e3;", "float 1000.0\n"},
		{"fnan;", "float nan\n"},
		{"f-inf;", "float -inf\n"},
		{"u;", "unicode \"\"\n"},
		{"b;", "bytearray (0 bytes)\n"},
		{"p-P1D;", "timedelta -P0Y0M1DT0H0M0S (-24h0m0s)\n"},
		{"D;", "dict (0 entries)\n"},
		{"Ou1:a;N;;", "ordered_dict (1 entry)\n  \"a\": nil\n"},
		{"Xu3:foo;D;N;;", "extension foo {}\n"},
		{"Xu3:foo;Ou1:b;i1;u1:a;i2;;N;;", "extension foo ordered_dict{b: 1, a: 2}\n"},
		{"Xu6:a b;c\x00;Du1:k;L;;Li1;;;", "extension \"a b;c\\x00\" {k: []}\n  content: list (1 item)\n    integer 1\n"},
		{"B0:Du12:content-type;u1:a;;;c0;", "blob a, 0 bytes\n"},
		{"u80:" + strings.Repeat("é", 40) + ";", "unicode \"" + strings.Repeat("é", 32) + "\"… (80 bytes)\n"},
		{"u65:x" + strings.Repeat("é", 32) + ";", "unicode \"x" + strings.Repeat("é", 31) + "\"… (65 bytes)\n"},
	}
	for _, tt := range tests {
		out, errOut, code := glyph(t, tt.in, "show")
		if code != 0 || out != tt.want {
			t.Errorf("show %q: exit %d, stderr %q\ngot  %q\nwant %q", tt.in, code, errOut, out, tt.want)
		}
	}
}

func TestShowRejectsInvalidInput(t *testing.T) {
	// A blob whose end chunk never comes: nothing is printed.
	out, errOut, code := glyph(t, "LB0:Du12:content-type;u1:a;;;;c0:1:a;", "show")
	if code != exitFailure || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	want := "glyph show: syntax error at byte 37: unexpected end of input, expected a chunk record\n"
	if errOut != want {
		t.Errorf("stderr\ngot  %q\nwant %q", errOut, want)
	}
}
