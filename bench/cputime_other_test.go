//go:build !unix

package bench

import "time"

// processCPUTime cannot tell the process's CPU time on this system.
func processCPUTime() (time.Duration, bool) { return 0, false }
