package hyperhttp_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/internal/browsertest"
	"github.com/glyph-ipc/glyph/internal/walkthrough"
)

// TestBrowserWalkthrough walks the walkthrough service in Chromium, as a
// person would: no script runs, every step is a link or a form. With
// GLYPH_SCREENSHOTS set to a directory (relative to the module root), it
// saves root.png and result.png (the user find_user found) there, the
// screenshots of README.md.
func TestBrowserWalkthrough(t *testing.T) {
	srv := httptest.NewServer(hyperhttp.NewHandler(walkthrough.V2(), hyperhttp.WithLogger(discardLogger())))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t, 2*time.Minute)

	open := func(url string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
			t.Fatalf("opening %s: %v", url, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	// submit fills a form's fields and submits it, waiting for the page
	// that answers it: one where wait is visible.
	submit := func(form string, fields map[string]string, wait string) {
		t.Helper()
		var steps []chromedp.Action[chromedp.Void]
		for name, v := range fields {
			steps = append(steps, chromedp.SetValue(chromedp.CSS(form+` [name="`+name+`"]`), v))
		}
		steps = append(steps, chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(wait)))
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("submitting %s: %v", form, err)
		}
	}

	// The root: the index, a form per function and class.
	open(srv.URL + "/")
	if got := text("main h1"); got != "walkthrough" {
		t.Fatalf("the root's heading is %q, want walkthrough", got)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`form[data-name="hello"] [name="name"]`))); err != nil || v != "World" {
		t.Fatalf("hello's name field holds %q (%v), want its default World", v, err)
	}
	// The stylesheet applies: the policy allows it by its hash.
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header")).backgroundColor`))
	if err != nil || bg != "rgb(29, 35, 48)" {
		t.Fatalf("the header's background is %q (%v): the stylesheet did not apply", bg, err)
	}
	screenshot(t, ctx, "root.png")

	// hello with a name: the answer is the result page.
	submit(`form[data-name="hello"]`, map[string]string{"name": "Ada"}, "main#glyph-value > .glyph-unicode")
	if got := text("main#glyph-value > .glyph-unicode"); got != "Hello Ada" {
		t.Fatalf("hello answered %q, want Hello Ada", got)
	}

	// find_user answers 303 to the user, which the browser follows.
	open(srv.URL + "/")
	submit(`form[data-name="find_user"]`, map[string]string{"name": "bob"}, `form[data-name="message"]`)
	if got := text("section.glyph-resource h2"); got != "User" {
		t.Fatalf("find_user led to %q, want the User resource", got)
	}
	if got := text("section.glyph-resource > dl"); !strings.Contains(got, "shard-0") {
		t.Fatalf("the user page shows %q, without its shard", got)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "/User/?") {
		t.Fatalf("the user page is at %q (%v), want the User's URL", loc, err)
	}
	screenshot(t, ctx, "result.png")

	// A method of the user, its state carried in the form's URL.
	submit(`form[data-name="message"]`, map[string]string{"subject": "hi", "body": "<b>there</b>"}, "main#glyph-value > .glyph-unicode")
	if got, want := text("main#glyph-value > .glyph-unicode"), "message for bob on shard-0: hi (<b>there</b>)"; got != want {
		t.Fatalf("message answered %q, want %q", got, want)
	}

	// An error is a page with the message and a logref.
	open(srv.URL + "/")
	submit(`form[data-name="find_user"]`, map[string]string{"name": "nobody"}, "main#glyph-error")
	if got := text("main#glyph-error h1"); got != "404 Not Found" {
		t.Fatalf("the error page's heading is %q", got)
	}
	if got := text("main#glyph-error .glyph-message"); got != `find_user: no user named "nobody"` {
		t.Fatalf("the error page says %q", got)
	}
	if got := text("main#glyph-error .glyph-logref"); len(got) != 16 {
		t.Fatalf("the error page's logref is %q", got)
	}
}

// TestBrowserForms submits, in Chromium, a safe function's GET form and
// a form with a checkbox and a list, which a browser sends as it likes.
func TestBrowserForms(t *testing.T) {
	srv := httptest.NewServer(hyperhttp.NewHandler(newHTMLService(), hyperhttp.WithLogger(discardLogger())))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t, 2*time.Minute)
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	run(chromedp.Navigate(srv.URL+"/"),
		chromedp.SetValue(chromedp.CSS(`form[data-name="square"] [name="x"]`), "12"),
		chromedp.Click(chromedp.CSS(`form[data-name="square"] button`)),
		chromedp.WaitVisible(chromedp.CSS("main#glyph-value > .glyph-integer")))
	if got := text("main#glyph-value > .glyph-integer"); got != "144" {
		t.Fatalf("square answered %q, want 144", got)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/square?_charset_=UTF-8&x=12") {
		t.Fatalf("the GET form led to %q (%v)", loc, err)
	}

	// The checkbox is checked by its default: a click unchecks it.
	run(chromedp.Navigate(srv.URL+"/defaults"),
		chromedp.Click(chromedp.CSS(`form[data-name="defaults"] input[type="checkbox"]`)),
		chromedp.SetValue(chromedp.CSS(`form[data-name="defaults"] [name="xs"]`), "7\n8\n\n9"),
		chromedp.Click(chromedp.CSS(`form[data-name="defaults"] button`)),
		chromedp.WaitVisible(chromedp.CSS("main#glyph-value > ol.glyph-list")))
	if got, want := text("main#glyph-value > ol.glyph-list"), "5\nx\nfalse\n7\n8\n9"; got != want {
		t.Fatalf("defaults answered %q, want %q", got, want)
	}
}

// screenshot saves the viewport as name in $GLYPH_SCREENSHOTS, when set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("GLYPH_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(moduleRoot(t), dir)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// moduleRoot returns the directory of go.mod above the test's.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
