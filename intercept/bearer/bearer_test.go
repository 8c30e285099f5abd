package bearer_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/glyph-ipc/glyph/intercept"
	"github.com/glyph-ipc/glyph/intercept/bearer"
	"github.com/glyph-ipc/glyph/service"
)

func TestToken(t *testing.T) {
	for _, tc := range []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Bearer ", "", false},
		{"Bearer", "", false},
		{"Basic YWxhZGRpbjpvcGVuc2VzYW1l", "", false},
		{"", "", false},
	} {
		if token, ok := bearer.Token(tc.header); token != tc.token || ok != tc.ok {
			t.Errorf("Token(%q) = %q, %v; want %q, %v", tc.header, token, ok, tc.token, tc.ok)
		}
	}
}

func TestStatic(t *testing.T) {
	verify := bearer.Static(map[string]string{"t-alice": "alice", "t-bob": "bob", "": "nobody"})
	for _, tc := range []struct {
		token string
		id    any
		kind  service.Kind
	}{
		{"t-alice", "alice", 0},
		{"t-bob", "bob", 0},
		{"t-alic", nil, service.KindUnauthenticated},
		{"t-alice2", nil, service.KindUnauthenticated},
		{"", nil, service.KindUnauthenticated},
	} {
		id, err := verify(context.Background(), tc.token)
		if id != tc.id || (err != nil) != (tc.kind != 0) || (err != nil && service.KindOf(err) != tc.kind) {
			t.Errorf("verify(%q) = %v, %v", tc.token, id, err)
		}
	}
	if !bearer.Equal("x", "x") || bearer.Equal("x", "y") || bearer.Equal("x", "xx") {
		t.Error("Equal")
	}
}

// serve runs a server-side call with header h through ic and returns
// the identity the function saw and the error.
func serve(ic intercept.Interceptor, h http.Header) (id any, ran bool, err error) {
	_, err = ic.WrapUnary(func(ctx context.Context, c *intercept.Call) (any, error) {
		id, _ = bearer.Identity(ctx)
		ran = true
		return nil, nil
	})(context.Background(), &intercept.Call{Procedure: "f", Side: intercept.SideServer, Header: h})
	return id, ran, err
}

func TestServer(t *testing.T) {
	denied := service.Errorf(service.KindPermissionDenied, "bob may not")
	ic := bearer.Server(func(_ context.Context, token string) (any, error) {
		switch token {
		case "t-alice":
			return "alice", nil
		case "t-bob":
			return nil, denied
		}
		return nil, errors.New("expired")
	})
	for _, tc := range []struct {
		name, header string
		id           any
		kind         service.Kind
	}{
		{"accepted", "Bearer t-alice", "alice", 0},
		{"no header", "", nil, service.KindUnauthenticated},
		{"another scheme", "Basic dDp0", nil, service.KindUnauthenticated},
		{"refused with a kind", "Bearer t-bob", nil, service.KindPermissionDenied},
		{"refused", "Bearer t-old", nil, service.KindUnauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Authorization", tc.header)
			}
			id, ran, err := serve(ic, h)
			if tc.kind == 0 {
				if err != nil || !ran || id != tc.id {
					t.Errorf("%v, ran %v, identity %v", err, ran, id)
				}
				return
			}
			if service.KindOf(err) != tc.kind || ran {
				t.Errorf("%v (kind %v), ran %v; want kind %v without running", err, service.KindOf(err), ran, tc.kind)
			}
		})
	}
	// Calls on the calling side pass through.
	if _, err := ic.WrapUnary(func(context.Context, *intercept.Call) (any, error) { return nil, nil })(
		context.Background(), &intercept.Call{Side: intercept.SideClient, Header: http.Header{}}); err != nil {
		t.Errorf("a client call through the server's interceptor: %v", err)
	}
}

func TestClient(t *testing.T) {
	n := 0
	ic := bearer.Client(func(context.Context) (string, error) {
		n++
		if n > 1 {
			return "", service.Errorf(service.KindUnavailable, "no token")
		}
		return "t-1", nil
	})
	var sent string
	next := func(_ context.Context, c *intercept.Call) (any, error) {
		sent = c.Header.Get("Authorization")
		return nil, nil
	}
	if _, err := ic.WrapUnary(next)(context.Background(), &intercept.Call{Side: intercept.SideClient, Header: http.Header{}}); err != nil || sent != "Bearer t-1" {
		t.Errorf("sent %q, %v", sent, err)
	}
	sent = ""
	if _, err := ic.WrapUnary(next)(context.Background(), &intercept.Call{Side: intercept.SideClient, Header: http.Header{}}); service.KindOf(err) != service.KindUnavailable || sent != "" {
		t.Errorf("a failing token func: sent %q, %v", sent, err)
	}
}
