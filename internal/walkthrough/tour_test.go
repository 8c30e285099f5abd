package walkthrough_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// TestTourKeepsWorking runs the one client, walkthrough.Tour, against both
// versions of the service: the server evolved (a parameter with a
// default, more state in the User, a redirect instead of an inline
// resource) and the client did not have to.
func TestTourKeepsWorking(t *testing.T) {
	versions := []struct {
		name    string
		svc     *service.Service
		version int
		shard   bool // the User has a shard
	}{
		{"v1", walkthrough.V1(), 1, false},
		{"v2", walkthrough.V2(), 2, true},
	}
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			srv := httptest.NewServer(hyperhttp.NewHandler(v.svc, hyperhttp.Config{}))
			defer srv.Close()
			var users []*client.Value
			see := func(s walkthrough.Step) {
				if strings.HasPrefix(s.Call, "user = ") {
					users = append(users, s.Value)
				}
			}
			res, err := walkthrough.Tour(context.Background(), client.New(), srv.URL+"/", see)
			if err != nil {
				t.Fatal(err)
			}
			want := walkthrough.Expected(v.version)
			if !reflect.DeepEqual(res, want) {
				t.Errorf("got  %#v\nwant %#v", res, want)
			}
			// The user came back as a resource either way; only its URL
			// (its state) changed.
			if len(users) != 1 {
				t.Fatalf("saw %d users", len(users))
			}
			r, ok := users[0].Any().(hyper.Resource)
			if !ok {
				t.Fatalf("find_user gave %T, want a resource", users[0].Any())
			}
			if r.Name != "User" || !strings.HasPrefix(r.URL, srv.URL+"/User/?") {
				t.Errorf("user resource %q at %q", r.Name, r.URL)
			}
			if _, shard := r.Content["shard"]; shard != v.shard {
				t.Errorf("shard in the %s user: %v, want %v", v.name, shard, v.shard)
			}
		})
	}
}

// TestVersionsDiffer checks that the versions do differ where the
// walkthrough says, as a client that built requests by hand would see.
func TestVersionsDiffer(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		svc        *service.Service
		helloArgs  int
		findStatus int
	}{
		{"v1", walkthrough.V1(), 0, http.StatusOK},
		{"v2", walkthrough.V2(), 1, http.StatusSeeOther},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(hyperhttp.NewHandler(tt.svc, hyperhttp.Config{}))
			defer srv.Close()
			index, err := client.New().Get(ctx, srv.URL+"/")
			if err != nil {
				t.Fatal(err)
			}
			hello, err := index.Get("hello")
			if err != nil {
				t.Fatal(err)
			}
			if f, ok := hello.Any().(hyper.Form); !ok || len(f.Values) != tt.helloArgs {
				t.Errorf("hello is %#v, want a form with %d inputs", hello.Any(), tt.helloArgs)
			}
			body, err := wire.Marshal(wire.NewOrderedDict("name", "bob"))
			if err != nil {
				t.Fatal(err)
			}
			noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := noRedirect.Post(srv.URL+"/find_user", hyperhttp.MediaType, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.findStatus {
				t.Errorf("find_user answered %s, want %d", resp.Status, tt.findStatus)
			}
		})
	}
}

func TestService(t *testing.T) {
	for _, v := range []int{1, 2} {
		if _, err := walkthrough.Service(v); err != nil {
			t.Errorf("Service(%d): %v", v, err)
		}
	}
	if _, err := walkthrough.Service(3); err == nil {
		t.Error("Service(3) did not fail")
	}
}
