package xmlrpc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// TestClientRoundTrip calls a glyph server with the client, with
// arguments and results of every XML-RPC type.
func TestClientRoundTrip(t *testing.T) {
	srv := newServer(t)
	c := xmlrpc.NewClient(srv.URL)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	type point struct {
		X, Y int
		Tag  string `glyph:"tag"`
	}
	tests := []struct {
		name   string
		method string
		args   []any
		got    any // a pointer to decode into
		want   any
	}{
		{"int", "add", []any{40, 2}, new(int), 42},
		{"i8", "add", []any{int64(1) << 40, 1}, new(int64), int64(1)<<40 + 1},
		{"default", "hello", nil, new(string), "Hello, World!"},
		{"string", "hello", []any{"<Ann & Bob>\r\n"}, new(string), "Hello, <Ann & Bob>\r\n!"},
		{"double", "half", []any{3.0}, new(float64), 1.5},
		{"boolean", "negate", []any{true}, new(bool), false},
		{"base64", "reverse", []any{[]byte{1, 2, 3}}, new([]byte), []byte{3, 2, 1}},
		{"dateTime", "later", []any{t0, time.Minute}, new(time.Time), t0.Add(time.Minute)},
		{"array", "sum", []any{[]int{1, 2, 3}}, new(int), 6},
		{"set", "members", []any{wire.NewSet("b", "a")}, new([]string), []string{"a", "b"}},
		{"struct into a Go struct", "point", []any{1, 2}, new(point), point{1, 2, "p"}},
		{"nil", "maybe", []any{nil}, new(any), nil},
		{"into any", "echo", []any{map[string]any{"a": []any{int64(1), 2.5, "x", nil, true, []byte{7}}}}, new(any),
			wire.NewOrderedDict("a", []any{int64(1), 2.5, "x", nil, true, []byte{7}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Call(ctx, tt.method, tt.args, nil, tt.got); err != nil {
				t.Fatal(err)
			}
			got := reflect.ValueOf(tt.got).Elem().Interface()
			if tm, ok := got.(time.Time); ok {
				if !tm.Equal(tt.want.(time.Time)) {
					t.Errorf("got %v, want %v", tm, tt.want)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if err := c.Call(ctx, "nothing", nil, nil, nil); err != nil {
		t.Errorf("a call whose result is discarded: %v", err)
	}
}

// TestClientErrors checks that the kinds of faults come back, with the
// fault reachable.
func TestClientErrors(t *testing.T) {
	srv := newServer(t)
	c := xmlrpc.NewClient(srv.URL)
	tests := []struct {
		name    string
		method  string
		args    []any
		named   map[string]any
		kind    service.Kind
		code    int
		message string
	}{
		{"unknown method", "subtract", nil, nil, service.KindNotFound, -32601, `no method "subtract"`},
		{"wrong params", "add", []any{1, "x"}, nil, service.KindInvalid, -32602, `argument "b": expected integer, got unicode`},
		{"conflict", "fail", []any{4, "changed"}, nil, service.KindConflict, -32004, "changed"},
		{"unsupported", "apply", []any{"f", 1}, nil, service.KindUnsupported, -32006, "callbacks cannot travel over XML-RPC"},
		{"named arguments", "add", nil, map[string]any{"a": 1}, service.KindUnsupported, 0, "XML-RPC passes arguments by position only"},
		{"an argument XML-RPC cannot hold", "echo", []any{func() {}}, nil, service.KindInvalid, 0, "argument 0: the result does not encode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Call(context.Background(), tt.method, tt.args, tt.named, nil)
			var se *service.Error
			if !errors.As(err, &se) || se.Kind != tt.kind || se.Message != tt.message || se.Op != tt.method {
				t.Fatalf("got %#v, want kind %v, op %q, message %q", err, tt.kind, tt.method, tt.message)
			}
			var f *xmlrpc.Fault
			if errors.As(err, &f) != (tt.code != 0) || (f != nil && f.Code != tt.code) {
				t.Errorf("fault %v, want code %d", f, tt.code)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, "sleep", nil, nil, nil); service.KindOf(err) != service.KindDeadlineExceeded {
		t.Errorf("sleep: %v, want deadline_exceeded", err)
	}
}

// TestClientForeignServer calls an XML-RPC server that glyph did not
// write, with its own fault codes.
func TestClientForeignServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/xml")
		switch {
		case strings.Contains(string(body), "<methodName>examples.getStateName</methodName>"):
			io.WriteString(w, `<?xml version="1.0"?>
<methodResponse>
  <params>
    <param>
        <value>South Dakota</value>
    </param>
  </params>
</methodResponse>`)
		case strings.Contains(string(body), "<methodName>broken</methodName>"):
			io.WriteString(w, `<html>oops</html>`)
		default:
			io.WriteString(w, `<?xml version="1.0"?>
<methodResponse>
  <fault>
    <value>
      <struct>
        <member><name>faultCode</name><value><int>4</int></value></member>
        <member><name>faultString</name><value><string>Too many parameters.</string></value></member>
      </struct>
    </value>
  </fault>
</methodResponse>`)
		}
	}))
	defer srv.Close()
	c := xmlrpc.NewClient(srv.URL)
	var state string
	if err := c.Call(context.Background(), "examples.getStateName", []any{41}, nil, &state); err != nil || state != "South Dakota" {
		t.Errorf("getStateName: %q, %v", state, err)
	}
	err := c.Call(context.Background(), "other", []any{1, 2, 3}, nil, nil)
	var f *xmlrpc.Fault
	if service.KindOf(err) != service.KindOther || !errors.As(err, &f) || f.Code != 4 || f.String != "Too many parameters." {
		t.Errorf("other: %v; want kind other wrapping fault 4", err)
	}
	if err := c.Call(context.Background(), "broken", nil, nil, nil); service.KindOf(err) != service.KindInternal {
		t.Errorf("broken: %v; want kind internal", err)
	}
}
