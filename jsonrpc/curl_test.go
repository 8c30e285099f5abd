package jsonrpc_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestCurl calls the server with curl, as the README shows.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is missing: CI must have it")
		}
		t.Skip("curl is missing: install curl to run this test")
	}
	srv := newServer(t)
	tests := []struct{ body, want string }{
		{`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`, `{"jsonrpc":"2.0","result":3,"id":1}`},
		{`{"jsonrpc":"2.0","method":"hello","params":{"name":"curl"},"id":"a"}`, `{"jsonrpc":"2.0","result":"Hello, curl!","id":"a"}`},
		{`[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"hello"}]`, `[{"jsonrpc":"2.0","result":3,"id":1}]`},
	}
	for _, tt := range tests {
		out, err := exec.Command(curl, "-sS", "-d", tt.body, srv.URL).CombinedOutput()
		if err != nil {
			t.Fatalf("curl: %v: %s", err, out)
		}
		if string(out) != tt.want {
			t.Errorf("curl -d %s\ngot  %s\nwant %s", tt.body, out, tt.want)
		}
	}
}
