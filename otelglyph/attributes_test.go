package otelglyph

import (
	"context"
	"errors"
	"testing"

	"github.com/glyph-ipc/glyph/service"
)

func TestMethodName(t *testing.T) {
	for _, c := range []struct{ procedure, want string }{
		{"greet", "greet"},
		{"/greet", "greet"},
		{"greet?x=1", "greet"},
		{"", "/"},
		{"/", "/"},
		{"User", "User"},
		{"User/rename", "User/rename"},           // an instance's method, its state in the query
		{"User/42/rename", "User/rename"},        // a persistent instance's
		{"User/a/b/rename", "User/rename"},       // an id with slashes
		{"User/42/", "User/"},                    // the instance itself
		{"Greeter/greet", "Greeter/greet"},       // an object's method
		{"/api/v1/greet?q", "api/greet"},         // a root other than "/", as a client sees it
		{"Search.run_query", "Search.run_query"}, // JSON-RPC
	} {
		if got := methodName(c.procedure); got != c.want {
			t.Errorf("methodName(%q) = %q, want %q", c.procedure, got, c.want)
		}
	}
}

func TestStatusCode(t *testing.T) {
	for _, c := range []struct {
		err         error
		want        string
		serverFault bool
	}{
		{nil, "OK", false},
		{&service.Error{Kind: service.KindNotFound}, "NOT_FOUND", false},
		{&service.Error{Kind: service.KindInvalid}, "INVALID", false},
		{&service.Error{Kind: service.KindInternal}, "INTERNAL", true},
		{&service.Error{Kind: service.KindUnavailable}, "UNAVAILABLE", true},
		{&service.Error{Kind: service.KindOverloaded}, "OVERLOADED", true},
		{context.Canceled, "CANCELED", false},
		{context.DeadlineExceeded, "DEADLINE_EXCEEDED", true},
		{errors.New("plain"), "OTHER", true},
	} {
		if got := statusCode(c.err); got != c.want {
			t.Errorf("statusCode(%v) = %q, want %q", c.err, got, c.want)
		}
		if c.err != nil && serverFault(c.err) != c.serverFault {
			t.Errorf("serverFault(%v) = %v", c.err, !c.serverFault)
		}
	}
}

func TestHostPort(t *testing.T) {
	for _, c := range []struct {
		addr string
		host string
		port int
		ok   bool
	}{
		{"127.0.0.1:8080", "127.0.0.1", 8080, true},
		{"tcp://127.0.0.1:7001", "127.0.0.1", 7001, true},
		{"ws://example.com:80/peer", "example.com", 80, true},
		{"tls://[::1]:443", "::1", 443, true},
		{"unix:///run/glyph.sock", "", 0, false},
		{"/run/glyph.sock", "", 0, false},
		{"otel.greet", "", 0, false},
		{"host:0", "", 0, false},
		{"", "", 0, false},
	} {
		host, port, ok := hostPort(c.addr)
		if host != c.host || port != c.port || ok != c.ok {
			t.Errorf("hostPort(%q) = %q, %d, %v; want %q, %d, %v", c.addr, host, port, ok, c.host, c.port, c.ok)
		}
	}
}
