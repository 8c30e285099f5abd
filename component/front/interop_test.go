package front_test

import (
	"os"
	"os/exec"
	"testing"
)

// need returns the path of the command name, skipping the test when it
// is missing (failing it in CI, which must have it).
func need(t *testing.T, name, how string) string {
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must have it", name)
		}
		t.Skipf("%s is missing: %s to run this test", name, how)
	}
	return path
}

// frontPython calls the front with Python's standard xmlrpc.client, as
// a program that knows nothing of glyph would: a public method, a hidden
// one, and the listing.
const frontPython = `
import sys, xmlrpc.client
p = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
print(p.Catalog.lookup("ap"))
print(p.Catalog.lookup("a", 1))
print([m for m in p.system.listMethods() if not m.startswith("system.")])
for call in (lambda: p.Catalog.drop("apple"), lambda: p.Vault.open(), lambda: p.Catalog.lookup(3)):
    try:
        call()
    except xmlrpc.client.Fault as f:
        print(f.faultCode, f.faultString)
`

const frontPythonWant = `[{'Key': 'apple', 'Price': 1.5, 'Tags': ['fruit']}, {'Key': 'apricot', 'Price': 2.25, 'Tags': ['fruit', 'dried']}]
[{'Key': 'apple', 'Price': 1.5, 'Tags': ['fruit']}]
['Catalog.count', 'Catalog.echo', 'Catalog.lookup']
-32601 no method "Catalog.drop"
-32601 no method "Vault.open"
-32602 Catalog.lookup: argument "prefix": expected unicode, got integer
`

// TestPythonXMLRPC: Python's xmlrpc.client calls a component through
// the front, and cannot reach what is not public.
func TestPythonXMLRPC(t *testing.T) {
	python := need(t, "python3", "install python3")
	d := newDeployment(t)
	out, err := exec.Command(python, "-c", frontPython, d.url+"RPC2").CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	if string(out) != frontPythonWant {
		t.Errorf("python3 printed\n%s\nwant\n%s", out, frontPythonWant)
	}
}

// TestCurlJSONRPC: curl calls a component through the front with
// JSON-RPC, by position and by name, and cannot reach what is not public.
func TestCurlJSONRPC(t *testing.T) {
	curl := need(t, "curl", "install curl")
	d := newDeployment(t)
	tests := []struct{ body, want string }{
		{`{"jsonrpc":"2.0","method":"Catalog.lookup","params":["ban"],"id":1}`,
			`{"jsonrpc":"2.0","result":[{"Key":"banana","Price":0.5,"Tags":["fruit"]}],"id":1}`},
		{`{"jsonrpc":"2.0","method":"Catalog.lookup","params":{"prefix":"av","limit":1},"id":"b"}`,
			`{"jsonrpc":"2.0","result":[{"Key":"avocado","Price":3,"Tags":[]}],"id":"b"}`},
		{`{"jsonrpc":"2.0","method":"Catalog.drop","params":["apple"],"id":3}`,
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"no method \"Catalog.drop\"","data":{"kind":"not_found"}},"id":3}`},
	}
	for _, tt := range tests {
		out, err := exec.Command(curl, "-sS", "-H", "Content-Type: application/json", "-d", tt.body, d.url+"jsonrpc").CombinedOutput()
		if err != nil {
			t.Fatalf("curl: %v: %s", err, out)
		}
		if string(out) != tt.want {
			t.Errorf("curl -d %s\ngot  %s\nwant %s", tt.body, out, tt.want)
		}
	}
}
