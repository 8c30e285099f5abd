package xmlrpc_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// pythonScript calls the server with Python's standard xmlrpc.client and
// prints what it got, one line per call.
const pythonScript = `
import sys, datetime, xmlrpc.client
p = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True, use_builtin_types=True)
print(p.add(40, 2))
print(p.hello(), p.hello("Py"))
print(p.half(3.0), p.negate(False))
print(p.reverse(b"\x01\x02\x03"))
print(p.later(datetime.datetime(2026, 1, 2, 3, 4, 5), 90))
print(p.sum([1, 2, 3]), p.members(["b", "a", "b"]))
print(p.squares({"2": "x", "3": "y"}))
print(sorted(p.echo({"a": [1, 2.5, True, None, "s<&>"]}).items()))
print(p.maybe(None), p.point(1, 2))
print(p.nothing())
print(p.system.listMethods()[:3])
print(p.system.methodSignature("hello"))
print(p.system.methodHelp("hello"))
mc = xmlrpc.client.MultiCall(p)
mc.add(1, 2)
mc.hello("multi")
print(list(mc()))
for call in (lambda: p.add(1, "x"), lambda: p.subtract(1), lambda: p.count(2), lambda: p.fail(2, "gone")):
    try:
        call()
    except xmlrpc.client.Fault as f:
        print(f.faultCode, f.faultString)
`

const pythonWant = `42
Hello, World! Hello, Py!
1.5 True
b'\x03\x02\x01'
2026-01-02 03:05:35
6 ['a', 'b']
{'2': 4, '3': 9}
[('a', [1, 2.5, True, None, 's<&>'])]
None {'X': 1, 'Y': 2, 'tag': 'p'}
None
['User', 'add', 'apply']
[['undef'], ['undef', 'string']]
hello(name unicode = "World")
[3, 'Hello, multi!']
-32602 add: argument "b": expected integer, got unicode
-32601 no method "subtract"
-32006 count: the result is a stream, which XML-RPC cannot carry
-32002 fail: gone
`

// TestPythonClient calls a glyph service with Python's standard
// xmlrpc.client.
func TestPythonClient(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is missing: CI must have it")
		}
		t.Skip("python3 is missing: install python3 to run this test")
	}
	srv := newServer(t)
	out, err := exec.Command(python, "-c", pythonScript, srv.URL).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	if got := string(out); got != pythonWant {
		t.Errorf("python3 printed\n%s\nwant\n%s", got, pythonWant)
		for i, l := range strings.Split(got, "\n") {
			if w := strings.Split(pythonWant, "\n"); i < len(w) && w[i] != l {
				t.Errorf("first difference, line %d: %q, want %q", i+1, l, w[i])
				break
			}
		}
	}
}
