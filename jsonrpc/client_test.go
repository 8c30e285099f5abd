package jsonrpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
)

// TestClientRoundTrip calls a glyph server with the client, with
// arguments and results of every kind.
func TestClientRoundTrip(t *testing.T) {
	srv := newServer(t)
	c := jsonrpc.NewClient(srv.URL)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		method string
		args   []any
		named  map[string]any
		got    any // a pointer to decode into
		want   any
	}{
		{"by position", "add", []any{40, 2}, nil, new(int), 42},
		{"by name", "hello", nil, map[string]any{"name": "Ann"}, new(string), "Hello, Ann!"},
		{"no params", "hello", nil, nil, new(string), "Hello, World!"},
		{"bytes both ways", "reverse", []any{[]byte{1, 2, 3}}, nil, new([]byte), []byte{3, 2, 1}},
		{"times both ways", "later", []any{t0, time.Second}, nil, new(time.Time), t0.Add(time.Second)},
		{"a list", "sum", []any{[]int{1, 2, 3}}, nil, new(int), 6},
		{"into any", "echo", []any{map[string]any{"a": []any{1, 2.5, "x", nil, true}}}, nil, new(any),
			map[string]any{"a": []any{int64(1), 2.5, "x", nil, true}}},
		{"a struct", "point", []any{1, 2}, nil, new(struct {
			X, Y int
			Tag  string `json:"tag"`
		}), struct {
			X, Y int
			Tag  string `json:"tag"`
		}{1, 2, "p"}},
		{"raw JSON argument", "echo", []any{json.RawMessage(`{"b": [1, 2]}`)}, nil, new(any), map[string]any{"b": []any{int64(1), int64(2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Call(ctx, tt.method, tt.args, tt.named, tt.got); err != nil {
				t.Fatal(err)
			}
			if got := deref(tt.got); !equal(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if err := c.Call(ctx, "nothing", nil, nil, nil); err != nil {
		t.Errorf("a call whose result is discarded: %v", err)
	}
	if err := c.Notify(ctx, "hello", nil, nil); err != nil {
		t.Errorf("notify: %v", err)
	}
}

// TestClientErrors checks that the kinds of the server's errors come
// back, with the JSON-RPC error reachable.
func TestClientErrors(t *testing.T) {
	srv := newServer(t)
	c := jsonrpc.NewClient(srv.URL)
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
		{"not found", "fail", []any{2, "gone"}, nil, service.KindNotFound, -32002, "gone"},
		{"unavailable", "fail", []any{11, "later"}, nil, service.KindUnavailable, -32011, "later"},
		{"overloaded", "fail", []any{14, "busy"}, nil, service.KindOverloaded, -32014, "busy"},
		{"unsupported", "count", []any{1}, nil, service.KindUnsupported, -32006, "the result is a stream, which JSON-RPC cannot carry"},
		{"both kinds of params", "add", []any{1}, map[string]any{"b": 2}, service.KindInvalid, 0, "JSON-RPC takes arguments by position or by name, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Call(context.Background(), tt.method, tt.args, tt.named, nil)
			var se *service.Error
			if !errors.As(err, &se) || se.Kind != tt.kind || se.Message != tt.message || se.Op != tt.method {
				t.Fatalf("got %#v, want kind %v, op %q, message %q", err, tt.kind, tt.method, tt.message)
			}
			var je *jsonrpc.Error
			if errors.As(err, &je) != (tt.code != 0) || (je != nil && je.Code != tt.code) {
				t.Errorf("JSON-RPC error %v, want code %d", je, tt.code)
			}
		})
	}
}

func TestClientDeadline(t *testing.T) {
	srv := newServer(t)
	c := jsonrpc.NewClient(srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Call(ctx, "sleep", nil, nil, nil)
	if k := service.KindOf(err); k != service.KindDeadlineExceeded {
		t.Errorf("got %v (kind %v), want deadline_exceeded", err, k)
	}
}

// TestClientForeignServer calls a JSON-RPC server that glyph did not
// write: encoding/json and net/http only, with its own error codes.
func TestClientForeignServer(t *testing.T) {
	var gotHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader = r.Header.Get("X-Api-Key")
		var req struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			ID     json.RawMessage `json:"id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch req.Method {
		case "subtract":
			var p struct{ Minuend, Subtrahend float64 }
			json.Unmarshal(req.Params, &p)
			json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "result": p.Minuend - p.Subtrahend, "id": req.ID})
		case "broken":
			w.Write([]byte(`<html>oops</html>`))
		case "teapot":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusTeapot)
		default:
			json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "error": map[string]any{"code": 42, "message": "no " + req.Method}, "id": req.ID})
		}
	}))
	defer srv.Close()
	c := jsonrpc.NewClient(srv.URL, jsonrpc.WithHeader("X-Api-Key", "k"))
	ctx := context.Background()
	var diff float64
	if err := c.Call(ctx, "subtract", nil, map[string]any{"minuend": 42, "subtrahend": 23}, &diff); err != nil || diff != 19 {
		t.Errorf("subtract: %v, %v; want 19", diff, err)
	}
	if gotHeader != "k" {
		t.Errorf("header X-Api-Key: %q, want k", gotHeader)
	}
	err := c.Call(ctx, "divide", []any{1, 0}, nil, nil)
	var je *jsonrpc.Error
	if service.KindOf(err) != service.KindOther || !errors.As(err, &je) || je.Code != 42 || je.Message != "no divide" {
		t.Errorf("divide: %v; want kind other wrapping code 42", err)
	}
	if err := c.Call(ctx, "broken", nil, nil, nil); service.KindOf(err) != service.KindInternal {
		t.Errorf("broken: %v; want kind internal", err)
	}
	if err := c.Call(ctx, "teapot", nil, nil, nil); service.KindOf(err) != service.KindInvalid {
		t.Errorf("teapot: %v; want kind invalid", err)
	}
}

func TestClientUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	err := jsonrpc.NewClient(url).Call(context.Background(), "hello", nil, nil, nil)
	if service.KindOf(err) != service.KindUnavailable {
		t.Errorf("got %v, want kind unavailable", err)
	}
}

// deref returns what the pointer p points to.
func deref(p any) any { return reflect.ValueOf(p).Elem().Interface() }

// equal compares decoded results: times by the instant, the rest deeply
// (so that int64 and float64 differ).
func equal(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return reflect.DeepEqual(a, b)
}
