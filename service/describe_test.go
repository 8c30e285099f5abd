package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

type Lamp struct {
	Watts int `glyph:"watts"`
}

func (l Lamp) Brighter(by int) int { return l.Watts + by }
func (l Lamp) Switch(on bool) bool { return on }

type Bulb struct {
	Watts int `glyph:"watts"`
}

func (b *Bulb) Brighter(by int) int { return b.Watts + by }

// Request.Describe answers the form of a callable instead of calling it,
// whatever its kind, so that a transport can learn its input types.
func TestDescribe(t *testing.T) {
	s := service.New()
	calls := 0
	s.MustFunc("square", func(x int) int { calls++; return x * x }, service.Args("x"), service.Safe())
	s.MustFunc("send", func(to string) { calls++ }, service.Args("to"))
	s.MustClass("Lamp", Lamp{}, service.Method("brighter", service.Args("by"), service.Safe()),
		service.Method("switch", service.Args("on")))
	s.MustClass("Bulb", Bulb{}, service.Persistent(nil), service.Method("brighter", service.Args("by"), service.Safe()))
	state := "Du5%3Awatts%3Bi60%3B%3B" // {"watts": 60}
	made, err := s.Serve(context.Background(), &service.Request{Method: "POST", Path: "Bulb", Args: wire.NewOrderedDict("watts", 40)})
	if err != nil {
		t.Fatal(err)
	}
	bulb := strings.TrimPrefix(made.Location, "/")
	tests := []struct {
		name, path, query string
		method, url       string
		input, typ        string
	}{
		{"safe function", "square", "", "GET", "/square", "x", "integer"},
		{"unsafe function", "send", "", "POST", "/send", "to", "unicode"},
		{"constructor", "Lamp", "", "POST", "/Lamp", "watts", "integer"},
		{"safe method in a stateful URL", "Lamp/brighter", state, "POST", "/Lamp/brighter?" + state, "by", "integer"},
		{"unsafe method", "Lamp/switch", state, "POST", "/Lamp/switch?" + state, "on", "bool"},
		{"safe method of a persistent instance", bulb + "brighter", "", "GET", "/" + bulb + "brighter", "by", "integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Serve(context.Background(), &service.Request{Method: "GET", Path: tt.path, Query: tt.query, Describe: true})
			if err != nil {
				t.Fatal(err)
			}
			f, ok := res.Value.(hyper.Form)
			if !ok {
				t.Fatalf("got %#v, want a form", res.Value)
			}
			if f.HTTPMethod() != tt.method || f.URL != tt.url || len(f.Values) != 1 || f.Values[0].Name != tt.input || f.Values[0].Type != tt.typ {
				t.Fatalf("got %+v, want %s %s with input %s %s", f, tt.method, tt.url, tt.input, tt.typ)
			}
		})
	}
	if calls != 0 {
		t.Errorf("describing called the functions %d times", calls)
	}
	// Without Describe, a safe function is called.
	if _, err := s.Serve(context.Background(), &service.Request{Method: "GET", Path: "square", Query: queryOf("x", 3)}); err != nil || calls != 1 {
		t.Fatalf("a GET without Describe: %v, %d calls", err, calls)
	}
	// Describe names nothing that does not exist.
	_, err = s.Serve(context.Background(), &service.Request{Method: "GET", Path: "nope", Describe: true})
	if service.KindOf(err) != service.KindNotFound {
		t.Fatalf("describing nothing: %v", err)
	}
}
