package hyperhttp_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// ExampleNewHandler serves a function over HTTP and calls it as a client
// does: a POST with the form envelope, the arguments in a glyph ordered
// dict.
func ExampleNewHandler() {
	svc := service.New()
	svc.MustFunc("hello", func(name string) string { return "Hello, " + name + "!" },
		service.Args("name"), service.Default("name", "World"))

	srv := httptest.NewServer(hyperhttp.NewHandler(svc))
	defer srv.Close()

	body, err := wire.Marshal(wire.NewOrderedDict("name", "Ann"))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := http.Post(srv.URL+"/hello", hyperhttp.MediaType, bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	var answer string
	if err := wire.Unmarshal(raw, &answer); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	fmt.Printf("%s\n", raw)
	fmt.Println(answer)
	// Output:
	// 200 OK application/vnd.hyperglyph
	// u11:Hello, Ann!;
	// Hello, Ann!
}
