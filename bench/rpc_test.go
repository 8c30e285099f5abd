package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/glyph-ipc/glyph/jsonrpc"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

// The systems compared by the RPC benchmarks (rpc_bench_test.go): the
// same call hello("bob") → "Hello bob" as the HTTP benchmarks, as a
// JSON-RPC 2.0 and as an XML-RPC method, each through glyph's handler and
// client and through a hand-written net/http handler and client with
// encoding/json (resp. encoding/xml) for the one method.
var rpcSystems = []httpSystem{
	{name: "jsonrpc-nethttp", handler: jsonrpcNetHTTPHandler, dial: jsonrpcNetHTTPDial, decode: jsonrpcDecode},
	{name: "jsonrpc-glyph", handler: jsonrpcGlyphHandler, dial: jsonrpcGlyphDial, decode: jsonrpcDecode},
	{name: "xmlrpc-nethttp", handler: xmlrpcNetHTTPHandler, dial: xmlrpcNetHTTPDial, decode: xmlrpcDecode},
	{name: "xmlrpc-glyph", handler: xmlrpcGlyphHandler, dial: xmlrpcGlyphDial, decode: xmlrpcDecode},
}

func helloService() *service.Service {
	s := service.New()
	s.MustFunc("hello", func(name string) string { return "Hello " + name }, service.Args("name"))
	return s
}

func jsonrpcGlyphHandler() http.Handler { return jsonrpc.NewHandler(helloService()) }

func jsonrpcGlyphDial(_ context.Context, hc *http.Client, baseURL string) (caller, error) {
	c := jsonrpc.NewClient(baseURL, jsonrpc.WithHTTPClient(hc))
	return func(ctx context.Context, name string) (string, error) {
		var s string
		err := c.Call(ctx, "hello", []any{name}, nil, &s)
		return s, err
	}, nil
}

func xmlrpcGlyphHandler() http.Handler { return xmlrpc.NewHandler(helloService()) }

func xmlrpcGlyphDial(_ context.Context, hc *http.Client, baseURL string) (caller, error) {
	c := xmlrpc.NewClient(baseURL, xmlrpc.WithHTTPClient(hc))
	return func(ctx context.Context, name string) (string, error) {
		var s string
		err := c.Call(ctx, "hello", []any{name}, nil, &s)
		return s, err
	}, nil
}

// jsonrpcRequest and jsonrpcResponse are what a hand-written JSON-RPC
// server and client of the one method decode and encode.
type jsonrpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  []string        `json:"params"`
	ID      json.RawMessage `json:"id"`
}

type jsonrpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  string          `json:"result,omitempty"`
	Error   *jsonrpcError   `json:"error,omitempty"`
	ID      json.RawMessage `json:"id"`
}

type jsonrpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// jsonrpcNetHTTPHandler answers hello with net/http and encoding/json.
func jsonrpcNetHTTPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req jsonrpcRequest
		resp := jsonrpcResponse{JSONRPC: "2.0"}
		switch err := json.NewDecoder(r.Body).Decode(&req); {
		case err != nil:
			resp.Error = &jsonrpcError{-32700, err.Error()}
		case req.Method != "hello" || len(req.Params) != 1:
			resp.Error = &jsonrpcError{-32601, "no such method"}
		default:
			resp.Result = "Hello " + req.Params[0]
		}
		resp.ID = req.ID
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
}

func jsonrpcNetHTTPDial(_ context.Context, hc *http.Client, baseURL string) (caller, error) {
	var id atomic.Int64
	return func(ctx context.Context, name string) (string, error) {
		body, err := json.Marshal(jsonrpcRequest{JSONRPC: "2.0", Method: "hello", Params: []string{name}, ID: json.RawMessage(strconv.FormatInt(id.Add(1), 10))})
		if err != nil {
			return "", err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL, bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		var out jsonrpcResponse
		err = json.NewDecoder(res.Body).Decode(&out)
		io.Copy(io.Discard, res.Body)
		if err == nil && out.Error != nil {
			err = fmt.Errorf("%d: %s", out.Error.Code, out.Error.Message)
		}
		return out.Result, err
	}, nil
}

// xmlrpcCall and xmlrpcResponse are what a hand-written XML-RPC server and
// client of the one method decode and encode with encoding/xml.
type xmlrpcCall struct {
	XMLName    xml.Name      `xml:"methodCall"`
	MethodName string        `xml:"methodName"`
	Params     []xmlrpcParam `xml:"params>param"`
}

type xmlrpcParam struct {
	Value xmlrpcValue `xml:"value"`
}

type xmlrpcValue struct {
	String string `xml:"string"`
}

type xmlrpcResponse struct {
	XMLName xml.Name      `xml:"methodResponse"`
	Params  []xmlrpcParam `xml:"params>param"`
}

// xmlrpcNetHTTPHandler answers hello with net/http and encoding/xml.
func xmlrpcNetHTTPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var call xmlrpcCall
		if err := xml.NewDecoder(r.Body).Decode(&call); err != nil || call.MethodName != "hello" || len(call.Params) != 1 {
			http.Error(w, "bad call", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, xml.Header)
		xml.NewEncoder(w).Encode(xmlrpcResponse{Params: []xmlrpcParam{{xmlrpcValue{"Hello " + call.Params[0].Value.String}}}})
	})
}

func xmlrpcNetHTTPDial(_ context.Context, hc *http.Client, baseURL string) (caller, error) {
	return func(ctx context.Context, name string) (string, error) {
		var body bytes.Buffer
		body.WriteString(xml.Header)
		if err := xml.NewEncoder(&body).Encode(xmlrpcCall{MethodName: "hello", Params: []xmlrpcParam{{xmlrpcValue{name}}}}); err != nil {
			return "", err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL, &body)
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "text/xml")
		res, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		var out xmlrpcResponse
		err = xml.NewDecoder(res.Body).Decode(&out)
		io.Copy(io.Discard, res.Body)
		if err == nil && len(out.Params) != 1 {
			err = fmt.Errorf("%d params", len(out.Params))
		}
		if err != nil {
			return "", err
		}
		return out.Params[0].Value.String, nil
	}, nil
}

// jsonrpcDecode returns the result of a JSON-RPC response.
func jsonrpcDecode(body []byte) (string, error) {
	var r jsonrpcResponse
	err := json.Unmarshal(body, &r)
	return r.Result, err
}

// xmlrpcDecode returns the string of an XML-RPC response.
func xmlrpcDecode(body []byte) (string, error) {
	var r xmlrpcResponse
	if err := xml.Unmarshal(body, &r); err != nil {
		return "", err
	}
	if len(r.Params) != 1 {
		return "", fmt.Errorf("%d params", len(r.Params))
	}
	return r.Params[0].Value.String, nil
}
