package hyper_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// TestResolveRFC3986 runs the examples of RFC 3986 section 5.4.
func TestResolveRFC3986(t *testing.T) {
	const base = "http://a/b/c/d;p?q"
	for _, tc := range []struct{ ref, want string }{
		// 5.4.1 normal examples
		{"g:h", "g:h"}, {"g", "http://a/b/c/g"}, {"./g", "http://a/b/c/g"}, {"g/", "http://a/b/c/g/"},
		{"/g", "http://a/g"}, {"//g", "http://g"}, {"?y", "http://a/b/c/d;p?y"}, {"g?y", "http://a/b/c/g?y"},
		{"#s", "http://a/b/c/d;p?q#s"}, {"g#s", "http://a/b/c/g#s"}, {"g?y#s", "http://a/b/c/g?y#s"},
		{";x", "http://a/b/c/;x"}, {"g;x", "http://a/b/c/g;x"}, {"g;x?y#s", "http://a/b/c/g;x?y#s"},
		{"", "http://a/b/c/d;p?q"}, {".", "http://a/b/c/"}, {"./", "http://a/b/c/"}, {"..", "http://a/b/"},
		{"../", "http://a/b/"}, {"../g", "http://a/b/g"}, {"../..", "http://a/"}, {"../../", "http://a/"},
		{"../../g", "http://a/g"},
		// 5.4.2 abnormal examples
		{"../../../g", "http://a/g"}, {"../../../../g", "http://a/g"}, {"/./g", "http://a/g"},
		{"/../g", "http://a/g"}, {"g.", "http://a/b/c/g."}, {".g", "http://a/b/c/.g"}, {"g..", "http://a/b/c/g.."},
		{"..g", "http://a/b/c/..g"}, {"./../g", "http://a/b/g"}, {"./g/.", "http://a/b/c/g/"},
		{"g/./h", "http://a/b/c/g/h"}, {"g/../h", "http://a/b/c/h"}, {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
		{"g;x=1/../y", "http://a/b/c/y"}, {"g?y/./x", "http://a/b/c/g?y/./x"}, {"g?y/../x", "http://a/b/c/g?y/../x"},
		{"g#s/./x", "http://a/b/c/g#s/./x"}, {"g#s/../x", "http://a/b/c/g#s/../x"}, {"http:g", "http:g"},
	} {
		got, err := hyper.Resolve(base, tc.ref)
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tc.ref, got, err, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct{ base, ref, want string }{
		// The Python reference's URLs: state percent-encoded in the query.
		{"http://h/", "/Test/?", "http://h/Test/?"},
		{"http://h/C/?Du1:a;i1;;", "/C/m?Du1:a;i1;;", "http://h/C/m?Du1:a;i1;;"},
		{"http://h/x/", "/C/?Ou4%3Aname%3Bu5%3Avalue%3B%3B", "http://h/C/?Ou4%3Aname%3Bu5%3Avalue%3B%3B"},
		{"http://h/a%2Fb/c", "d", "http://h/a%2Fb/d"},
		// An empty reference is the base as given, fragment and all.
		{"http://h/a#f", "", "http://h/a#f"},
		{"not a url at all", "", "not a url at all"},
		// With no base, the reference stays as it is.
		{"", "d", "d"},
		{"", "../d", "../d"},
		{"", "", ""},
		{"http://h/a/b", "https://other/x", "https://other/x"},
	} {
		got, err := hyper.Resolve(tc.base, tc.ref)
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q", tc.base, tc.ref, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ base, ref, want string }{
		{"http://h/", "%zz", `hyper: bad URL reference: parse "%zz": invalid URL escape "%zz"`},
		{"http://h/", "http://[::1", "bad URL reference"},
		{"http://h/", "a\x7fb", "invalid control character"},
		{"http://[::1", "a", "hyper: bad base URL"},
	} {
		if got, err := hyper.Resolve(tc.base, tc.ref); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%q, %q) = %q, %v; want an error containing %q", tc.base, tc.ref, got, err, tc.want)
		}
	}
}

func TestResolveURLs(t *testing.T) {
	const base = "http://h/a/b"
	for _, tc := range []struct {
		name string
		in   any
		want any
	}{
		{"scalars untouched", "d", "d"},
		{"nil", nil, nil},
		{"link", hyper.Link{URL: "d"}, hyper.Link{URL: "http://h/a/d"}},
		{"absolute link", hyper.Link{URL: "http://o/x"}, hyper.Link{URL: "http://o/x"}},
		{"empty link is the base", hyper.Link{}, hyper.Link{URL: base}},
		{"empty form is the base", hyper.Form{Method: "POST"}, hyper.Form{URL: base, Method: "POST"}},
		{
			"resource url is the base of its content",
			hyper.Resource{URL: "c/", Content: map[string]any{"d": hyper.Link{URL: "d"}, "n": int64(1)}},
			hyper.Resource{URL: "http://h/a/c/", Content: map[string]any{"d": hyper.Link{URL: "http://h/a/c/d"}, "n": int64(1)}},
		},
		{
			"nested resources",
			hyper.Resource{URL: "c/", Content: map[string]any{
				"child": hyper.Resource{URL: "e/", Content: map[string]any{"f": hyper.Form{URL: "f"}}},
				"up":    hyper.Link{URL: "../up"},
			}},
			hyper.Resource{URL: "http://h/a/c/", Content: map[string]any{
				"child": hyper.Resource{URL: "http://h/a/c/e/", Content: map[string]any{"f": hyper.Form{URL: "http://h/a/c/e/f"}}},
				"up":    hyper.Link{URL: "http://h/a/up"},
			}},
		},
		{
			"resource without url keeps it empty",
			hyper.Resource{Content: map[string]any{"d": hyper.Link{URL: "d"}}},
			hyper.Resource{Content: map[string]any{"d": hyper.Link{URL: "http://h/a/d"}}},
		},
		{
			"inline link content is relative to the link",
			hyper.Link{URL: "x/y", Inline: true, Content: hyper.Link{URL: "z"}},
			hyper.Link{URL: "http://h/a/x/y", Inline: true, Content: hyper.Link{URL: "http://h/a/x/z"}},
		},
		{
			"empty link's inline content is relative to the base",
			hyper.Link{Inline: true, Content: []any{hyper.Link{URL: "z"}}},
			hyper.Link{URL: base, Inline: true, Content: []any{hyper.Link{URL: "http://h/a/z"}}},
		},
		{
			"attributes resolve against the outer base",
			hyper.Form{URL: "x/f", Values: []hyper.Input{{Name: "a", Default: hyper.Link{URL: "d"}, HasDefault: true}},
				Extra: map[string]any{"next": hyper.Link{URL: "n"}}},
			hyper.Form{URL: "http://h/a/x/f", Values: []hyper.Input{{Name: "a", Default: hyper.Link{URL: "http://h/a/d"}, HasDefault: true}},
				Extra: map[string]any{"next": hyper.Link{URL: "http://h/a/n"}}},
		},
		{
			"link extra against the outer base",
			hyper.Link{URL: "x/y", Extra: map[string]any{"alt": hyper.Link{URL: "z"}}},
			hyper.Link{URL: "http://h/a/x/y", Extra: map[string]any{"alt": hyper.Link{URL: "http://h/a/z"}}},
		},
		{
			"resource extra against the outer base",
			hyper.Resource{URL: "x/", Extra: map[string]any{"alt": hyper.Link{URL: "z"}}},
			hyper.Resource{URL: "http://h/a/x/", Extra: map[string]any{"alt": hyper.Link{URL: "http://h/a/z"}}},
		},
		{
			"error",
			hyper.Error{URL: "e/", Content: map[string]any{"retry": hyper.Link{URL: "r"}}},
			hyper.Error{URL: "http://h/a/e/", Content: map[string]any{"retry": hyper.Link{URL: "http://h/a/e/r"}}},
		},
		{
			"collection",
			hyper.Collection{URL: "items/", Items: []any{hyper.Link{URL: "1"}, "x"}, Extra: map[string]any{"next": hyper.Link{URL: "p2"}}},
			hyper.Collection{URL: "http://h/a/items/", Items: []any{hyper.Link{URL: "http://h/a/items/1"}, "x"}, Extra: map[string]any{"next": hyper.Link{URL: "http://h/a/p2"}}},
		},
		{
			"standalone input",
			hyper.Input{Name: "a", Default: hyper.Link{URL: "d"}},
			hyper.Input{Name: "a", Default: hyper.Link{URL: "http://h/a/d"}},
		},
		{
			"lists and dicts",
			[]any{int64(1), map[string]any{"l": hyper.Link{URL: "l"}}, map[any]any{int64(1): hyper.Link{URL: "m"}}},
			[]any{int64(1), map[string]any{"l": hyper.Link{URL: "http://h/a/l"}}, map[any]any{int64(1): hyper.Link{URL: "http://h/a/m"}}},
		},
		{
			"wire dicts",
			wire.Dict{Entries: []wire.Entry{{Key: []any{}, Value: hyper.Link{URL: "l"}}}},
			wire.Dict{Entries: []wire.Entry{{Key: []any{}, Value: hyper.Link{URL: "http://h/a/l"}}}},
		},
		{
			"pointer to wire dict",
			&wire.Dict{Entries: []wire.Entry{{Key: []any{}, Value: hyper.Link{URL: "l"}}}},
			&wire.Dict{Entries: []wire.Entry{{Key: []any{}, Value: hyper.Link{URL: "http://h/a/l"}}}},
		},
		{
			"pointers to hyper types",
			[]any{&hyper.Link{URL: "l"}, (*hyper.Form)(nil)},
			[]any{&hyper.Link{URL: "http://h/a/l"}, (*hyper.Form)(nil)},
		},
		{
			"unknown extension: content and attributes, url untouched",
			wire.Extension{Name: "foo", Attrs: wire.NewOrderedDict("url", "x", "l", hyper.Link{URL: "l"}), Content: hyper.Link{URL: "c"}},
			wire.Extension{Name: "foo", Attrs: wire.NewOrderedDict("url", "x", "l", hyper.Link{URL: "http://h/a/l"}), Content: hyper.Link{URL: "http://h/a/c"}},
		},
		{
			"set items untouched",
			wire.AnySet{Items: []any{hyper.Link{URL: "l"}}},
			wire.AnySet{Items: []any{hyper.Link{URL: "l"}}},
		},
		{
			"dict keys untouched",
			wire.Dict{Entries: []wire.Entry{{Key: hyper.Link{URL: "k"}, Value: int64(1)}}},
			wire.Dict{Entries: []wire.Entry{{Key: hyper.Link{URL: "k"}, Value: int64(1)}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hyper.ResolveURLs(tc.in, base)
			if err != nil {
				t.Fatal(err)
			}
			if !equalValues(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// equalValues compares decoded values, encoding ordered dicts (whose index
// is unexported) to compare them.
func equalValues(a, b any) bool {
	ea, errA := wire.Marshal(a)
	eb, errB := wire.Marshal(b)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a, b)
	}
	return string(ea) == string(eb) && reflect.TypeOf(a) == reflect.TypeOf(b)
}

// TestResolveURLsDecoded resolves a decoded response, as a client does, and
// checks the input is not modified.
func TestResolveURLsDecoded(t *testing.T) {
	in := "Xu8:resource;Du4:name;u1:C;u3:url;u2:c/;;" +
		"Du3:get;Xu4:link;Du6:method;u3:GET;u3:url;u1:d;;N;;" +
		"u4:list;LXu4:form;Du3:url;u2:?x;u6:values;L;;N;;N;;" +
		"u4:odct;Ou1:k;Xu4:link;Du6:method;u3:GET;u3:url;u3:../;;N;;;" +
		"u4:same;Xu4:link;Du6:method;u3:GET;u3:url;u12:http://o/abs;;N;;;;"
	want := "Xu8:resource;Du4:name;u1:C;u3:url;u13:http://h/a/c/;;" +
		"Du3:get;Xu4:link;Du6:method;u3:GET;u3:url;u14:http://h/a/c/d;;N;;" +
		"u4:list;LXu4:form;Du6:method;u4:POST;u3:url;u15:http://h/a/c/?x;u6:values;L;;N;;N;;" +
		"u4:odct;Ou1:k;Xu4:link;Du6:method;u3:GET;u3:url;u11:http://h/a/;;N;;;" +
		"u4:same;Xu4:link;Du6:method;u3:GET;u3:url;u12:http://o/abs;;N;;;;"
	var v any
	if err := wire.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	before, err := wire.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hyper.ResolveURLs(v, "http://h/a/b")
	if err != nil {
		t.Fatal(err)
	}
	out, err := wire.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Errorf("resolved:\n got %s\nwant %s", out, want)
	}
	after, _ := wire.Marshal(v)
	if string(after) != string(before) {
		t.Errorf("ResolveURLs modified its input:\nbefore %s\nafter  %s", before, after)
	}
	// What needs no change is returned as it was, not copied.
	same := []any{int64(1), map[string]any{"x": hyper.Link{URL: "http://o/"}}}
	got, err = hyper.ResolveURLs(same, "http://h/")
	if err != nil {
		t.Fatal(err)
	}
	if &got.([]any)[0] != &same[0] {
		t.Error("an unchanged list was copied")
	}
}

func TestResolveURLsErrors(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	for _, tc := range []struct {
		name string
		v    any
		base string
		want string
	}{
		{"bad link url", hyper.Link{URL: "%zz"}, "http://h/", `hyper: link url "%zz": parse "%zz": invalid URL escape "%zz"`},
		{"bad form url", []any{hyper.Form{URL: "http://[::1"}}, "http://h/", `hyper: form url "http://[::1"`},
		{"bad resource url", hyper.Resource{URL: "%zz"}, "http://h/", `hyper: resource url "%zz"`},
		{"bad error url", hyper.Error{URL: "%zz"}, "http://h/", `hyper: error url "%zz"`},
		{"bad collection url", hyper.Collection{URL: "%zz"}, "http://h/", `hyper: collection url "%zz"`},
		{"bad url deep inside", hyper.Resource{Content: map[string]any{"a": []any{hyper.Link{URL: "%zz"}}}}, "http://h/", `link url "%zz"`},
		{"bad url in an input", hyper.Form{Values: []hyper.Input{{Name: "a", Default: hyper.Link{URL: "%zz"}}}}, "http://h/", `link url "%zz"`},
		{"bad base", hyper.Link{URL: "a"}, "http://[::1", "hyper: bad base URL"},
		{"cycle", cyclic, "http://h/", "nested too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hyper.ResolveURLs(tc.v, tc.base)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
