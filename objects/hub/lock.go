package hub

import (
	"errors"
	"net"
	"os"
	"path/filepath"

	"github.com/glyph-ipc/glyph/internal/pidlock"
	"github.com/glyph-ipc/glyph/service"
)

// LockName is the lock file in the store directory that makes one daemon
// the only one of its store; it holds the daemon's process id.
const LockName = "hub.lock"

// lockStore takes the exclusive lock of dir's lock file and writes this
// process's id into it.
func lockStore(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := pidlock.Lock(filepath.Join(dir, LockName))
	if held := (*pidlock.HeldError)(nil); errors.As(err, &held) {
		return nil, service.Errorf(service.KindUnavailable, "hub store %s is in use by %s", dir, held.Holder())
	}
	return f, err
}

// LockHolder returns the process id of the daemon running on the store in
// dir: an error wrapping [os.ErrNotExist] when none runs.
func LockHolder(dir string) (int, error) {
	return pidlock.Holder(filepath.Join(dir, LockName))
}

// isLoopback reports whether hostport is a host:port on the loopback
// interface.
func isLoopback(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
