package hyper_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// Seeds shared by the fuzz targets; testdata/fuzz holds more.
var typeSeeds = []string{
	"", "object", "integer", "integer?", "integer list/1", "integer list?/1", "object unicode dict/2",
	"float list?/1 unicode dict/2", "unicode integer ordered_dict/2", "bytearray set/1", "list", "list/0",
	"integer/0", "integer list/1 list/1 list/1", "int", "integer unicode", "list/1", "integer list/2",
	"integer??", "?/1", " \tinteger\n", "nil true false bool datetime timedelta extension blob",
}

var hyperSeeds = []string{
	"Xu4:link;Du6:method;u3:GET;u3:url;u4:/foo;;N;;",
	"Xu4:form;Du6:method;u4:POST;u3:url;u4:/foo;u6:values;LXu5:input;Du4:name;u1:a;;N;;;;N;;",
	"Xu5:input;Du4:name;u1:a;u5:value;i5;;N;;",
	"Xu8:resource;Du4:name;u4:Test;u3:url;u7:/Test/?;;Du5:value;i0;;;",
	"Xu5:error;Du6:logref;u4:ref1;u7:message;u4:boom;;D;;",
	"Xu10:collection;Du3:url;u2:/c;;Li1;;;",
	"Xu4:link;Du4:etag;u1:e;u7:headers;Du1:a;u1:b;;u6:inline;T;u13:last_modified;d2012-08-12T13:14:15.123456Z;u3:url;u1:x;u1:z;N;;u2:hi;;",
	"Xu4:form;Du3:url;u1:/;u6:values;Lu1:a;u1:b;;u3:zzz;T;;N;;",
	"Xu4:link;Ou3:url;u2:/a;u6:method;u3:GET;;N;;",
	"Xu8:resource;Du3:url;u2:c/;;Du1:d;Xu4:link;Du3:url;u1:d;;N;;u1:e;Xu8:resource;Du3:url;u2:e/;;D;;;;",
	"Xu5:error;Du4:code;i404;u3:url;u2:/e;;N;;",
	"SXu4:link;D;N;;Xu4:link;Du3:url;u1:a;;N;;;",
	"DXu4:link;D;N;;i1;;",
	"Xu3:foo;Du3:url;u1:x;;Xu4:link;D;N;;;",
	"Xu5:input;Du4:name;u1:a;u5:value;N;;N;;",
	"Xu5:input;Du4:name;u1:a;u5:value;B0:Du12:content-type;u1:a;;;;N;;c0:1:x;c0;",
	// rejected
	"Xu4:link;Du3:url;i1;;N;;", "Xu4:form;Du6:values;i1;;N;;", "Xu5:input;D;N;;", "Xu4:link;Di1;i2;;N;;",
	"Xu5:error;Du4:code;i99999999999999999999;;D;;", "Xu8:resource;D;Li1;;;", "Xu10:collection;D;D;;",
}

func FuzzParseType(f *testing.F) {
	for _, s := range typeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := hyper.ParseType(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "hyper: type ") {
				t.Fatalf("ParseType(%q): unexpected error text %q", s, err)
			}
			return
		}
		canon := typ.String()
		back, err := hyper.ParseType(canon)
		if err != nil {
			t.Fatalf("ParseType(%q) = %#v, whose String %q does not parse: %v", s, typ, canon, err)
		}
		if !reflect.DeepEqual(back, typ) {
			t.Fatalf("ParseType(%q) = %#v; String %q parses to %#v", s, typ, canon, back)
		}
		if back.String() != canon {
			t.Fatalf("String is not stable: %q then %q", canon, back.String())
		}
		// Checking any value never panics.
		for _, v := range []any{nil, int64(1), "x", []any{int64(1), "y", nil}, map[string]any{"a": []any{1.5}}, wire.NewOrderedDict("k", nil)} {
			_ = typ.Check(v)
		}
	})
}

// fuzzLimits keep each input cheap.
var fuzzLimits = wire.Limits{MaxStringBytes: 1024, MaxItems: 1000, MaxIntegerDigits: 200, MaxBlobBytes: 1 << 20}

// fuzzTypes are checked against every decoded value: Check must not panic.
var fuzzTypes = []hyper.Type{
	hyper.MustParseType("extension"),
	hyper.MustParseType("integer list/1"),
	hyper.MustParseType("float list?/1 unicode dict/2"),
	hyper.MustParseType("extension set/1"),
	hyper.MustParseType("object unicode ordered_dict/2"),
}

func FuzzDecodeHyper(f *testing.F) {
	for _, s := range hyperSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		err := wire.UnmarshalConfig(data, &v, wire.DecodeConfig{Limits: fuzzLimits})
		if err != nil {
			var se *wire.SyntaxError
			var le *wire.LimitError
			if !errors.As(err, &se) && !errors.As(err, &le) {
				t.Fatalf("error of unexpected type %T: %v", err, err)
			}
			return
		}
		for _, typ := range fuzzTypes {
			_ = typ.Check(v)
		}
		enc1, err := wire.Marshal(v)
		if err != nil {
			var ue *wire.UnsupportedValueError
			if errors.As(err, &ue) && strings.Contains(ue.Msg, "equal") {
				return // distinct strings equal after NFC; wire's own fuzzing allows this
			}
			t.Fatalf("decoded %q into %#v, which does not encode: %v", data, v, err)
		}
		var v2 any
		if err := wire.Unmarshal(enc1, &v2); err != nil {
			t.Fatalf("re-encoding of %q is %q, which does not decode: %v", data, enc1, err)
		}
		enc2, err := wire.Marshal(v2)
		if err != nil {
			t.Fatalf("second encoding of %q failed: %v", data, err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("encoding is not stable for %q:\nfirst  %q\nsecond %q", data, enc1, enc2)
		}

		// Resolving URLs never panics, leaves its input alone, and gives a
		// value that still encodes.
		var v3 any
		if err := wire.Unmarshal(enc1, &v3); err != nil {
			t.Fatal(err)
		}
		r, err := hyper.ResolveURLs(v3, "http://h/a/b?q")
		if err != nil {
			return
		}
		if again, err := wire.Marshal(v3); err != nil || !bytes.Equal(again, enc1) {
			t.Fatalf("ResolveURLs modified its input: %q became %q (%v)", enc1, again, err)
		}
		// (Its blobs were read by the Marshal above and encode empty.)
		if _, err := wire.Marshal(r); err != nil {
			t.Fatalf("resolved value of %q does not encode: %v", enc1, err)
		}
	})
}
