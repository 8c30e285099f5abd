package bearer_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/intercept/bearer"
	"github.com/glyph-ipc/glyph/service"
)

// A service whose callers authenticate with a bearer token, and a client
// that sends one. The function learns who called from its context.
func Example() {
	svc := service.New(service.WithInterceptors(bearer.Server(bearer.Static(map[string]string{
		"s3cret": "alice", // in a real program, a token from a secret store, never in code
	}))))
	svc.MustFunc("whoami", func(ctx context.Context) string {
		id, _ := bearer.Identity(ctx)
		return fmt.Sprint(id)
	})
	srv := httptest.NewServer(hyperhttp.NewHandler(svc))
	defer srv.Close()

	ctx := context.Background()
	c := client.New(client.WithInterceptors(bearer.Client(func(context.Context) (string, error) { return "s3cret", nil })))
	v, err := c.Get(ctx, srv.URL+"/")
	if err == nil {
		v, err = v.Path(ctx, "whoami")
	}
	fmt.Println(v.Any(), err)

	_, err = client.New().Get(ctx, srv.URL+"/")
	fmt.Println(service.KindOf(err))
	// Output:
	// alice <nil>
	// unauthenticated
}
