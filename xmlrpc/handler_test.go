package xmlrpc_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/internal/rpctest"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/xmlrpc"
)

func newServer(t *testing.T, opts ...xmlrpc.Option) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(xmlrpc.NewHandler(rpctest.Service(), opts...))
	t.Cleanup(srv.Close)
	return srv
}

const (
	responseStart = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse>"
	responseEnd   = "</methodResponse>\n"
)

// call calls method with the given <value> elements as params and returns
// what the methodResponse holds: "<params>…</params>" or "<fault>…</fault>"
// without the wrapping params.
func call(t *testing.T, url, method string, values ...string) string {
	t.Helper()
	body := "<?xml version=\"1.0\"?><methodCall><methodName>" + method + "</methodName><params>"
	for _, v := range values {
		body += "<param>" + v + "</param>"
	}
	status, got := rpctest.Post(t, url, body+"</params></methodCall>")
	if status != http.StatusOK || !strings.HasPrefix(got, responseStart) || !strings.HasSuffix(got, responseEnd) {
		t.Fatalf("%s: status %d: %q", method, status, got)
	}
	got = strings.TrimSuffix(strings.TrimPrefix(got, responseStart), responseEnd)
	got = strings.TrimPrefix(got, "<params><param>")
	return strings.TrimSuffix(got, "</param></params>")
}

func fault(code, msg string) string {
	return "<fault><value><struct><member><name>faultCode</name><value><int>" + code +
		"</int></value></member><member><name>faultString</name><value><string>" + msg +
		"</string></value></member></struct></value></fault>"
}

// TestTypes checks the mapping of every XML-RPC type to glyph and back,
// and the conversions by input type.
func TestTypes(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, method string
		params       []string
		want         string
	}{
		{"int", "add", []string{"<value><int>1</int></value>", "<value><i4>2</i4></value>"}, "<value><int>3</int></value>"},
		{"i8 in and out", "add", []string{"<value><i8>4294967296</i8></value>", "<value><i4>1</i4></value>"}, "<value><i8>4294967297</i8></value>"},
		{"negative beyond 32 bits", "echo", []string{"<value><i8>-2147483649</i8></value>"}, "<value><i8>-2147483649</i8></value>"},
		{"32-bit bounds stay int", "echo", []string{"<value><i8>-2147483648</i8></value>"}, "<value><int>-2147483648</int></value>"},
		{"int with spaces", "add", []string{"<value><int> 1 </int></value>", "<value><int>2</int></value>"}, "<value><int>3</int></value>"},
		{"double", "half", []string{"<value><double>3</double></value>"}, "<value><double>1.5</double></value>"},
		{"int for a double", "half", []string{"<value><int>3</int></value>"}, "<value><double>1.5</double></value>"},
		{"double large, no exponent", "half", []string{"<value><double>2e21</double></value>"}, "<value><double>1000000000000000000000</double></value>"},
		{"boolean", "negate", []string{"<value><boolean>0</boolean></value>"}, "<value><boolean>1</boolean></value>"},
		{"string escaped", "hello", []string{"<value><string>&lt;Zoë&gt; &amp;&#xD;</string></value>"}, "<value><string>Hello, &lt;Zoë&gt; &amp;&#xD;!</string></value>"},
		{"untyped string", "hello", []string{"<value>Ann</value>"}, "<value><string>Hello, Ann!</string></value>"},
		{"empty value", "hello", []string{"<value></value>"}, "<value><string>Hello, !</string></value>"},
		{"base64 through an object input", "echo", []string{"<value><base64>AQ==</base64></value>"}, "<value><base64>AQ==</base64></value>"},
		{"base64", "reverse", []string{"<value><base64>\n AQID\n</base64></value>"}, "<value><base64>AwIB</base64></value>"},
		{"base64 string for bytes", "reverse", []string{"<value><string>AQID</string></value>"}, "<value><base64>AwIB</base64></value>"},
		{"blob", "blob", []string{"<value><base64>YWI=</base64></value>"}, "<value><base64>YWIu</base64></value>"},
		{"dateTime", "later", []string{"<value><dateTime.iso8601>20260102T03:04:05</dateTime.iso8601></value>", "<value><int>90</int></value>"}, "<value><dateTime.iso8601>20260102T03:05:35</dateTime.iso8601></value>"},
		{"dateTime with zone, written in UTC", "later", []string{"<value><dateTime.iso8601>2026-01-02T03:04:05+01:00</dateTime.iso8601></value>", "<value>1h</value>"}, "<value><dateTime.iso8601>20260102T03:04:05</dateTime.iso8601></value>"},
		{"RFC 3339 string for a datetime", "later", []string{"<value>2026-01-02T03:04:05Z</value>", "<value><double>0.5</double></value>"}, "<value><dateTime.iso8601>20260102T03:04:05</dateTime.iso8601></value>"},
		{"timedelta", "double", []string{"<value><double>1.25</double></value>"}, "<value><double>2.5</double></value>"},
		{"array", "sum", []string{"<value><array><data><value><int>1</int></value><value><int>2</int></value></data></array></value>"}, "<value><int>3</int></value>"},
		{"empty array", "sum", []string{"<value><array><data></data></array></value>"}, "<value><int>0</int></value>"},
		{"array to set", "members", []string{"<value><array><data><value>b</value><value>a</value><value>b</value></data></array></value>"}, "<value><array><data><value><string>a</string></value><value><string>b</string></value></data></array></value>"},
		{"struct to ordered dict", "keys", []string{"<value><struct><member><name>b</name><value><int>1</int></value></member><member><name>a</name><value><int>2</int></value></member></struct></value>"}, "<value><array><data><value><string>b</string></value><value><string>a</string></value></data></array></value>"},
		{"nil", "maybe", []string{"<value><nil/></value>"}, "<value><nil/></value>"},
		{"namespaced nil", "maybe", []string{`<value><ex:nil xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"/></value>`}, "<value><nil/></value>"},
		{"nullable value", "maybe", []string{"<value>x</value>"}, "<value><string>x!</string></value>"},
		{"struct result", "point", []string{"<value><int>1</int></value>", "<value><int>2</int></value>"}, "<value><struct><member><name>X</name><value><int>1</int></value></member><member><name>Y</name><value><int>2</int></value></member><member><name>tag</name><value><string>p</string></value></member></struct></value>"},
		{"no result", "nothing", nil, "<value><nil/></value>"},
		{"safe function", "now", nil, "<value><string>now</string></value>"},
		{"constructor", "User", []string{"<value>Ann</value>"}, "<value><string>/User/?Du4%3AName%3Bu3%3AAnn%3B%3B</string></value>"},
		{"streaming input takes an array", "total", []string{"<value><array><data><value><int>1</int></value><value><int>2</int></value></data></array></value>"}, "<value><int>3</int></value>"},
		{"string through an object input", "echo", []string{"<value><string>x</string></value>"}, "<value><string>x</string></value>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, srv.URL, tt.method, tt.params...); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestFaults checks the fault codes of the service's errors, of unknown
// methods, of wrong params and of documents that are not calls.
func TestFaults(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, method string
		params       []string
		want         string
	}{
		{"unknown method", "subtract", nil, fault("-32601", `no method "subtract"`)},
		{"wrong type", "add", []string{"<value><int>1</int></value>", "<value><boolean>1</boolean></value>"}, fault("-32602", `add: argument "b": expected integer, got true`)},
		{"too many params", "add", []string{"<value><int>1</int></value>", "<value><int>1</int></value>", "<value><int>1</int></value>"}, fault("-32602", `add: takes 2 argument(s), got 3`)},
		{"missing param", "add", []string{"<value><int>1</int></value>"}, fault("-32602", `add: missing argument "b"`)},
		{"base64 not base64", "reverse", []string{"<value><string>!!</string></value>"}, fault("-32602", `reverse: argument "b": "!!" is not base64`)},
		{"kind not_found", "fail", []string{"<value><int>2</int></value>", "<value>gone</value>"}, fault("-32002", "fail: gone")},
		{"kind unauthenticated", "fail", []string{"<value><int>7</int></value>", "<value>who</value>"}, fault("-32007", "fail: who")},
		{"streamed result", "count", []string{"<value><int>1</int></value>"}, fault("-32006", "count: the result is a stream, which XML-RPC cannot carry")},
		{"callback", "apply", []string{"<value>f</value>", "<value><int>1</int></value>"}, fault("-32006", "apply: callbacks cannot travel over XML-RPC")},
		{"bad int", "add", []string{"<value><int>one</int></value>"}, fault("-32600", `&lt;int&gt; holds "one", not an integer`)},
		{"bad boolean", "negate", []string{"<value><boolean>true</boolean></value>"}, fault("-32600", `&lt;boolean&gt; holds "true", not 0 or 1`)},
		{"bad double", "half", []string{"<value><double>NaN</double></value>"}, fault("-32600", `&lt;double&gt; holds "NaN", not a number`)},
		{"bad dateTime", "later", []string{"<value><dateTime.iso8601>today</dateTime.iso8601></value>"}, fault("-32600", `&lt;dateTime.iso8601&gt; holds "today", not a date and time`)},
		{"unknown type", "echo", []string{"<value><float>1</float></value>"}, fault("-32600", `&lt;float&gt; is not an XML-RPC type`)},
		{"member without a name", "echo", []string{"<value><struct><member><value>1</value></member></struct></value>"}, fault("-32600", `&lt;value&gt; where &lt;name&gt; was expected`)},
		{"array without data", "echo", []string{"<value><array><value>1</value></array></value>"}, fault("-32600", `&lt;value&gt; where &lt;data&gt; was expected`)},
		{"param without a value", "echo", []string{"1"}, fault("-32600", `text "1" where an element was expected`)},
		{"introspection of an unknown method", "system.methodHelp", []string{"<value>nope</value>"}, fault("-32601", `system.methodHelp: no method "nope"`)},
		{"introspection without a name", "system.methodSignature", nil, fault("-32602", `system.methodSignature: takes one parameter, a method's name`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, srv.URL, tt.method, tt.params...); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestDocuments checks answers to bodies that are not method calls.
func TestDocuments(t *testing.T) {
	srv := newServer(t)
	tests := []struct{ name, body, want string }{
		{"not XML", "<methodCall", fault("-32700", "not XML: XML syntax error on line 1: unexpected EOF")},
		{"text", "hello", fault("-32600", `text "hello" where an element was expected`)},
		{"empty", "", fault("-32600", "the document ends too early")},
		{"doctype", `<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]><methodCall/>`, fault("-32600", "a document type declaration (XML-RPC has none)")},
		{"other encoding", `<?xml version="1.0" encoding="ISO-8859-1"?><methodCall/>`, fault("-32700", `not XML: xml: opening charset "ISO-8859-1": the encoding "ISO-8859-1" is not supported: send UTF-8`)},
		{"other root", `<methodResponse/>`, fault("-32600", "&lt;methodResponse&gt; where &lt;methodCall&gt; was expected")},
		{"two calls", `<methodCall><methodName>hello</methodName></methodCall><methodCall/>`, fault("-32600", "&lt;methodCall&gt; where the end of the document was expected")},
		{"comments ignored", `<?xml version="1.0"?><!-- hi --><methodCall><methodName>hello</methodName><!-- no params --></methodCall>`, "<params><param><value><string>Hello, World!</string></value></param></params>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := rpctest.Post(t, srv.URL, tt.body)
			got = strings.TrimSuffix(strings.TrimPrefix(got, responseStart), responseEnd)
			if status != http.StatusOK || got != tt.want {
				t.Errorf("got  %d %s\nwant 200 %s", status, got, tt.want)
			}
		})
	}
}

// TestIntrospection checks what the system methods say of the service.
func TestIntrospection(t *testing.T) {
	srv := newServer(t)
	str := func(s string) string { return "<value><string>" + s + "</string></value>" }
	arr := func(vs ...string) string {
		return "<value><array><data>" + strings.Join(vs, "") + "</data></array></value>"
	}
	names := []string{"User", "add", "apply", "blob", "count", "double", "echo", "fail", "half", "hello", "keys", "later",
		"maybe", "members", "negate", "nothing", "now", "point", "reverse", "sleep", "squares", "sum",
		"system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall", "total"}
	var all []string
	for _, n := range names {
		all = append(all, str(n))
	}
	tests := []struct {
		name, method string
		params       []string
		want         string
	}{
		{"list", "system.listMethods", nil, arr(all...)},
		{"signature", "system.methodSignature", []string{str("later")}, arr(arr(str("undef"), str("dateTime.iso8601"), str("double")))},
		{"signature with a default", "system.methodSignature", []string{str("hello")}, arr(arr(str("undef")), arr(str("undef"), str("string")))},
		{"signature of every type", "system.methodSignature", []string{str("keys")}, arr(arr(str("undef"), str("struct")))},
		{"signature without inputs", "system.methodSignature", []string{str("now")}, arr(arr(str("undef")))},
		{"signature of a set", "system.methodSignature", []string{str("members")}, arr(arr(str("undef"), str("array")))},
		{"signature of bytes", "system.methodSignature", []string{str("reverse")}, arr(arr(str("undef"), str("base64")))},
		{"help", "system.methodHelp", []string{str("hello")}, str(`hello(name unicode = "World")`)},
		{"help of a constructor", "system.methodHelp", []string{str("User")}, str(`User(Name unicode)`)},
		{"help of a map", "system.methodHelp", []string{str("squares")}, str(`squares(m unicode integer dict/2)`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, srv.URL, tt.method, tt.params...); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestLimits checks that requests over each limit are refused.
func TestLimits(t *testing.T) {
	srv := newServer(t, xmlrpc.WithMaxRequestBytes(2000),
		xmlrpc.WithLimits(wire.Limits{MaxDepth: 2, MaxItems: 3, MaxStringBytes: 5}))
	arr := func(vs ...string) string {
		return "<value><array><data>" + strings.Join(vs, "") + "</data></array></value>"
	}
	one := "<value><int>1</int></value>"
	tests := []struct {
		name   string
		params []string
		want   string
	}{
		{"depth", []string{arr(arr(arr(one)))}, fault("-32005", "values nested deeper than 2")},
		{"depth within", []string{arr(arr(one))}, arr(arr(one))},
		{"items", []string{arr(one, one, one, one)}, fault("-32005", "an array of more than 3 items")},
		{"params", []string{one, one, one, one}, fault("-32005", "more than 3 params")},
		{"members", []string{"<value><struct>" + strings.Repeat("<member><name>a</name>"+one+"</member>", 4) + "</struct></value>"}, fault("-32005", "a struct of more than 3 members")},
		{"string", []string{"<value><string>123456</string></value>"}, fault("-32005", "a string of more than 5 bytes")},
		{"untyped string", []string{"<value>123456</value>"}, fault("-32005", "a string of more than 5 bytes")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, srv.URL, "echo", tt.params...); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	status, got := rpctest.Post(t, srv.URL, "<methodCall><methodName>echo</methodName><params><param><value>"+strings.Repeat(" ", 2000)+"</value></param></params></methodCall>")
	if want := fault("-32005", "a request body of 2101 bytes, more than 2000"); status != 413 || !strings.Contains(got, want) {
		t.Errorf("body over the limit: %d %s, want 413 %s", status, got, want)
	}
}

func TestDeadlineHeader(t *testing.T) {
	srv := newServer(t)
	status, got := rpctest.Post(t, srv.URL, "<methodCall><methodName>sleep</methodName></methodCall>", xmlrpc.TimeoutHeader, "20")
	want := responseStart + fault("-32010", "sleep: deadline_exceeded") + responseEnd
	if status != 200 || got != want {
		t.Errorf("got  %d %s\nwant 200 %s", status, got, want)
	}
}

// TestMulticall checks system.multicall: results and faults in order.
func TestMulticall(t *testing.T) {
	srv := newServer(t)
	callOf := func(method string, params ...string) string {
		return "<value><struct><member><name>methodName</name><value>" + method + "</value></member>" +
			"<member><name>params</name><value><array><data>" + strings.Join(params, "") + "</data></array></value></member></struct></value>"
	}
	one := "<value><int>1</int></value>"
	faultStruct := func(code, msg string) string {
		return "<value><struct><member><name>faultCode</name><value><int>" + code + "</int></value></member><member><name>faultString</name><value><string>" + msg + "</string></value></member></struct></value>"
	}
	got := call(t, srv.URL, "system.multicall", "<value><array><data>"+
		callOf("add", one, one)+callOf("nope")+callOf("add", one)+callOf("system.multicall")+"<value>x</value>"+
		"</data></array></value>")
	want := "<value><array><data>" +
		"<value><array><data><value><int>2</int></value></data></array></value>" +
		faultStruct("-32601", `no method "nope"`) +
		faultStruct("-32602", `add: missing argument "b"`) +
		faultStruct("-32602", "system.multicall: a multicall within a multicall") +
		faultStruct("-32602", "system.multicall: a call that is not a struct {methodName, params}") +
		"</data></array></value>"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

type counter struct{ N int }

func (c *counter) Incr(by int) int { c.N += by; return c.N }

// TestHelpNamesTheResource checks that the help of a method found on a
// resource the index links to names that resource, and that the method
// is called by its path.
func TestHelpNamesTheResource(t *testing.T) {
	svc := service.New(service.WithIndex("home"))
	svc.MustClass("Counter", counter{}, service.Persistent(nil), service.Method("incr", service.Args("by")))
	var url string
	svc.MustFunc("home", func() hyper.Resource {
		return hyper.Resource{Content: map[string]any{"counter": hyper.Link{URL: url}}}
	}, service.Safe())
	svc.MustFunc("make", func() *counter { return &counter{} })
	res, err := svc.Serve(context.Background(), &service.Request{Method: "POST", Path: "make"})
	if err != nil {
		t.Fatal(err)
	}
	url = res.Value.(hyper.Resource).URL
	name := strings.ReplaceAll(strings.Trim(url, "/"), "/", ".") + ".incr"
	srv := httptest.NewServer(xmlrpc.NewHandler(svc))
	defer srv.Close()
	str := func(s string) string { return "<value><string>" + s + "</string></value>" }
	if got, want := call(t, srv.URL, "system.methodHelp", str(name)), str(name+"(by integer)\nA method of Counter."); got != want {
		t.Errorf("help: got %s, want %s", got, want)
	}
	for want := 1; want <= 2; want++ {
		if got, w := call(t, srv.URL, name, "<value><int>1</int></value>"), fmt.Sprintf("<value><int>%d</int></value>", want); got != w {
			t.Errorf("incr: got %s, want %s", got, w)
		}
	}
}
