package walkthrough_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperpeer"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
	"github.com/glyph-ipc/glyph/peer"
)

// TestTourOverPeers runs the tour unchanged against the same service
// served over a peer connection: it starts from a tcp:// URL instead of
// an http:// one, and everything after comes from the pages.
func TestTourOverPeers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := peer.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go peer.Serve(ctx, l, peer.WithHandler(hyperpeer.NewHandler(walkthrough.V2())))

	c := client.New()
	defer c.Close()
	var user *client.Value
	res, err := walkthrough.Tour(ctx, c, l.Addr(), func(s walkthrough.Step) {
		if strings.HasPrefix(s.Call, "user = ") {
			user = s.Value
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := walkthrough.Expected(2)
	if !reflect.DeepEqual(res, want) {
		t.Errorf("got  %#v\nwant %#v", res, want)
	}
	// The user is the same resource as over HTTP, at a peer URL.
	if r, ok := user.Any().(hyper.Resource); !ok || r.Name != "User" || !strings.HasPrefix(user.URL(), l.Addr()+"#/User/?") {
		t.Errorf("user %#v at %q", user.Any(), user.URL())
	}
}
