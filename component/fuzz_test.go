package component

import (
	"context"
	"reflect"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
)

type fuzzIface interface {
	RunQuery(ctx context.Context, query string, max int) ([]string, error)
	Size(ctx context.Context) (int, error)
}

// FuzzDescribeResource decodes a resource as a provider might send it,
// reads the interface from it and checks a caller's expectations against
// it: none of that may panic, whatever the provider sends.
func FuzzDescribeResource(f *testing.F) {
	f.Add([]byte("Xu8:resource;Du4:name;u6:Search;u7:profile;u30:urn:glyph:component:Search:1.2;u3:url;u8:/Search/;;Du9:run_query;Xu4:form;Du10:idempotent;T;u6:method;u4:POST;u7:returns;u14:unicode list/1;u3:url;u17:/Search/run_query;u6:values;LXu5:input;Du4:name;u5:query;u4:type;u7:unicode;;N;;Xu5:input;Du4:name;u3:max;u4:type;u7:integer;u5:value;i10;;N;;;;N;;;;"))
	f.Add([]byte("Xu8:resource;Du7:profile;u27:urn:glyph:component:Search;;Du4:size;Xu4:link;Du10:timeout_ms;i99;u7:returns;u8:list/1 ?;u3:url;u5:/size;;N;;;N;;"))
	t := reflect.TypeFor[fuzzIface]()
	var exps []*expectation
	for i := 0; i < t.NumMethod(); i++ {
		e, err := expect(t.Method(i).Name, t.Method(i).Type)
		if err != nil {
			f.Fatal(err)
		}
		exps = append(exps, e)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r hyper.Resource
		if err := wire.Unmarshal(data, &r); err != nil {
			return
		}
		in, err := DescribeResource(r)
		if err != nil {
			return
		}
		for _, s := range in.Methods {
			if len(s.types) != len(s.Inputs) || s.Timeout < 0 {
				t.Fatalf("signature %s: %d types for %d inputs, timeout %v", s.Name, len(s.types), len(s.Inputs), s.Timeout)
			}
		}
		_ = compatible(in.Name, exps, in, "fuzz")
	})
}
