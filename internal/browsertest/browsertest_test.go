package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/glyph-ipc/glyph/internal/browsertest"
)

// The browser loads a page from a server on 127.0.0.1 and runs its
// script: what a test of a page relies on.
func TestBrowserLoadsAPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>t</title><p id="p">from the server</p>`)
	}))
	defer srv.Close()
	ctx := browsertest.New(t, time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text("#p"))
	if err != nil {
		t.Fatal(err)
	}
	if text != "from the server" {
		t.Fatalf("the page's text is %q, want %q", text, "from the server")
	}
}
