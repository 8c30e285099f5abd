package client

import (
	"bytes"
	"context"
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

// mutator is an HTTPClient that records requests and then changes them,
// as a wrapper that rewrites URLs might.
type mutator struct{ reqs []*http.Request }

func (m *mutator) Do(req *http.Request) (*http.Response, error) {
	m.reqs = append(m.reqs, req)
	seen := *req
	seenURL := *req.URL
	seen.URL = &seenURL
	seen.Header = req.Header.Clone()
	m.reqs[len(m.reqs)-1] = &seen
	req.URL.Path = "/changed"
	req.Header.Set("Accept", "changed")
	return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: req}, nil
}

func TestRequestTemplate(t *testing.T) {
	m := &mutator{}
	f := hyper.Form{URL: "http://x:/f", Method: "POST", Values: []hyper.Input{{Name: "a"}}}
	v := &Value{c: New(WithHTTPClient(m)), v: f}
	type key struct{}
	for i := range 3 {
		ctx := context.WithValue(context.Background(), key{}, i)
		if _, err := v.Call(ctx, i); err != nil {
			t.Fatal(err)
		}
		want, err := http.NewRequestWithContext(ctx, "POST", f.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := m.reqs[i]
		if *got.URL != *want.URL || got.Host != want.Host || got.Method != want.Method || got.Proto != want.Proto {
			t.Errorf("call %d: request %s %v (host %q, %s), want %s %v (host %q, %s)", i,
				got.Method, got.URL, got.Host, got.Proto, want.Method, want.URL, want.Host, want.Proto)
		}
		if got.Context().Value(key{}) != i {
			t.Errorf("call %d: not the call's context", i)
		}
		if a := got.Header.Get("Accept"); a != accept {
			t.Errorf("call %d: Accept %q", i, a)
		}
		if got.GetBody == nil || got.ContentLength <= 0 {
			t.Errorf("call %d: GetBody %v, ContentLength %d", i, got.GetBody != nil, got.ContentLength)
		}
	}
	if acceptHeader[0] != accept {
		t.Errorf("the shared Accept header was changed to %q", acceptHeader[0])
	}
}
