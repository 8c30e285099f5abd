package hub_test

import (
	"testing"

	"github.com/glyph-ipc/glyph/objects/hub"
)

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"",
		"store: data\nremotes:\n  - url: ws://127.0.0.1:1/peer\n",
		"websocket:\n  listen: 127.0.0.1:7780\n  origins: [https://a.example]\n",
		"a: &x [*x]\n",
		"remotes: [[[[[[]]]]]]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := hub.ParseConfig(data)
		if err == nil && (c.Store == "" || c.Socket == "") {
			t.Fatal("accepted without defaults")
		}
	})
}

// The account object's content comes from remotes: whatever it holds, it
// decodes or fails, never panics.
func FuzzAccountState(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("{\"name\":\"alice\",\"objects\":[{\"id\":b\"\"}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		hub.DecodeAccountState(data)
	})
}
