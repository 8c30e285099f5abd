//go:build !unix

package peer

import "syscall"

// nowait is not available here: writes without waiting are only done on
// Unix sockets; elsewhere every batch goes through the writer goroutine.
type nowait struct{}

func rawWriter(any) syscall.RawConn { return nil }

func newNowait(syscall.RawConn) *nowait { return nil }

func (*nowait) tryWrite([]byte) (int, error) { return 0, nil }
