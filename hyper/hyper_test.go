package hyper_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// vectors are the examples of the hyperglyph spec (section 2) and more:
// value encodes to exactly wire, and wire decodes into any to decoded
// (value itself when decoded is nil).
var vectors = []struct {
	name    string
	value   any
	wire    string
	decoded any
}{
	// The spec's examples.
	{"spec link", hyper.Link{URL: "/foo"}, "Xu4:link;Du6:method;u3:GET;u3:url;u4:/foo;;N;;", nil},
	{
		"spec form",
		hyper.Form{URL: "/foo", Values: []hyper.Input{{Name: "a"}}},
		"Xu4:form;Du6:method;u4:POST;u3:url;u4:/foo;u6:values;LXu5:input;Du4:name;u1:a;;N;;;;N;;",
		hyper.Form{URL: "/foo", Method: "POST", Values: []hyper.Input{{Name: "a"}}},
	},
	{
		"spec input",
		hyper.Input{Name: "a", Default: 5, HasDefault: true},
		"Xu5:input;Du4:name;u1:a;u5:value;i5;;N;;",
		hyper.Input{Name: "a", Default: int64(5), HasDefault: true},
	},
	{
		"spec resource",
		hyper.Resource{Name: "Test", URL: "/Test/?", Content: map[string]any{"value": 0}},
		"Xu8:resource;Du4:name;u4:Test;u3:url;u7:/Test/?;;Du5:value;i0;;;",
		hyper.Resource{Name: "Test", URL: "/Test/?", Content: map[string]any{"value": int64(0)}},
	},
	{"spec error", hyper.Error{Logref: "ref1", Message: "boom"}, "Xu5:error;Du6:logref;u4:ref1;u7:message;u4:boom;;D;;", nil},

	// Links.
	{"link empty url", hyper.Link{}, "Xu4:link;Du6:method;u3:GET;u3:url;u;;N;;", nil},
	{
		"link every attribute",
		hyper.Link{
			URL: "/f", Inline: true, Content: "hi", ETag: `"abc"`,
			LastModified: time.Date(2012, 8, 12, 13, 14, 15, 123456000, time.UTC),
			Headers:      map[string]string{"X-A": "1"},
		},
		"Xu4:link;Du4:etag;u5:\"abc\";u7:headers;Du3:X-A;u1:1;;u6:inline;T;u13:last_modified;d2012-08-12T13:14:15.123456Z;u6:method;u3:GET;u3:url;u2:/f;;u2:hi;;",
		nil,
	},
	{"link empty headers", hyper.Link{URL: "/", Headers: map[string]string{}}, "Xu4:link;Du7:headers;D;u6:method;u3:GET;u3:url;u1:/;;N;;", nil},

	// Forms and inputs.
	{"form no values", hyper.Form{URL: "/f", Method: "POST"}, "Xu4:form;Du6:method;u4:POST;u3:url;u2:/f;u6:values;L;;N;;", nil},
	{
		"form every attribute",
		hyper.Form{
			URL: "/f", Method: "PUT", Headers: map[string]string{"A": "b"}, Envelope: "blob", ContentType: "text/plain",
			Values: []hyper.Input{{Name: "x", Type: "integer", Default: nil, HasDefault: true}, {Name: "y", Envelope: "blob"}},
		},
		"Xu4:form;Du12:content_type;u10:text/plain;u8:envelope;u4:blob;u7:headers;Du1:A;u1:b;;u6:method;u3:PUT;u3:url;u2:/f;" +
			"u6:values;LXu5:input;Du4:name;u1:x;u4:type;u7:integer;u5:value;N;;N;;Xu5:input;Du8:envelope;u4:blob;u4:name;u1:y;;N;;;;N;;",
		nil,
	},
	{"input nil default", hyper.Input{Name: "a", HasDefault: true}, "Xu5:input;Du4:name;u1:a;u5:value;N;;N;;", nil},
	{
		"input default without HasDefault",
		hyper.Input{Name: "a", Default: "x"},
		"Xu5:input;Du4:name;u1:a;u5:value;u1:x;;N;;",
		hyper.Input{Name: "a", Default: "x", HasDefault: true},
	},
	{"input type", hyper.Input{Name: "n", Type: "integer list/1"}, "Xu5:input;Du4:name;u1:n;u4:type;u14:integer list/1;;N;;", nil},

	// Resources, errors, collections.
	{"resource empty", hyper.Resource{}, "Xu8:resource;D;D;;", nil},
	{
		"resource with methods",
		hyper.Resource{URL: "/C/?x", Name: "C", Profile: "p", Content: map[string]any{
			"n":    int64(1),
			"get":  hyper.Link{URL: "/C/get?x"},
			"incr": hyper.Form{URL: "/C/incr?x", Method: "POST", Values: []hyper.Input{{Name: "by", Default: int64(1), HasDefault: true}}},
		}},
		"Xu8:resource;Du4:name;u1:C;u7:profile;u1:p;u3:url;u5:/C/?x;;Du3:get;Xu4:link;Du6:method;u3:GET;u3:url;u8:/C/get?x;;N;;" +
			"u4:incr;Xu4:form;Du6:method;u4:POST;u3:url;u9:/C/incr?x;u6:values;LXu5:input;Du4:name;u2:by;u5:value;i1;;N;;;;N;;u1:n;i1;;;",
		nil,
	},
	{
		"error every attribute",
		hyper.Error{Logref: "r", Message: "m", URL: "/e", Code: 404, Content: map[string]any{"k": "v"}},
		"Xu5:error;Du4:code;i404;u6:logref;u1:r;u7:message;u1:m;u3:url;u2:/e;;Du1:k;u1:v;;;",
		nil,
	},
	{"collection nil", hyper.Collection{URL: "/c"}, "Xu10:collection;Du3:url;u2:/c;;N;;", nil},
	{"collection empty", hyper.Collection{Items: []any{}}, "Xu10:collection;D;L;;", nil},
	{"collection items", hyper.Collection{Items: []any{int64(1), hyper.Link{URL: "/n"}}}, "Xu10:collection;D;Li1;Xu4:link;Du6:method;u3:GET;u3:url;u2:/n;;N;;;;", nil},

	// Unknown attributes survive.
	{
		"link extra",
		hyper.Link{URL: "/", Extra: map[string]any{"rel": "next", "z": []any{int64(1)}}},
		"Xu4:link;Du6:method;u3:GET;u3:rel;u4:next;u3:url;u1:/;u1:z;Li1;;;N;;",
		nil,
	},
	{"form extra", hyper.Form{URL: "/", Method: "POST", Extra: map[string]any{"a": true}}, "Xu4:form;Du1:a;T;u6:method;u4:POST;u3:url;u1:/;u6:values;L;;N;;", nil},
	{"input extra", hyper.Input{Name: "n", Extra: map[string]any{"doc": "d"}}, "Xu5:input;Du3:doc;u1:d;u4:name;u1:n;;N;;", nil},
	{"resource extra", hyper.Resource{Extra: map[string]any{"v": int64(2)}}, "Xu8:resource;Du1:v;i2;;D;;", nil},
	{"error extra", hyper.Error{Extra: map[string]any{"trace": "t"}}, "Xu5:error;Du6:logref;u;u7:message;u;u5:trace;u1:t;;D;;", nil},
	{"collection extra", hyper.Collection{Extra: map[string]any{"next": hyper.Link{URL: "?p=2"}}}, "Xu10:collection;Du4:next;Xu4:link;Du6:method;u3:GET;u3:url;u4:?p=2;;N;;;N;;", nil},
}

func TestVectors(t *testing.T) {
	for _, tc := range vectors {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wire.Marshal(tc.value)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tc.wire {
				t.Fatalf("Marshal:\n got %s\nwant %s", got, tc.wire)
			}
			want := tc.decoded
			if want == nil {
				want = tc.value
			}
			var v any
			if err := wire.Unmarshal([]byte(tc.wire), &v); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(v, want) {
				t.Fatalf("Unmarshal:\n got %#v\nwant %#v", v, want)
			}
			// The decoded value encodes to the same bytes.
			again, err := wire.Marshal(v)
			if err != nil || string(again) != tc.wire {
				t.Fatalf("re-encoding: %s, %v", again, err)
			}
			// And it decodes into a typed value of its own type too.
			p := reflect.New(reflect.TypeOf(want))
			if err := wire.Unmarshal([]byte(tc.wire), p.Interface()); err != nil {
				t.Fatalf("Unmarshal into %s: %v", p.Type(), err)
			}
			if !reflect.DeepEqual(p.Elem().Interface(), want) {
				t.Fatalf("Unmarshal into %s:\n got %#v\nwant %#v", p.Type(), p.Elem().Interface(), want)
			}
		})
	}
}

// TestPointersEncode checks that pointers to the types encode like the
// values (MarshalGlyph has a value receiver), and nil pointers as nil.
func TestPointersEncode(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{&hyper.Link{URL: "/foo"}, "Xu4:link;Du6:method;u3:GET;u3:url;u4:/foo;;N;;"},
		{(*hyper.Link)(nil), "N;"},
		{&hyper.Error{Logref: "ref1", Message: "boom"}, "Xu5:error;Du6:logref;u4:ref1;u7:message;u4:boom;;D;;"},
		{[]hyper.Input{{Name: "a"}}, "LXu5:input;Du4:name;u1:a;;N;;;"},
	} {
		got, err := wire.Marshal(tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("Marshal(%#v) = %s, %v; want %s", tc.v, got, err, tc.want)
		}
	}
}

// TestDecodeLenient covers inputs that decode although our encoder would
// not write them that way.
func TestDecodeLenient(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire string
		want any
	}{
		{"link no attributes", "Xu4:link;D;N;;", hyper.Link{}},
		{"link attributes in an ordered dict", "Xu4:link;Ou3:url;u2:/a;u6:method;u3:GET;;N;;", hyper.Link{URL: "/a"}},
		{"link whitespace", "X u4:link; D u3:url; u4:/foo; ; N; ;", hyper.Link{URL: "/foo"}},
		{"link nil attributes are absent", "Xu4:link;Du3:url;N;u4:etag;N;u6:inline;N;;N;;", hyper.Link{}},
		{"link inline false", "Xu4:link;Du6:inline;F;u3:url;u1:/;;N;;", hyper.Link{URL: "/"}},
		{"form no attributes", "Xu4:form;D;N;;", hyper.Form{Method: "POST"}},
		{"form plain names", "Xu4:form;Du3:url;u1:/;u6:values;Lu1:a;u1:b;;;N;;", hyper.Form{URL: "/", Method: "POST", Values: []hyper.Input{{Name: "a"}, {Name: "b"}}}},
		{"form other method", "Xu4:form;Du6:method;u6:DELETE;;N;;", hyper.Form{Method: "DELETE"}},
		{"input empty name", "Xu5:input;Du4:name;u;;N;;", hyper.Input{}},
		{"resource nil content", "Xu8:resource;D;N;;", hyper.Resource{}},
		{"error no attributes", "Xu5:error;D;N;;", hyper.Error{}},
		{"error code 0", "Xu5:error;Du4:code;i0;;D;;", hyper.Error{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := wire.Unmarshal([]byte(tc.wire), &v); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v, tc.want) {
				t.Fatalf("got %#v\nwant %#v", v, tc.want)
			}
		})
	}
}

// TestDecodeErrors covers attributes of the wrong type: decoding fails with
// an error naming the attribute, and never panics.
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		wire string
		want string // substring of the error
	}{
		{"Xu4:link;Du3:url;i1;;N;;", `link attribute "url" is integer, expected unicode`},
		{"Xu4:link;Du6:method;u4:POST;;N;;", `link attribute "method" is "POST", expected "GET"`},
		{"Xu4:link;Du6:method;i1;;N;;", `link attribute "method" is integer, expected unicode`},
		{"Xu4:link;Du6:inline;u1:T;;N;;", `link attribute "inline" is unicode, expected true or false`},
		{"Xu4:link;Du4:etag;b1:x;;N;;", `link attribute "etag" is bytearray, expected unicode`},
		{"Xu4:link;Du13:last_modified;u4:2012;;N;;", `link attribute "last_modified" is unicode, expected a datetime`},
		{"Xu4:link;Du7:headers;Lu1:a;;;N;;", `link attribute "headers" is list, expected a dict of unicode to unicode`},
		{"Xu4:link;Du7:headers;Du1:a;i1;;;N;;", `link attribute "headers": key "a" is integer, expected unicode`},
		{"Xu4:link;Du7:headers;Di1;u1:a;;;N;;", `link attribute "headers" is dict, expected a dict of unicode to unicode`},
		{"Xu4:link;Di1;i2;;N;;", `link attribute name 1 is integer, expected unicode`},
		{"Xu4:link;DLi1;;i2;;N;;", `link attribute name list is list, expected unicode`},
		{"Xu4:form;Du6:values;i1;;N;;", `form attribute "values" is integer, expected a list`},
		{"Xu4:form;Du6:values;Su1:a;;;N;;", `form attribute "values" is set, expected a list`},
		{"Xu4:form;Du6:values;Lu1:a;i1;;;N;;", `form attribute "values" item 1 is integer, expected unicode or an input extension`},
		{"Xu4:form;Du6:values;LXu4:link;D;N;;;;N;;", `form attribute "values" item 0 is extension link, expected unicode or an input extension`},
		{"Xu4:form;Du6:values;LXu3:foo;D;N;;;;N;;", `form attribute "values" item 0 is extension foo, expected unicode or an input extension`},
		{"Xu4:form;Du6:method;T;;N;;", `form attribute "method" is bool, expected unicode`},
		{"Xu4:form;Du8:envelope;i1;;N;;", `form attribute "envelope" is integer, expected unicode`},
		{"Xu4:form;Du12:content_type;i1;;N;;", `form attribute "content_type" is integer, expected unicode`},
		{"Xu4:form;Du7:headers;u1:a;;N;;", `form attribute "headers" is unicode`},
		{"Xu4:form;D;i1;;", `form content is integer, expected nil`},
		{"Xu5:input;D;N;;", `input has no "name" attribute`},
		{"Xu5:input;Du4:name;N;;N;;", `input attribute "name" is nil, expected unicode`},
		{"Xu5:input;Du4:name;i1;;N;;", `input attribute "name" is integer, expected unicode`},
		{"Xu5:input;Du4:name;u1:a;u4:type;i1;;N;;", `input attribute "type" is integer, expected unicode`},
		{"Xu5:input;Du4:name;u1:a;;L;;", `input content is list, expected nil`},
		{"Xu4:form;Du6:values;LXu5:input;D;N;;;;N;;", `input has no "name" attribute`},
		{"Xu8:resource;Du4:name;i1;;D;;", `resource attribute "name" is integer, expected unicode`},
		{"Xu8:resource;Du7:profile;i1;;D;;", `resource attribute "profile" is integer, expected unicode`},
		{"Xu8:resource;D;Li1;;;", `resource content is list, expected a dict with unicode keys`},
		{"Xu8:resource;D;Di1;i1;;;", `resource content is dict, expected a dict with unicode keys`},
		{"Xu8:resource;D;Ou1:a;i1;;;", `resource content is ordered_dict, expected a dict with unicode keys`},
		{"Xu5:error;Du6:logref;i1;;D;;", `error attribute "logref" is integer, expected unicode`},
		{"Xu5:error;Du7:message;F;;D;;", `error attribute "message" is bool, expected unicode`},
		{"Xu5:error;Du4:code;u3:404;;D;;", `error attribute "code" is unicode, expected an integer`},
		{"Xu5:error;Du4:code;f0x1p+00;;D;;", `error attribute "code" is float, expected an integer`},
		{"Xu5:error;Du4:code;i99999999999999999999;;D;;", `error attribute "code" is 99999999999999999999, which does not fit in 64 bits`},
		{"Xu5:error;D;u1:x;;", `error content is unicode, expected a dict with unicode keys`},
		{"Xu10:collection;Du3:url;T;;N;;", `collection attribute "url" is bool, expected unicode`},
		{"Xu10:collection;D;Du1:a;i1;;;", `collection content is dict, expected a list or nil`},
		{"LXu4:link;Du3:url;i1;;N;;;", `link attribute "url" is integer`},
	} {
		t.Run(tc.wire, func(t *testing.T) {
			var v any
			err := wire.Unmarshal([]byte(tc.wire), &v)
			if err == nil {
				t.Fatalf("decoded into %#v, want an error", v)
			}
			var se *wire.SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("error is %T, want *wire.SyntaxError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestDecodeTyped decodes the types as struct fields and slice elements,
// where wire calls UnmarshalGlyph.
func TestDecodeTyped(t *testing.T) {
	type page struct {
		Self   hyper.Link
		Next   *hyper.Link
		Submit hyper.Form
		Inputs []hyper.Input
		Err    hyper.Error
		Res    hyper.Resource
		Coll   hyper.Collection
	}
	in := "Du4:Self;Xu4:link;Du6:method;u3:GET;u3:url;u2:/s;;N;;" +
		"u4:Next;Xu4:link;Du6:method;u3:GET;u3:url;u2:/n;;N;;" +
		"u6:Submit;Xu4:form;Du3:url;u2:/f;u6:values;Lu1:a;;;N;;" +
		"u6:Inputs;Lu1:x;Xu5:input;Du4:name;u1:y;u5:value;i2;;N;;;" +
		"u3:Err;Xu5:error;Du6:logref;u1:r;u7:message;u1:m;;D;;" +
		"u3:Res;Xu8:resource;Du4:name;u1:R;;Du1:a;i1;;;" +
		"u4:Coll;Xu10:collection;D;Li1;;;;"
	var got page
	if err := wire.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	want := page{
		Self:   hyper.Link{URL: "/s"},
		Next:   &hyper.Link{URL: "/n"},
		Submit: hyper.Form{URL: "/f", Method: "POST", Values: []hyper.Input{{Name: "a"}}},
		Inputs: []hyper.Input{{Name: "x"}, {Name: "y", Default: int64(2), HasDefault: true}},
		Err:    hyper.Error{Logref: "r", Message: "m"},
		Res:    hyper.Resource{Name: "R", Content: map[string]any{"a": int64(1)}},
		Coll:   hyper.Collection{Items: []any{int64(1)}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}

	// A value of another type is a type error naming the field, and
	// decoding carries on.
	var p page
	err := wire.Unmarshal([]byte("Du4:Self;Xu4:form;D;N;;u3:Err;Xu5:error;Du6:logref;u1:r;;D;;;"), &p)
	var te *wire.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "page.Self" || !strings.Contains(err.Error(), "expected a link extension, got extension form") {
		t.Fatalf("err = %v, want a type error for Self", err)
	}
	if p.Err.Logref != "r" {
		t.Errorf("decoding did not carry on: %#v", p)
	}

	// An extension of the right name whose content is not valid is a
	// type error for the field too, with the reason the generic decode
	// gives as a syntax error, and decoding carries on.
	p = page{}
	err = wire.Unmarshal([]byte("Du4:Self;Xu4:link;Du3:url;i1;;N;;u3:Err;Xu5:error;Du6:logref;u1:r;;D;;;"), &p)
	if !errors.As(err, &te) || te.Field != "page.Self" || te.Offset != int64(len("Du4:Self;")) || te.Reason != `extension link: link attribute "url" is integer, expected unicode` {
		t.Fatalf("err = %#v, want a type error for Self with the link's reason", err)
	}
	if p.Err.Logref != "r" {
		t.Errorf("decoding did not carry on: %#v", p)
	}

	// nil leaves the field as it was.
	p = page{Self: hyper.Link{URL: "/keep"}}
	if err := wire.Unmarshal([]byte("Du4:Self;N;;"), &p); err != nil || p.Self.URL != "/keep" {
		t.Fatalf("nil into a Link field: %v, %#v", err, p.Self)
	}
}

// TestUnmarshalGlyph calls the methods directly, as code holding a generic
// wire.Extension would.
func TestUnmarshalGlyph(t *testing.T) {
	ext := func(name string, content any, attrs ...any) wire.Extension {
		return wire.Extension{Name: name, Attrs: wire.NewOrderedDict(attrs...), Content: content}
	}
	var l hyper.Link
	if err := l.UnmarshalGlyph(ext("link", nil, "url", "/x", "etag", "e")); err != nil || !reflect.DeepEqual(l, hyper.Link{URL: "/x", ETag: "e"}) {
		t.Errorf("link: %v, %#v", err, l)
	}
	if err := l.UnmarshalGlyph(hyper.Link{URL: "/y"}); err != nil || l.URL != "/y" {
		t.Errorf("link from Link: %v, %#v", err, l)
	}
	if err := l.UnmarshalGlyph(&hyper.Link{URL: "/z"}); err != nil || l.URL != "/z" {
		t.Errorf("link from *Link: %v, %#v", err, l)
	}
	if err := l.UnmarshalGlyph(ext("form", nil)); err == nil || err.Error() != "expected a link extension, got extension form" {
		t.Errorf("link from form: %v", err)
	}
	if err := l.UnmarshalGlyph("x"); err == nil || err.Error() != "expected a link extension, got unicode" {
		t.Errorf("link from unicode: %v", err)
	}
	var f hyper.Form
	if err := f.UnmarshalGlyph(ext("form", nil, "values", []any{ext("input", nil, "name", "a"), "b", hyper.Input{Name: "c"}})); err != nil ||
		!reflect.DeepEqual(f, hyper.Form{Method: "POST", Values: []hyper.Input{{Name: "a"}, {Name: "b"}, {Name: "c"}}}) {
		t.Errorf("form: %v, %#v", err, f)
	}
	if err := f.UnmarshalGlyph(ext("form", nil, "values", []any{ext("input", nil)})); err == nil ||
		err.Error() != `form attribute "values" item 0: input has no "name" attribute` {
		t.Errorf("form with a bad input: %v", err)
	}
	var in hyper.Input
	if err := in.UnmarshalGlyph("n"); err != nil || !reflect.DeepEqual(in, hyper.Input{Name: "n"}) {
		t.Errorf("input from a name: %v, %#v", err, in)
	}
	var r hyper.Resource
	if err := r.UnmarshalGlyph(ext("resource", map[string]any{"a": int64(1)}, "name", "R")); err != nil ||
		!reflect.DeepEqual(r, hyper.Resource{Name: "R", Content: map[string]any{"a": int64(1)}}) {
		t.Errorf("resource: %v, %#v", err, r)
	}
	var e hyper.Error
	if err := e.UnmarshalGlyph(ext("error", nil, "code", int64(7))); err != nil || e.Code != 7 {
		t.Errorf("error: %v, %#v", err, e)
	}
	var c hyper.Collection
	if err := c.UnmarshalGlyph(ext("collection", []any{}, "url", "/c")); err != nil ||
		!reflect.DeepEqual(c, hyper.Collection{URL: "/c", Items: []any{}}) {
		t.Errorf("collection: %v, %#v", err, c)
	}
	if err := c.UnmarshalGlyph(nil); err != nil || c.URL != "/c" {
		t.Errorf("nil changed the collection: %v, %#v", err, c)
	}
}

func TestMarshalErrors(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{hyper.Link{Extra: map[string]any{"url": "/x"}}, `link Extra holds "url", which is a field of link`},
		{hyper.Link{Extra: map[string]any{"method": "POST"}}, `link Extra holds "method"`},
		{hyper.Form{Extra: map[string]any{"values": nil}}, `form Extra holds "values"`},
		{hyper.Form{Values: []hyper.Input{{Name: "a", Extra: map[string]any{"name": "b"}}}}, `input Extra holds "name"`},
		{hyper.Input{Extra: map[string]any{"value": 1}}, `input Extra holds "value"`},
		{hyper.Resource{Extra: map[string]any{"profile": ""}}, `resource Extra holds "profile"`},
		{hyper.Error{Extra: map[string]any{"code": 1}}, `error Extra holds "code"`},
		{hyper.Collection{Extra: map[string]any{"url": ""}}, `collection Extra holds "url"`},
		{hyper.Link{URL: "\xff"}, "UTF-8"},
		{hyper.Resource{Content: map[string]any{"c": make(chan int)}}, "chan"},
	} {
		_, err := wire.Marshal(tc.v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Marshal(%#v) = %v, want an error containing %q", tc.v, err, tc.want)
		}
	}
}

func TestErrorError(t *testing.T) {
	for _, tc := range []struct {
		e    hyper.Error
		want string
	}{
		{hyper.Error{Logref: "ref1", Message: "boom"}, "hyperglyph error ref1: boom"},
		{hyper.Error{Logref: "ref1", Message: "boom", Code: 404}, "hyperglyph error ref1 (code 404): boom"},
		{hyper.Error{Message: "boom"}, "hyperglyph error: boom"},
		{hyper.Error{Logref: "ref1"}, "hyperglyph error ref1"},
		{hyper.Error{}, "hyperglyph error"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%#v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
	// A decoded error is a Go error that errors.As finds.
	var v any
	if err := wire.Unmarshal([]byte("Xu5:error;Du6:logref;u4:ref1;u7:message;u4:boom;;D;;"), &v); err != nil {
		t.Fatal(err)
	}
	err, ok := v.(error)
	if !ok {
		t.Fatalf("decoded %T, not an error", v)
	}
	var he hyper.Error
	if !errors.As(err, &he) || he.Logref != "ref1" {
		t.Fatalf("errors.As: %#v", he)
	}
}

func TestFormHTTPMethod(t *testing.T) {
	if got := (hyper.Form{}).HTTPMethod(); got != "POST" {
		t.Errorf("zero Form: %q", got)
	}
	if got := (hyper.Form{Method: "PUT"}).HTTPMethod(); got != "PUT" {
		t.Errorf("PUT form: %q", got)
	}
}

func TestInputParsedType(t *testing.T) {
	for _, tc := range []struct{ typ, want string }{
		{"", "object"},
		{"integer list/1", "integer list/1"},
		{"frobnicate", "object"},
		{"integer integer", "object"},
	} {
		if got := (hyper.Input{Type: tc.typ}).ParsedType().String(); got != tc.want {
			t.Errorf("ParsedType of %q = %q, want %q", tc.typ, got, tc.want)
		}
	}
}

// TestNestedValues checks hyper values anywhere a glyph value may be: as
// dict keys, set items, inside unknown extensions.
func TestNestedValues(t *testing.T) {
	for _, in := range []string{
		"SXu4:link;Du6:method;u3:GET;u3:url;u1:a;;N;;Xu4:link;Du6:method;u3:GET;u3:url;u1:b;;N;;;",
		"DXu4:link;Du6:method;u3:GET;u3:url;u1:a;;N;;i1;;",
		"Xu3:foo;Du1:l;Xu4:link;Du6:method;u3:GET;u3:url;u1:a;;N;;;Xu5:error;Du6:logref;u;u7:message;u;;D;;;",
		"Ou1:z;Xu10:collection;D;L;;u1:a;N;;",
	} {
		var v any
		if err := wire.Unmarshal([]byte(in), &v); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		out, err := wire.Marshal(v)
		if err != nil || string(out) != in {
			t.Errorf("%s re-encodes as %s, %v", in, out, err)
		}
	}
}
