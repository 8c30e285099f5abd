package health_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/glyph-ipc/glyph/health"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
)

// A program offers check and watch beside its own functions, and the
// probes of its load balancer on the same mux. While a service is not
// serving, the readiness probe fails, and the program leaves the rotation;
// Shutdown takes it out for good while it drains.
func Example() {
	svc := service.New()
	h := health.NewServer()
	if err := h.Register(svc); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", hyperhttp.NewHandler(svc))
	mux.Handle("/livez", h)
	mux.Handle("/readyz", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	probe := func(path string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s: %d %s", path, resp.StatusCode, body)
	}

	h.SetServingStatus("search", health.NotServing) // the index is loading
	probe("/readyz")
	probe("/readyz?service=search")
	h.SetServingStatus("search", health.Serving)
	probe("/readyz?service=search")
	h.Shutdown()
	probe("/readyz")
	probe("/livez")
	// Output:
	// /readyz: 200 SERVING
	// /readyz?service=search: 503 NOT_SERVING
	// /readyz?service=search: 200 SERVING
	// /readyz: 503 NOT_SERVING
	// /livez: 200 ok
}
