package testneed_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/internal/testneed"
)

// TestMissing runs a test that needs something missing in a child
// process, with and without CI=true: it skips, or fails, with one line.
func TestMissing(t *testing.T) {
	if os.Getenv("TESTNEED_CHILD") == "1" {
		testneed.Missing(t, "a unicorn is not installed", "apt-get install unicorn")
		t.Error("Missing returned")
		return
	}
	tests := []struct {
		ci       string
		fail     bool
		wantLine string
	}{
		{"", false, "a unicorn is not installed; to run this test: apt-get install unicorn"},
		{"false", false, "a unicorn is not installed; to run this test: apt-get install unicorn"},
		{"true", true, "a unicorn is not installed; CI needs it: apt-get install unicorn"},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMissing$", "-test.v")
			cmd.Env = append(os.Environ(), "TESTNEED_CHILD=1", "CI="+tt.ci)
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tt.fail {
				t.Errorf("the test failed: %v, want %v\n%s", failed, tt.fail, out)
			}
			if !strings.Contains(string(out), tt.wantLine+"\n") {
				t.Errorf("the test said\n%s\nwant the line %q", out, tt.wantLine)
			}
			if want := map[bool]string{false: "--- SKIP", true: "--- FAIL"}[tt.fail]; !strings.Contains(string(out), want) {
				t.Errorf("the test said\n%s\nwant %s", out, want)
			}
		})
	}
}
