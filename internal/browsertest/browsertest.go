// Package browsertest runs a real browser for tests: Chromium from
// Debian's packages (apt-get install chromium), headless, driven through
// the DevTools protocol with chromedp. Each test gets a browser of its
// own, with a fresh profile in a temporary directory, closed (and its
// process stopped) when the test ends.
//
// A test that needs a browser calls [New]. Without Chromium it skips with
// one line saying how to install it, except under CI=true, where it
// fails: CI must run it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/glyph-ipc/glyph/internal/testneed"
)

// candidates are the names Chromium's binary goes by, in the order they
// are tried on PATH.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// Path returns the path of the Chromium binary: $GLYPH_CHROMIUM when set,
// else the first of Chromium's usual names found on PATH; "" for none.
func Path() string {
	if p := os.Getenv("GLYPH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a headless Chromium for the test t and returns a chromedp
// context for one tab in it, ending when the test does or after timeout,
// whichever comes first. The browser runs without a sandbox when the test
// runs as root (Chromium refuses to start as root otherwise).
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		testneed.Missing(t, "Chromium is not installed", "apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1024, 768),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	// Start the browser now, so that a browser that cannot start fails
	// here, with its own error, rather than in the test's first action.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	return bctx
}
