package component_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/service"
)

// Greeter and Shouter are two components; Shouter calls Greeter.
type Greeter interface {
	Greet(ctx context.Context, name string) (string, error)
}

type greeter struct{}

func (greeter) Greet(_ context.Context, name string) (string, error) { return "hello " + name, nil }

type Shouter interface {
	Shout(ctx context.Context, name string) (string, error)
}

type shouter struct {
	g struct {
		Greet func(ctx context.Context, name string) (string, error)
	}
}

func (s *shouter) Shout(ctx context.Context, name string) (string, error) {
	v, err := s.g.Greet(ctx, name)
	return strings.ToUpper(v) + "!", err
}

var greetParts = []component.Part{
	{Name: "Greeter", Install: func(ctx context.Context, svc *service.Service, r *component.Router) error {
		return component.Register[Greeter](svc, greeter{}, component.Method("Greet", component.Args("name")))
	}},
	{Name: "Shouter", Install: func(ctx context.Context, svc *service.Service, r *component.Router) error {
		s := &shouter{}
		if err := r.Bind(ctx, "Greeter", &s.g); err != nil {
			return err
		}
		return component.Register[Shouter](svc, s, component.Method("Shout", component.Args("name")))
	}},
}

// Without a supervisor, a binary serves every part in process.
func ExampleStart() {
	ctx := context.Background()
	p, err := component.Start(ctx, greetParts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	var shouter struct {
		Shout func(ctx context.Context, name string) (string, error)
	}
	if err := p.Router.Bind(ctx, "Shouter", &shouter); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Serving())
	fmt.Println(shouter.Shout(ctx, "world"))
	// Output:
	// [Greeter Shouter]
	// HELLO WORLD! <nil>
}

func TestStartListeners(t *testing.T) {
	ctx := context.Background()
	front := component.Part{Name: "front", Public: true, HTTP: func(ctx context.Context, p *component.Process) (http.Handler, error) {
		if got := strings.Join(p.Public(), ","); got != "Greeter,Shouter" {
			return nil, fmt.Errorf("public: %s", got)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "front") }), nil
	}}
	tests := []struct {
		name  string
		parts []component.Part
		opts  []component.StartOption
		want  string // an error, or "" when it serves
	}{
		{"no secret", greetParts, []component.StartOption{component.WithListen("Greeter", "127.0.0.1:0")}, "without a deployment secret"},
		{"loopback allowed", greetParts, []component.StartOption{component.WithListen("Greeter", "127.0.0.1:0"), component.WithoutSecret()}, ""},
		{"not loopback", greetParts, []component.StartOption{component.WithListen("Greeter", "0.0.0.0:0"), component.WithoutSecret()}, "not loopback"},
		{"public front", append(greetParts[:2:2], front), []component.StartOption{component.WithListen("front", "0.0.0.0:0")}, ""},
		{"unknown part", greetParts, []component.StartOption{component.WithListen("Nope", "127.0.0.1:0")}, "WithListen names Nope"},
		{"part without code", []component.Part{{Name: "X"}}, nil, "set a name and one of Install or HTTP"},
		{"part twice", []component.Part{greetParts[0], greetParts[0]}, nil, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := component.Start(ctx, tt.parts, tt.opts...)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Start: %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			for _, n := range p.Serving() {
				if addr := p.Addr(n); addr != "" && !strings.HasPrefix(addr, "http://") {
					t.Errorf("%s at %s", n, addr)
				}
			}
		})
	}
}

// A part served unsupervised over HTTP answers callers that route to it.
func TestStartListenServes(t *testing.T) {
	ctx := context.Background()
	p, err := component.Start(ctx, greetParts, component.WithListen("Greeter", "127.0.0.1:0"), component.WithoutSecret())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, err := component.NewRouter(component.WithRoutes(component.Routes{"Greeter": {Providers: []string{p.Addr("Greeter")}}}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var g struct {
		Greet func(ctx context.Context, name string) (string, error)
	}
	if err := r.Bind(ctx, "Greeter", &g); err != nil {
		t.Fatal(err)
	}
	if got, err := g.Greet(ctx, "http"); err != nil || got != "hello http" {
		t.Fatalf("Greet = %q, %v", got, err)
	}
}

func TestStartServeUnknown(t *testing.T) {
	t.Setenv(component.ServeEnv, "Greeter,Indexer")
	_, err := component.Start(context.Background(), greetParts)
	if err == nil || !strings.Contains(err.Error(), "names Indexer, which this binary does not hold (it holds Greeter, Shouter)") {
		t.Fatalf("Start: %v", err)
	}
}
