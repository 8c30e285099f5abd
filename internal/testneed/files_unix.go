//go:build unix

package testneed

import (
	"fmt"
	"syscall"
	"testing"
)

// Files makes sure the test process may open n files at once, raising
// its soft limit (RLIMIT_NOFILE) up to the hard one; it ends t as
// [Missing] does when the hard limit is lower.
func Files(t testing.TB, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		Missing(t, "the open file limit is unknown: "+err.Error(), "run it where getrlimit works")
		return
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		Missing(t, fmt.Sprintf("the hard limit of open files is %d, under %d", lim.Max, n), fmt.Sprintf("raise it (ulimit -Hn %d as root)", n))
		return
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		Missing(t, "cannot raise the open file limit: "+err.Error(), fmt.Sprintf("ulimit -n %d", n))
	}
}
