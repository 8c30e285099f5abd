package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/nginxtest"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
	"github.com/glyph-ipc/glyph/peer"
)

// TestCallThroughNginx: glyph call works through nginx with a proxy cache
// in front of two walkthrough servers that let it keep their pages, its
// requests spread over both: the state is in the URLs, which lead back to
// nginx. Peers over WebSocket pass through the same location.
func TestCallThroughNginx(t *testing.T) {
	var served [2]atomic.Int64
	var backends []string
	for i := range served {
		svc := walkthrough.V2()
		p := peer.New(peer.WithHandler(hyperpeer.NewHandler(svc)))
		mux := http.NewServeMux()
		mux.Handle("/", hyperhttp.NewHandler(svc, hyperhttp.WithSharedCache(time.Minute)))
		mux.Handle("/peer", p.WebSocketHandler())
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served[i].Add(1)
			mux.ServeHTTP(w, r)
		}))
		// The peers' connections first: the server does not track them
		// once upgraded.
		t.Cleanup(srv.Close)
		t.Cleanup(func() { p.Close() })
		backends = append(backends, strings.TrimPrefix(srv.URL, "http://"))
	}
	u := nginxtest.Start(t, backends...).URL + "/"
	state := "Du2%3Aid%3Bi2%3Bu5%3Ashard%3Bu7%3Ashard-0%3B%3B"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"hello", "Bob"}, "unicode \"Hello Bob\"\n"},
		{[]string{"find_user", "bob", ".message", "hi", "there"}, "unicode \"message for bob on shard-0: hi (there)\"\n"},
		{[]string{"find_user", "bob", ".bio"}, "unicode \"bob is user 2, kept on shard-0\"\n"},
		{[]string{"find_user", "bob", ".id"}, "integer 2\n"},
		{[]string{"find_user", "bob", ".bio", "--json"}, `"bob is user 2, kept on shard-0"` + "\n"},
		{[]string{"greeting", "lang=fr"}, `extension form {method: "POST", url: "` + u + `salut", values: [extension input {name: "name", type: "unicode", value: "World"}]}` + "\n"},
	}
	for _, tt := range tests {
		out, errOut, code := glyph(t, "", append([]string{"call", u}, tt.args...)...)
		if code != 0 || errOut != "" || out != tt.want {
			t.Errorf("glyph call %s: exit %d, stderr %q, stdout\n%s\nwant\n%s", strings.Join(tt.args, " "), code, errOut, out, tt.want)
		}
	}
	// Peers over WebSocket go through it too, to either server.
	ws := "ws" + strings.TrimPrefix(u, "http") + "peer"
	for range 2 {
		out, errOut, code := glyph(t, "", "call", ws, "hello", "Bob")
		if code != 0 || errOut != "" || out != "unicode \"Hello Bob\"\n" {
			t.Errorf("glyph call %s hello Bob: exit %d, stderr %q, stdout %q", ws, code, errOut, out)
		}
	}
	out, _, _ := glyph(t, "", "call", u, "find_user", "bob")
	if !strings.Contains(out, `url: "`+u+`User/bio?`+state+`"`) {
		t.Errorf("find_user's links do not lead back to nginx:\n%s", out)
	}
	if a, b := served[0].Load(), served[1].Load(); a == 0 || b == 0 {
		t.Errorf("the upstreams served %d and %d requests: want both used", a, b)
	}
}
