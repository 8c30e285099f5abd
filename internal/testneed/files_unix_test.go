//go:build unix

package testneed_test

import (
	"syscall"
	"testing"

	"github.com/glyph-ipc/glyph/internal/testneed"
)

// TestFiles: after Files the process may open that many files.
func TestFiles(t *testing.T) {
	testneed.Files(t, 2048)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < 2048 {
		t.Errorf("the soft limit is %d after Files(2048)", lim.Cur)
	}
}
