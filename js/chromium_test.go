package js_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/glyph-ipc/glyph/internal/browsertest"
)

// TestChromium loads js/test/browser.html in Chromium from the servers'
// port: its module script runs the client over HTTP and peers over
// WebSocket, with the browser's own fetch and WebSocket, and writes what
// it got into the page.
func TestChromium(t *testing.T) {
	s := startServers(t)
	ctx := browsertest.New(t, time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.http+"js/test/browser.html")); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text("#result"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("the page wrote %q: %v", text, err)
	}
	want := map[string]any{
		"hello":     "Hello Chromium",
		"bio":       "bob is user 2, kept on shard-0",
		"types":     float64(16),
		"error":     "not_found 16",
		"peerHello": "Hello peer",
		"delivered": []any{"chromium joined", "hello browser"},
		"history":   []any{"chromium joined", "hello browser"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the page got\n%s\nwant\n%v", text, want)
	}
}
