package service_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
)

func newObjectService(t *testing.T) *service.Service {
	t.Helper()
	s := service.New()
	err := s.Object("Search", []service.Member{
		{Name: "run_query", Func: func(q string, n int) []string { return []string{strings.Repeat(q, n)} },
			Options: []service.FuncOption{service.Args("query", "max"), service.Default("max", 1), service.Attr("idempotent", true)}},
		{Name: "size", Func: func() int { return 7 }, Options: []service.FuncOption{service.Safe()}},
		{Name: "secret", Func: func() int { return 1 }, Options: []service.FuncOption{service.Hidden()}},
	}, service.Profile("urn:glyph:component:Search"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestObjectResource(t *testing.T) {
	s := newObjectService(t)
	idx := mustDo(t, s, get("/")).Value.(hyper.Resource)
	if l, ok := idx.Content["Search"].(hyper.Link); !ok || l.URL != "/Search/" {
		t.Fatalf("index lists Search as %#v, want a link to /Search/", idx.Content["Search"])
	}
	r := mustDo(t, s, get("/Search/")).Value.(hyper.Resource)
	if r.URL != "/Search/" || r.Name != "Search" || r.Profile != "urn:glyph:component:Search" {
		t.Fatalf("resource = %q %q %q", r.URL, r.Name, r.Profile)
	}
	f, ok := r.Content["run_query"].(hyper.Form)
	if !ok || f.URL != "/Search/run_query" || f.Extra["idempotent"] != true || len(f.Values) != 2 || f.Values[1].Type != "integer" {
		t.Fatalf("run_query = %#v", r.Content["run_query"])
	}
	if l, ok := r.Content["size"].(hyper.Link); !ok || l.URL != "/Search/size" {
		t.Fatalf("size = %#v", r.Content["size"])
	}
	if _, listed := r.Content["secret"]; listed {
		t.Fatal("a hidden method is listed")
	}
}

func TestObjectCalls(t *testing.T) {
	s := newObjectService(t)
	tests := []struct {
		name string
		c    call
		want any
		kind service.Kind
	}{
		{"positional", postPos("/Search/run_query", "ab", 2), []string{"abab"}, 0},
		{"default", post("/Search/run_query", "query", "x"), []string{"x"}, 0},
		{"safe", get("/Search/size"), 7, 0},
		{"hidden stays callable", post("/Search/secret"), 1, 0},
		{"bad type", postPos("/Search/run_query", 3), nil, service.KindInvalid},
		{"no such method", post("/Search/nope"), nil, service.KindNotFound},
		{"object without slash", get("/Search"), nil, service.KindNotFound},
		{"POST to the resource", post("/Search/"), nil, service.KindMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Serve(context.Background(), tt.c.request())
			if tt.kind != 0 {
				if service.KindOf(err) != tt.kind {
					t.Fatalf("err = %v, want kind %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Value, tt.want) {
				t.Fatalf("got %#v, want %#v", res.Value, tt.want)
			}
		})
	}
}

func TestObjectRegistrationErrors(t *testing.T) {
	tests := []struct {
		name    string
		members []service.Member
		want    string
	}{
		{"bad member name", []service.Member{{Name: "a/b", Func: func() {}}}, "invalid method name"},
		{"twice", []service.Member{{Name: "a", Func: func() {}}, {Name: "a", Func: func() {}}}, "two methods"},
		{"not a function", []service.Member{{Name: "a", Func: 3}}, "not a function"},
		{"protocol attribute", []service.Member{{Name: "a", Func: func() {}, Options: []service.FuncOption{service.Attr("url", 1)}}}, "protocol's own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := service.New().Object("O", tt.members)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
	s := service.New()
	s.MustFunc("O", func() {})
	if err := s.Object("O", nil); err == nil {
		t.Fatal("an object took the name of a function")
	}
}
