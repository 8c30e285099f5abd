package hyper_test

import (
	"fmt"
	"reflect"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

func ExampleForm() {
	f := hyper.Form{
		URL: "/Counter/incr?Du1:n;i1;;",
		Values: []hyper.Input{
			{Name: "by", Type: "integer", Default: 1},
		},
	}
	b, err := wire.Marshal(f)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", b)

	// Decoding into any gives the Form back, with its method filled in.
	var v any
	if err := wire.Unmarshal(b, &v); err != nil {
		panic(err)
	}
	back := v.(hyper.Form)
	fmt.Println(back.Method, back.Values[0].Name, back.Values[0].Default)
	// Output:
	// Xu4:form;Du6:method;u4:POST;u3:url;u24:/Counter/incr?Du1:n;i1;;;u6:values;LXu5:input;Du4:name;u2:by;u4:type;u7:integer;u5:value;i1;;N;;;;N;;
	// POST by 1
}

func ExampleLink() {
	b, _ := wire.Marshal(hyper.Link{URL: "/foo"})
	fmt.Printf("%s\n", b)
	// Output: Xu4:link;Du6:method;u3:GET;u3:url;u4:/foo;;N;;
}

func ExampleError() {
	var v any
	err := wire.Unmarshal([]byte("Xu5:error;Du6:logref;u4:ref1;u7:message;u4:boom;;D;;"), &v)
	if err != nil {
		panic(err)
	}
	if err, ok := v.(error); ok {
		fmt.Println(err)
	}
	// Output: hyperglyph error ref1: boom
}

func ExampleResolve() {
	u, _ := hyper.Resolve("http://example.com/a/b", "../c?x")
	fmt.Println(u)
	// Output: http://example.com/c?x
}

func ExampleResolveURLs() {
	// A response from http://h/a/b: a resource at c/ with a method d.
	page := hyper.Resource{
		URL:  "c/",
		Name: "Thing",
		Content: map[string]any{
			"d":    hyper.Link{URL: "d"},
			"self": hyper.Link{},
		},
	}
	v, err := hyper.ResolveURLs(page, "http://h/a/b")
	if err != nil {
		panic(err)
	}
	r := v.(hyper.Resource)
	fmt.Println(r.URL)
	fmt.Println(r.Content["d"].(hyper.Link).URL)
	// An empty URL is the current base: here the resource's own URL.
	fmt.Println(r.Content["self"].(hyper.Link).URL)
	// Output:
	// http://h/a/c/
	// http://h/a/c/d
	// http://h/a/c/
}

func ExampleParseType() {
	t, err := hyper.ParseType("float list?/1 unicode dict/2")
	if err != nil {
		panic(err)
	}
	fmt.Println(t.Name, "of", t.Key(), "to", t.Elem())
	fmt.Println(t.Check(map[string]any{"a": []any{1.5}, "b": nil}))
	fmt.Println(t.Check(map[string]any{"a": []any{1.5, "x"}}))

	_, err = hyper.ParseType("integer unicode")
	fmt.Println(err)
	// Output:
	// dict of unicode to float list?/1
	// <nil>
	// key "a": item 1: expected float, got unicode
	// hyper: type "integer unicode": 2 types left over, expected one (missing a list/1 or dict/2?)
}

func ExampleTypeOf() {
	for _, v := range []any{0, "", []float64{}, map[string][]int{}, (*string)(nil)} {
		fmt.Println(hyper.TypeOf(reflect.TypeOf(v)))
	}
	// Output:
	// integer
	// unicode
	// float list/1
	// integer list/1 unicode dict/2
	// unicode?
}
