package hyperhttp_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

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

// ExampleNewHandler_browser fetches a page as a browser does, then
// submits its form as the browser would, an urlencoded body whose fields
// the handler converts by the form's input types (count is an integer).
func ExampleNewHandler_browser() {
	svc := service.New()
	svc.MustFunc("repeat", func(word string, count int) string { return strings.Repeat(word, count) },
		service.Args("word", "count"), service.Default("count", 2))

	srv := httptest.NewServer(hyperhttp.NewHandler(svc))
	defer srv.Close()

	req, err := http.NewRequest("GET", srv.URL+"/repeat", nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	for line := range strings.Lines(string(readAll(http.DefaultClient.Do(req)))) {
		if strings.Contains(line, "<input") {
			fmt.Print(line)
		}
	}

	fmt.Printf("%s\n", readAll(http.PostForm(srv.URL+"/repeat", url.Values{"word": {"ab"}, "count": {"3"}})))
	// Output:
	// <input type="hidden" name="_charset_">
	// <label class="glyph-field"><span>word <span class="glyph-type">unicode</span></span><span><input type="text" name="word" value=""></span></label>
	// <label class="glyph-field"><span>count <span class="glyph-type">integer</span></span><span><input type="number" name="count" step="1" value="2"></span></label>
	// u6:ababab;
}

// readAll returns the body of a response, ending the example on an error.
func readAll(resp *http.Response, err error) []byte {
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	return b
}
