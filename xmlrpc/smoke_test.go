package xmlrpc_test

import (
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/xmlrpc"
	"github.com/glyph-ipc/glyph/service"
)

func TestSmoke(t *testing.T) {
	svc := service.New()
	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"))
	svc.MustFunc("echo", func(v any) any { return v }, service.Args("v"))
	svc.MustFunc("when", func(t time.Time) time.Time { return t.Add(time.Hour) }, service.Args("t"))
	svc.MustFunc("hello", func(name string) string { return "Hello, " + name }, service.Args("name"), service.Default("name", "World"))
	srv := httptest.NewServer(xmlrpc.NewHandler(svc))
	defer srv.Close()
	out, err := exec.Command("python3", "-c", `
import sys, xmlrpc.client, datetime
p = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
print(p.add(1, 2))
print(p.echo({"a": [1, 2.5, True, None, b"xy", "s<&>"]}))
print(p.when(datetime.datetime(2026, 1, 2, 3, 4, 5)))
print(p.hello())
print(p.system.listMethods())
print(p.system.methodSignature("hello"))
print(p.system.methodHelp("hello"))
try:
    p.add(1, "x")
except xmlrpc.client.Fault as f:
    print(f.faultCode, f.faultString)
try:
    p.nope()
except xmlrpc.client.Fault as f:
    print(f.faultCode, f.faultString)
`, srv.URL).CombinedOutput()
	t.Logf("%s %v", out, err)
}
