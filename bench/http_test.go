package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// The systems compared by the HTTP benchmarks (http_bench_test.go): one
// unary call hello(name) → "Hello "+name, each through its own server and
// client over loopback HTTP/1.1 with keep-alive.

// connectProcedure is the procedure path of the connect-go service: a
// Greeter with one method Hello taking and returning a
// google.protobuf.StringValue, so that no generated code is needed.
const connectProcedure = "/bench.v1.Greeter/Hello"

// greetRequest and greetResponse are the plain net/http JSON bodies:
// {"name":"bob"} and {"greeting":"Hello bob"}.
type greetRequest struct {
	Name string `json:"name"`
}

type greetResponse struct {
	Greeting string `json:"greeting"`
}

// caller calls hello(name) once and returns the greeting.
type caller func(ctx context.Context, name string) (string, error)

// httpSystem is one server and client pair.
type httpSystem struct {
	name string
	// handler returns a new server-side http.Handler.
	handler func() http.Handler
	// dial returns a caller for the server at baseURL, sending its
	// requests with hc. It may make requests (to resolve a form).
	dial func(ctx context.Context, hc *http.Client, baseURL string) (caller, error)
	// decode decodes the greeting from the (uncompressed) body of a
	// successful answer, for checking the requests BenchmarkServerAllocs
	// replays.
	decode func(body []byte) (string, error)
}

// httpSystems lists the systems in the order they are benchmarked. The plain
// net/http handler comes first: it is the baseline benchstat compares the
// others with.
var httpSystems = []httpSystem{
	{name: "nethttp-json", handler: netHTTPHandler, dial: netHTTPDial, decode: netHTTPDecode},
	{name: "glyph", handler: glyphHandler, dial: glyphDial, decode: glyphDecode},
	{name: "connect-json", handler: connectHandler(), dial: connectDial(connect.WithProtoJSON()), decode: connectJSONDecode},
	{name: "connect-proto", handler: connectHandler(), dial: connectDial(), decode: connectProtoDecode},
	// connect-go's handlers gzip every answer a client accepts gzip for
	// (its clients always do), however small; this one leaves answers
	// under 1 KiB alone, as glyph's handler does.
	{name: "connect-proto-min1k", handler: connectHandler(connect.WithCompressMinBytes(1024)), dial: connectDial(), decode: connectProtoDecode},
}

// glyphHandler is a hyperhttp handler serving one function, hello(name).
func glyphHandler() http.Handler {
	s := service.New()
	s.MustFunc("hello", func(name string) string { return "Hello " + name }, service.Args("name"))
	return hyperhttp.NewHandler(s)
}

// glyphDial resolves the hello form once, as a program would at start-up:
// it gets the service's index and takes its hello form. Each call then is
// one POST of the form (Value.Call) and the decoding of its answer. (A
// typed stub from client.Bind makes the same call through reflect.MakeFunc:
// a few allocations more per call.)
func glyphDial(ctx context.Context, hc *http.Client, baseURL string) (caller, error) {
	c := client.New(client.WithHTTPClient(hc))
	index, err := c.Get(ctx, baseURL+"/")
	if err != nil {
		return nil, err
	}
	hello, err := index.Get("hello")
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, name string) (string, error) {
		v, err := hello.Call(ctx, name)
		if err != nil {
			return "", err
		}
		var s string
		err = v.Decode(&s)
		return s, err
	}, nil
}

// connectHandler returns a constructor of connect-go unary handlers for
// connectProcedure, made with opts. They accept the Connect, gRPC and
// gRPC-Web protocols with the proto and JSON codecs, as connect-go
// handlers do by default.
func connectHandler(opts ...connect.HandlerOption) func() http.Handler {
	return func() http.Handler {
		mux := http.NewServeMux()
		mux.Handle(connectProcedure, connect.NewUnaryHandler(connectProcedure,
			func(_ context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
				return connect.NewResponse(wrapperspb.String("Hello " + req.Msg.GetValue())), nil
			}, opts...))
		return mux
	}
}

// connectDial returns a dial function for a connect-go client with opts
// (the Connect protocol; the proto codec unless opts say otherwise).
func connectDial(opts ...connect.ClientOption) func(context.Context, *http.Client, string) (caller, error) {
	return func(_ context.Context, hc *http.Client, baseURL string) (caller, error) {
		c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, baseURL+connectProcedure, opts...)
		return func(ctx context.Context, name string) (string, error) {
			res, err := c.CallUnary(ctx, connect.NewRequest(wrapperspb.String(name)))
			if err != nil {
				return "", err
			}
			return res.Msg.GetValue(), nil
		}, nil
	}
}

// netHTTPHandler is a plain net/http handler with encoding/json on a
// ServeMux: POST /hello decodes {"name":...} and encodes {"greeting":...}.
func netHTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hello", func(w http.ResponseWriter, r *http.Request) {
		var req greetRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(greetResponse{Greeting: "Hello " + req.Name})
	})
	return mux
}

// netHTTPDial returns a caller that posts {"name":...} as JSON and decodes
// the greeting from the answer.
func netHTTPDial(_ context.Context, hc *http.Client, baseURL string) (caller, error) {
	url := baseURL + "/hello"
	return func(ctx context.Context, name string) (string, error) {
		body, err := json.Marshal(greetRequest{Name: name})
		if err != nil {
			return "", err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
			return "", &statusError{code: res.StatusCode, msg: strings.TrimSpace(string(msg))}
		}
		var out greetResponse
		err = json.NewDecoder(res.Body).Decode(&out)
		io.Copy(io.Discard, res.Body) // so that the connection is reused
		return out.Greeting, err
	}, nil
}

type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return http.StatusText(e.code) + ": " + e.msg }

// newTransport returns the one http.Transport a client kind shares:
// HTTP/1.1 only, keep-alive, with enough idle connections per host that
// 64 concurrent callers never close and redial them.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		ForceAttemptHTTP2:   false,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
	}
}

// liveSystem is a system's server running on 127.0.0.1:0 and a client
// connected to it.
type liveSystem struct {
	httpSystem
	srv   *httptest.Server
	tr    *http.Transport
	call  caller
	close func()
}

// start starts s's server on a loopback listener (httptest.NewServer:
// HTTP/1.1, keep-alive) and dials a client to it over its own transport.
func start(ctx context.Context, s httpSystem) (*liveSystem, error) {
	srv := httptest.NewServer(s.handler())
	tr := newTransport()
	call, err := s.dial(ctx, &http.Client{Transport: tr}, srv.URL)
	if err != nil {
		tr.CloseIdleConnections()
		srv.Close()
		return nil, err
	}
	return &liveSystem{httpSystem: s, srv: srv, tr: tr, call: call, close: func() {
		tr.CloseIdleConnections()
		srv.Close()
	}}, nil
}

// recordingTransport records the requests it sends, with their bodies.
type recordingTransport struct {
	base http.RoundTripper
	reqs []recordedRequest
}

type recordedRequest struct {
	method, path string
	header       http.Header
	body         []byte
}

func (t *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	h := r.Header.Clone()
	// The transport asks for gzip itself when the request does not say;
	// record what the server sees.
	if tr, ok := t.base.(*http.Transport); ok && !tr.DisableCompression && h.Get("Accept-Encoding") == "" && h.Get("Range") == "" && r.Method != http.MethodHead {
		h.Set("Accept-Encoding", "gzip")
	}
	t.reqs = append(t.reqs, recordedRequest{method: r.Method, path: r.URL.RequestURI(), header: h, body: body})
	return t.base.RoundTrip(r)
}

// captureCall runs s's client against its server once, calling
// hello(name), and returns the request the call sent (the last one: a
// client may make requests to resolve the call first) and the answer.
func captureCall(ctx context.Context, s httpSystem, name string) (recordedRequest, string, error) {
	srv := httptest.NewServer(s.handler())
	defer srv.Close()
	tr := newTransport()
	defer tr.CloseIdleConnections()
	rec := &recordingTransport{base: tr}
	call, err := s.dial(ctx, &http.Client{Transport: rec}, srv.URL)
	if err != nil {
		return recordedRequest{}, "", err
	}
	rec.reqs = nil
	got, err := call(ctx, name)
	if err != nil {
		return recordedRequest{}, "", err
	}
	if len(rec.reqs) != 1 {
		return recordedRequest{}, "", fmt.Errorf("the call sent %d requests, want 1", len(rec.reqs))
	}
	return rec.reqs[0], got, nil
}

// preparedRequest is a recorded request made ready to be served again and
// again by a handler without a network: its body is rewound before each use.
type preparedRequest struct {
	req  *http.Request
	body *rewindBody
}

// rewindBody is a request body that can be read again from the start, so
// that serving the same request many times allocates nothing for it.
type rewindBody struct {
	bytes.Reader
	data []byte
}

func (b *rewindBody) Close() error { return nil }
func (b *rewindBody) rewind()      { b.Reader.Reset(b.data) }

func prepare(r recordedRequest) *preparedRequest {
	body := &rewindBody{data: r.body}
	body.rewind()
	req := httptest.NewRequest(r.method, r.path, nil)
	req.Header = r.header.Clone()
	req.ContentLength = int64(len(r.body))
	req.Body = body
	return &preparedRequest{req: req, body: body}
}

// serve serves p once with h into a new recorder.
func (p *preparedRequest) serve(h http.Handler) *httptest.ResponseRecorder {
	p.body.rewind()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, p.req)
	return w
}

// responseBody returns the body of a recorded answer, checking its status
// and undoing gzip.
func responseBody(w *httptest.ResponseRecorder) ([]byte, error) {
	if w.Code != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", w.Code, w.Body.String())
	}
	body := w.Body.Bytes()
	switch enc := w.Header().Get("Content-Encoding"); enc {
	case "", "identity":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	default:
		return nil, fmt.Errorf("unknown Content-Encoding %q", enc)
	}
}

func glyphDecode(body []byte) (string, error) {
	var s string
	err := wire.Unmarshal(body, &s)
	return s, err
}

func netHTTPDecode(body []byte) (string, error) {
	var r greetResponse
	err := json.Unmarshal(body, &r)
	return r.Greeting, err
}

func connectJSONDecode(body []byte) (string, error) {
	var m wrapperspb.StringValue
	err := protojson.Unmarshal(body, &m)
	return m.GetValue(), err
}

func connectProtoDecode(body []byte) (string, error) {
	var m wrapperspb.StringValue
	err := proto.Unmarshal(body, &m)
	return m.GetValue(), err
}

// TestHTTPSystems checks that each system's client, calling its server over
// loopback HTTP, gets "Hello bob".
func TestHTTPSystems(t *testing.T) {
	for _, s := range httpSystems {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			ls, err := start(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			defer ls.close()
			for range 3 { // the second and third reuse the connection
				got, err := ls.call(ctx, "bob")
				if err != nil {
					t.Fatal(err)
				}
				if got != "Hello bob" {
					t.Fatalf("got %q, want %q", got, "Hello bob")
				}
			}
		})
	}
}

// TestServerAllocsRequests checks that the requests BenchmarkServerAllocs
// replays are the ones the clients send, and that each handler answers
// them with "Hello bob" every time it serves them.
func TestServerAllocsRequests(t *testing.T) {
	for _, s := range httpSystems {
		t.Run(s.name, func(t *testing.T) {
			rec, got, err := captureCall(context.Background(), s, "bob")
			if err != nil {
				t.Fatal(err)
			}
			if got != "Hello bob" {
				t.Fatalf("the live call got %q, want %q", got, "Hello bob")
			}
			t.Logf("%s %s %v %q", rec.method, rec.path, rec.header, rec.body)
			p := prepare(rec)
			h := s.handler()
			for i := range 3 {
				w := p.serve(h)
				if i == 0 {
					t.Logf("answer: %d %v, %d bytes", w.Code, w.Header(), w.Body.Len())
				}
				body, err := responseBody(w)
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.decode(body)
				if err != nil {
					t.Fatal(err)
				}
				if got != "Hello bob" {
					t.Fatalf("the replayed request got %q, want %q", got, "Hello bob")
				}
			}
		})
	}
}

// TestGlyphBoundStub checks that a typed stub bound with client.Bind makes
// the same call as the benchmarks' Value.Call.
func TestGlyphBoundStub(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(glyphHandler())
	defer srv.Close()
	var api struct {
		Hello func(ctx context.Context, name string) (string, error)
	}
	if err := client.Bind(ctx, client.New(), srv.URL+"/", &api); err != nil {
		t.Fatal(err)
	}
	got, err := api.Hello(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got != "Hello bob" {
		t.Fatalf("got %q, want %q", got, "Hello bob")
	}
}

func TestPercentile(t *testing.T) {
	d := make([]time.Duration, 200)
	for i := range d {
		d[i] = time.Duration(i + 1)
	}
	for _, c := range []struct {
		d    []time.Duration
		p    int
		want time.Duration
	}{
		{d, 50, 100}, {d, 99, 198}, {d, 100, 200}, {d[:1], 50, 1}, {d[:1], 99, 1}, {d[:3], 50, 2}, {d[:3], 99, 3}, {nil, 50, 0},
	} {
		if got := percentile(c.d, c.p); got != c.want {
			t.Errorf("percentile(1..%d, %d) = %d, want %d", len(c.d), c.p, got, c.want)
		}
	}
}
