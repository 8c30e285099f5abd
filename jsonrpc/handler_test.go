package jsonrpc_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/internal/rpctest"
	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/wire"
)

func newServer(t *testing.T, opts ...jsonrpc.Option) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(jsonrpc.NewHandler(rpctest.Service(), opts...))
	t.Cleanup(srv.Close)
	return srv
}

// call makes a request of method with params and id 1, and returns the
// answer's result or error member as it was written.
func call(t *testing.T, url, method, params string) string {
	t.Helper()
	body := `{"jsonrpc":"2.0","method":"` + method + `","id":1`
	if params != "" {
		body += `,"params":` + params
	}
	status, got := rpctest.Post(t, url, body+"}")
	if status != http.StatusOK {
		t.Fatalf("%s %s: status %d: %s", method, params, status, got)
	}
	got = strings.TrimPrefix(got, `{"jsonrpc":"2.0",`)
	return strings.TrimSuffix(got, `,"id":1}`)
}

// TestTypes checks the mapping of every input type from JSON and of every
// result type to JSON.
func TestTypes(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, method, params, want string
	}{
		{"integer", "add", `[1,2]`, `"result":3`},
		{"integer in exponent form", "add", `[1e2,-2]`, `"result":98`},
		{"integer with a fraction", "add", `[1.5,2]`, `"error":{"code":-32602,"message":"add: argument \"a\": expected integer, got float","data":{"kind":"invalid"}}`},
		{"integer beyond 64 bits", "echo", `[123456789012345678901234567890]`, `"result":123456789012345678901234567890`},
		{"float", "half", `[3]`, `"result":1.5`},
		{"float exponent", "half", `[2e-7]`, `"result":1e-7`},
		{"float large", "half", `[4e21]`, `"result":2e+21`},
		{"bool", "negate", `[false]`, `"result":true`},
		{"unicode", "hello", `["Zoë \"Z\" \u2028"]`, `"result":"Hello, Zoë \"Z\" \u2028!"`},
		{"unicode by name", "hello", `{"name":"Ann"}`, `"result":"Hello, Ann!"`},
		{"default", "hello", `[]`, `"result":"Hello, World!"`},
		{"bytearray", "reverse", `["AQID"]`, `"result":"AwIB"`},
		{"bytearray empty", "reverse", `[""]`, `"result":""`},
		{"bytearray not base64", "reverse", `["!!"]`, `"error":{"code":-32602,"message":"reverse: argument \"b\": \"!!\" is not base64","data":{"kind":"invalid"}}`},
		{"blob", "blob", `["YWI="]`, `"result":"YWIu"`},
		{"datetime UTC", "later", `["2026-01-02T03:04:05Z",90]`, `"result":"2026-01-02T03:05:35Z"`},
		{"datetime with zone and nanoseconds", "later", `["2026-01-02T03:04:05.5+01:00","1h"]`, `"result":"2026-01-02T04:04:05.5+01:00"`},
		{"datetime not RFC 3339", "later", `["yesterday",1]`, `"error":{"code":-32602,"message":"later: argument \"t\": \"yesterday\" is not a date and time (RFC 3339, such as 2006-01-02T15:04:05Z)","data":{"kind":"invalid"}}`},
		{"timedelta seconds", "double", `[1.25]`, `"result":2.5`},
		{"timedelta string", "double", `["1m"]`, `"result":120`},
		{"list", "sum", `[[1,2,3]]`, `"result":6`},
		{"list item wrong", "sum", `[[1,"x"]]`, `"error":{"code":-32602,"message":"sum: argument \"xs\": item 1: expected integer, got unicode","data":{"kind":"invalid"}}`},
		{"set", "members", `[["b","a","b"]]`, `"result":["a","b"]`},
		{"dict of integer keys", "squares", `[{"2":"a","10":"b"}]`, `"result":{"10":100,"2":4}`},
		{"dict key not an integer", "squares", `[{"x":"a"}]`, `"error":{"code":-32602,"message":"squares: argument \"m\": key \"x\" (the key itself): expected integer, got unicode","data":{"kind":"invalid"}}`},
		{"ordered dict", "keys", `[{"b":1,"a":2}]`, `"result":["a","b"]`},
		{"nullable nil", "maybe", `[null]`, `"result":null`},
		{"nullable value", "maybe", `["x"]`, `"result":"x!"`},
		{"object nested", "echo", `[{"a":[1,2.5,true,null,"x",{"b":[]}]}]`, `"result":{"a":[1,2.5,true,null,"x",{"b":[]}]}`},
		{"struct result", "point", `{"x":1,"y":2}`, `"result":{"X":1,"Y":2,"tag":"p"}`},
		{"no result", "nothing", ``, `"result":null`},
		{"safe function (a link)", "now", ``, `"result":"now"`},
		{"constructor", "User", `["Ann"]`, `"result":"/User/?Du4%3AName%3Bu3%3AAnn%3B%3B"`},
		{"streaming input takes an array", "total", `[[1,2,3]]`, `"result":6`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, srv.URL, tt.method, tt.params); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestErrors checks the codes of the service's errors, of unknown
// methods and of wrong params.
func TestErrors(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, method, params, want string
	}{
		{"unknown method", "subtract", `[1]`, `"error":{"code":-32601,"message":"no method \"subtract\"","data":{"kind":"not_found"}}`},
		{"instance method", "User.greet", ``, `"error":{"code":-32601,"message":"no method \"User.greet\"","data":{"kind":"not_found"}}`},
		{"too many params", "add", `[1,2,3]`, `"error":{"code":-32602,"message":"add: takes 2 argument(s), got 3","data":{"kind":"invalid"}}`},
		{"missing param", "add", `[1]`, `"error":{"code":-32602,"message":"add: missing argument \"b\"","data":{"kind":"invalid"}}`},
		{"unknown named param", "add", `{"a":1,"c":2}`, `"error":{"code":-32602,"message":"add: unknown argument \"c\"","data":{"kind":"invalid"}}`},
		{"kind not_found", "fail", `[2,"gone"]`, `"error":{"code":-32002,"message":"fail: gone","data":{"kind":"not_found"}}`},
		{"kind conflict", "fail", `[4,"changed"]`, `"error":{"code":-32004,"message":"fail: changed","data":{"kind":"conflict"}}`},
		{"kind permission_denied", "fail", `[8,"no"]`, `"error":{"code":-32008,"message":"fail: no","data":{"kind":"permission_denied"}}`},
		{"kind unavailable", "fail", `[11,"later"]`, `"error":{"code":-32011,"message":"fail: later","data":{"kind":"unavailable"}}`},
		{"streamed result", "count", `[2]`, `"error":{"code":-32006,"message":"count: the result is a stream, which JSON-RPC cannot carry","data":{"kind":"unsupported"}}`},
		{"callback", "apply", `["f",1]`, `"error":{"code":-32006,"message":"apply: callbacks cannot travel over JSON-RPC","data":{"kind":"unsupported"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, srv.URL, tt.method, tt.params); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	t.Run("internal error has a logref", func(t *testing.T) {
		got := call(t, srv.URL, "fail", `[12,"bug"]`)
		want := `"error":{"code":-32603,"message":"fail: bug","data":{"kind":"internal","logref":"`
		if !strings.HasPrefix(got, want) || len(got) != len(want)+16+3 {
			t.Errorf("got  %s\nwant %s<16 hex digits>\"}}", got, want)
		}
	})
}

// TestInvalidRequests checks the answers to bodies that are not valid
// requests.
func TestInvalidRequests(t *testing.T) {
	srv := newServer(t)
	const invalid = `{"jsonrpc":"2.0","error":{"code":-32600,"message":"invalid request: `
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", `{"jsonrpc"`, `{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error: unexpected end of JSON input","data":{"kind":"invalid"}},"id":null}`},
		{"empty body", ``, `{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error: unexpected end of JSON input","data":{"kind":"invalid"}},"id":null}`},
		{"data after the request", `{"jsonrpc":"2.0","method":"hello","id":1} {}`, `{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error: data after the request","data":{"kind":"invalid"}},"id":null}`},
		{"batch not JSON", `[{"jsonrpc":"2.0"`, `{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error: unexpected end of JSON input","data":{"kind":"invalid"}},"id":null}`},
		{"not an object", `"hello"`, invalid + `not a request object","data":{"kind":"invalid"}},"id":null}`},
		{"no version", `{"method":"hello","id":1}`, invalid + `\"jsonrpc\" must be \"2.0\"","data":{"kind":"invalid"}},"id":1}`},
		{"no method", `{"jsonrpc":"2.0","id":1}`, invalid + `no \"method\"","data":{"kind":"invalid"}},"id":1}`},
		{"params a string", `{"jsonrpc":"2.0","method":"hello","params":"x","id":1}`, invalid + `\"params\" must be an array or an object","data":{"kind":"invalid"}},"id":1}`},
		{"id an object", `{"jsonrpc":"2.0","method":"hello","id":{}}`, invalid + `the id is not a string, a number or null","data":{"kind":"invalid"}},"id":null}`},
		{"batch of invalid items", `[1,2]`, `[` + invalid + `not a request object","data":{"kind":"invalid"}},"id":null},` + invalid + `not a request object","data":{"kind":"invalid"}},"id":null}]`},
		{"params null", `{"jsonrpc":"2.0","method":"hello","params":null,"id":1}`, `{"jsonrpc":"2.0","result":"Hello, World!","id":1}`},
		{"string id kept", `{"jsonrpc":"2.0","method":"hello","id":"a\"b"}`, `{"jsonrpc":"2.0","result":"Hello, World!","id":"a\"b"}`},
		{"fractional id kept", `{"jsonrpc":"2.0","method":"hello","id":1.5}`, `{"jsonrpc":"2.0","result":"Hello, World!","id":1.5}`},
		{"unknown members ignored", `{"jsonrpc":"2.0","method":"hello","id":1,"x":[1]}`, `{"jsonrpc":"2.0","result":"Hello, World!","id":1}`},
		{"bad timeout header", `{"jsonrpc":"2.0","method":"hello","id":1}`, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"invalid request: Glyph-Timeout: \"soon\" is not a number of milliseconds","data":{"kind":"invalid"}},"id":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.name == "bad timeout header" {
				hdr = []string{jsonrpc.TimeoutHeader, "soon"}
			}
			status, got := rpctest.Post(t, srv.URL, tt.body, hdr...)
			if status != http.StatusOK || got != tt.want {
				t.Errorf("got  %d %s\nwant 200 %s", status, got, tt.want)
			}
		})
	}
}

// TestBatches checks batches with notifications and errors mixed.
func TestBatches(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, body, want string
		status           int
	}{
		{"results in request order", `[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":2},{"jsonrpc":"2.0","method":"add","params":[3,4],"id":1}]`,
			`[{"jsonrpc":"2.0","result":3,"id":2},{"jsonrpc":"2.0","result":7,"id":1}]`, 200},
		{"notifications get nothing, errors included", `[{"jsonrpc":"2.0","method":"nope"},{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"add","params":["x"]}]`,
			`[{"jsonrpc":"2.0","result":3,"id":1}]`, 200},
		{"only notifications", `[{"jsonrpc":"2.0","method":"hello"},{"jsonrpc":"2.0","method":"add","params":[1]}]`, ``, 204},
		{"one notification", `{"jsonrpc":"2.0","method":"hello"}`, ``, 204},
		{"invalid item among valid ones", `[{"jsonrpc":"2.0","method":"hello","id":1},{"foo":"boo"}]`,
			`[{"jsonrpc":"2.0","result":"Hello, World!","id":1},{"jsonrpc":"2.0","error":{"code":-32600,"message":"invalid request: \"jsonrpc\" must be \"2.0\"","data":{"kind":"invalid"}},"id":null}]`, 200},
		{"a batch of one", `[{"jsonrpc":"2.0","method":"hello","id":1}]`, `[{"jsonrpc":"2.0","result":"Hello, World!","id":1}]`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := rpctest.Post(t, srv.URL, tt.body)
			if status != tt.status || got != tt.want {
				t.Errorf("got  %d %s\nwant %d %s", status, got, tt.status, tt.want)
			}
		})
	}
}

// TestLimits checks that requests over each limit are refused before
// they cost more.
func TestLimits(t *testing.T) {
	srv := newServer(t, jsonrpc.WithMaxRequestBytes(1000), jsonrpc.WithMaxBatch(2),
		jsonrpc.WithLimits(wire.Limits{MaxDepth: 4, MaxItems: 3, MaxStringBytes: 5}))
	tooLarge := func(msg string) string {
		return `{"jsonrpc":"2.0","error":{"code":-32005,"message":"` + msg + `","data":{"kind":"too_large"}},"id":`
	}
	tests := []struct {
		name, body, want string
		status           int
	}{
		{"body", `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 1000) + `"],"id":1}`, tooLarge("a request body of 1054 bytes, more than 1000") + `null}`, 413},
		{"depth", `{"jsonrpc":"2.0","method":"echo","params":[[[[1]]]],"id":1}`, tooLarge("the request nests deeper than 4") + `null}`, 200},
		{"depth within", `{"jsonrpc":"2.0","method":"echo","params":[[[1]]],"id":1}`, `{"jsonrpc":"2.0","result":[[1]],"id":1}`, 200},
		{"brackets in strings do not count", `{"jsonrpc":"2.0","method":"echo","params":["[[[["],"id":1}`, `{"jsonrpc":"2.0","result":"[[[[","id":1}`, 200},
		{"batch", `[{"jsonrpc":"2.0","method":"hello","id":1},{"jsonrpc":"2.0","method":"hello","id":2},{"jsonrpc":"2.0","method":"hello","id":3}]`, tooLarge("a batch of 3 requests, more than 2") + `null}`, 200},
		{"items", `{"jsonrpc":"2.0","method":"echo","params":[[1,2,3,4]],"id":1}`, tooLarge("an array of 4 items, more than 3") + `1}`, 200},
		{"string", `{"jsonrpc":"2.0","method":"echo","params":["123456"],"id":1}`, tooLarge("a string of 6 bytes, more than 5") + `1}`, 200},
		{"member name", `{"jsonrpc":"2.0","method":"echo","params":{"123456":1},"id":1}`, tooLarge("a member name of 6 bytes, more than 5") + `1}`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := rpctest.Post(t, srv.URL, tt.body)
			if status != tt.status || got != tt.want {
				t.Errorf("got  %d %s\nwant %d %s", status, got, tt.status, tt.want)
			}
		})
	}
}

// TestDeadlineHeader checks that the server gives a call the deadline the
// client asks for.
func TestDeadlineHeader(t *testing.T) {
	srv := newServer(t)
	status, got := rpctest.Post(t, srv.URL, `{"jsonrpc":"2.0","method":"sleep","id":1}`, jsonrpc.TimeoutHeader, "20")
	want := `{"jsonrpc":"2.0","error":{"code":-32010,"message":"sleep: deadline_exceeded","data":{"kind":"deadline_exceeded"}},"id":1}`
	if status != 200 || got != want {
		t.Errorf("got  %d %s\nwant 200 %s", status, got, want)
	}
}
