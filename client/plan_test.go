package client

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

// TestPlainBodyIsTheOrderedDict checks that form bodies written entry by
// entry are the bytes of the ordered dict they stand for.
func TestPlainBodyIsTheOrderedDict(t *testing.T) {
	in := func(name string) hyper.Input { return hyper.Input{Name: name} }
	cases := []struct {
		name   string
		inputs []hyper.Input
		args   []any
	}{
		{"one string", []hyper.Input{in("name")}, []any{"bob"}},
		{"scalars", []hyper.Input{in("a"), in("b"), in("c"), in("d"), in("e"), in("f")},
			[]any{int8(-3), uint64(1 << 63), float32(1.5), nil, true, []byte{0, 1}}},
		{"not NFC", []hyper.Input{in("cafe\u0301"), in("x")}, []any{"e\u0301", 2.5}},
		{"more than the stack", []hyper.Input{in("a"), in("b"), in("c"), in("d"), in("e")},
			[]any{1, 2, 3, 4, 5}},
		{"same name twice", []hyper.Input{in("a"), in("a")}, []any{1, 2}},
		{"a list", []hyper.Input{in("a"), in("b")}, []any{[]any{"x"}, uint(7)}},
		{"longer than the buffer", []hyper.Input{in("a"), in("b")}, []any{string(make([]byte, 100)), "x"}},
		{"a default", []hyper.Input{in("a"), {Name: "b", Default: "dflt", HasDefault: true}}, []any{int16(9)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := hyper.Form{URL: "http://x/f", Method: "POST", Values: tc.inputs}
			v := &Value{c: New(), v: f}
			for range 2 { // the first call makes the plan, the second uses it
				r, err := v.formRequest(f, tc.args)
				if err != nil {
					t.Fatal(err)
				}
				want := wire.NewOrderedDict()
				for i, in := range tc.inputs {
					if i < len(tc.args) {
						want.Set(in.Name, tc.args[i])
					} else {
						want.Set(in.Name, in.Default)
					}
				}
				wb, err := wire.Marshal(want)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(r.bodyBytes, wb) {
					t.Errorf("body %q, want %q", r.bodyBytes, wb)
				}
			}
		})
	}
}

func TestPlainBodyEncodingError(t *testing.T) {
	f := hyper.Form{URL: "http://x/f", Method: "POST", Values: []hyper.Input{{Name: "s"}}}
	v := &Value{c: New(), v: f}
	_, err := v.formRequest(f, []any{"bad \xff"})
	want := wire.NewOrderedDict("s", "bad \xff")
	_, werr := wire.Marshal(want)
	if err == nil || werr == nil {
		t.Fatalf("got %v, want an error like %v", err, werr)
	}
	t.Log(err)
}

func TestFinalURLCache(t *testing.T) {
	var p callPlan
	r := &request{url: "http://x/f", urlCache: &p.url}
	for _, u := range []string{"http://x/f", "http://x/f", "http://y/g?q=1", "http://x/f", "http://x:/f"} {
		req, err := http.NewRequest("POST", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := finalURL(&http.Response{Request: req}, r), req.URL.String(); got != want {
			t.Errorf("finalURL = %q, want %q", got, want)
		}
	}
	if got := finalURL(&http.Response{}, r); got != r.url {
		t.Errorf("finalURL without a request = %q, want %q", got, r.url)
	}
}
